#!/bin/sh
# Creates the KurrentDB user Custos connects as (login "custos", no
# groups, so not an administrator); run by the kurrentdb-init job. Safe to
# run again: an existing user is left as it is (409 Conflict).
#
# Environment: KURRENTDB_URL (https://kurrentdb1:2113), CA_FILE,
# ADMIN_PASSWORD_FILE, CUSTOS_PASSWORD_FILE.
#
# Anonymous access is off by default in KurrentDB, so Custos must
# authenticate; its credentials travel in the --log connection string,
# which therefore sits in a secret config file, never on a command line.
set -eu
admin_pw=$(cat "$ADMIN_PASSWORD_FILE")
custos_pw=$(cat "$CUSTOS_PASSWORD_FILE")

tries=0
until curl -fsS --cacert "$CA_FILE" -u "admin:$admin_pw" "$KURRENTDB_URL/gossip" >/dev/null 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -lt 60 ] || { echo "setup-user: KurrentDB at $KURRENTDB_URL not ready after 5 minutes" >&2; exit 1; }
	sleep 5
done

body=$(printf '{"loginName":"custos","fullName":"Custos evidence vault","groups":[],"password":"%s"}' "$custos_pw")
code=$(printf '%s' "$body" | curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA_FILE" -u "admin:$admin_pw" \
	-H 'Content-Type: application/json' --data-binary @- "$KURRENTDB_URL/users/")
case $code in
201) echo "setup-user: user custos created" ;;
409) echo "setup-user: user custos exists" ;;
*) echo "setup-user: creating user custos: HTTP $code" >&2; exit 1 ;;
esac
