# Custos. `make run` starts a development vault; `make test` runs everything.
SHELL := /bin/bash
GO ?= go
TOOLS ?= $(or $(CUSTOS_TOOLS),$(HOME)/.cache/custos/tools)
export PATH := $(TOOLS)/bin:$(PATH)
export GOFLAGS ?= -buildvcs=false
DATA ?= .run/data
LISTEN ?= 127.0.0.1:8443
# PUBLIC_LISTEN: also open the public report intake there (a hotline's
# form for the public), e.g. make run PUBLIC_LISTEN=127.0.0.1:8444.
PUBLIC_LISTEN ?=
FUZZTIME ?= 10s
DURATION ?= 1h

.PHONY: all build run tools test test-short lint fuzz bench bench-sqlite-drivers soak clean

all: build

# VERSION names the build in the custody documents it makes ("Made
# with"): the checkout's git describe, or "unknown" outside one.
VERSION ?= $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/custos-vault/custos/custody.Version=$(VERSION)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ $$($(GO) list ./cmd/... | grep -v '/custos-verify$$') && CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -o bin/ ./cmd/custos-verify

## run: start a development vault on embedded defaults in $(DATA).
run: build
	@mkdir -p $(DATA)
	@echo "Starting Custos (development mode) on http://$(LISTEN); data in $(DATA). Stop with Ctrl-C."
	bin/custos server --dev --data $(DATA) --listen $(LISTEN)$(if $(PUBLIC_LISTEN), --public-listen $(PUBLIC_LISTEN) --hotline-name "Development hotline")

## tools: install the pinned real components (MinIO, age, swtpm, SoftHSM2, ...).
tools:
	scripts/tools.sh

## test: lint, then every test against real components, with the race detector.
test: tools lint
	CUSTOS_REQUIRE_COMPONENTS=1 CUSTOS_ARTIFACTS=$(CURDIR)/.run/artifacts $(GO) test -race -timeout 45m -count=1 ./...

## test-short: the fast inner loop (no race detector, long tests skipped).
test-short:
	$(GO) test -short ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	staticcheck ./...

## fuzz: run each fuzz target for $(FUZZTIME).
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## bench: the headline figures as `metric NAME VALUE UNIT` lines.
bench: tools build
	CUSTOS_BENCH_TOOLS=1 scripts/tools.sh
	$(GO) run ./cmd/custos-bench

## bench-sqlite-drivers: the log's append transaction and a read of every row on three SQLite drivers (pure Go, cgo, WebAssembly) side by side, 4 and 16 KiB pages; needs a C compiler for the cgo one.
bench-sqlite-drivers:
	@mkdir -p .run
	cd internal/bench/sqlitedrivers && for page in 4096 16384; do for d in modernc mattn ncruces; do \
		CGO_ENABLED=1 $(GO) run -tags $$d . -dir $(CURDIR)/.run -page-size $$page || exit 1; done; done

## soak: the server under a steady load for $(DURATION) (half on embedded defaults, half on PostgreSQL and MinIO); memory, open files and goroutines must stay flat, and the audit and every deposit must check out (docs/benchmarks.md).
soak: tools build
	@secs=0; rest='$(DURATION)'; \
	while [[ $$rest =~ ^([0-9]+)(h|m|s)(.*)$$ ]]; do \
		n=$${BASH_REMATCH[1]}; case $${BASH_REMATCH[2]} in h) n=$$((n * 3600));; m) n=$$((n * 60));; esac; \
		secs=$$((secs + n)); rest=$${BASH_REMATCH[3]}; \
	done; \
	if [ -n "$$rest" ] || [ "$$secs" -lt 120 ]; then echo "DURATION=$(DURATION): want at least 2m, written like 1h, 30m or 1h30m"; exit 2; fi; \
	echo "soak: $(DURATION) of load, then the audits and read-back (timeout $$((secs * 3 / 2 + 1800))s)"; \
	CUSTOS_SOAK_DURATION='$(DURATION)' CUSTOS_REQUIRE_COMPONENTS=1 $(GO) test -p 1 -count=1 -v -timeout $$((secs * 3 / 2 + 1800))s -run '^TestSoak$$' ./internal/soak/

clean:
	rm -rf bin .run
