package vault

import (
	"context"
	"slices"
)

// Near-duplicate search (docs/pdq.md): an item, or every item of a case,
// against the PDQ hashes of every item of the cases the person is
// assigned to, of the items of other cases classified illegal (never
// named), and of the hash sets in use.

// SimilarMatch is one near-duplicate of an image.
type SimilarMatch struct {
	// Item is a matching item the person may see (an item of a case
	// they are assigned to); "" for one of another case.
	Item string `json:"item,omitempty"`
	// Name and Case are, with Item, the name it was deposited under and
	// its case.
	Name     string `json:"name,omitempty"`
	Case     string `json:"case,omitempty"`
	Category string `json:"category,omitempty"`
	Distance int    `json:"distance"`
	// Set and Entry name a matching hash-set entry; Entry is present,
	// 0 included, whenever Set is.
	Set   string  `json:"set,omitempty"`
	Entry *uint64 `json:"entry,omitempty"`
}

// SimilarItems are the near-duplicates of one item; NotSearched says
// why an item was not searched (not an image, or no usable hash).
type SimilarItems struct {
	Item        string         `json:"item"`
	Name        string         `json:"name"`
	Matches     []SimilarMatch `json:"matches"`
	NotSearched string         `json:"not_searched,omitempty"`
}

// Similar finds the near-duplicates of one item, or (itemID "") of
// every item of caseID, within maxDistance bits (0: the vault's
// threshold), for an analyst or investigator assigned to the case.
func (v *Vault) Similar(ctx context.Context, who Principal, caseID, itemID string, maxDistance int) ([]SimilarItems, error) {
	gate, target := "case.similar", caseID
	if itemID != "" {
		gate, target = "item.similar", itemID
	}
	if err := v.MayAsk(ctx, who, gate, target); err != nil {
		return nil, err
	}
	if maxDistance < 0 || maxDistance > 64 {
		return nil, badInput("max distance %d: between 0 and 64 bits (default %d)", maxDistance, v.pdqDistance())
	}
	if maxDistance == 0 {
		maxDistance = v.pdqDistance()
	}
	var items []Item
	if itemID != "" {
		it, ok, err := v.state.getItem(itemID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refused(ErrNotFound, "no such item %s", itemID)
		}
		items = []Item{it}
	} else {
		ids, err := v.state.caseItems(caseID)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			it, ok, err := v.state.getItem(id)
			if err != nil {
				return nil, err
			}
			if ok {
				items = append(items, it)
			}
		}
	}
	out := []SimilarItems{}
	stated := newKnownChecks()
	for _, it := range items {
		s := SimilarItems{Item: it.ID, Name: it.Deposit.Name, Matches: []SimilarMatch{}}
		var m *MediaInfo
		if it.Deposit.Media == MediaImage {
			// The hashes are in the signed deposit record only.
			d, err := v.depositRecord(ctx, it)
			if err != nil {
				return nil, err
			}
			m = d.Media
		}
		qs, ok := [][32]byte(nil), false
		switch {
		case m == nil || m.Kind != "image":
			s.NotSearched = "not an image"
		case m.PDQ == "":
			s.NotSearched = "not hashed: " + m.NotHashed
		case m.Quality < pdqMinQuality:
			s.NotSearched = "PDQ quality below 50"
		default:
			qs, ok = pdqVariants(m)
		}
		if ok {
			// Nearest first, then by id: equally near items are listed
			// in the same order each time.
			within := v.state.pdqWithin(qs, maxDistance, false)
			for _, other := range nearestFirst(within) {
				d := within[other]
				if other == it.ID {
					continue
				}
				o, found, err := v.state.getItem(other)
				if err != nil {
					return nil, err
				}
				if !found {
					continue
				}
				// Said as lists and exports say it (one person's vote does
				// not clear known material), or, where nothing settles it,
				// the illegal category that holds it.
				cl, err := v.statedClassification(ctx, o, stated)
				if err != nil {
					return nil, err
				}
				cat := cl.Category
				if c, by := cl.heldIllegal(); cat == "" && by != "" {
					cat = c
				}
				oc, _ := v.state.getCase(o.Case)
				match := SimilarMatch{Item: other, Name: o.Deposit.Name, Case: o.Case, Category: cat, Distance: d}
				if !assigned(who, oc) {
					if !Illegal(cat) {
						continue // another case's unclassified material stays unseen
					}
					match = SimilarMatch{Category: cat, Distance: d} // nor its id, name or case
				}
				s.Matches = append(s.Matches, match)
			}
			near, err := v.hashsets.pdqMatches(qs, maxDistance)
			if err != nil {
				return nil, err
			}
			for _, hm := range near {
				s.Matches = append(s.Matches, SimilarMatch{Set: hm.Set, Entry: &hm.Entry, Category: hm.Category, Distance: hm.Distance})
			}
			slices.SortStableFunc(s.Matches, func(a, b SimilarMatch) int { return a.Distance - b.Distance })
		}
		out = append(out, s)
	}
	return out, nil
}
