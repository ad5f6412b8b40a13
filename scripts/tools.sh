#!/usr/bin/env bash
# Installs, pinned, every real component the tests and benchmarks run
# against: Go tools into $CUSTOS_TOOLS/bin (default ~/.cache/custos/tools,
# shared by every checkout on the machine) and Debian packages.
# Reuses what is already installed at the right version, so a second run
# takes seconds. Needs root for apt-get (CI and these machines run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CUSTOS_TOOLS:-$HOME/.cache/custos/tools}/bin
mkdir -p "$bin"
export GOBIN=$bin GOFLAGS=-buildvcs=false

AGE_VERSION=v1.3.2
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
STATICCHECK_VERSION=v0.8.2
# C2SP tlog-witness server. v0.10 needs Go 1.27: stay on v0.6.1.
LITEWITNESS_VERSION=v0.6.1
# MinIO's client, for `make bench` only (CUSTOS_BENCH_TOOLS=1): the
# stock-tools pipeline that deposits are judged against uploads with
# `mc pipe`. It has no semantic-version tags; this is its newest commit on
# the module proxy.
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9

log() { printf 'tools: %s\n' "$*" >&2; }

# go_tool MODULE@VERSION BINARY...: installs unless every binary is there
# with a stamp naming that version.
go_tool() {
	local spec=$1; shift
	local stamp=$bin/.$(echo "$spec" | tr '/@' '__')
	local ok=1
	for b in "$@"; do [ -x "$bin/$b" ] || ok=0; done
	if [ "$ok" = 1 ] && [ -f "$stamp" ]; then return; fi
	log "go install $spec"
	go install "$spec"
	touch "$stamp"
}

apt_pkgs=()
need_pkg() { dpkg -s "$1" >/dev/null 2>&1 || apt_pkgs+=("$1"); }
need_pkg swtpm
need_pkg swtpm-tools
need_pkg softhsm2
need_pkg libssl-dev
need_pkg postgresql
need_pkg openssl
# xxd: the by-hand package check of docs/package-format.md section 10.
need_pkg xxd
need_pkg strace
# ssh-agent, ssh-add and ssh-keygen: litewitness signs through an ssh-agent.
need_pkg openssh-client
# pdftotext and pdftoppm read back the custody reports' PDF.
need_pkg poppler-utils
# chromium: the web application's browser tests (internal/testenv/chromium.go)
# drive Debian's Chromium headless. A machine that has one already keeps it.
[ -x /usr/bin/chromium ] || need_pkg chromium
if [ ${#apt_pkgs[@]} -gt 0 ]; then
	log "apt-get install ${apt_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
fi

go_tool "filippo.io/age/cmd/...@$AGE_VERSION" age age-keygen
go_tool "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" staticcheck
go_tool "filippo.io/torchwood/cmd/litewitness@$LITEWITNESS_VERSION" litewitness
if [ "${CUSTOS_SKIP_MINIO:-}" != 1 ]; then
	# About 6 minutes on 2 cores the first time; reused afterwards.
	go_tool "github.com/minio/minio@$MINIO_VERSION" minio
fi
if [ "${CUSTOS_BENCH_TOOLS:-}" = 1 ]; then
	# About a minute on 2 cores once MinIO's modules are in the cache.
	go_tool "github.com/minio/mc@$MC_VERSION" mc
fi
log "ready in $bin"

# npm packages of the CASE/UCO export's validator (scripts/shacl/validate.mjs,
# run by `go test ./custody/caseuco`), exactly as scripts/shacl/package-lock.json
# pins them; installed again when node_modules is missing or older than the
# lock file. Needs Node.js 20 or later and npm.
shacl=scripts/shacl
if [ ! -d "$shacl/node_modules" ] || [ "$shacl/package-lock.json" -nt "$shacl/node_modules" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		log "npm is missing: install Node.js 20 or later (with npm) for $shacl"
		exit 1
	fi
	log "npm ci --prefix $shacl"
	npm ci --prefix "$shacl" --no-audit --no-fund
	touch "$shacl/node_modules"
fi
