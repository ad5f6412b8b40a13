// Command custos-bench runs the headline measurements and prints one
// "metric NAME VALUE UNIT" line per figure (see docs/benchmarks.md).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/custos-vault/custos/internal/bench"
)

func main() {
	only := flag.String("only", "", "run only this group: custody, audit, deposit, s3")
	dur := flag.Duration("append-duration", 5*time.Second, "how long the append measurement runs")
	auditN := flag.Int("audit-events", 1_000_000, "events in the audit replay")
	flag.Parse()
	dir, err := os.MkdirTemp("", "custos-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	run := func(group string, f func() ([]bench.Metric, error)) {
		if *only != "" && *only != group {
			return
		}
		ms, err := f()
		if err != nil {
			fail(fmt.Errorf("%s: %w", group, err))
		}
		for _, m := range ms {
			fmt.Println(m)
		}
	}
	run("custody", func() ([]bench.Metric, error) { return bench.CustodyAppend(dir, 64, *dur) })
	run("audit", func() ([]bench.Metric, error) { return bench.AuditVerify(*auditN) })
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "custos-bench: error:", err)
	os.Exit(1)
}
