#!/bin/sh
# Entrypoint of the Custos image. Custos reads its credentials from the
# environment; container secrets arrive as files. For each variable below,
# NAME_FILE=PATH sets NAME to the file's content (trailing newline
# removed), so that docker compose secrets and mounted Kubernetes Secrets
# can feed it without the value ever appearing in the container's
# configuration. Setting both NAME and NAME_FILE is an error.
set -eu

for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY VAULT_TOKEN; do
	file_var="${name}_FILE"
	eval "file=\${$file_var:-}"
	eval "direct=\${$name:-}"
	[ -n "$file" ] || continue
	if [ -n "$direct" ]; then
		echo "docker-entrypoint: both $name and $file_var are set" >&2
		exit 1
	fi
	if [ ! -r "$file" ]; then
		echo "docker-entrypoint: $file_var: cannot read $file" >&2
		exit 1
	fi
	value=$(cat "$file")
	export "$name=$value"
	unset "$file_var"
done

exec /usr/local/bin/custos "$@"
