#!/usr/bin/env bash
# Generates the private certificate authority and the TLS certificates of
# a Custos deployment with openssl: one CA, then one certificate per
# service, each with the names (and, for compose, the fixed addresses) its
# clients and peers use.
#
#   gen-certs.sh compose OUT                 names of deploy/compose/compose.yaml
#   gen-certs.sh kubernetes OUT [NAMESPACE]  names of deploy/kubernetes (namespace custos)
#
# OUT gets ca/ca.crt (give it to every client: CUSTOS_CACERT for the custos
# CLI) and one folder per certificate with tls.crt and tls.key. The CA's
# private key is written to OUT/ca-private/ca.key: move it off the machine
# (it is only needed to issue or renew certificates). An existing CA in OUT
# is reused, so running the script again renews the service certificates
# under the same CA.
#
# KurrentDB nodes authenticate each other by a reserved common name
# (KURRENTDB_CERTIFICATE_RESERVED_NODE_COMMON_NAME, set to kurrentdb-node
# in both deployments): their certificates carry it as CN, and every
# certificate that peers use for mutual TLS (KurrentDB, MinIO) allows both
# serverAuth and clientAuth.
#
# Keys are RSA 2048 in PKCS#8 PEM, which KurrentDB, MinIO, Vault and Go all
# read. Certificates are valid for DAYS days (default 825).
set -euo pipefail

profile=${1:-}
out=${2:-}
ns=${3:-custos}
days=${DAYS:-825}
node_cn=kurrentdb-node
if [ -z "$profile" ] || [ -z "$out" ]; then
	echo "usage: $0 compose|kubernetes OUT [NAMESPACE]" >&2
	exit 2
fi
command -v openssl >/dev/null || { echo "$0: openssl is needed" >&2; exit 1; }
umask 077
mkdir -p "$out/ca" "$out/ca-private"

if [ ! -f "$out/ca-private/ca.key" ]; then
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$out/ca-private/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$out/ca-private/ca.key" -sha256 -days 3650 \
		-subj "/O=Custos deployment/CN=Custos deployment CA" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$out/ca/ca.crt"
fi

# issue NAME CN EKU SAN: writes OUT/NAME/tls.crt and tls.key.
issue() {
	local name=$1 cn=$2 eku=$3 san=$4 dir=$out/$1
	mkdir -p "$dir"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/tls.key" 2>/dev/null
	openssl req -new -key "$dir/tls.key" -subj "/O=Custos deployment/CN=$cn" -out "$dir/tls.csr"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
		"$eku" "$san" >"$dir/ext.cnf"
	openssl x509 -req -in "$dir/tls.csr" -CA "$out/ca/ca.crt" -CAkey "$out/ca-private/ca.key" \
		-CAserial "$out/ca-private/ca.srl" -CAcreateserial -days "$days" -sha256 -extfile "$dir/ext.cnf" -out "$dir/tls.crt" 2>/dev/null
	rm -f "$dir/tls.csr" "$dir/ext.cnf"
	cp "$out/ca/ca.crt" "$dir/ca.crt"
}

case $profile in
compose)
	# Fixed addresses of the kurrentdb network in compose.yaml.
	for i in 1 2 3; do
		issue "kurrentdb$i" "$node_cn" serverAuth,clientAuth \
			"DNS:kurrentdb$i,DNS:localhost,IP:172.28.113.1$i,IP:127.0.0.1"
	done
	issue minio minio serverAuth,clientAuth "DNS:minio,DNS:minio1,DNS:minio2,DNS:minio3,DNS:minio4,DNS:localhost,IP:127.0.0.1"
	issue vault vault serverAuth "DNS:vault,DNS:localhost,IP:127.0.0.1"
	issue custos custos serverAuth "DNS:custos,DNS:localhost,IP:127.0.0.1${CUSTOS_EXTRA_SAN:+,$CUSTOS_EXTRA_SAN}"
	;;
kubernetes)
	svc=$ns.svc
	issue kurrentdb "$node_cn" serverAuth,clientAuth \
		"DNS:kurrentdb-0.kurrentdb.$svc.cluster.local,DNS:kurrentdb-1.kurrentdb.$svc.cluster.local,DNS:kurrentdb-2.kurrentdb.$svc.cluster.local,DNS:kurrentdb-0.kurrentdb.$svc,DNS:kurrentdb-1.kurrentdb.$svc,DNS:kurrentdb-2.kurrentdb.$svc,DNS:kurrentdb.$svc,DNS:kurrentdb.$svc.cluster.local"
	issue minio minio serverAuth,clientAuth \
		"DNS:minio.$svc,DNS:minio.$svc.cluster.local,DNS:*.minio-hl.$svc.cluster.local,DNS:*.minio-hl.$svc"
	issue custos custos serverAuth "DNS:custos.$svc,DNS:custos.$svc.cluster.local${CUSTOS_EXTRA_SAN:+,$CUSTOS_EXTRA_SAN}"
	;;
*)
	echo "$0: unknown profile $profile (compose or kubernetes)" >&2
	exit 2
	;;
esac
# Readable inside the containers, whose users differ from the host's; the
# 0700 folder around them keeps other host users out.
chmod 0700 "$out"
find "$out" -path "$out/ca-private" -prune -o -type f -exec chmod 0644 {} +
find "$out" -path "$out/ca-private" -prune -o -type d -exec chmod 0755 {} +
chmod 0700 "$out"
echo "certificates in $out; CA key in $out/ca-private/ca.key (move it offline)" >&2
