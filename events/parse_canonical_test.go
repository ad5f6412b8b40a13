package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// needsNoEscape reports whether encoding/json writes every string of e
// as it is, between quotes: the events ParseCanonical must read itself.
func needsNoEscape(e *Event) bool {
	plain := func(s string) bool { return string(appendJSONString(nil, s)) == `"`+s+`"` }
	for _, s := range append([]string{e.ID, e.Type, e.Time, e.Actor.Person, e.Actor.Role, e.Actor.Auth,
		e.Actor.Session, e.Actor.Issuer, e.Actor.Subject, e.Actor.Certificate, e.Actor.ACR,
		e.Case, e.Item, e.Prev}, e.Actor.AMR...) {
		if !plain(s) {
			return false
		}
	}
	return true
}

// FuzzParseCanonical: ParseCanonical accepts only what Decode (the
// standard library) accepts, as the same event, and it accepts every
// event Decode accepts whose strings need no escape (all the vault
// writes), so that the fast path is the one taken.
func FuzzParseCanonical(f *testing.F) {
	canonicalSeeds(f)
	full := &Event{V: Version, Seq: 18446744073709551615, ID: strings.Repeat("b", 32), Type: "session.opened",
		Time: "2026-12-03T10:00:00.000000000Z", Actor: Actor{Person: "sok.dara", Role: "investigator", Auth: "oidc",
			Session: "s1", Issuer: "https://id.example", Subject: "1234", Certificate: strings.Repeat("c", 64),
			ACR: "urn:mace:incommon:iap:silver", AMR: []string{"pwd", "", "otp"}},
		Case: "KH-2026-014", Item: "it_01", Data: json.RawMessage(`{"a":"x\"y","b":[1,{"c":null}]}`), Prev: strings.Repeat("0", 64)}
	b, err := stdEncode(full)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(`"acr":"urn:mace:incommon:iap:silver",`), nil, 1))
	f.Add(bytes.Replace(b, []byte(`"session":"s1"`), []byte(`"session":""`), 1))
	f.Add(bytes.Replace(b, []byte(`,"amr":["pwd","","otp"]`), []byte(`,"amr":[]`), 1))
	f.Add(bytes.Replace(b, []byte(`"seq":18446744073709551615`), []byte(`"seq":18446744073709551616`), 1))
	f.Add(bytes.Replace(b, []byte(`"seq":18446744073709551615`), []byte(`"seq":01`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := ParseCanonical(b)
		packed, pok := ParseCanonicalPacked(b)
		if pok != ok || ok && !reflect.DeepEqual(packed, fast) {
			t.Fatalf("ParseCanonicalPacked (%v) and ParseCanonical (%v) read %q differently", pok, ok, b)
		}
		std, err := Decode(b)
		if ok {
			if err != nil {
				t.Fatalf("ParseCanonical accepts what Decode refuses (%v):\n%q", err, b)
			}
			if !reflect.DeepEqual(fast, std) {
				t.Fatalf("ParseCanonical and Decode read %q differently:\n fast %+v\n std  %+v", b, *fast, *std)
			}
			return
		}
		if err == nil && needsNoEscape(std) {
			t.Fatalf("ParseCanonical refuses an event Decode accepts and whose strings need no escape:\n%q", b)
		}
	})
}

// The vault's own events are read by the fast path, each as Decode reads
// it; a change of any member's form leaves it to Decode, which refuses.
func TestParseCanonicalReadsTheVaultsEvents(t *testing.T) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "custody-log", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n")) {
		fast, ok := ParseCanonical(line)
		std, err := Decode(line)
		if err != nil || !ok || !reflect.DeepEqual(fast, std) {
			t.Fatalf("line %d: ParseCanonical %v, Decode %v, same event %v", i, ok, err, ok && reflect.DeepEqual(fast, std))
		}
		if packed, ok := ParseCanonicalPacked(line); !ok || !reflect.DeepEqual(packed, std) {
			t.Fatalf("line %d: ParseCanonicalPacked %v, same event %v", i, ok, ok && reflect.DeepEqual(packed, std))
		}
		for _, change := range [][2]string{
			{`{"v":1,`, `{"v":2,`},
			{`{"v":1,"seq":`, `{"v":1, "seq":`},
			{`"seq":`, `"seq":0`},
			{`"data":{`, `"data": {`},
			{`"data":{`, `"data":[{`},
			{`"actor":{"person":"`, `"actor":{"person":"\u0041`},
			// Raw bytes encoding/json would have escaped: each is refused.
			{`"actor":{"person":"`, "\"actor\":{\"person\":\"\u2028"},
			{`"actor":{"person":"`, "\"actor\":{\"person\":\"\u2029"},
			{`"actor":{"person":"`, "\"actor\":{\"person\":\"\xff"},
			{`"actor":{"person":"`, "\"actor\":{\"person\":\"\xed\xa0\x80"},
			{`"actor":{"person":"`, "\"actor\":{\"person\":\"\x01"},
			{`"actor":{"person":"`, "\"actor\":{\"person\":\"\t"},
			{`,"prev":"`, `,"prev":"A`},
			{`"}`, `" }`},
		} {
			changed := bytes.Replace(line, []byte(change[0]), []byte(change[1]), 1)
			if _, ok := ParseCanonical(changed); ok {
				t.Errorf("line %d with %q made %q is read by the fast path", i, change[0], change[1])
			}
			if _, ok := ParseCanonicalPacked(changed); ok {
				t.Errorf("line %d with %q made %q is read by the packed fast path", i, change[0], change[1])
			}
			if _, err := Decode(changed); err == nil {
				t.Errorf("line %d with %q made %q decodes", i, change[0], change[1])
			}
		}
	}
}

// Data nests inside the event's object, one level below the top:
// encoding/json reads at most 10,000 levels in all, so data may hold
// 9,999 and no more, by either reader.
func TestParseCanonicalNestingLimit(t *testing.T) {
	for _, depth := range []int{9998, 9999, 10000} {
		e := &Event{V: Version, Seq: 3, ID: strings.Repeat("a", 32), Type: "t", Time: "2026-12-03T10:00:00.000000000Z",
			Actor: Actor{Person: "p", Role: "r", Auth: "local"}, Prev: strings.Repeat("0", 64),
			Data: json.RawMessage(`{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`)}
		b, err := appendCanonical(nil, e)
		if !err {
			t.Fatalf("depth %d: not compact", depth)
		}
		_, ok := ParseCanonical(b)
		_, derr := Decode(b)
		if want := depth <= 9999; ok != want || (derr == nil) != want {
			t.Errorf("data nested %d deep: ParseCanonical %v, Decode %v; want both to accept: %v", depth, ok, derr, want)
		}
	}
}

// The packed parse cuts every string from one copy of the bytes: the
// event, that copy and its data are all it allocates, whatever the
// number of strings; the copy is the bytes', not the caller's slice.
func TestParseCanonicalPackedAllocations(t *testing.T) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "custody-log", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.SplitN(log, []byte("\n"), 3)[1]
	ev, ok := ParseCanonicalPacked(line)
	if !ok {
		t.Fatalf("not read by the packed path: %q", line)
	}
	if n := testing.AllocsPerRun(100, func() { ParseCanonicalPacked(line) }); n > 3 {
		t.Errorf("ParseCanonicalPacked allocates %v times an event, want at most 3", n)
	}
	if n := testing.AllocsPerRun(100, func() { ParseCanonical(line) }); n <= 3 {
		t.Errorf("ParseCanonical allocates %v times an event: the packed parse no longer saves anything", n)
	}
	// Changing the caller's bytes changes nothing of the event read.
	before := *ev
	id := ev.ID
	for i := range line {
		line[i] = 'x'
	}
	if ev.ID != id || !reflect.DeepEqual(*ev, before) {
		t.Errorf("the packed event changed with the bytes it was read from")
	}
}
