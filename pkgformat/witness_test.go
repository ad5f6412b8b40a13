package pkgformat_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/pkgformat"
	"golang.org/x/mod/sumdb/note"
)

// testWitness signs cosignature/v1 lines stating any time.
type testWitness struct {
	name string
	priv ed25519.PrivateKey
	vkey string
	hash uint32
}

func newTestWitness(t *testing.T, name string) testWitness {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := witness.ParseVerifierKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return testWitness{name, priv, vkey, k.KeyHash()}
}

// line is the witness's cosignature line over a checkpoint note's text.
func (w testWitness) line(cp []byte, ts uint64) []byte {
	text, _, _ := bytes.Cut(cp, []byte("\n\n"))
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s\n", ts, text)
	b := binary.BigEndian.AppendUint32(nil, w.hash)
	b = binary.BigEndian.AppendUint64(b, ts)
	b = append(b, ed25519.Sign(w.priv, []byte(msg))...)
	return []byte("\u2014 " + w.name + " " + base64.StdEncoding.EncodeToString(b) + "\n")
}

// With a witness policy, the verdict does not depend on the order of a
// witness's lines: a witness with two lines of its key is not counted,
// whichever comes first; a cosignature's time is printed, and one
// stating an impossible time is not counted; a witness not counted does
// not veto the others' quorum.
func TestVerifyWitnessCosignatures(t *testing.T) {
	k := newCaseKit(t)
	a, b := newTestWitness(t, "witness.a.example"), newTestWitness(t, "witness.b.example")
	policy, err := witness.ParsePolicy([]byte("witness a " + a.vkey + "\nwitness b " + b.vkey + "\ngroup g any a b\nquorum g\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	at := uint64(time.Date(2026, 3, 2, 10, 8, 30, 0, time.UTC).Unix())
	cp := k.get(k.ms, pkgformat.CheckpointName)
	other := k.signCheckpoint(strings.Replace(string(cp[:bytes.Index(cp, []byte("\n\n"))+1]), "\n8\n", "\n9\n", 1))
	good, bad := a.line(cp, at), a.line(other, at) // bad: another checkpoint's
	verify := func(lines ...[]byte) (*pkgformat.Report, error) {
		note := append(bytes.Clone(cp), bytes.Join(lines, nil)...)
		pkg := k.tar(k.commit(k.clone(), pkgformat.CheckpointName, note))
		return pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: k.vkey, WitnessPolicy: policy, Now: func() time.Time { return now }})
	}
	rep, err := verify(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cosignatures) != 1 || rep.Cosignatures[0] != (pkgformat.CosignatureReport{Witness: "a", Time: "2026-03-02T10:08:30Z"}) {
		t.Fatalf("cosignatures %+v", rep.Cosignatures)
	}
	if !strings.Contains(strings.Join(rep.Checks, "\n"), "cosigned a at 2026-03-02T10:08:30Z") {
		t.Errorf("the cosignature's time is not among the checks: %q", rep.Checks)
	}
	for name, lines := range map[string][][]byte{
		"a bad line of a, then a good one": {bad, good},
		"a good line of a, then a bad one": {good, bad},
		"two good lines of b":              {b.line(cp, at), b.line(cp, at-1)},
	} {
		if _, err := verify(lines...); err == nil || !strings.Contains(err.Error(), "at most one per witness") {
			t.Errorf("%s: %v, want a failure for two lines of one witness", name, err)
		}
	}
	for _, c := range []struct {
		ts   uint64
		want string
	}{
		{0, "the time 0"},
		{1<<63 + 5, "past the largest"},
		{uint64(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), "more than 24 hours after"},
		{uint64(now.Add(25 * time.Hour).Unix()), "more than 24 hours after"},
	} {
		if _, err := verify(a.line(cp, c.ts)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("a cosignature at %d: %v, want a failure naming %q", c.ts, err, c.want)
		}
	}
	if _, err := verify(a.line(cp, uint64(now.Add(23*time.Hour).Unix()))); err != nil {
		t.Errorf("a cosignature 23 hours ahead of the clock: %v", err)
	}
	// One witness refused (its clock two days ahead, or two lines) does
	// not veto the others: b meets the quorum, a is not counted, and the
	// package says so.
	for name, lines := range map[string][][]byte{
		"a two days ahead": {a.line(cp, uint64(now.Add(48*time.Hour).Unix())), b.line(cp, at)},
		"a twice":          {good, bad, b.line(cp, at)},
	} {
		rep, err := verify(lines...)
		if err != nil {
			t.Errorf("%s, b cosigned: %v", name, err)
			continue
		}
		if len(rep.Cosignatures) != 1 || rep.Cosignatures[0].Witness != "b" || !strings.Contains(strings.Join(rep.Notes, "\n"), "witness cosignature not counted: ") {
			t.Errorf("%s: cosignatures %+v, notes %q", name, rep.Cosignatures, rep.Notes)
		}
	}
}
