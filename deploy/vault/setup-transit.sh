#!/bin/sh
# Prepares Vault Transit for Custos; run by the vault-init job in compose,
# and by an operator against the organisation's Vault for Kubernetes. Safe
# to run again (it issues a new token each time; revoke the old one).
#
#  1. enables the transit secrets engine at transit/ if it is not enabled;
#  2. creates the key custos (aes256-gcm96, not exportable, not deletable:
#     Custos refuses exportable keys, and a deleted key loses every case);
#  3. writes the policy custos-transit (custos-transit.hcl);
#  4. issues an orphan periodic token with only that policy and writes it
#     to TOKEN_OUT (mode 0400, owned by TOKEN_UID). Custos does not renew
#     its token: something must call `vault token renew` with it before
#     each period ends (the vault-token-renew service in compose, the
#     CronJob in Kubernetes), or sealing stops when it expires.
#
# Environment: VAULT_ADDR (https://vault:8200), VAULT_CACERT, VAULT_TOKEN
# or VAULT_TOKEN_FILE (an administrator token: from `vault operator init`
# during the key ceremony, revoked afterwards), POLICY (path of
# custos-transit.hcl), TOKEN_OUT, TOKEN_UID (default 65532, the custos
# image's user), TOKEN_PERIOD (default 768h).
set -eu

if [ -z "${VAULT_TOKEN:-}" ] && [ -n "${VAULT_TOKEN_FILE:-}" ]; then
	VAULT_TOKEN=$(cat "$VAULT_TOKEN_FILE")
	export VAULT_TOKEN
fi
[ -n "${VAULT_TOKEN:-}" ] || { echo "setup-transit: set VAULT_TOKEN or VAULT_TOKEN_FILE (an administrator token)" >&2; exit 1; }
policy=${POLICY:-/etc/custos-vault/custos-transit.hcl}
out=${TOKEN_OUT:?setup-transit: TOKEN_OUT (where to write the custos token) is not set}
uid=${TOKEN_UID:-65532}
period=${TOKEN_PERIOD:-768h}

tries=0
until vault status >/dev/null 2>&1; do # exit 0 only when initialised and unsealed
	tries=$((tries + 1))
	[ "$tries" -lt 60 ] || { echo "setup-transit: Vault at $VAULT_ADDR is not initialised and unsealed; see deploy/compose/README.md" >&2; exit 1; }
	sleep 5
done

if ! vault secrets list -format=json | grep -q '"transit/"'; then
	vault secrets enable transit
fi
if ! vault read transit/keys/custos >/dev/null 2>&1; then
	vault write -f transit/keys/custos type=aes256-gcm96 exportable=false allow_plaintext_backup=false
fi
vault write transit/keys/custos/config deletion_allowed=false >/dev/null
vault policy write custos-transit "$policy"

token=$(vault token create -orphan -policy=custos-transit \
	-period="$period" -display-name=custos -field=token)
umask 077
printf '%s' "$token" >"$out.new"
chown "$uid" "$out.new" 2>/dev/null || true
chmod 0400 "$out.new"
mv "$out.new" "$out"
echo "setup-transit: key transit/keys/custos, policy custos-transit, token written to $out"
