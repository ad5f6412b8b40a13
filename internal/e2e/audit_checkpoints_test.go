package e2e

// audit verify reads the vault's checkpoints (GET /v1/log/checkpoints)
// as they arrive, into a bounded queue, and hands them to
// the replay as it reaches their sizes: a busy vault stores one a second,
// millions over its life, and an audit holds a bounded number.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault/api"
)

// checkpointsAnswer has next serve GET /v1/log/checkpoints and returns
// its answer.
func checkpointsAnswer(t *testing.T, r *http.Request, next http.Handler) (api.CheckpointsResponse, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var a api.CheckpointsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &a); rec.Code != http.StatusOK || err != nil {
		t.Errorf("the vault's checkpoints: HTTP %d, %v", rec.Code, err)
	}
	return a, rec.Body.Bytes()
}

// TestAuditVerifyReadsTheCheckpointsAsTheyCome: the vault's answer names
// its newest checkpoint before the list, which it ends with; the audit
// leaves nothing in the temporary folder; an older vault's answer (the
// list first, no newest) is read too; an answer cut short fails the
// audit, saying so; and audit export writes each checkpoint as served.
func TestAuditVerifyReadsTheCheckpointsAsTheyCome(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	recordedExports(t, s, 200)
	tmp := t.TempDir()
	for range 3 {
		// Each audit has a checkpoint stored for the events so far.
		out := s.ok("auditor", work, "audit", "verify", "--json").json(t)
		if out["ok"] != true {
			t.Fatalf("audit verify: %v", out)
		}
	}
	var served api.CheckpointsResponse
	var raw []byte
	older := false
	cut := false
	p := newAuditProxy(t, s, func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if r.URL.Path != "/v1/log/checkpoints" {
			return false
		}
		served, raw = checkpointsAnswer(t, r, next)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case cut:
			// The answer stops within its list.
			i := bytes.Index(raw, []byte(`"checkpoints":[`))
			w.Write(raw[:i+len(`"checkpoints":[`)+40])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case older:
			b, _ := json.Marshal(struct {
				Checkpoints []string `json:"checkpoints"`
				Witnessed   string   `json:"witnessed,omitempty"`
			}{served.Checkpoints, served.Witnessed})
			w.Write(b)
		default:
			w.Write(raw)
		}
		return true
	})
	s.runEnv = append(s.runEnv, "TMPDIR="+tmp)
	out := s.ok("auditor", work, "audit", "verify", "--json").json(t)
	if out["ok"] != true {
		t.Fatalf("audit verify: %v", out)
	}
	n := len(served.Checkpoints)
	if n < 2 || served.Newest == "" || served.Checkpoints[n-1] != served.Newest {
		t.Fatalf("the vault served %d checkpoints, the last %q, newest %q", n, served.Checkpoints[n-1], served.Newest)
	}
	if i, j := bytes.Index(raw, []byte(`"newest":`)), bytes.Index(raw, []byte(`"checkpoints":`)); i < 0 || j < i {
		t.Fatalf("the list comes before the newest checkpoint: %.200s", raw)
	}
	if int(out["checkpoints"].(float64)) != n {
		t.Fatalf("audit verify checked %v checkpoints, the vault served %d", out["checkpoints"], n)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("audit verify left %v in the temporary folder", left)
	}

	older = true
	out = s.ok("auditor", work, "audit", "verify", "--json").json(t)
	if out["ok"] != true || int(out["checkpoints"].(float64)) != len(served.Checkpoints) {
		t.Fatalf("audit verify of an older vault's answer (%d checkpoints): %v", len(served.Checkpoints), out)
	}
	older = false

	cut = true
	r := s.run("auditor", work, "custos", "audit", "verify")
	if r.code == 0 || !strings.Contains(r.stderr, "the vault's answer was cut short") || strings.Contains(r.stdout, "ok:") {
		t.Fatalf("audit verify of an answer cut short: %d %s %s", r.code, r.stdout, r.stderr)
	}
	cut = false
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("audit verify left %v in the temporary folder", left)
	}

	dir := filepath.Join(t.TempDir(), "export")
	s.ok("auditor", work, "audit", "export", "-o", dir)
	files, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	if len(files) != len(served.Checkpoints) {
		t.Fatalf("audit export wrote %d checkpoints, the vault served %d", len(files), len(served.Checkpoints))
	}
	for i, c := range served.Checkpoints {
		b, err := os.ReadFile(filepath.Join(dir, "checkpoints", files[i].Name()))
		if err != nil || string(b) != c {
			t.Fatalf("exported checkpoint %d (%s): %v", i, files[i].Name(), err)
		}
	}
	if !p.asked("/v1/log/checkpoints") {
		t.Fatal("the proxy was not asked")
	}
}
