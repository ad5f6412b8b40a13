package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// badHash changes the key hash of a verifier key.
func badHash(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	h := []byte(parts[1])
	if h[0] == '0' {
		h[0] = '1'
	} else {
		h[0] = '0'
	}
	return parts[0] + "+" + string(h) + "+" + parts[2]
}

func TestParsePolicy(t *testing.T) {
	_, va, va01 := testKey3(t, "witness.a.example")
	_, vb := testKey(t, "witness.b.example")
	// The plain Ed25519 form of a key is accepted, as its cosignature/v1 key.
	if _, err := ParsePolicy([]byte("witness a " + va01 + "\nquorum a\n")); err != nil {
		t.Fatalf("a type 0x01 key: %v", err)
	}
	p, err := ParsePolicy([]byte("\ufeff# two partners\r\nlog custos-x+1234+AAAA\r\nwitness a " + va + " https://a.example/w\nwitness b " + vb + "\ngroup both all a b\nquorum both\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Witnesses) != 2 || p.Quorum != "2 of 2" {
		t.Fatalf("policy %+v", p)
	}
	if p.Witnesses[0].URL != "https://a.example/w/add-checkpoint" || p.Witnesses[1].URL != "" {
		t.Fatalf("urls %q %q", p.Witnesses[0].URL, p.Witnesses[1].URL)
	}
	for _, bad := range []string{
		"",
		"witness a " + va + " https://a.example\n",                                 // no quorum
		"witness a " + va + " https://a.example\nquorum none\n",                    // needs no witness
		"witness a " + va + " https://a.example\nquorum b\n",                       // unknown
		"witness a " + va + " ftp://a.example\nquorum a\n",                         // scheme
		"witness a " + va + " https://user:pw@a.example\nquorum a\n",               // credentials
		"witness a notakey https://a.example\nquorum a\n",                          // key
		"witness a " + va + " https://a.example\nwitness a " + vb + "\nquorum a\n", // twice
		"witness a " + va + " https://a.example\ngroup g 2 a\nquorum g\n",          // impossible
		"witnesses a " + va + "\nquorum a\n",                                       // keyword
		strings.Repeat("#", MaxPolicySize+1),
		// A nested group that needs nobody, or has nobody, would satisfy
		// its parent without a cosignature.
		"witness a " + va + "\nwitness b " + vb + "\ngroup nobody 0 a\ngroup partners 1 nobody b\nquorum partners\n",
		"witness a " + va + "\nwitness b " + vb + "\ngroup empty all\ngroup partners 1 empty b\nquorum partners\n",
		"witness a " + va + "\nwitness b " + vb + "\ngroup partners 00 a b\nquorum partners\n",
		// A member named twice would count its cosignature twice.
		"witness a " + va + "\nwitness b " + vb + "\ngroup partners 2 a a b\nquorum partners\n",
		// One key under two names (or in its 0x01 and 0x04 forms) too.
		"witness a " + va + "\nwitness a2 " + va + "\ngroup partners 2 a a2\nquorum partners\n",
		"witness a " + va + "\nwitness a2 " + va01 + "\ngroup partners 2 a a2\nquorum partners\n",
		// A mistyped key hash is refused, in both key types.
		"witness a " + badHash(va) + "\nquorum a\n",
		"witness a " + badHash(va01) + "\nquorum a\n",
		// A URL with a query (a key that would reach logs); "#" starts a
		// comment, so a fragment never reaches the URL.
		"witness a " + va + " https://a.example/w?apikey=SECRET\nquorum a\n",
		// The format's parser keeps the last quorum line: a second one,
		// the same or another, is refused.
		"witness a " + va + "\nwitness b " + vb + "\nquorum a\nquorum b\n",
		"witness a " + va + "\nquorum a\nquorum a\n",
		// Names are defined before use.
		"group g any a\nwitness a " + va + "\nquorum g\n",
		"quorum a\nwitness a " + va + "\n",
		"witness a " + va + "\nquorum g\ngroup g any a\n",
	} {
		if _, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestParseFlagAndNewPolicy(t *testing.T) {
	_, va := testKey(t, "witness.a.example")
	_, vb := testKey(t, "witness.b.example")
	a, err := ParseFlag("a=" + va + "@http://127.0.0.1:7380")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseFlag("b=" + vb + "@http://127.0.0.1:7381/")
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != "http://127.0.0.1:7380/add-checkpoint" || b.URL != "http://127.0.0.1:7381/add-checkpoint" {
		t.Fatalf("urls %q %q", a.URL, b.URL)
	}
	for _, bad := range []string{"a", "a=" + va, "=" + va + "@http://x", "a=nokey@http://x", "a b=" + va + "@http://x"} {
		if _, err := ParseFlag(bad); err == nil {
			t.Errorf("accepted --witness %q", bad)
		}
	}
	p, err := NewPolicy([]Witness{a, b}, 0)
	if err != nil || p.Quorum != "2 of 2" {
		t.Fatalf("default quorum: %v %v", p, err)
	}
	p, err = NewPolicy([]Witness{a, b}, 1)
	if err != nil || p.Quorum != "1 of 2" {
		t.Fatalf("quorum 1: %v %v", p, err)
	}
	if _, err := NewPolicy([]Witness{a, b}, 3); err == nil {
		t.Fatal("quorum 3 of 2 accepted")
	}
}

// Check counts only cosignatures that verify over the very checkpoint.
func TestCheck(t *testing.T) {
	sa, va := testKey(t, "witness.a.example")
	sb, vb := testKey(t, "witness.b.example")
	p, err := ParsePolicy([]byte("witness a " + va + "\nwitness b " + vb + "\ngroup g 2 a b\nquorum g\n"))
	if err != nil {
		t.Fatal(err)
	}
	logS, _, err := note.GenerateKey(rand.Reader, "custos-log")
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := note.NewSigner(logS)
	text := "custos-log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	signed, err := note.Sign(&note.Note{Text: text}, ls, sa, sb)
	if err != nil {
		t.Fatal(err)
	}
	if v := p.Check(signed); !v.Satisfied || len(v.Cosigned) != 2 {
		t.Fatalf("both: %+v", v)
	}
	onlyA, _ := note.Sign(&note.Note{Text: text}, ls, sa)
	v := p.Check(onlyA)
	if v.Satisfied || len(v.Missing) != 1 || v.Missing[0] != "b" {
		t.Fatalf("one: %+v", v)
	}
	if !strings.Contains(p.Describe(v), "NOT met") {
		t.Fatal(p.Describe(v))
	}
	// b's cosignature moved onto another checkpoint does not count.
	other, _ := note.Sign(&note.Note{Text: "custos-log\n6\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"}, ls, sb)
	_, bline, _ := strings.Cut(string(other), "\n\n")
	lines := strings.SplitAfter(bline, "\n")
	forged := string(onlyA) + lines[1]
	if v := p.Check([]byte(forged)); v.Satisfied {
		t.Fatalf("a cosignature of another checkpoint counted: %+v", v)
	}
}

// testKey returns a cosignature/v1 signer and its vkey.
func testKey(t *testing.T, name string) (note.Signer, string) {
	s, v, _ := testKey3(t, name)
	return s, v
}

// testKey3 also returns the key's plain Ed25519 (0x01) vkey.
func testKey3(t *testing.T, name string) (note.Signer, string, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, cv, vkey
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("witness a witness.a+00000000+BAAA https://a.example\nquorum a\n"))
	f.Add([]byte("# c\nwitness a x y z\ngroup g any a\nquorum g\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		if len(p.Witnesses) == 0 || p.group.N == 0 {
			t.Fatalf("accepted a policy that needs no witness: %q", b)
		}
	})
}

// A retired witness keeps its line, without a URL and outside every
// group: nothing is submitted to it and it counts for no quorum, but its
// key is among Verifiers, so that the cosigned checkpoints it signed
// while in the policy are still the vault's to a scrub.
func TestRetiredWitnessLine(t *testing.T) {
	_, va, _ := testKey3(t, "witness.a.example")
	_, vb := testKey(t, "witness.b.example")
	p, err := ParsePolicy([]byte("witness a " + va + " https://a.example/w\nwitness retired " + vb + "\nquorum a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Satisfied([]byte("x")) {
		t.Error("a quorum without the cosignature of a")
	}
	if !p.Reachable() {
		t.Error("a quorum of a, who has a URL, is not reachable")
	}
	for text, want := range map[string]bool{
		"witness a " + va + " https://a.example/w\nwitness b " + vb + "\ngroup g all a b\nquorum g\n":                  false,
		"witness a " + va + " https://a.example/w\nwitness b " + vb + "\ngroup g any a b\nquorum g\n":                  true,
		"witness a " + va + " https://a.example/w\nwitness b " + vb + "\ngroup g 2 a b\nquorum g\n":                    false,
		"witness a " + va + " https://a.example/w\nwitness b " + vb + "\nquorum b\n":                                   false,
		"witness a " + va + " https://a.example/w\nwitness b " + vb + "\ngroup in any b\ngroup g all a in\nquorum g\n": false,
	} {
		q, err := ParsePolicy([]byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if q.Reachable() != want {
			t.Errorf("%q: reachable %v, want %v", text, !want, want)
		}
	}
	vs := p.Verifiers()
	if len(vs) != 2 || vs[1].Name() != "witness.b.example" || p.Witnesses[1].URL != "" {
		t.Fatalf("verifiers %v", vs)
	}
	if (*Policy)(nil).Verifiers() != nil {
		t.Error("a nil policy has verifiers")
	}
}

// TestParseVerifierKey: a witness key alone is taken as a policy's
// witness line takes it: either type, the cosignature/v1 verifier; a
// mistyped key hash, another type or anything that is not one key is
// refused.
func TestParseVerifierKey(t *testing.T) {
	s, cv, plain := testKey3(t, "witness.a.example")
	for _, vkey := range []string{cv, plain} {
		k, err := ParseVerifierKey(vkey)
		if err != nil {
			t.Fatalf("%s: %v", vkey, err)
		}
		if k.Name() != s.Name() || k.KeyHash() != s.KeyHash() {
			t.Errorf("%s: verifier %s+%08x, want the signer's %s+%08x", vkey, k.Name(), k.KeyHash(), s.Name(), s.KeyHash())
		}
	}
	for _, bad := range []string{"", "junk", cv + " " + cv, cv + "\n", strings.Replace(cv, "+", "+0", 1), "#" + cv} {
		if _, err := ParseVerifierKey(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
		if _, err := CosignatureVKey(bad); err == nil {
			t.Errorf("CosignatureVKey(%q): accepted", bad)
		}
	}
	// Either form of one key is one cosignature key.
	for _, vkey := range []string{cv, plain} {
		if got, err := CosignatureVKey(vkey); err != nil || got != cv {
			t.Errorf("CosignatureVKey(%s) = %s, %v; want %s", vkey, got, err, cv)
		}
	}
}

// cosigner makes cosignature/v1 lines stating any time, as a witness
// (or its stolen key) could.
type cosigner struct {
	name string
	priv ed25519.PrivateKey
	vkey string // the plain Ed25519 (0x01) key, as a policy takes it
	hash uint32 // the cosignature/v1 key hash
}

func newCosigner(t *testing.T, name string) cosigner {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseVerifierKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return cosigner{name, priv, vkey, k.KeyHash()}
}

// line is the cosignature line of text at time ts (Unix seconds).
func (c cosigner) line(text string, ts uint64) string {
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	b := binary.BigEndian.AppendUint32(nil, c.hash)
	b = binary.BigEndian.AppendUint64(b, ts)
	b = append(b, ed25519.Sign(c.priv, []byte(msg))...)
	return "\u2014 " + c.name + " " + base64.StdEncoding.EncodeToString(b) + "\n"
}

// logSigned is a checkpoint text signed by a fresh log key.
func logSigned(t *testing.T, text string) string {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, "custos-log")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	b, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCheckRepeatedLines: a witness whose key has two lines in a note
// is not counted, whatever their order and whichever of them verify (the
// signed-note library reads only the first), and the fault says so; the
// other witnesses still meet the quorum or not, so that one witness's
// lines cannot veto theirs.
func TestCheckRepeatedLines(t *testing.T) {
	a, b := newCosigner(t, "witness.a.example"), newCosigner(t, "witness.b.example")
	p, err := ParsePolicy([]byte("witness a " + a.vkey + "\nwitness b " + b.vkey + "\ngroup g any a b\nquorum g\n"))
	if err != nil {
		t.Fatal(err)
	}
	text := "custos-log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	cp := logSigned(t, text)
	now := time.Now()
	ts := uint64(now.Unix())
	good := a.line(text, ts)
	bad := a.line("custos-log\n6\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", ts) // another checkpoint's
	if v := p.CheckAt([]byte(cp+good), now); !v.Satisfied || len(v.Faults) != 0 {
		t.Fatalf("one good line: %+v", v)
	}
	for name, c := range map[string]struct {
		lines string
		met   bool // by witness b alone
	}{
		"a bad line, then a good one":         {bad + good, false},
		"a good line, then a bad one":         {good + bad, false},
		"two good lines at different times":   {good + a.line(text, ts-60), false},
		"a good line, another witness, again": {good + b.line(text, ts) + good, true},
	} {
		v := p.CheckAt([]byte(cp+c.lines), now)
		if v.Satisfied != c.met || len(v.Faults) != 1 || !strings.Contains(v.Faults[0], "lines by the key of witness a") || slices.Contains(v.Cosigned, "a") {
			t.Errorf("%s: %+v, want witness a not counted, with a fault naming it, and the quorum met %v", name, v, c.met)
		}
		if d := p.Describe(v); !strings.Contains(d, "not counted: ") || !strings.Contains(d, "at most one per witness") || strings.Contains(d, "NOT met") == c.met {
			t.Errorf("%s: %s", name, d)
		}
		if p.Satisfied([]byte(cp+c.lines)) != c.met {
			t.Errorf("%s: Satisfied %v", name, !c.met)
		}
	}
}

// TestCheckCosignatureTime: a cosignature that verifies but states a time
// no witness could have cosigned at is refused; a clock a little behind
// the witness's is not.
func TestCheckCosignatureTime(t *testing.T) {
	a := newCosigner(t, "witness.a.example")
	p, err := ParsePolicy([]byte("witness a " + a.vkey + "\nquorum a\n"))
	if err != nil {
		t.Fatal(err)
	}
	text := "custos-log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	cp := logSigned(t, text)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ts    uint64
		fault string
	}{
		{uint64(now.Unix()), ""},
		{uint64(now.Add(-400 * 24 * time.Hour).Unix()), ""}, // a quiet vault
		{uint64(now.Add(23 * time.Hour).Unix()), ""},        // clocks differ
		{0, "the time 0"},
		{1<<63 + 5, "past the largest"},
		{math.MaxUint64, "past the largest"},
		{uint64(now.Add(25 * time.Hour).Unix()), "more than 24 hours after"},
		{uint64(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), "2100-01-01T00:00:00Z, more than 24 hours after"},
	} {
		v := p.CheckAt([]byte(cp+a.line(text, c.ts)), now)
		switch {
		case c.fault == "" && (!v.Satisfied || v.Times["a"].Unix() != int64(c.ts)):
			t.Errorf("time %d: %+v, want counted at that time", c.ts, v)
		case c.fault != "" && (v.Satisfied || len(v.Faults) != 1 || !strings.Contains(v.Faults[0], c.fault) || len(v.Cosigned) != 0):
			t.Errorf("time %d: %+v, want a fault %q", c.ts, v, c.fault)
		}
	}
}
