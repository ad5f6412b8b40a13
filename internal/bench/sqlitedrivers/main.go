// Command sqlitedrivers measures the custody log's append transaction on
// the SQLite drivers for Go side by side (docs/benchmarks.md, "Appends:
// the SQLite drivers side by side"): the pure-Go modernc.org/sqlite the
// vault uses, the cgo github.com/mattn/go-sqlite3, and the WebAssembly
// github.com/ncruces/go-sqlite3. Each run is one driver, chosen by build
// tag (mattn's and ncruces's both register the name "sqlite3"):
//
//	go run -tags modernc . -dir /some/folder
//
// It writes batches of -per events the way events/sqlite appends them (one
// BEGIN IMMEDIATE transaction of a multi-row INSERT of the five columns and
// the batch seal's upsert, WAL, synchronous FULL) from one writer, and
// prints `metric NAME VALUE UNIT` lines: events a second, the batch's
// median and p99, its CPU (user and system), and the disk's fsync median
// measured the same way as the custody group (4 KiB written and fsynced).
// Then it reads every row back once, as an auditor's read of the log does
// (readAll), and prints the rows read a second and the CPU a row.
//
// It is a module of its own so that the vault's module does not depend on
// cgo or on the other drivers; its modernc.org/sqlite is the vault's
// version.
package main

import (
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// driverName, label and dsn are set by the driver's file (build tag).
// The DSN sets what every connection needs (busy timeout, synchronous
// FULL, BEGIN IMMEDIATE); the page size, WAL and the checkpoint interval
// are set once by run, in that order, before the first table: a page
// size set after journal_mode(WAL) does not take effect.
var (
	driverName string
	label      string
	dsn        func(path string) string
)

func rusage() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// fsyncMedian is the median of n rounds of writing 4 KiB to a file in dir
// and fsyncing it: the measurement of internal/bench's custody group,
// repeated here so that this module needs nothing of the vault's.
func fsyncMedian(dir string, n int) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 4096)
	rand.Read(block)
	times := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := f.Write(block); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

func main() {
	dir := flag.String("dir", os.TempDir(), "folder for the database (on the disk to measure)")
	batches := flag.Int("batches", 2000, "batches to append")
	per := flag.Int("per", 64, "events a batch")
	pageSize := flag.Int("page-size", 4096, "the database's page size in bytes, set before it is created")
	flag.Parse()
	if driverName == "" {
		log.Fatal("build with one of the tags modernc, mattn or ncruces")
	}
	if err := run(*dir, *batches, *per, *pageSize); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, batches, per, pageSize int) error {
	tmp, err := os.MkdirTemp(dir, "sqlitedrivers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fsync, err := fsyncMedian(tmp, 200)
	if err != nil {
		return err
	}
	db, err := sql.Open(driverName, dsn(filepath.Join(tmp, "custody.db")))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, p := range []string{fmt.Sprintf("page_size = %d", pageSize), "journal_mode = WAL", "wal_autocheckpoint = 8192"} {
		if _, err := db.Exec("PRAGMA " + p); err != nil {
			return fmt.Errorf("%s: PRAGMA %s: %v", label, p, err)
		}
	}
	// The schema of events/sqlite.
	if _, err := db.Exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE seal (one INTEGER PRIMARY KEY CHECK (one = 1), size INTEGER NOT NULL, note BLOB NOT NULL)`); err != nil {
		return err
	}
	var gotPage int
	var mode, sync string
	if err := db.QueryRow("PRAGMA page_size").Scan(&gotPage); err != nil {
		return err
	}
	db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	db.QueryRow("PRAGMA synchronous").Scan(&sync)
	if gotPage != pageSize || mode != "wal" || sync != "2" {
		return fmt.Errorf("%s: page size %d, journal %s, synchronous %s: not the settings asked for", label, gotPage, mode, sync)
	}
	insert, err := db.Prepare("INSERT INTO events(seq, id, case_id, item_id, bytes) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?),", per), ","))
	if err != nil {
		return err
	}
	// A typical event (480 bytes) and seal note (300 bytes).
	ev, note := make([]byte, 480), make([]byte, 300)
	rand.Read(ev)
	rand.Read(note)
	args := make([]any, 0, 5*per)
	lat := make([]time.Duration, 0, batches)
	u0, s0 := rusage()
	t0 := time.Now()
	seq := 0
	for range batches {
		start := time.Now()
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		args = args[:0]
		for range per {
			args = append(args, seq, fmt.Sprintf("%032x", seq), "NCU-04832", "it_703ff5186e34970b22e9004b", ev)
			seq++
		}
		if _, err := tx.Stmt(insert).Exec(args...); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.Exec(`INSERT INTO seal(one, size, note) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET size = excluded.size, note = excluded.note`, seq, note); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	elapsed := time.Since(t0)
	u1, s1 := rusage()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(batches) }
	rate := float64(seq) / elapsed.Seconds()
	limit := float64(per) / fsync.Seconds()
	readRate, readCPU, err := readAll(db, seq)
	if err != nil {
		return err
	}
	fmt.Printf("# %s, page size %d, batches of %d, one writer; then every row read back once\n", label, pageSize, per)
	for _, m := range []struct {
		name  string
		value float64
		unit  string
	}{
		{"events_per_s", rate, "events/s"},
		{"batch_median_ms", ms(lat[len(lat)/2]), "ms"},
		{"batch_p99_ms", ms(lat[len(lat)*99/100]), "ms"},
		{"batch_user_cpu_us", us(u1 - u0), "us"},
		{"batch_system_cpu_us", us(s1 - s0), "us"},
		{"fsync_median_ms", ms(fsync), "ms"},
		{"fsync_limit_ratio", rate / limit, "ratio"},
		{"read_rows_per_s", readRate, "rows/s"},
		{"read_cpu_us_per_row", readCPU, "us"},
	} {
		fmt.Printf("metric sqlite_%s_%s %.3f %s\n", label, m.name, m.value, m.unit)
	}
	return nil
}

// readAll reads every row of the events table once, in order, as
// events/sqlite's ReadTransient does for an auditor's read of the log
// (the lookup values as strings, the bytes in the driver's buffer), and
// returns the rows read a second and the process's CPU (user and system)
// a row. It fails unless it read want rows, each with its bytes.
func readAll(db *sql.DB, want int) (rowsPerS, cpuUS float64, err error) {
	u0, s0 := rusage()
	t0 := time.Now()
	rows, err := db.Query("SELECT seq, id, case_id, item_id, bytes FROM events WHERE seq >= ? ORDER BY seq", 0)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	n, total := 0, 0
	var raw sql.RawBytes
	var id, caseID, item string
	var seq int64
	for rows.Next() {
		if err := rows.Scan(&seq, &id, &caseID, &item, &raw); err != nil {
			return 0, 0, err
		}
		n++
		total += len(raw) + len(id) + len(caseID) + len(item)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	elapsed := time.Since(t0)
	u1, s1 := rusage()
	if n != want || total == 0 {
		return 0, 0, fmt.Errorf("%s: read %d rows back, wrote %d", label, n, want)
	}
	return float64(n) / elapsed.Seconds(), float64((u1-u0)+(s1-s0)) / float64(time.Microsecond) / float64(n), nil
}
