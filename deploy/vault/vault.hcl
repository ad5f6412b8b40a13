# Vault server of deploy/compose: one node, integrated (raft) storage, TLS.
# A national unit usually has its own Vault cluster: then drop the vault
# service, point --sealer at it and run setup-transit.sh there.

storage "raft" {
  path    = "/vault/file"
  node_id = "vault1"
}

listener "tcp" {
  address       = "0.0.0.0:8200"
  tls_cert_file = "/vault/tls/tls.crt"
  tls_key_file  = "/vault/tls/tls.key"
  tls_min_version = "tls12"
}

api_addr     = "https://vault:8200"
cluster_addr = "https://vault:8201"

# Integrated storage memory-maps its database; HashiCorp recommends
# disabling mlock with it. Keep swap off or encrypted on the host.
disable_mlock = true
ui            = false
