package events_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

func sample() *events.Event {
	return &events.Event{
		V: events.Version, Seq: 7, ID: "0123456789abcdef0123456789abcdef", Type: "item.deposited",
		Time:  "2026-11-27T02:20:43.000000001Z",
		Actor: events.Actor{Person: "sok.dara", Role: "investigator", Auth: "token"},
		Case:  "KH-2026-014", Item: "it_01", Data: json.RawMessage(`{"name":"chat <export> & log.txt","size":12}`),
		Prev: strings.Repeat("ab", 32),
	}
}

func TestEncodeIsCanonicalAndRoundTrips(t *testing.T) {
	b, err := events.Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"seq":7,"id":"0123456789abcdef0123456789abcdef","type":"item.deposited","time":"2026-11-27T02:20:43.000000001Z","actor":{"person":"sok.dara","role":"investigator","auth":"token"},"case":"KH-2026-014","item":"it_01","data":{"name":"chat <export> & log.txt","size":12},"prev":"` + strings.Repeat("ab", 32) + `"}`
	if string(b) != want {
		t.Fatalf("encoding changed:\n got %s\nwant %s", b, want)
	}
	ev, err := events.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := events.Encode(ev)
	if !bytes.Equal(again, b) {
		t.Fatal("decode/encode is not the identity")
	}
}

func TestDecodeRefusesNonCanonicalAndMalformed(t *testing.T) {
	good, _ := events.Encode(sample())
	s := string(good)
	cases := map[string]string{
		"extra space":       strings.Replace(s, `"seq":7`, `"seq": 7`, 1),
		"reordered fields":  strings.Replace(s, `"v":1,"seq":7,`, `"seq":7,"v":1,`, 1),
		"escaped envelope":  strings.Replace(s, `"KH-2026-014"`, `"KH\u002d2026-014"`, 1),
		"spaced data":       strings.Replace(s, `"size":12}`, `"size": 12}`, 1),
		"unknown field":     strings.Replace(s, `"v":1,`, `"v":1,"x":0,`, 1),
		"wrong version":     strings.Replace(s, `"v":1,`, `"v":2,`, 1),
		"short id":          strings.Replace(s, "0123456789abcdef0123456789abcdef", "0123", 1),
		"uppercase prev":    strings.Replace(s, strings.Repeat("ab", 32), strings.Repeat("AB", 32), 1),
		"local time":        strings.Replace(s, "02:20:43.000000001Z", "02:20:43.000000001+01:00", 1),
		"trimmed time":      strings.Replace(s, "43.000000001Z", "43.1Z", 1),
		"data not object":   strings.Replace(s, `{"name":"chat <export> & log.txt","size":12}`, `[1]`, 1),
		"trailing newline":  s + "\n",
		"trailing value":    s + "{}",
		"duplicate field":   strings.Replace(s, `"v":1,`, `"v":1,"v":1,`, 1),
		"empty":             "",
		"not json":          "hello",
		"negative sequence": strings.Replace(s, `"seq":7`, `"seq":-7`, 1),
	}
	for name, in := range cases {
		if in == s {
			t.Fatalf("%s: mutation did not change the input", name)
		}
		if _, err := events.Decode([]byte(in)); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
	huge := strings.Replace(s, `"size":12`, `"size":12,"pad":"`+strings.Repeat("x", events.MaxEventSize)+`"`, 1)
	if _, err := events.Decode([]byte(huge)); err == nil {
		t.Error("accepted an oversized event")
	}
}

func TestLeafHashIsRFC6962(t *testing.T) {
	b := []byte("custody")
	got := events.LeafHash(b)
	want := events.Hasher.HashLeaf(b)
	if !bytes.Equal(got[:], want) {
		t.Fatalf("leaf hash %x, RFC 6962 hasher says %x", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := events.Encode(sample())
	f.Add(good)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := events.Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must be the canonical encoding of itself.
		again, err := events.Encode(ev)
		if err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("non-canonical bytes accepted:\n in %q\nout %q", b, again)
		}
	})
}

func TestImpossibleDatesRefused(t *testing.T) {
	good, _ := events.Encode(sample())
	for _, day := range []string{"2026-02-29", "2026-02-31", "2026-04-31", "2026-13-01", "2026-00-10"} {
		bad := strings.Replace(string(good), "2026-11-27", day, 1)
		if _, err := events.Decode([]byte(bad)); err == nil {
			t.Errorf("accepted the date %s", day)
		}
	}
	leap := strings.Replace(string(good), "2026-11-27", "2028-02-29", 1)
	if _, err := events.Decode([]byte(leap)); err != nil {
		t.Errorf("refused a leap day: %v", err)
	}
}

// PrevHash reads the 64 lowercase hex digits Decode accepts as
// encoding/hex does, and panics on any other prev (an event built by
// hand): one digit upper case, one not a digit, one short.
func TestPrevHashReadsWhatCheckAccepts(t *testing.T) {
	for _, want := range []events.Hash{{}, {0x01, 0xab, 0xff}, events.LeafHash([]byte("x"))} {
		e := events.Event{Prev: hex.EncodeToString(want[:])}
		if got := e.PrevHash(); got != want {
			t.Errorf("PrevHash of %s = %x", e.Prev, got)
		}
	}
	good := hex.EncodeToString(bytes.Repeat([]byte{0xab}, 32))
	for _, prev := range []string{
		strings.ToUpper(good[:1]) + good[1:],
		good[:63] + "g",
		good[:10] + "/" + good[11:],
		good[:62],
		good + "00",
		"",
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PrevHash of %q did not panic", prev)
				}
			}()
			e := events.Event{Prev: prev}
			e.PrevHash()
		}()
	}
}
