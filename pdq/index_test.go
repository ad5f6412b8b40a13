package pdq

import (
	"bytes"
	"image"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
)

// flip returns h with its first n bits inverted.
func flip(h Hash, n int) Hash {
	for k := range n {
		h[31-k/8] ^= 1 << (k % 8)
	}
	return h
}

func randomHash(r *rand.Rand) Hash {
	var h Hash
	for i := 0; i < 32; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			h[i+k] = byte(v >> (8 * k))
		}
	}
	return h
}

func TestIndexSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	q := randomHash(r)
	var x Index
	if ms := x.Search(q, 256); len(ms) != 0 || x.Len() != 0 {
		t.Fatalf("empty index: %v", ms)
	}
	for i := range 1000 {
		x.Add(uint32(1000+i), randomHash(r))
	}
	x.Add(7, flip(q, 31))
	x.Add(5, flip(q, 3))
	x.Add(6, flip(q, 32))
	x.Add(4, q)
	x.Add(8, flip(q, 3))
	if x.Len() != 1005 {
		t.Fatalf("Len = %d", x.Len())
	}
	got := x.Search(q, DefaultMaxDistance)
	want := []Match{{ID: 4}, {ID: 5, Distance: 3}, {ID: 8, Distance: 3}, {ID: 7, Distance: 31}}
	if !slices.Equal(got, want) {
		t.Errorf("Search = %v, want %v", got, want)
	}
	if got := x.Search(q, 0); !slices.Equal(got, want[:1]) {
		t.Errorf("Search at 0 = %v", got)
	}
	if got := x.Search(q, -1); len(got) != 0 {
		t.Errorf("Search at -1 = %v", got)
	}
	// At 256 every hash is found, sorted by distance.
	all := x.Search(q, 256)
	if len(all) != 1005 || !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Distance < all[j].Distance }) {
		t.Errorf("Search at 256: %d matches", len(all))
	}
	for _, m := range all {
		if m.ID >= 1000 && m.Distance < 80 {
			t.Errorf("a random hash at distance %d", m.Distance)
		}
	}
}

// TestIndexDihedral: a rotated copy of the photo is found through the
// query's Rotate90 variant by SearchDihedral, and not by Search.
func TestIndexDihedral(t *testing.T) {
	dir := filepath.Join(vectors, "images/reg-test-input/dih")
	orig, _ := Dihedral(decodeFile(t, filepath.Join(dir, dihFiles[Original])))
	var x Index
	for v, name := range dihFiles {
		if v == Original {
			continue
		}
		h, _ := FromImage(decodeFile(t, filepath.Join(dir, name)))
		x.Add(uint32(v), h)
	}
	if ms := x.Search(orig[Original], DefaultMaxDistance); len(ms) != 0 {
		t.Errorf("Search found turned copies: %v", ms)
	}
	ms := x.SearchDihedral(orig, DefaultMaxDistance)
	if len(ms) != 7 {
		t.Fatalf("SearchDihedral found %v", ms)
	}
	for _, m := range ms {
		if m.Variant != int(m.ID) {
			t.Errorf("%s found through variant %d", dihFiles[m.ID], m.Variant)
		}
	}
}

// TestIndexConcurrent: Add and Search from several goroutines (for the
// race detector).
func TestIndexConcurrent(t *testing.T) {
	var x Index
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 0))
			for i := range 200 {
				h := randomHash(r)
				x.Add(uint32(i), h)
				if ms := x.Search(h, 0); len(ms) == 0 {
					t.Error("just added, not found")
					return
				}
			}
		}()
	}
	wg.Wait()
	if x.Len() != 800 {
		t.Errorf("Len = %d", x.Len())
	}
}

func benchIndex(b *testing.B, n int) (*Index, Hash) {
	r := rand.New(rand.NewPCG(3, 4))
	x := &Index{}
	for i := range n {
		x.Add(uint32(i), randomHash(r))
	}
	return x, randomHash(r)
}

// BenchmarkSearch1M: one query against a million hashes.
func BenchmarkSearch1M(b *testing.B) {
	x, q := benchIndex(b, 1_000_000)
	for b.Loop() {
		x.Search(q, DefaultMaxDistance)
	}
}

// BenchmarkSearchDihedral1M: the eight variants of a query against a
// million hashes.
func BenchmarkSearchDihedral1M(b *testing.B) {
	x, q := benchIndex(b, 1_000_000)
	var qs [8]Hash
	for v := range qs {
		qs[v] = flip(q, v)
	}
	for b.Loop() {
		x.SearchDihedral(qs, DefaultMaxDistance)
	}
}

// BenchmarkHashReader1MP: decoding and hashing a 1000x1000 JPEG of
// quality 90.
func BenchmarkHashReader1MP(b *testing.B) {
	src := decodeFile(b, filepath.Join(vectors, "images/bridge-mods/aaa-orig.jpg"))
	jpg := encodeJPEG(b, offset(src, 0, 0).(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(300, 0, 1300, 1000)), 90)
	b.SetBytes(int64(len(jpg)))
	for b.Loop() {
		if _, err := HashReader(bytes.NewReader(jpg), DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromImage: hashing decoded pixels, by size.
func BenchmarkFromImage(b *testing.B) {
	for _, name := range []string{"reg-test-input/labelme-subset/q0291.jpg", "bridge-mods/aaa-orig.jpg"} {
		img := decodeFile(b, filepath.Join(vectors, "images", name))
		b.Run(filepath.Base(name), func(b *testing.B) {
			for b.Loop() {
				FromImage(img)
			}
		})
	}
}
