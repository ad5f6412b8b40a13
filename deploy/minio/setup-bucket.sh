#!/bin/sh
# Prepares MinIO for Custos; run once by the minio-init job (compose and
# Kubernetes), and safe to run again.
#
#  1. creates the evidence bucket WITH object lock (mc mb --with-lock).
#     Object lock can only be enabled when a bucket is created; Custos
#     refuses a bucket without it. Custos sets each object's COMPLIANCE
#     retention itself (--retention), so no bucket default is set here.
#  2. creates the user Custos connects as, with the policy
#     custos-policy.json: objects of that one bucket only; no bucket
#     administration, no governance bypass, no access to other buckets.
#     The root credentials stay with the init job.
#
# Environment: MINIO_URL (https://HOST:9000), MINIO_ROOT_USER,
# MINIO_ROOT_PASSWORD (or *_FILE), CUSTOS_ACCESS_KEY, CUSTOS_SECRET_KEY (or
# *_FILE), BUCKET (default custos-evidence), POLICY (path of the policy
# JSON), and MC_CACERT: the CA of MinIO's certificate.
set -eu

read_var() { # NAME: NAME, or the content of the file NAME_FILE names
	eval "v=\${$1:-}; f=\${$1_FILE:-}"
	if [ -z "$v" ] && [ -n "$f" ]; then v=$(cat "$f"); fi
	[ -n "$v" ] || { echo "setup-bucket: $1 (or $1_FILE) is not set" >&2; exit 1; }
	printf '%s' "$v"
}
root_user=$(read_var MINIO_ROOT_USER)
root_password=$(read_var MINIO_ROOT_PASSWORD)
custos_access=$(read_var CUSTOS_ACCESS_KEY)
custos_secret=$(read_var CUSTOS_SECRET_KEY)
bucket=${BUCKET:-custos-evidence}
policy=${POLICY:-/etc/custos-minio/custos-policy.json}

# mc trusts the CAs in ~/.mc/certs/CAs.
mkdir -p "$HOME/.mc/certs/CAs"
cp "$MC_CACERT" "$HOME/.mc/certs/CAs/custos-ca.crt"

tries=0
until mc alias set custos "$MINIO_URL" "$root_user" "$root_password" >/dev/null 2>&1 && mc admin info custos >/dev/null 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -lt 60 ] || { echo "setup-bucket: MinIO at $MINIO_URL not ready after 5 minutes" >&2; exit 1; }
	sleep 5
done

if mc stat "custos/$bucket" >/dev/null 2>&1; then
	if ! mc version info "custos/$bucket" | grep -q 'versioning is enabled'; then
		echo "setup-bucket: bucket $bucket exists without object lock; Custos will refuse it. Use a new bucket name." >&2
		exit 1
	fi
	echo "setup-bucket: bucket $bucket exists"
else
	mc mb --with-lock "custos/$bucket"
fi

# The policy names the bucket; rewrite it if another name is used.
sed "s/custos-evidence/$bucket/g" "$policy" >/tmp/custos-policy.json
mc admin policy create custos custos-evidence-rw /tmp/custos-policy.json
mc admin user add custos "$custos_access" "$custos_secret"
mc admin policy attach custos custos-evidence-rw --user "$custos_access" 2>/dev/null ||
	echo "setup-bucket: policy already attached"
echo "setup-bucket: bucket $bucket (object lock) and user $custos_access ready"
