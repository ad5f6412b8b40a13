package events

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The tree's own hashing is RFC 6962's, byte for byte, at every length
// around the stack copy's limit, and allocates at most its result.
func TestHashesAreRFC6962s(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 31, 32, 33, 500, 1022, 1023, 1024, 1025, 4096} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := LeafHash(b), Hasher.HashLeaf(b); !bytes.Equal(got[:], want) {
			t.Errorf("LeafHash of %d bytes differs from RFC 6962's", n)
		}
		l, rt := LeafHash(b), LeafHash(append(b, 1))
		if got, want := HashChildren(l[:], rt[:]), Hasher.HashChildren(l[:], rt[:]); !bytes.Equal(got, want) {
			t.Errorf("HashChildren differs from RFC 6962's")
		}
		if n < 64 {
			if got, want := HashChildren(b, b[:n/2]), Hasher.HashChildren(b, b[:n/2]); !bytes.Equal(got, want) {
				t.Errorf("HashChildren of %d and %d bytes differs from RFC 6962's", n, n/2)
			}
		}
	}
	ev := bytes.Repeat([]byte("e"), 600)
	var l, rt Hash
	if a := testing.AllocsPerRun(100, func() { l = LeafHash(ev) }); a != 0 {
		t.Errorf("LeafHash allocates %v times", a)
	}
	if a := testing.AllocsPerRun(100, func() { _ = HashChildren(l[:], rt[:]) }); a > 1 {
		t.Errorf("HashChildren allocates %v times", a)
	}
}
