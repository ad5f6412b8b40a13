package pdq

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
)

// Match is one hash that Index found near a query.
type Match struct {
	ID       uint32 // the payload given to Add
	Distance int    // Hamming distance to the query (the nearest variant's, for SearchDihedral)
	// Variant is, for SearchDihedral, the index of the query's variant
	// that matched (Original, Rotate90, ...): the stored image is the
	// query turned that way. 0 for Search.
	Variant int
}

// Index holds hashes, each with a uint32 payload (a row id, say), for
// near-duplicate search by linear scan: the hashes are kept packed as
// four uint64 each and compared with a population count, about 1 ns a
// hash on one core, so a million hashes take a few milliseconds a query
// and 32 MiB. Callers add only hashes of quality at least MinQuality.
// An Index is safe for concurrent use.
type Index struct {
	mu    sync.RWMutex
	words []uint64 // 4 per hash
	ids   []uint32
}

// Add adds h with payload id. The same hash or id may be added more than
// once; each addition is found as a match of its own.
func (x *Index) Add(id uint32, h Hash) {
	w := pack(h)
	x.mu.Lock()
	x.words = append(x.words, w[:]...)
	x.ids = append(x.ids, id)
	x.mu.Unlock()
}

// Len returns the number of hashes added.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids)
}

// Search returns the hashes within maxDistance of q (DefaultMaxDistance
// is the recommended threshold), nearest first, and in the order they
// were added among equals.
func (x *Index) Search(q Hash, maxDistance int) []Match {
	w := pack(q)
	x.mu.RLock()
	defer x.mu.RUnlock()
	var ms []Match
	words := x.words
	for i, id := range x.ids {
		h := words[4*i : 4*i+4 : 4*i+4]
		d := bits.OnesCount64(h[0]^w[0]) + bits.OnesCount64(h[1]^w[1]) +
			bits.OnesCount64(h[2]^w[2]) + bits.OnesCount64(h[3]^w[3])
		if d <= maxDistance {
			ms = append(ms, Match{ID: id, Distance: d})
		}
	}
	sortMatches(ms)
	return ms
}

// SearchDihedral is Search for an image in any of its eight orientations:
// q holds the query's hashes from Dihedral, and each stored hash is
// compared with all eight and reported once, at the distance of the
// nearest, with that variant's index.
func (x *Index) SearchDihedral(q [8]Hash, maxDistance int) []Match {
	var w [8][4]uint64
	for v := range q {
		w[v] = pack(q[v])
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var ms []Match
	words := x.words
	for i, id := range x.ids {
		h := words[4*i : 4*i+4 : 4*i+4]
		best, bestV := 257, 0
		for v := range w {
			d := bits.OnesCount64(h[0]^w[v][0]) + bits.OnesCount64(h[1]^w[v][1]) +
				bits.OnesCount64(h[2]^w[v][2]) + bits.OnesCount64(h[3]^w[v][3])
			if d < best {
				best, bestV = d, v
			}
		}
		if best <= maxDistance {
			ms = append(ms, Match{ID: id, Distance: best, Variant: bestV})
		}
	}
	sortMatches(ms)
	return ms
}

func sortMatches(ms []Match) {
	slices.SortStableFunc(ms, func(a, b Match) int { return a.Distance - b.Distance })
}

func pack(h Hash) [4]uint64 {
	var w [4]uint64
	for i := range w {
		w[i] = binary.BigEndian.Uint64(h[8*i:])
	}
	return w
}
