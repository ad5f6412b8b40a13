// Command custos-bench runs the headline measurements and prints one
// "metric NAME VALUE UNIT" line per figure (see docs/benchmarks.md).
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/bench"
)

func main() {
	only := flag.String("only", "", "run only this group: custody, anchors, growth, audit, reports, deposit, s3, hashset, pdq, web, stocktools, stocktools-s3, scale, checkpoints")
	dur := flag.Duration("append-duration", 5*time.Second, "how long the append measurement runs")
	auditN := flag.Int("audit-events", 1_000_000, "events in the audit replay")
	custos := flag.String("custos", "bin/custos", "the custos binary the deposit measurements run")
	depositSize := flag.Int64("deposit-bytes", 1<<30, "size of the measured deposit")
	rssSize := flag.Int64("rss-bytes", 4<<30, "size of the deposit during which peak RSS is measured (0: skip)")
	growthN := flag.Int("growth-events", 10_000_000, "events appended to measure the custody log's memory growth")
	reportN := flag.Int("report-events", 300, "custody events of the item the court documents are timed for")
	hashsetN := flag.Int("hashset-entries", 10_000_000, "SHA-256 digests in the measured hash set")
	witnessedN := flag.Int("witnessed-checkpoints", 100, "checkpoints timed from signing to their witness quorum")
	matchBytes := flag.Int64("match-deposit-bytes", 4<<20, "size of the deposits timed with and without a hash set loaded")
	webItems := flag.Int("web-items", 100_000, "items of the case whose web page is timed")
	webUpload := flag.Int64("web-upload-bytes", 1<<30, "size of the upload through the browser compared with the CLI's deposit")
	scaleEvents := flag.String("scale-events", "100000,1000000,10000000", "comma-separated custody log sizes, in events, of the vaults the scale group generates and measures")
	scaleKeep := flag.String("scale-keep", "", "folder in which the scale and checkpoints groups keep the vaults they generate, and measure them again on a later run (empty: generate each one anew and remove it)")
	checkpointsN := flag.Int("checkpoints-events", 200_000, "events of the log of a checkpoint every two events that the checkpoints group audits")
	flag.Parse()
	var scaleSizes []int
	for _, f := range strings.Split(*scaleEvents, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1000 {
			fail(fmt.Errorf("-scale-events: %q is not a size of at least 1000 events", f))
		}
		scaleSizes = append(scaleSizes, n)
	}
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
	run("anchors", func() ([]bench.Metric, error) {
		ms, err := bench.CustodyAppend(dir, 64, *dur)
		if err != nil {
			return nil, err
		}
		an, err := bench.CustodyAppendAnchored(dir, 64, *dur)
		if err != nil {
			return nil, err
		}
		w, err := bench.CheckpointWitnessed(dir, *witnessedN)
		return append(append(ms, an...), w...), err
	})
	run("growth", func() ([]bench.Metric, error) { return bench.CustodyRSSGrowth(dir, *growthN) })
	run("audit", func() ([]bench.Metric, error) {
		ms, err := bench.AuditVerify(*auditN)
		if err != nil {
			return nil, err
		}
		signIns, err := bench.AuditOIDCSignIns(2000)
		return append(ms, signIns...), err
	})
	run("reports", func() ([]bench.Metric, error) { return bench.CustodyReports(*reportN, 9) })
	run("deposit", func() ([]bench.Metric, error) { return bench.DepositFS(*custos, dir, *depositSize, *rssSize) })
	run("s3", func() ([]bench.Metric, error) { return bench.DepositS3(*custos, dir, *depositSize) })
	run("hashset", func() ([]bench.Metric, error) {
		ms, err := bench.HashSet(dir, *hashsetN)
		if err != nil {
			return nil, err
		}
		dm, err := bench.DepositMatching(*custos, dir, *matchBytes, *hashsetN)
		return append(ms, dm...), err
	})
	run("pdq", bench.PDQ)
	run("stocktools", func() ([]bench.Metric, error) { return bench.DepositStockTools(*custos, dir, *depositSize, 3) })
	run("stocktools-s3", func() ([]bench.Metric, error) { return bench.DepositS3StockTools(*custos, dir, *depositSize, 3) })
	run("scale", func() ([]bench.Metric, error) {
		// Each size takes from minutes to most of an hour: its figures
		// are printed as soon as they are measured.
		for _, n := range scaleSizes {
			ms, err := bench.Scale(*custos, dir, n, os.Stderr, *scaleKeep)
			if err != nil {
				return nil, fmt.Errorf("%s events: %w", bench.ScaleLabel(n), err)
			}
			for _, m := range ms {
				fmt.Println(m)
			}
		}
		return nil, nil
	})
	run("checkpoints", func() ([]bench.Metric, error) {
		return bench.AuditCheckpoints(*custos, dir, *checkpointsN, os.Stderr, *scaleKeep)
	})
	run("web", func() ([]bench.Metric, error) {
		ms, err := bench.WebCasePage(*custos, dir, *webItems, 9)
		if err != nil {
			return nil, err
		}
		up, err := bench.WebUpload(*custos, dir, *webUpload)
		return append(ms, up...), err
	})
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "custos-bench: error:", err)
	os.Exit(1)
}
