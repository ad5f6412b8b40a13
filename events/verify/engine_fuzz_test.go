package verify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events/verify"
	"golang.org/x/mod/sumdb/note"
)

const vectorDir = "../../testdata/custody-log"

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzEngine replays mutated copies of the vector log (events.ndjson, one
// event per line) together with a mutated extra checkpoint, always also
// giving the engine the vector checkpoint of the whole log. A replay that
// succeeds must have been given exactly the vector events - or the vector
// events followed by more (a log that grew is a valid log); every other
// change must fail.
func FuzzEngine(f *testing.F) {
	log := readVector(f, "events.ndjson")
	final := readVector(f, "checkpoint-12.txt")
	vkey := strings.TrimSpace(string(readVector(f, "verifier-key.txt")))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		f.Fatal(err)
	}
	want := bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n"))
	cp5, cp9 := readVector(f, "checkpoint-5.txt"), readVector(f, "checkpoint-9.txt")
	f.Add(log, cp5)
	f.Add(log, cp9)
	f.Add(log, []byte{})
	f.Add(bytes.Join(want[:11], []byte("\n")), cp9)
	f.Add(bytes.Join(append(append([][]byte{}, want[:5]...), want[6:]...), []byte("\n")), cp5)
	f.Add(bytes.Replace(log, []byte(`"seq":3,`), []byte(`"seq":3 ,`), 1), cp5)
	f.Add(bytes.Replace(log, []byte("sok.dara"), []byte("sok.darb"), 1), cp9)
	f.Fuzz(func(t *testing.T, in, cp []byte) {
		var lines [][]byte
		if len(in) > 0 {
			lines = bytes.Split(bytes.TrimSuffix(in, []byte("\n")), []byte("\n"))
		}
		e := verify.New(v.Name(), v)
		if err := e.AddCheckpoint(final, "checkpoint-12.txt"); err != nil {
			t.Fatal(err)
		}
		if len(cp) > 0 {
			if err := e.AddCheckpoint(cp, "fuzzed checkpoint"); err != nil {
				return
			}
		}
		// Replay in two batches to exercise both entry points.
		half := len(lines) / 2
		for _, b := range lines[:half] {
			if e.Add(b) != nil {
				return
			}
		}
		if e.AddBatch(lines[half:]) != nil {
			return
		}
		res, err := e.Finish()
		if err != nil {
			return
		}
		if len(lines) < len(want) || res.Events != uint64(len(lines)) {
			t.Fatalf("engine accepted %d events (result %d) for a log of %d", len(lines), res.Events, len(want))
		}
		for i := range want {
			if !bytes.Equal(lines[i], want[i]) {
				t.Fatalf("engine accepted a log whose event %d differs from the vector:\n%q", i, lines[i])
			}
		}
	})
}
