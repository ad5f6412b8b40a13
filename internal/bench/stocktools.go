package bench

import (
	"crypto/md5"
	"crypto/sha1"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
)

// DepositStockTools judges a deposit against what a person would do
// without Custos, on the same machine in the same run (issue #18,
// section 3): the throughput of `custos deposit` of a file of size bytes
// to a development server (the whole client process timed, client and
// server sharing the cores), over that of one shell pipeline doing the
// same work with stock tools: sha256sum, md5sum and sha1sum of the
// plaintext, `age -r`, sha256sum of the ciphertext, the ciphertext written
// to a file and fsynced. Each is the median of rounds runs. It also
// reports the CPU time (user and system, client and server together) a
// deposit costs per byte, next to the sum of the primitives' costs on one
// core measured just before (SHA-256, MD5, SHA-1, age encryption and the
// ciphertext's SHA-256).
func DepositStockTools(custos, dir string, size int64, rounds int) ([]Metric, error) {
	file := filepath.Join(dir, "stock-in.bin")
	if err := writeSource(file, size); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "stock-out.age")
	defer os.Remove(out)
	// sync FILE fsyncs the file.
	script := stockPipeline(file, id.Recipient().String(), fmt.Sprintf("> %q", out)) + fmt.Sprintf("\nsync %q", out)
	pm, err := runPipeline(script, rounds, func() { os.Remove(out) }, nil)
	if err != nil {
		return nil, err
	}

	limit, err := HashEncryptLimit(min(size, 512<<20))
	if err != nil {
		return nil, err
	}
	legacy := 0.0
	for _, h := range []hash.Hash{md5.New(), sha1.New()} {
		legacy += hashNsPerByte(h, min(size, 512<<20))
	}
	primitives := 1e9/limit + legacy

	s, err := startServer(custos, dir, nil, nil)
	if err != nil {
		return nil, err
	}
	dm, cpu, err := cliDeposits(custos, s, file, size, rounds)
	if err != nil {
		return nil, err
	}
	mb := float64(size) / 1e6
	return []Metric{
		{"deposit_stock_pipeline_mb_per_s", mb / pm.Seconds(), "MB/s"},
		{"deposit_cli_mb_per_s", mb / dm.Seconds(), "MB/s"},
		{"deposit_vs_stock_tools_ratio", pm.Seconds() / dm.Seconds(), "ratio"},
		{"deposit_cpu_ns_per_byte", cpu, "ns/byte"},
		{"deposit_primitives_ns_per_byte", primitives, "ns/byte"},
		{"deposit_cpu_vs_primitives_ratio", cpu / primitives, "ratio"},
	}, nil
}

// stockPipeline is the bash pipeline of the stock tools a person would
// use instead of a deposit: the plaintext file's SHA-256, MD5 and SHA-1,
// its encryption to recipient with `age -r`, the ciphertext's SHA-256
// by the last tee, whose output goes where sink says (a redirection, or
// a pipe to another command). bash waits for its process substitutions
// at `wait` (bash 5.1 and later).
func stockPipeline(file, recipient, sink string) string {
	return fmt.Sprintf(`set -euo pipefail
tee >(sha256sum >/dev/null) >(md5sum >/dev/null) >(sha1sum >/dev/null) < %q | age -r %q | tee >(sha256sum >/dev/null) %s
wait`, file, recipient, sink)
}

// runPipeline runs a bash script rounds times (each after before, with
// env added to the environment) and returns the median time.
func runPipeline(script string, rounds int, before func(), env []string) (time.Duration, error) {
	var took []time.Duration
	for range rounds {
		before()
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), env...)
		t := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("the stock-tools pipeline: %v: %s", err, b)
		}
		took = append(took, time.Since(t))
	}
	slices.Sort(took)
	return took[len(took)/2], nil
}

// cliDeposits opens a case on s and runs `custos deposit` of file (size
// bytes) into it rounds times; it returns the median time of the whole
// client process, and the median CPU time (user and system, client and
// server together) per byte, in nanoseconds. It stops s and removes its
// data folder.
func cliDeposits(custos string, s *devServer, file string, size int64, rounds int) (time.Duration, float64, error) {
	defer func() { s.stop(); os.RemoveAll(s.data) }()
	const caseID = "STOCK"
	if err := s.call("POST", "/v1/cases", map[string]string{"case": caseID, "title": "stock tools"}); err != nil {
		return 0, 0, err
	}
	var dep []time.Duration
	var cpu []float64
	for range rounds {
		before, err := processCPU(s.cmd.Pid)
		if err != nil {
			return 0, 0, err
		}
		cmd := exec.Command(custos, "deposit", "--case", caseID, "--again", file)
		cmd.Env = append(os.Environ(), "CUSTOS_SERVER="+s.url, "CUSTOS_TOKEN="+devCredential(s.data))
		t := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("custos deposit: %v: %s", err, b)
		}
		dep = append(dep, time.Since(t))
		after, err := processCPU(s.cmd.Pid)
		if err != nil {
			return 0, 0, err
		}
		client := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		cpu = append(cpu, float64(client+after-before)/float64(size))
	}
	slices.Sort(dep)
	slices.Sort(cpu)
	return dep[len(dep)/2], cpu[len(cpu)/2], nil
}

// hashNsPerByte is what h costs per byte over n bytes, on one goroutine.
func hashNsPerByte(h hash.Hash, n int64) float64 {
	t := time.Now()
	io.Copy(h, newSource(n))
	h.Sum(nil)
	return float64(time.Since(t).Nanoseconds()) / float64(n)
}

// processCPU is a process's user and system CPU time so far, from
// /proc/PID/stat (in clock ticks of 1/100 s).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is the first; utime and stime are the 12th and 13th.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	u, err1 := strconv.ParseInt(fields[11], 10, 64)
	s, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q %q", pid, fields[11], fields[12])
	}
	return time.Duration(u+s) * 10 * time.Millisecond, nil
}
