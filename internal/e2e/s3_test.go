package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

func minioServer(t *testing.T, m *testenv.MinIO, bucket string) *server {
	env := []string{"AWS_ACCESS_KEY_ID=" + m.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + m.SecretKey()}
	// Short retention: COMPLIANCE objects outlive the test otherwise.
	return newServerEnv(t, env, "--objects", m.URL(bucket), "--retention", "1m")
}

// TestEndToEndOnMinIO runs the flow with the ciphertext in a real MinIO
// bucket with object lock.
func TestEndToEndOnMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := minioServer(t, m, "evidence")
	work := t.TempDir()
	sums := flow(t, s, work)
	if sc := s.ok("auditor", work, "audit", "scrub", "--json").json(t); sc["ok"] != true || sc["objects"].(float64) != 2 {
		t.Fatalf("scrub on MinIO: %v", sc)
	}
	s.stop()
	s.start()
	getAll(t, s, work, sums)
}

// TestMinIOOutageMidUpload stops MinIO while a deposit streams: the client
// gets a clear error and no deposit is recorded; when MinIO returns, the
// same running vault deposits again.
func TestMinIOOutageMidUpload(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := minioServer(t, m, "evidence")
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "OUT-1", "--title", "outage")
	env := map[string]string{}
	for _, kv := range s.env("investigator") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	// 200 MiB of zeros, with its true SHA-256 as the trailer, so that the
	// outage is the only thing that can fail this deposit.
	const mib = 200
	chunk := make([]byte, 1<<20)
	h := sha256.New()
	for i := 0; i < mib; i++ {
		h.Write(chunk)
	}
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < mib; i++ {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
			if i == 4 {
				m.Stop()
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", env["CUSTOS_SERVER"]+"/v1/cases/OUT-1/items?name="+url.QueryEscape("big.bin"), pr)
	req.Header.Set("Authorization", "Bearer "+sessionToken(t, env["CUSTOS_SERVER"], env["CUSTOS_TOKEN"]))
	req.ContentLength = -1
	req.Trailer = http.Header{"Custos-Content-Sha256": {hex.EncodeToString(h.Sum(nil))}}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("deposit acknowledged while MinIO was down: %s", b)
		}
		if resp.StatusCode != 503 || !strings.Contains(string(b), "backend is unavailable") {
			t.Fatalf("unclear error: %s", b)
		}
		t.Logf("after %s: HTTP %d %s", time.Since(start).Round(time.Millisecond), resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	f, _, sum := evidence(t, work, "after.bin", 3<<20)
	dep := s.ok("investigator", work, "deposit", "--case", "OUT-1", f, "--json").json(t)
	if dep["items"].([]any)[0].(map[string]any)["sha256"] != sum {
		t.Fatal("deposit after MinIO returned is wrong")
	}
	tl := s.ok("auditor", work, "audit", "log", "--case", "OUT-1", "--json").stdout
	if strings.Count(tl, `"type":"item.deposited"`) != 1 {
		t.Fatalf("the failed deposit left an event: %s", tl)
	}
	s.ok("auditor", work, "audit", "verify")
}
