package hashset

import (
	"bytes"
	"testing"
)

// fuzzParse checks that a parser never panics, that every entry it hands
// over carries a digest of the right size, and that its counts agree.
func fuzzParse(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add(fixture(f, s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		n := 0
		st, _ := Parse(bytes.NewReader(src), format, func(e Entry) error {
			n++
			if e.MD5 == nil && e.SHA1 == nil && e.SHA256 == nil {
				t.Fatal("entry without a digest")
			}
			for _, c := range []struct {
				b []byte
				n int
			}{{e.MD5, 16}, {e.SHA1, 20}, {e.SHA256, 32}, {e.PDQ, 32}} {
				if c.b != nil && len(c.b) != c.n {
					t.Fatalf("digest of %d bytes, want %d", len(c.b), c.n)
				}
			}
			// Every entry survives the on-disk record encoding.
			got, err := decodeEntry(appendEntry(nil, &e))
			if err != nil || got.FileName != e.FileName || got.Category != e.Category || got.Size != e.Size {
				t.Fatalf("record round trip: %+v -> %+v, %v", e, got, err)
			}
			return nil
		})
		if n != st.Imported || len(st.Problems) > MaxProblems || len(st.Problems) > st.Rejected {
			t.Fatalf("%d entries, stats %+v", n, st)
		}
		for _, p := range st.Problems {
			if p.Line < 1 || p.Reason == "" {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}

func FuzzVICS(f *testing.F) {
	fuzzParse(f, "vics", "vics-2.0.json", "vics-1.3.json", "vics-malformed.json")
}
func FuzzCAID(f *testing.F) { fuzzParse(f, "caid", "caid.json", "caid-malformed.json") }
func FuzzICSE(f *testing.F) { fuzzParse(f, "icse", "icse.csv", "icse-malformed.csv") }
func FuzzNSRL(f *testing.F) { fuzzParse(f, "nsrl", "nsrl.txt", "nsrl-malformed.txt") }
func FuzzSums(f *testing.F) {
	fuzzParse(f, "md5sum", "md5sum.txt", "md5sum-malformed.txt", "sha1sum.txt")
}

// FuzzEntryRecord feeds arbitrary bytes to the entry record decoder: an
// error or an entry that encodes back to the same bytes.
func FuzzEntryRecord(f *testing.F) {
	v := true
	f.Add(appendEntry(nil, &Entry{FileName: "a", Category: "1", Size: 5, VictimIdentified: &v, PDQ: make([]byte, 32)}))
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		if re := appendEntry(nil, &e); !bytes.Equal(re, b) {
			// Varints have one canonical form; a longer encoding of the
			// same number decodes but does not re-encode.
			if e2, err := decodeEntry(re); err != nil || e2.FileName != e.FileName || e2.Size != e.Size {
				t.Fatalf("%x -> %+v -> %x", b, e, re)
			}
		}
	})
}
