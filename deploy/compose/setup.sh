#!/usr/bin/env bash
# Prepares deploy/compose for its first start; see README.md.
#
#   ./setup.sh age1...     (the recovery recipient, from `age-keygen -y`
#                           on the offline machine that holds the identity)
#
# Writes, in this folder (both are in .gitignore):
#   secrets/        mode 0700: TLS certificates (../certs/gen-certs.sh),
#                   random passwords and keys, custos.conf, and an empty
#                   vault_admin_token to fill after the Vault ceremony
#   .env            the values compose.yaml interpolates: the recovery
#                   recipient and the KurrentDB first-start passwords
# Running it again keeps every existing secret and only adds missing ones.
set -euo pipefail
cd "$(dirname "$0")"
recipient=${1:-}
if [[ ! $recipient =~ ^age1[0-9a-z]{58}$ ]]; then
	echo "usage: $0 age1...   (the recovery recipient: age-keygen -y recovery.key, offline)" >&2
	exit 2
fi
umask 077
mkdir -p secrets
chmod 0700 secrets
[ -f secrets/tls/ca/ca.crt ] || ../certs/gen-certs.sh compose secrets/tls

secret() { # NAME [VALUE]: writes secrets/NAME once
	[ -s "secrets/$1" ] && return
	printf '%s' "${2:-$(openssl rand -hex 24)}" >"secrets/$1"
}
secret minio_root_user "minio-root"
secret minio_root_password
secret custos_s3_access_key "custos"
secret custos_s3_secret_key
secret kurrentdb_admin_password
secret kurrentdb_ops_password
secret kurrentdb_custos_password
[ -e secrets/vault_admin_token ] || : >secrets/vault_admin_token
if [ ! -s secrets/custos.conf ]; then
	sed "s/{{KURRENTDB_CUSTOS_PASSWORD}}/$(cat secrets/kurrentdb_custos_password)/" custos.conf.in >secrets/custos.conf
fi
# Read inside containers whose users differ from the host's.
find secrets -path secrets/tls/ca-private -prune -o -type f -exec chmod 0644 {} +

cat >.env <<ENV
# Written by setup.sh; interpolated into compose.yaml. Keep it 0600.
CUSTOS_RECOVERY_RECIPIENT=$recipient
KURRENTDB_ADMIN_PASSWORD=$(cat secrets/kurrentdb_admin_password)
KURRENTDB_OPS_PASSWORD=$(cat secrets/kurrentdb_ops_password)
ENV
chmod 0600 .env
echo "setup: secrets in $(pwd)/secrets, settings in $(pwd)/.env"
echo "setup: move secrets/tls/ca-private/ca.key offline once every certificate is issued"
echo "setup: next, the Vault ceremony (README.md), then: docker compose up -d"
