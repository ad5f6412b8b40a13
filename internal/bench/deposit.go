package bench

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
)

// source yields n bytes cycled from a fixed random buffer, so that
// producing the input costs a memcpy and nothing else, identically in the
// baseline and in the measured deposit.
type source struct {
	buf  []byte
	left int64
	off  int
}

func newSource(n int64) *source {
	b := make([]byte, 4<<20)
	rand.Read(b)
	return &source{buf: b, left: n}
}

// writeSource writes a file of n bytes of newSource at path.
func writeSource(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, newSource(n)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *source) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n := copy(p, s.buf[s.off:])
	s.off = (s.off + n) % len(s.buf)
	s.left -= int64(n)
	return n, nil
}

type hashWriter struct{ h hash.Hash }

func (w hashWriter) Write(p []byte) (int, error) { return w.h.Write(p) }

// HashEncryptLimit measures, on one goroutine, SHA-256 of the plaintext,
// age encryption, and SHA-256 of the ciphertext over n bytes: the work a
// deposit cannot avoid, without any I/O. It returns bytes per second.
func HashEncryptLimit(n int64) (float64, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return 0, err
	}
	src := newSource(n)
	buf := make([]byte, 1<<20)
	start := time.Now()
	plain := sha256.New()
	ct := sha256.New()
	w, err := age.Encrypt(hashWriter{ct}, id.Recipient())
	if err != nil {
		return 0, err
	}
	for {
		k, err := src.Read(buf)
		if k > 0 {
			plain.Write(buf[:k])
			w.Write(buf[:k])
		}
		if err == io.EOF {
			break
		}
	}
	w.Close()
	plain.Sum(nil)
	ct.Sum(nil)
	return float64(n) / time.Since(start).Seconds(), nil
}

// devServer is a `custos server --dev` process for the measurements.
type devServer struct {
	cmd   *os.Process
	url   string
	token string
	data  string
}

func startServer(custos, dir string, extra []string, env []string) (*devServer, error) {
	data := filepath.Join(dir, "data-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--dev", "--data", data, "--listen", "127.0.0.1:" + strconv.Itoa(port)}, extra...)
	logf, err := os.Create(data + ".log")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	p, err := os.StartProcess(custos, append([]string{custos}, args...), &os.ProcAttr{
		Env: append(os.Environ(), env...), Files: []*os.File{nil, logf, logf}})
	if err != nil {
		return nil, err
	}
	s := &devServer{cmd: p, url: "http://127.0.0.1:" + strconv.Itoa(port), data: data}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(data, "dev", "investigator.env"))
		if err == nil && strings.Contains(b2s(b), "CUSTOS_TOKEN=") {
			if resp, err := http.Get(s.url + "/v1/health"); err == nil {
				resp.Body.Close()
				for _, line := range strings.Split(b2s(b), "\n") {
					if v, ok := strings.CutPrefix(line, "export CUSTOS_TOKEN="); ok {
						s.token = v
					}
				}
				// The credential opens a session, whose token the
				// requests carry.
				tok, err := signIn(s.url, s.token)
				if err != nil {
					p.Kill()
					return nil, err
				}
				s.token = tok
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.Kill()
	log, _ := os.ReadFile(data + ".log")
	return nil, fmt.Errorf("server did not start: %s", log)
}

func b2s(b []byte) string { return string(b) }

func (s *devServer) stop() {
	s.cmd.Signal(os.Interrupt)
	s.cmd.Wait()
}

// peakRSS returns the server's peak resident set (VmHWM) in MiB.
func (s *devServer) peakRSS() (float64, error) { return processPeakRSS(s.cmd.Pid) }

// processPeakRSS returns a running process's peak resident set (VmHWM) in
// MiB. A child's rusage (ru_maxrss) cannot give it: Go starts children
// with CLONE_VM, so the kernel carries the parent's peak into the child's
// at its exec, and a small command run from a large benchmark process
// reports the benchmark's memory.
func processPeakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM")
}

func (s *devServer) call(method, path string, body any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, msg)
	}
	return nil
}

// deposit streams n generated bytes as one deposit, the way the CLI does:
// hashing what it sends and giving the vault its SHA-256 as a trailer. It
// returns bytes per second, end to end.
func (s *devServer) deposit(caseID string, n int64) (float64, error) {
	h := sha256.New()
	src := &trailerSource{r: newSource(n), h: h}
	req, _ := http.NewRequest("POST", s.url+"/v1/cases/"+caseID+"/items?name=bench.bin", src)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.ContentLength = -1
	req.Trailer = http.Header{"Custos-Content-Sha256": nil}
	src.trailer = req.Trailer
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct{ SHA256 string }
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return 0, fmt.Errorf("deposit: HTTP %d", resp.StatusCode)
	}
	elapsed := time.Since(start)
	if out.SHA256 != hex.EncodeToString(h.Sum(nil)) {
		return 0, fmt.Errorf("deposit acknowledged a different SHA-256")
	}
	return float64(n) / elapsed.Seconds(), nil
}

type trailerSource struct {
	r       io.Reader
	h       hash.Hash
	trailer http.Header
}

func (t *trailerSource) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.h.Write(p[:n])
	if err == io.EOF {
		t.trailer.Set("Custos-Content-Sha256", hex.EncodeToString(t.h.Sum(nil)))
	}
	return n, err
}

// DepositFS measures a deposit of size bytes through a running server on
// the filesystem store against the single-core hash+encrypt limit of the
// same number of bytes, measured just before; and, separately, the
// server's peak RSS while depositing rssSize bytes.
func DepositFS(custos, dir string, size, rssSize int64) ([]Metric, error) {
	limit, err := HashEncryptLimit(size)
	if err != nil {
		return nil, err
	}
	s, err := startServer(custos, dir, nil, nil)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	if err := s.call("POST", "/v1/cases", map[string]string{"case": "BENCH", "title": "bench"}); err != nil {
		return nil, err
	}
	tput, err := s.deposit("BENCH", size)
	if err != nil {
		return nil, err
	}
	// The same deposit on a server that skips MD5 and SHA-1, which the
	// baseline does not compute either.
	lean, err := startServer(custos, dir, []string{"--no-legacy-hashes"}, nil)
	if err != nil {
		return nil, err
	}
	defer lean.stop()
	if err := lean.call("POST", "/v1/cases", map[string]string{"case": "BENCH", "title": "bench"}); err != nil {
		return nil, err
	}
	leanTput, err := lean.deposit("BENCH", size)
	if err != nil {
		return nil, err
	}
	os.RemoveAll(lean.data)
	out := []Metric{
		{"deposit_hash_encrypt_limit_mb_per_s", limit / 1e6, "MB/s"},
		{"deposit_fs_mb_per_s", tput / 1e6, "MB/s"},
		{"deposit_limit_ratio", tput / limit, "ratio"},
		{"deposit_fs_sha256_only_mb_per_s", leanTput / 1e6, "MB/s"},
		{"deposit_limit_ratio_sha256_only", leanTput / limit, "ratio"},
	}
	if rssSize > 0 {
		r, err := startServer(custos, dir, nil, nil)
		if err != nil {
			return nil, err
		}
		defer r.stop()
		if err := r.call("POST", "/v1/cases", map[string]string{"case": "RSS", "title": "rss"}); err != nil {
			return nil, err
		}
		if _, err := r.deposit("RSS", rssSize); err != nil {
			return nil, err
		}
		rss, err := r.peakRSS()
		if err != nil {
			return nil, err
		}
		out = append(out, Metric{"deposit_peak_rss_mib", rss, "MiB"})
		os.RemoveAll(r.data)
	}
	os.RemoveAll(s.data)
	return out, nil
}

// signIn opens a session with a local credential and returns its token.
func signIn(base, credential string) (string, error) {
	resp, err := http.Post(base+"/v1/sessions", "application/json", strings.NewReader(`{"credential":"`+credential+`"}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("sign-in: HTTP %d %v", resp.StatusCode, err)
	}
	return out.Token, nil
}
