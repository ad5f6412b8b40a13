package pkgformat

import (
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
