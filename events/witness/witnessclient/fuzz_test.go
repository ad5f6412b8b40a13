package witnessclient

import (
	"crypto/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/witness"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// FuzzCosignatures feeds arbitrary witness answers to the parser of a
// 200 answer: it never panics, and whatever it keeps are lines of the
// witness's key that verify over the checkpoint.
func FuzzCosignatures(f *testing.F) {
	skey, vkey, _ := note.GenerateKey(rand.Reader, "witness.fuzz.example")
	signer, _ := fnote.NewSignerForCosignatureV1(skey)
	cvkey, _ := fnote.VKeyToCosignatureV1(vkey)
	w, err := witness.ParseFlag("w=" + cvkey + "@http://127.0.0.1:1")
	if err != nil {
		f.Fatal(err)
	}
	lskey, _, _ := note.GenerateKey(rand.Reader, "custos-fuzz")
	ls, _ := note.NewSigner(lskey)
	text := "custos-fuzz\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	logNote, _ := note.Sign(&note.Note{Text: text}, ls)
	both, _ := note.Sign(&note.Note{Text: text}, ls, signer)
	_, sigs, _ := strings.Cut(string(both), "\n\n")
	good := strings.SplitAfter(sigs, "\n")[1]
	cp := &events.Checkpoint{Origin: "custos-fuzz", Size: 3, Note: logNote}
	f.Add([]byte(good))
	f.Add([]byte(good + good))
	f.Add([]byte("\u2014 other AAAA\n"))
	f.Add([]byte("not a signature\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := cosignatures(b, w, cp)
		if err != nil {
			return
		}
		n, err := note.Open(append(append([]byte(nil), logNote...), lines...), note.VerifierList(w.Key))
		if err != nil || len(n.Sigs) == 0 {
			t.Fatalf("kept lines that do not verify: %q", lines)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0\n", "10\n", "010\n", "", "18446744073709551616\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseSize(b)
		if err == nil && string(b) != strconv.FormatUint(n, 10)+"\n" {
			t.Fatalf("%q parsed to %d", b, n)
		}
	})
}
