# Vault policy of the token Custos uses (--sealer transit://HOST:8200/transit/custos).
# Exactly what docs/keys.md lists for sealing, unsealing and KEK rotation
# (custos admin rotate-kek) on the one key, and nothing else.
path "transit/encrypt/custos" {
  capabilities = ["update"]
}
path "transit/decrypt/custos" {
  capabilities = ["update"]
}
path "transit/rewrap/custos" {
  capabilities = ["update"]
}
path "transit/keys/custos/rotate" {
  capabilities = ["update"]
}
path "transit/keys/custos/config" {
  capabilities = ["update"]
}
path "transit/keys/custos/trim" {
  capabilities = ["update"]
}
path "transit/keys/custos" {
  capabilities = ["read"]
}
