package witnessclient

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/witness"
	"golang.org/x/mod/sumdb/note"
)

// fakeWitness is a hostile C2SP witness holding a real Ed25519 key: a
// stand-in, because the real witness (litewitness, which the other tests
// run) cannot be made to misbehave. Its cosignature lines are built from
// the C2SP tlog-cosignature spec, independently of the client's code.
type fakeWitness struct {
	name string
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newFakeWitness(name string) *fakeWitness {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	return &fakeWitness{name: name, pub: pub, priv: priv}
}

func (f *fakeWitness) keyHash() []byte {
	h := sha256.Sum256(append([]byte(f.name+"\n\x04"), f.pub...))
	return h[:4]
}

func (f *fakeWitness) vkey() string {
	return fmt.Sprintf("%s+%x+%s", f.name, f.keyHash(), base64.StdEncoding.EncodeToString(append([]byte{4}, f.pub...)))
}

// line is a valid cosignature/v1 line over the checkpoint text at time ts.
func (f *fakeWitness) line(text string, ts uint64) string {
	var tb [8]byte
	binary.BigEndian.PutUint64(tb[:], ts)
	sig := ed25519.Sign(f.priv, []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)))
	b := append(append(append([]byte{}, f.keyHash()...), tb[:]...), sig...)
	return "\u2014 " + f.name + " " + base64.StdEncoding.EncodeToString(b) + "\n"
}

// checkpoint text of the note in a tlog-witness request body.
func requestText(body []byte) string {
	_, n, _ := strings.Cut(string(body), "\n\n")
	text, _, _ := strings.Cut(n, "\n\n")
	return text + "\n"
}

// A witness (one of three, quorum all) answers each add-checkpoint with
// many valid cosignature lines of its own key (other timestamps): the
// client keeps one line a witness, so the cosigned note stays one that
// verifiers read (within events.MaxCheckpointSize) and meets the quorum.
func TestCosignatureFloodKeepsOneLine(t *testing.T) {
	good1, good2, evil := newFakeWitness("w1.example"), newFakeWitness("w2.example"), newFakeWitness("evil.example")
	// Times in the past: a cosignature stating a time more than a day
	// ahead of the checker's clock is refused (witness.CheckAt).
	base := uint64(time.Now().Add(-time.Hour).Unix())
	serve := func(f *fakeWitness, n int) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			text := requestText(b)
			for i := 0; i < n; i++ {
				io.WriteString(w, f.line(text, base+uint64(i)))
			}
		}))
		t.Cleanup(s.Close)
		return s
	}
	s1, s2, se := serve(good1, 1), serve(good2, 1), serve(evil, 60)
	var ws []witness.Witness
	for _, x := range []struct {
		f *fakeWitness
		u string
	}{{good1, s1.URL}, {good2, s2.URL}, {evil, se.URL}} {
		w, err := witness.ParseFlag(x.f.name + "=" + x.f.vkey() + "@" + x.u)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	p, err := witness.NewPolicy(ws, 0) // the default: all of them
	if err != nil {
		t.Fatal(err)
	}
	h, logKey := newLog(t)
	c, _ := startClient(t, h, p)
	cp := h.grow(3, 0)
	c.Submit(cp)
	n := wait(t, c, cp.Size)
	v := p.Check(n)
	t.Logf("note of %d bytes; vault's verdict: %s", len(n), p.Describe(v))
	verifier, _ := noteVerifier(logKey)
	if _, err := events.ParseCheckpoint(n, h.origin, verifier); err != nil {
		t.Errorf("the cosigned note the vault puts in packages and audits is refused by verifiers: %v", err)
	}
	if !v.Satisfied || strings.Count(string(n), "\u2014 evil.example ") != 1 {
		t.Errorf("want the quorum met with one line of the flooding witness: %s\n%s", p.Describe(v), n)
	}
}

// One 409 naming a size above the log (from a hostile witness, a proxy,
// or anyone on the path to an http:// witness) is a fork for that
// attempt only: the size an unsigned answer named is not kept, the next
// attempt asks the witness afresh, and once it answers normally its
// cosignature counts.
func TestForged409IsNotKept(t *testing.T) {
	f := newFakeWitness("w.example")
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "text/x.tlog.size")
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, "18446744073709551615\n")
			return
		}
		io.WriteString(w, f.line(requestText(b), uint64(time.Now().Unix())))
	}))
	defer s.Close()
	wi, err := witness.ParseFlag("w=" + f.vkey() + "@" + s.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := witness.NewPolicy([]witness.Witness{wi}, 1)
	h, _ := newLog(t)
	c, _ := startClient(t, h, p) // retry every 200ms
	for i := 0; i < 5; i++ {
		c.Submit(h.grow(1, 0))
		time.Sleep(400 * time.Millisecond)
	}
	st := c.Status()[0]
	t.Logf("witness contacted %d times; status %+v", calls.Load(), st)
	if calls.Load() == 1 || st.Cosigned == 0 || st.Forks != 1 {
		t.Errorf("after one forged 409 the witness was asked %d times, cosigned %d, %d forks recorded", calls.Load(), st.Cosigned, st.Forks)
	}
}

// A witness answers with a redirect to an internal address (where a
// cloud metadata service would answer): the client does not follow it,
// so nothing of that address's answer reaches LastError, which the vault
// logs and hands to auditors.
func TestWitnessRedirectNotFollowed(t *testing.T) {
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s3cr3t-internal-only"}`)
	}))
	defer internal.Close()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/iam/security-credentials/role", http.StatusFound)
	}))
	defer s.Close()
	f := newFakeWitness("w.example")
	wi, _ := witness.ParseFlag("w=" + f.vkey() + "@" + s.URL)
	p, _ := witness.NewPolicy([]witness.Witness{wi}, 1)
	h, _ := newLog(t)
	c, _ := startClient(t, h, p)
	cp := h.grow(2, 0)
	c.Submit(cp)
	wait(t, c, cp.Size)
	st := c.Status()[0]
	t.Logf("LastError: %s", st.LastError)
	if strings.Contains(st.LastError, "s3cr3t-internal-only") || !strings.Contains(st.LastError, "302") {
		t.Errorf("the redirect was followed, or not reported: %s", st.LastError)
	}
}

// A witness URL with a query (an API key, which would reach logs and
// the audit API in error messages) is refused.
func TestWitnessURLQueryRefused(t *testing.T) {
	f := newFakeWitness("w.example")
	if _, err := witness.ParseFlag("w=" + f.vkey() + "@http://127.0.0.1:1/?apikey=SECRET-KEY"); err == nil || strings.Contains(err.Error(), "SECRET-KEY") {
		t.Fatalf("a witness URL with a query: %v", err)
	}
}

func noteVerifier(vkey string) (note.Verifier, error) { return note.NewVerifier(vkey) }

// Under load (checkpoints coming faster than a distant witness answers)
// the witness skips the checkpoint a package waits for; Wait then gives
// the newer checkpoint it cosigned, which covers the package's events
// as well, with its quorum.
func TestSkippedCheckpointUnderLoad(t *testing.T) {
	f := newFakeWitness("w.example")
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		time.Sleep(300 * time.Millisecond) // a witness on another continent
		io.WriteString(w, f.line(requestText(b), uint64(time.Now().Unix())))
	}))
	defer s.Close()
	wi, _ := witness.ParseFlag("w=" + f.vkey() + "@" + s.URL)
	p, _ := witness.NewPolicy([]witness.Witness{wi}, 1)
	h, _ := newLog(t)
	c, _ := startClient(t, h, p)
	c.Submit(h.grow(1, 0)) // background checkpoint, in flight
	time.Sleep(50 * time.Millisecond)
	pkg := h.grow(1, 0) // the package's checkpoint
	c.Submit(pkg)
	time.Sleep(50 * time.Millisecond)
	c.Submit(h.grow(1, 0)) // the next background checkpoint
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, n := c.Wait(ctx, pkg.Size)
	v := p.Check(n)
	if got == nil || got.Size < pkg.Size || !v.Satisfied {
		t.Errorf("the package's checkpoint %d: got %v, %s", pkg.Size, got, p.Describe(v))
	}
}

// Every refusal C2SP tlog-witness defines is reported as the spec means
// it, not only the ones litewitness gives (it answers 403 where the spec
// allows 404): 404 (unknown origin) is a configuration error, 409
// without a size (another checkpoint of the same size) and 422 are
// forks, 403 is an unaccepted key, and a 400 is a failure. Nothing is
// cosigned or saved.
func TestEveryRefusal(t *testing.T) {
	for _, c := range []struct {
		status      int
		contentType string
		body        string
		fork        bool
		says        string
	}{
		{404, "text/plain", "unknown log\n", false, "does not know this log's origin"},
		{409, "text/plain", "root mismatch\n", true, "holds another checkpoint"},
		{422, "text/plain", "bad proof\n", true, "refused the consistency proof"},
		{403, "text/plain", "invalid signature\n", false, "register the log's verifier key"},
		{400, "text/plain", "invalid input\n", false, "answer 400"},
		{409, "text/x.tlog.size", "01\n", false, "409 with a malformed size"},
	} {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", c.contentType)
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		f := newFakeWitness("w.example")
		wi, _ := witness.ParseFlag("w=" + f.vkey() + "@" + s.URL)
		p, _ := witness.NewPolicy([]witness.Witness{wi}, 1)
		h, _ := newLog(t)
		c2, sv := startClient(t, h, p)
		cp := h.grow(2, 0)
		c2.Submit(cp)
		wait(t, c2, cp.Size)
		st := c2.Status()[0]
		if (st.Forks > 0) != c.fork || !strings.Contains(st.LastError, c.says) || st.Cosigned != 0 || sv.has(cp.Size) {
			t.Errorf("%d %s: status %+v", c.status, c.contentType, st)
		}
		s.Close()
	}
}
