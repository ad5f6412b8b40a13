package pkgformat

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"

	"github.com/custos-vault/custos/events"
)

// SameItemsResult compares the items of two verified packages.
type SameItemsResult struct {
	// Same: both carry exactly the same items: the same deposit events
	// (by sequence number and leaf hash) and, for each, the same name,
	// size and plaintext hashes.
	Same bool `json:"same"`
	// Items counts the items both carry.
	Items int `json:"items"`
	// OnlyA and OnlyB list the item ids one package carries and the other
	// does not; Differ says, per item, what differs.
	OnlyA  []string `json:"only_a"`
	OnlyB  []string `json:"only_b"`
	Differ []string `json:"differ"`
}

// SameItems compares the items of two packages that Verify checked
// (authenticity included): without decrypting either, it shows whether
// they carry exactly the same evidence, by the deposit events their
// signed manifests name and the hashes those events recorded. Packages
// of two different custody logs are refused: their event numbers name
// different events.
func SameItems(a, b *Manifest) (SameItemsResult, error) {
	if a.LogKey != b.LogKey || a.Origin != b.Origin {
		// Named by their keys' fingerprints: a log's name is chosen
		// by whoever makes it, and two logs may share one.
		return SameItemsResult{}, fmt.Errorf("the packages come from two custody logs (%s, key fingerprint %s; and %s, key fingerprint %s): their items cannot be compared by their deposit events",
			a.Origin, KeyFingerprint(a.LogKey), b.Origin, KeyFingerprint(b.LogKey))
	}
	leaf := func(m *Manifest) map[uint64]string {
		out := map[uint64]string{}
		for _, e := range m.Events {
			out[e.Seq] = e.LeafHash
		}
		return out
	}
	la, lb := leaf(a), leaf(b)
	byA := map[string]Item{}
	for _, it := range a.Items {
		byA[it.ID] = it
	}
	r := SameItemsResult{OnlyA: []string{}, OnlyB: []string{}, Differ: []string{}}
	seen := map[string]bool{}
	for _, ib := range b.Items {
		ia, ok := byA[ib.ID]
		if !ok {
			r.OnlyB = append(r.OnlyB, ib.ID)
			continue
		}
		seen[ib.ID] = true
		switch {
		case ia.DepositEvent != ib.DepositEvent || la[ia.DepositEvent] != lb[ib.DepositEvent] || la[ia.DepositEvent] == "":
			r.Differ = append(r.Differ, ib.ID+": its deposit event differs")
		case ia.SHA256 != ib.SHA256 || ia.MD5 != ib.MD5 || ia.SHA1 != ib.SHA1 || ia.Size != ib.Size:
			r.Differ = append(r.Differ, ib.ID+": its plaintext hashes or size differ")
		case ia.Name != ib.Name:
			r.Differ = append(r.Differ, ib.ID+": its name differs")
		default:
			r.Items++
		}
	}
	for _, ia := range a.Items {
		if !seen[ia.ID] {
			r.OnlyA = append(r.OnlyA, ia.ID)
		}
	}
	sort.Strings(r.OnlyA)
	sort.Strings(r.OnlyB)
	r.Same = len(r.OnlyA) == 0 && len(r.OnlyB) == 0 && len(r.Differ) == 0
	return r, nil
}

// ErrForkedHistory is the finding of SameHistory: two packages sealed
// from one custody log prove that the log was rewritten between them.
var ErrForkedHistory = errors.New("the two packages show two different histories of the vault's custody log")

// SameHistory checks two packages that Verify checked, both signed by
// the same log key, for proof that the log they were sealed from was
// rewritten or rolled back between their sealings (custody-log.md 5.6;
// the log is append-only):
//
//   - two checkpoints of the same size with different roots;
//   - a perfect subtree of the log's Merkle tree (RFC 9162 section 2.1:
//     the leaves [a, b), b-a a power of two and a a multiple of it),
//     whose hash is the same in every tree that holds its leaves, shown
//     by both packages with two hashes: each event a package lists shows
//     its leaf, and its inclusion proof the subtrees beside its path and
//     the ones the path climbs through. So an event position listed by
//     both with two leaf hashes is such a proof, and so is a fork before
//     events of both whose proofs climb through the same subtree.
//
// It returns nil where their histories agree as far as the two packages
// show them: a fork in leaves neither package's proofs reach is not seen
// here (`custos audit verify --checkpoint` with each package's
// checkpoint checks the vault's whole log). The error wraps
// ErrForkedHistory and names the leaves whose hashes differ.
func SameHistory(a, b *Report) error {
	if a.Manifest.LogKey != b.Manifest.LogKey || a.Manifest.Origin != b.Manifest.Origin {
		return nil // two logs: SameItems refuses them
	}
	if a.Checkpoint != nil && b.Checkpoint != nil && a.Checkpoint.Size == b.Checkpoint.Size && a.Checkpoint.Root != b.Checkpoint.Root {
		return fmt.Errorf("%w: both carry a checkpoint of %d events signed by the log's key, with two different roots", ErrForkedHistory, a.Checkpoint.Size)
	}
	sa, sb := shownSubtrees(a), shownSubtrees(b)
	var first [2]uint64
	found := false
	for r, ha := range sa {
		if hb, ok := sb[r]; ok && ha != hb {
			// The smallest such subtree, then the first: where the two
			// histories are known to part.
			if !found || r[1]-r[0] < first[1]-first[0] || r[1]-r[0] == first[1]-first[0] && r[0] < first[0] {
				first, found = r, true
			}
		}
	}
	if !found {
		return nil
	}
	if first[1]-first[0] == 1 {
		return fmt.Errorf("%w: each proves a different event %d in the log (leaf hashes %s and %s), each included under a checkpoint signed by the log's key", ErrForkedHistory, first[0], sa[first], sb[first])
	}
	return fmt.Errorf("%w: each proves a different hash (%s and %s) of events %d to %d of the log, a subtree that every later tree of one history holds unchanged, each included under a checkpoint signed by the log's key", ErrForkedHistory, sa[first], sb[first], first[0], first[1]-1)
}

// shownSubtrees are the perfect subtrees a verified package shows, by
// their leaves [a, b), as hex: its events' leaves and, from their
// inclusion proofs, the subtrees beside and along each path
// (SameHistory).
func shownSubtrees(rep *Report) map[[2]uint64]string {
	out := map[[2]uint64]string{}
	if rep.Checkpoint == nil {
		return out
	}
	n := rep.Checkpoint.Size
	record := func(r [2]uint64, h []byte) {
		if size := r[1] - r[0]; size&(size-1) == 0 && r[0]%size == 0 {
			out[r] = hex.EncodeToString(h)
		}
	}
	for _, e := range rep.Manifest.Events {
		leaf, err := hex.DecodeString(e.LeafHash)
		if err != nil || len(leaf) != 32 || e.Seq >= n {
			continue
		}
		cur, h := [2]uint64{e.Seq, e.Seq + 1}, leaf
		record(cur, h)
		path, err := decodeProof(rep.Proofs.Proofs[strconv.FormatUint(e.Seq, 10)])
		sibs := siblingRanges(e.Seq, 0, n)
		if err != nil || len(path) != len(sibs) {
			continue // Verify checked each; none here is the leaf's alone
		}
		for i, r := range sibs {
			record(r, path[i])
			if r[0] < cur[0] {
				h, cur = events.HashChildren(path[i], h), [2]uint64{r[0], cur[1]}
			} else {
				h, cur = events.HashChildren(h, path[i]), [2]uint64{cur[0], r[1]}
			}
			record(cur, h)
		}
	}
	return out
}

// siblingRanges are the leaves [a, b) of the subtrees beside the path of
// leaf i in the tree of leaves [lo, hi), in the order of its inclusion
// proof, from the leaf up (RFC 9162 section 2.1.3.1: PATH(m, D[n])).
func siblingRanges(i, lo, hi uint64) [][2]uint64 {
	if hi-lo <= 1 {
		return nil
	}
	k := uint64(1) << (bits.Len64(hi-lo-1) - 1) // the largest power of two below hi-lo
	if i < lo+k {
		return append(siblingRanges(i, lo, lo+k), [2]uint64{lo + k, hi})
	}
	return append(siblingRanges(i, lo+k, hi), [2]uint64{lo, lo + k})
}
