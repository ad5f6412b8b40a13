// Package soak holds the soak test (issue #18, section 5): the real
// server (bin/custos) under a steady mix of deposits, views, packages,
// refusals and checkpoint reads for a long time, first on the embedded
// defaults and then with PostgreSQL and MinIO, while its memory, open
// files and goroutines are sampled; at the end the custody log and every
// stored object are audited and every acknowledged deposit is read back.
//
// It is not part of `make test`: `go test ./...` skips it unless
// CUSTOS_SOAK_DURATION is set. Run it with `make soak DURATION=1h`
// (docs/benchmarks.md, "2026-12-01: soak").
package soak
