package pkgformat

import (
	"errors"
	"fmt"
	"sort"
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
		return SameItemsResult{}, fmt.Errorf("the packages come from two custody logs (%s and %s): their items cannot be compared by their deposit events", a.Origin, b.Origin)
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
// rewritten or rolled back between their sealings: an event position
// both manifests list with two different leaf hashes, or two checkpoints
// of the same size with different roots. Both are signed by the log's
// key, so either is proof of a fork (custody-log.md 5.6; the log is
// append-only). It returns nil where their histories agree as far as
// the two packages show them: without a consistency proof between two
// checkpoints of different sizes, a fork outside the events both list is
// not seen here (`custos audit verify --checkpoint` with each package's
// checkpoint checks the vault's whole log). The error wraps
// ErrForkedHistory and names the first position that differs.
func SameHistory(a, b *Report) error {
	if a.Manifest.LogKey != b.Manifest.LogKey || a.Manifest.Origin != b.Manifest.Origin {
		return nil // two logs: SameItems refuses them
	}
	if a.Checkpoint != nil && b.Checkpoint != nil && a.Checkpoint.Size == b.Checkpoint.Size && a.Checkpoint.Root != b.Checkpoint.Root {
		return fmt.Errorf("%w: both carry a checkpoint of %d events signed by the log's key, with two different roots", ErrForkedHistory, a.Checkpoint.Size)
	}
	inA := map[uint64]string{}
	for _, e := range a.Manifest.Events {
		inA[e.Seq] = e.LeafHash
	}
	var first *Event
	for i, e := range b.Manifest.Events {
		if h, ok := inA[e.Seq]; ok && h != e.LeafHash && (first == nil || e.Seq < first.Seq) {
			first = &b.Manifest.Events[i]
		}
	}
	if first != nil {
		return fmt.Errorf("%w: each proves a different event %d in the log (leaf hashes %s and %s), each included under a checkpoint signed by the log's key", ErrForkedHistory, first.Seq, inA[first.Seq], first.LeafHash)
	}
	return nil
}
