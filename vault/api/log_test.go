package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
)

// TestConsistencyBounds: GET /v1/log/consistency answers only what RFC
// 9162 section 2.1.4 defines (0 < from <= to) within the log's size, says
// why otherwise, and its proofs verify against the tree's roots.
func TestConsistencyBounds(t *testing.T) {
	tv := newTestVault(t, Options{})
	tree := tv.v.Log().Tree()
	size := tree.Size()
	if size < 3 {
		t.Fatalf("log of %d events; the test needs 3", size)
	}
	get := func(q string) answer { return tv.do("aud", "GET", "/v1/log/consistency?"+q, "", nil) }
	for _, c := range []struct{ q, want string }{
		{"from=0&to=1", "from must be at least 1"},
		{"from=0&to=0", "from must be at least 1"},
		{fmt.Sprintf("from=0&to=%d", size), "RFC 9162"},
		{"from=2&to=1", "larger than to"},
		{fmt.Sprintf("from=1&to=%d", size+1), "beyond the log's size"},
		{fmt.Sprintf("from=%d&to=%d", size+1, size+1), "beyond the log's size"},
		{"from=x&to=2", "tree sizes in decimal"},
		{"from=1", "tree sizes in decimal"},
		{"from=-1&to=2", "tree sizes in decimal"},
		{"from=01&to=2", "tree sizes in decimal"},
		{"from=1&to=+2", "tree sizes in decimal"},
		{"from=1&to=2%20", "tree sizes in decimal"},
	} {
		a := get(c.q)
		if a.code != 400 || !strings.Contains(a.body, c.want) {
			t.Errorf("%s: %d %s; want 400 saying %q", c.q, a.code, a.body, c.want)
		}
	}
	for _, c := range []struct{ from, to uint64 }{{1, 1}, {size, size}, {1, size}, {2, size}, {size - 1, size}} {
		a := get(fmt.Sprintf("from=%d&to=%d", c.from, c.to))
		if a.code != 200 {
			t.Fatalf("%d to %d: %d %s", c.from, c.to, a.code, a.body)
		}
		var cr ConsistencyResponse
		if err := json.Unmarshal([]byte(a.body), &cr); err != nil || cr.From != c.from || cr.To != c.to || cr.Proof == nil {
			t.Fatalf("%d to %d: %s (%v)", c.from, c.to, a.body, err)
		}
		if c.from == c.to && len(cr.Proof) != 0 {
			t.Errorf("%d to %d: proof %v, want empty", c.from, c.to, cr.Proof)
		}
		proof := make([][]byte, len(cr.Proof))
		for i, h := range cr.Proof {
			var err error
			if proof[i], err = hex.DecodeString(h); err != nil || len(proof[i]) != 32 || h != strings.ToLower(h) {
				t.Fatalf("%d to %d: node %q is not a lowercase hex hash", c.from, c.to, h)
			}
		}
		r1, _ := tree.Root(c.from)
		r2, _ := tree.Root(c.to)
		if err := events.VerifyConsistency(c.from, c.to, proof, r1, r2); err != nil {
			t.Errorf("%d to %d: %v", c.from, c.to, err)
		}
	}
	// Only auditors read proofs.
	if a := tv.do("cust", "GET", "/v1/log/consistency?from=1&to=1", "", nil); a.code != 403 {
		t.Errorf("custodian: %d %s", a.code, a.body)
	}
}

// The log's streams take sizes as the log's formats write them (no
// sign, no leading zero, no space); a range whose from is beyond its to
// is empty (TestLogStreamsTakeARange reads it).
func TestLogStreamRangesInCanonicalDecimal(t *testing.T) {
	tv := newTestVault(t, Options{})
	for _, route := range []string{"/v1/log/events", "/v1/log/lookups", "/v1/log/records"} {
		for _, q := range []string{"from=03", "to=09", "from=+1", "to=1%20", "from=", "to=9223372036854775808"} {
			if a := tv.do("aud", "GET", route+"?"+q, "", nil); a.code != 400 {
				t.Errorf("%s?%s: %d %s; want 400", route, q, a.code, a.body)
			}
		}
		for _, q := range []string{"", "from=0", "from=3&to=3", "to=0", "from=5&to=3", "from=1&to=9223372036854775807"} {
			if a := tv.do("aud", "GET", route+"?"+q, "", nil); a.code != 200 {
				t.Errorf("%s?%s: %d %s; want 200", route, q, a.code, a.body)
			}
		}
	}
	// Similar's distance, to someone who may search the item (anyone
	// else is refused first: TestQueriesReadAfterWhoMayAsk).
	item, _ := tv.setupCase()
	for _, q := range []string{"max_distance=010", "max_distance=-1", "max_distance=65", "max_distance=+3"} {
		if a := tv.do("inv", "GET", "/v1/items/"+item+"/similar?"+q, "", nil); a.code != 400 {
			t.Errorf("similar?%s: %d %s; want 400", q, a.code, a.body)
		}
	}
}

// TestLogFileReplacedIsAnsweredAsSuch: once the log store found its file
// replaced under the running vault (events.ErrStoreReplaced), an audit's
// read of the records stream and a case's opening are answered 503 with
// words that say what happened and what to do, not a records stream cut
// before its first byte, and not "a backend is unavailable".
func TestLogFileReplacedIsAnsweredAsSuch(t *testing.T) {
	tv := newTestVault(t, Options{})
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"C-1","title":"first"}`); a.code != 201 {
		t.Fatalf("opening a case: %d %s", a.code, a.body)
	}
	tv.storeGone = true
	path := filepath.Join(tv.dir, "custody.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".older", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".older", path); err != nil {
		t.Fatal(err)
	}
	// The first record after the change was committed to the file no
	// longer in place: whether the log holds it is not known, and the
	// answer says so.
	first := tv.postJSON("inv", "/v1/cases", `{"case":"C-2","title":"second"}`)
	if !strings.Contains(first.body, OutcomeUnknown) {
		t.Errorf("the first answer after the change does not say the outcome is unknown: %q", first.body)
	}
	for _, a := range []answer{
		first,
		tv.postJSON("inv", "/v1/cases", `{"case":"C-3","title":"third"}`),
		tv.do("aud", "GET", "/v1/log/records", "", nil),
		tv.do("aud", "GET", "/v1/log/records", "", nil),
	} {
		if a.code != 503 || !strings.Contains(a.body, "replaced, moved or removed while the vault ran") || !strings.Contains(a.body, "operations.md") {
			t.Errorf("after the log's file was replaced: %d %q", a.code, a.body)
		}
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("the refusal's Content-Type is %q", ct)
		}
	}
}

// failingReads is a log store whose reads fail once fail is set.
type failingReads struct {
	events.Store
	fail atomic.Bool
}

func (f *failingReads) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	if f.fail.Load() {
		return fmt.Errorf("%w: the test's store refuses reads", vault.ErrUnavailable)
	}
	return f.Store.Read(ctx, from, fn)
}

// TestRecordsStreamFailingBeforeItsFirstByte: a records stream, or an
// NDJSON stream of the log, whose read fails before anything of it was
// sent is answered as the error (here 503, as JSON), not as a 200 whose
// body ends before its first byte.
func TestRecordsStreamFailingBeforeItsFirstByte(t *testing.T) {
	var store *failingReads
	tv := newTestVault(t, Options{}, func(cfg *vault.Config) {
		store = &failingReads{Store: cfg.Log}
		cfg.Log = store
	})
	if a := tv.do("aud", "GET", "/v1/log/records", "", nil); a.code != 200 {
		t.Fatalf("the stream before the store fails: %d %s", a.code, a.body)
	}
	store.fail.Store(true)
	defer store.fail.Store(false)
	// The records stream, and the NDJSON streams of the same reads.
	for _, route := range []string{"/v1/log/records", "/v1/log/events", "/v1/log/lookups"} {
		a := tv.do("aud", "GET", route, "", nil)
		if a.code != 503 || a.header.Get("Content-Type") != "application/json" || !strings.Contains(a.body, `"error"`) {
			t.Errorf("%s whose read failed at once: %d %q %q", route, a.code, a.header.Get("Content-Type"), a.body)
		}
	}
}
