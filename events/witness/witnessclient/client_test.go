package witnessclient

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/mod/sumdb/note"
)

// history is a log: a tree of leaves and the key that signs its
// checkpoints. Two histories with the same key and origin are a fork.
type history struct {
	t      *testing.T
	origin string
	signer note.Signer
	tree   events.Tree
}

func newLog(t *testing.T) (*history, string) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos-witness-test")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	return &history{t: t, origin: "custos-witness-test", signer: s}, vkey
}

func (h *history) fork() *history {
	f := &history{t: h.t, origin: h.origin, signer: h.signer}
	for i := uint64(0); i < h.tree.Size(); i++ {
		l, _ := h.tree.Leaf(i)
		f.tree.Append(l)
	}
	return f
}

// grow appends n leaves (salted, so forks differ) and signs a checkpoint.
func (h *history) grow(n int, salt byte) *events.Checkpoint {
	for i := 0; i < n; i++ {
		var b [9]byte
		binary.BigEndian.PutUint64(b[:], h.tree.Size())
		b[8] = salt
		h.tree.Append(events.LeafHash(b[:]))
	}
	size := h.tree.Size()
	root, _ := h.tree.Root(size)
	n2, err := events.SignCheckpoint(h.signer, h.origin, size, root)
	if err != nil {
		h.t.Fatal(err)
	}
	return &events.Checkpoint{Origin: h.origin, Size: size, Root: root, Note: n2}
}

type saved struct {
	mu    sync.Mutex
	notes map[uint64][]byte
}

func (s *saved) save(_ context.Context, cp *events.Checkpoint, n []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes[cp.Size] = n
	return nil
}

func (s *saved) has(size uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notes[size] != nil
}

func startClient(t *testing.T, h *history, p *witness.Policy) (*Client, *saved) {
	sv := &saved{notes: map[uint64][]byte{}}
	c := Start(Config{Policy: p, Proof: h.tree.ConsistencyProof, Save: sv.save, Retry: 200 * time.Millisecond})
	t.Cleanup(c.Close)
	return c, sv
}

func policyOf(t *testing.T, quorum int, ws ...*testenv.Witness) *witness.Policy {
	var list []witness.Witness
	for _, w := range ws {
		x, err := witness.ParseFlag(w.Name + "=" + w.VKey + "@" + w.URL)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, x)
	}
	p, err := witness.NewPolicy(list, quorum)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitSaved waits until the checkpoint of size was stored as witnessed.
func waitSaved(t *testing.T, sv *saved, size uint64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !sv.has(size); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint %d never stored as witnessed", size)
		}
	}
}

func wait(t *testing.T, c *Client, size uint64) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, n := c.Wait(ctx, size)
	return n
}

// Two real witnesses with quorum 2 cosign each checkpoint, from the size
// each holds (a 409 teaches the client a witness's size after a
// restart); with one down, checkpoints stay below the quorum until it
// returns, and then the newest is cosigned by both.
func TestTwoWitnessesQuorum(t *testing.T) {
	a := testenv.StartWitness(t, "witness-a.custos.example")
	b := testenv.StartWitness(t, "witness-b.custos.example")
	h, logKey := newLog(t)
	for _, w := range []*testenv.Witness{a, b} {
		if err := w.RegisterLog(h.origin, logKey); err != nil {
			t.Fatal(err)
		}
	}
	p := policyOf(t, 2, a, b)
	c, sv := startClient(t, h, p)

	cp := h.grow(3, 0)
	c.Submit(cp)
	if v := p.Check(wait(t, c, cp.Size)); !v.Satisfied {
		t.Fatalf("size 3: %+v %+v", v, c.Status())
	}
	cp = h.grow(7, 0)
	c.Submit(cp)
	if v := p.Check(wait(t, c, cp.Size)); !v.Satisfied {
		t.Fatalf("size 10: %+v %+v", v, c.Status())
	}
	if got, _ := c.Latest(); got == nil || got.Size != 10 {
		t.Fatalf("latest witnessed %v", got)
	}
	waitSaved(t, sv, 10) // Save runs beside the witnesses' goroutines
	if n, _ := a.Size(h.origin); n != 10 {
		t.Fatalf("witness a holds %d", n)
	}

	// b is down: the next checkpoints gather a's cosignature only.
	b.Stop()
	cp = h.grow(5, 0)
	c.Submit(cp)
	n := wait(t, c, cp.Size)
	if v := p.Check(n); v.Satisfied || len(v.Cosigned) != 1 || v.Cosigned[0] != a.Name {
		t.Fatalf("with b down: %+v", v)
	}
	if got, _ := c.Latest(); got.Size != 10 || sv.has(15) {
		t.Fatalf("an unwitnessed checkpoint counts as witnessed: latest %d", got.Size)
	}
	var bst Status
	for _, st := range c.Status() {
		if st.Name == b.Name {
			bst = st
		}
	}
	if bst.Failures == 0 || !strings.Contains(bst.LastError, "unreachable") {
		t.Fatalf("status of b: %+v", bst)
	}

	// b returns; the client retries on its own and the newest checkpoint
	// reaches the quorum.
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	waitSaved(t, sv, 15)
	if n, _ := b.Size(h.origin); n != 15 {
		t.Fatalf("witness b holds %d", n)
	}
}

// A forked or rolled-back log never gathers a witness's cosignature: a
// longer fork is refused (422) and a shorter one is shown up by the size
// the witness holds (409); both are reported as forks.
func TestForkRefused(t *testing.T) {
	a := testenv.StartWitness(t, "witness-a.custos.example")
	h, logKey := newLog(t)
	if err := a.RegisterLog(h.origin, logKey); err != nil {
		t.Fatal(err)
	}
	p := policyOf(t, 1, a)
	base := h.fork()
	c, _ := startClient(t, h, p)
	cp := h.grow(10, 0)
	c.Submit(cp)
	if v := p.Check(wait(t, c, 10)); !v.Satisfied {
		t.Fatalf("size 10: %+v", c.Status())
	}
	c.Close()

	for _, tc := range []struct {
		name  string
		grow  int
		wants string
	}{
		{"longer fork", 12, "422"},
		{"rolled back", 4, "holds a checkpoint of 10 events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base.fork()
			fc, sv := startClient(t, f, p)
			cp := f.grow(tc.grow, 1)
			fc.Submit(cp)
			n := wait(t, fc, cp.Size)
			if v := p.Check(n); v.Satisfied || sv.has(cp.Size) {
				t.Fatalf("the fork was witnessed")
			}
			st := fc.Status()[0]
			if st.Forks == 0 || !strings.Contains(st.LastError, tc.wants) || !strings.Contains(st.LastError, ErrFork.Error()) {
				t.Fatalf("status %+v", st)
			}
			if held, _ := a.Size(h.origin); held != 10 {
				t.Fatalf("the witness now holds %d", held)
			}
		})
	}
}

// A witness that does not know the log (403) is reported with what to
// do; the checkpoint stays unwitnessed and nothing is saved.
func TestUnknownLog(t *testing.T) {
	a := testenv.StartWitness(t, "witness-a.custos.example")
	h, _ := newLog(t)
	p := policyOf(t, 1, a)
	c, sv := startClient(t, h, p)
	cp := h.grow(2, 0)
	c.Submit(cp)
	wait(t, c, cp.Size)
	st := c.Status()[0]
	if !strings.Contains(st.LastError, "403") || !strings.Contains(st.LastError, "register") || sv.has(2) || st.Forks != 0 {
		t.Fatalf("status %+v", st)
	}
	if errors.Is(errors.New(st.LastError), ErrFork) {
		t.Fatal("a 403 is no fork")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0\n": 0, "10\n": 10, "18446744073709551615\n": 1<<64 - 1} {
		if got, err := parseSize([]byte(in)); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "10", "010\n", "-1\n", "+1\n", "1 \n", "1\n\n", "18446744073709551616\n"} {
		if _, err := parseSize([]byte(bad)); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}
