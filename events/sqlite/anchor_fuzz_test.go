package sqlite

import (
	"strings"
	"testing"
)

// FuzzReadAnchor reads lookup-file anchors, which anyone who can write
// the data folder can edit: readAnchor never panics, never places the
// own rows beyond the table's size, accepts a bare id only without a
// colon, and what it reads, writeAnchor writes so that it reads the same.
func FuzzReadAnchor(f *testing.F) {
	for _, s := range []string{"", "abc", "2:0:abc", "2:3000:id-3999", "2:x:abc", "2:5", "2::abc", "2:18446744073709551616:a", "1:2:3"} {
		f.Add(s, uint64(3000))
	}
	f.Fuzz(func(t *testing.T, anchor string, size uint64) {
		id, from, ok := readAnchor(anchor, size)
		if !ok {
			return
		}
		if from > size {
			t.Fatalf("readAnchor(%q, %d) puts the own rows from %d, past the table", anchor, size, from)
		}
		if !strings.HasPrefix(anchor, anchorVersion) {
			if strings.Contains(anchor, ":") || id != anchor || from != size {
				t.Fatalf("readAnchor(%q, %d) = %q, %d for a bare id", anchor, size, id, from)
			}
			return
		}
		if id2, from2, ok2 := readAnchor(writeAnchor(id, from), size); !ok2 || id2 != id || from2 != from {
			t.Fatalf("writeAnchor(%q, %d) reads back as %q, %d, %v", id, from, id2, from2, ok2)
		}
	})
}
