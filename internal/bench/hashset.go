package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/hashset"
)

// hashSetChildEnv makes a process started from os.Args[0] run the lookup
// half of HashSet and exit (see init below).
const hashSetChildEnv = "CUSTOS_BENCH_HASHSET_CHILD"

// hashSetLookups is the number of timed lookups, half of present keys.
const hashSetLookups = 100_000

// HashSet measures the hash-set tables with n SHA-256 digests:
//
//   - hashset_import_hashes_per_s: hashset.Build of a sha256sum file of n
//     lines ("HEX  file-I.jpg"), from opening the file to the set in
//     place, fsyncs included, in digests per second;
//   - hashset_lookup_p99_us (and _p50_us): the 99th percentile (median)
//     of 100,000 lookups (Set.Find: the resident index, then the whole
//     key confirmed on disk for a candidate), half of present digests
//     and half of absent ones, in a fresh process that has just opened
//     the set: what a deposit's matching decides on;
//   - hashset_lookup_entry_p99_us: the same lookups with each match's
//     metadata read from disk too (Set.Lookup, as a match is recorded),
//     and hashset_lookup_absent_p99_us: the absent half of them;
//   - hashset_rss_mib_per_10m: that process's resident set (VmRSS, after
//     the lookups and a garbage collection), scaled to 10,000,000
//     digests.
//
// The lookups and the memory are measured in a child process (this
// program started again with an environment variable) so that the
// import's memory and the generator's do not count.
func HashSet(dir string, n int) ([]Metric, error) {
	sub, err := os.MkdirTemp(dir, "hashset-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(sub)
	src := filepath.Join(sub, "source.sha256")
	if err := writeSumFile(src, n); err != nil {
		return nil, err
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(sub, "sets")
	start := time.Now()
	sum, err := hashset.Build(root, "bench", f, "sha256sum", hashset.BuildOptions{})
	elapsed := time.Since(start)
	f.Close()
	if err != nil {
		return nil, err
	}
	if sum.Entries != n {
		return nil, fmt.Errorf("imported %d of %d digests", sum.Entries, n)
	}
	os.Remove(src)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), hashSetChildEnv+"="+filepath.Join(root, "bench")+","+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lookup process: %w", err)
	}
	var r hashSetChildResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("lookup process: %w (%q)", err, out)
	}
	return []Metric{
		{"hashset_import_hashes_per_s", float64(n) / elapsed.Seconds(), "hashes/s"},
		{"hashset_lookup_p50_us", r.P50us, "µs"},
		{"hashset_lookup_p99_us", r.P99us, "µs"},
		{"hashset_lookup_entry_p99_us", r.EntryP99us, "µs"},
		{"hashset_lookup_absent_p99_us", r.AbsentP99us, "µs"},
		{"hashset_rss_mib_per_10m", r.RSSKiB / 1024 * 10e6 / float64(n), "MiB"},
	}, nil
}

func benchDigest(i int) [32]byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return sha256.Sum256(b[:])
}

func writeSumFile(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for i := range n {
		d := benchDigest(i)
		line = hex.AppendEncode(line[:0], d[:])
		line = append(line, "  file-"...)
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, ".jpg\n"...)
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type hashSetChildResult struct {
	P50us float64 `json:"p50_us"`
	P99us float64 `json:"p99_us"`
	// EntryP99us: lookups with the entry's metadata read; AbsentP99us:
	// the absent half of them.
	EntryP99us  float64 `json:"entry_p99_us"`
	AbsentP99us float64 `json:"absent_p99_us"`
	RSSKiB      float64 `json:"rss_kib"`
}

func init() {
	arg := os.Getenv(hashSetChildEnv)
	if arg == "" {
		return
	}
	r, err := hashSetChild(arg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hashset lookup process:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(r)
	os.Exit(0)
}

func hashSetChild(arg string) (hashSetChildResult, error) {
	var r hashSetChildResult
	dir, ns, _ := strings.Cut(arg, ",")
	n, err := strconv.Atoi(ns)
	if err != nil {
		return r, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([][32]byte, hashSetLookups)
	for i := range keys {
		if i%2 == 0 {
			keys[i] = benchDigest(rng.IntN(n))
		} else {
			keys[i] = benchDigest(n + rng.IntN(n)) // not in the set
		}
	}
	s, err := hashset.Open(dir)
	if err != nil {
		return r, err
	}
	defer s.Close()
	pct := func(lat []time.Duration, p int) float64 {
		slices.Sort(lat)
		return float64(lat[len(lat)*p/100]) / float64(time.Microsecond)
	}
	lat := make([]time.Duration, len(keys))
	for i := range keys {
		t0 := time.Now()
		nums, err := s.Find(hashset.SHA256, keys[i][:])
		lat[i] = time.Since(t0)
		if err != nil {
			return r, err
		}
		if (len(nums) == 1) != (i%2 == 0) {
			return r, fmt.Errorf("find %d: %d matches", i, len(nums))
		}
	}
	r.P50us, r.P99us = pct(lat, 50), pct(lat, 99)
	var absent []time.Duration
	for i := range keys {
		t0 := time.Now()
		ms, err := s.Lookup(hashset.SHA256, keys[i][:])
		lat[i] = time.Since(t0)
		if err != nil {
			return r, err
		}
		if (len(ms) == 1) != (i%2 == 0) {
			return r, fmt.Errorf("lookup %d: %d matches", i, len(ms))
		}
		if i%2 == 1 {
			absent = append(absent, lat[i])
		}
	}
	r.EntryP99us, r.AbsentP99us = pct(lat, 99), pct(absent, 99)
	keys, lat = nil, nil
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return r, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			r.RSSKiB, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	runtime.KeepAlive(s)
	return r, nil
}

// DepositMatching measures what matching against a hash set of n
// digests adds to a deposit: two development servers, one with a set of
// n SHA-256 digests (category baseline) imported through the API and one
// without, take deposits of size bytes in turn, matchRounds each; each
// side's median throughput is compared. Small deposits are the strict
// case: matching costs the same whatever the size. hashset_deposit_overhead_pct is how much
// slower the side with the set is, in percent (negative: within noise).
func DepositMatching(custos, dir string, size int64, n int) ([]Metric, error) {
	var servers [2]*devServer
	for i := range servers {
		s, err := startServer(custos, dir, nil, nil)
		if err != nil {
			return nil, err
		}
		defer func() { s.stop(); os.RemoveAll(s.data) }()
		if err := s.call("POST", "/v1/cases", map[string]string{"case": "MATCH", "title": "bench"}); err != nil {
			return nil, err
		}
		servers[i] = s
	}
	src := filepath.Join(dir, "match-set.sha256")
	if err := writeSumFile(src, n); err != nil {
		return nil, err
	}
	defer os.Remove(src)
	if err := servers[1].importSet(src, "bench"); err != nil {
		return nil, err
	}
	var runs [2][]float64
	for round := range 2 * matchRounds {
		s := servers[round%2]
		t, err := s.deposit("MATCH", size)
		if err != nil {
			return nil, err
		}
		runs[round%2] = append(runs[round%2], t)
	}
	var best [2]float64
	for i := range runs {
		slices.Sort(runs[i])
		best[i] = runs[i][len(runs[i])/2]
	}
	return []Metric{
		{"hashset_deposit_mb_per_s_without", best[0] / 1e6, "MB/s"},
		{"hashset_deposit_mb_per_s_with", best[1] / 1e6, "MB/s"},
		{"hashset_deposit_overhead_pct", (best[0]/best[1] - 1) * 100, "%"},
	}, nil
}

// matchRounds is the number of deposits timed on each side.
const matchRounds = 25

// importSet imports a sha256sum file as the development custodian.
func (s *devServer) importSet(path, name string) error {
	b, err := os.ReadFile(filepath.Join(s.data, "dev", "custodian.env"))
	if err != nil {
		return err
	}
	var cred string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "export CUSTOS_TOKEN="); ok {
			cred = v
		}
	}
	tok, err := signIn(s.url, cred)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	req, _ := http.NewRequest("POST", s.url+"/v1/hashsets?format=sha256sum&category=baseline&name="+name, f)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("importing the hash set: HTTP %d %s", resp.StatusCode, msg)
	}
	return nil
}
