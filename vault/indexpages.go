package vault

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

// indexPages are the pages of one of the state's indexes in a snapshot
// file (docs/state-snapshots.md section 2.1): rows of a key and a value,
// in key order. The object index has one row an object (its name, and
// the item or package it belongs to); the content index one row an item
// (its content SHA-256 and its id), the items of one SHA-256 in deposit
// order; the case index one row an item on its case's list (the case's
// id and the item's), the items of one case in deposit order. The state
// holds in memory only the rows added since the snapshot (State.objects,
// hotlineState.bySHA256, Case.Items).
type indexPages = pageSet[[2]string]

// rowsPerPage is how many rows the vault writes in one page of an index.
const rowsPerPage = 128

// maxRowsPerPage bounds a page of an index a start accepts.
const maxRowsPerPage = 8192

// objectRows, contentRows and caseIndexRows return the rows of a page of
// the object, the content or the case index, checking that the line is
// one.
func objectRows(part *snapState) ([][2]string, error) {
	return pageRows(part, part.Objects, func(b *snapState) { b.Objects = nil }, true)
}

func contentRows(part *snapState) ([][2]string, error) {
	return pageRows(part, part.Content, func(b *snapState) { b.Content = nil }, false)
}

func caseIndexRows(part *snapState) ([][2]string, error) {
	return pageRows(part, part.CaseItems, func(b *snapState) { b.CaseItems = nil }, false)
}

// pageRows checks that part holds rows and nothing else, each with a key
// and a value, in key order (strictly increasing if unique).
func pageRows(part *snapState, rows [][2]string, drop func(*snapState), unique bool) ([][2]string, error) {
	if len(rows) == 0 || len(rows) > maxRowsPerPage {
		return nil, fmt.Errorf("a page of %d rows", len(rows))
	}
	rest := *part
	drop(&rest)
	if !isZeroSnapState(&rest) {
		return nil, errors.New("a page holds more than its rows")
	}
	for i, r := range rows {
		switch {
		case r[0] == "" || r[1] == "":
			return nil, errors.New("a page holds an empty row")
		case i > 0 && (r[0] < rows[i-1][0] || unique && r[0] == rows[i-1][0]):
			return nil, fmt.Errorf("its row %q is out of order", r[0])
		}
	}
	return rows, nil
}

// lookupRows calls f with the value of each row of key, in order, until
// f returns false.
func lookupRows(p *indexPages, key string, f func(string) bool) error {
	// The rows of one key may begin in the last page that begins before
	// it.
	return p.scan(max(p.find(key, false), 0), true, func(rows [][2]string) (bool, error) {
		for _, r := range rows {
			if r[0] > key {
				return false, nil
			}
			if r[0] == key && !f(r[1]) {
				return false, nil
			}
		}
		return true, nil
	})
}

// lookupRowsFrom is lookupRows from the skip-th row of key on (0 the
// first): it reads the last page that begins before key (to find the
// rank of key's first row, from the pages' ranks) and the page that
// holds the skip-th row, and those after it, not the pages between.
func lookupRowsFrom(p *indexPages, key string, skip int, f func(string) bool) error {
	if skip == 0 {
		return lookupRows(p, key, f)
	}
	// The rank of key's first row: in the last page that begins before
	// key, or else the first row of the next page.
	n := p.find(key, false)
	start := -1
	if n >= 0 {
		rows, err := p.page(n, true)
		if err != nil {
			return err
		}
		if i, ok := slices.BinarySearchFunc(rows, key, compareRowKey); ok {
			start = p.index[n].rank + i
		}
	}
	if start < 0 {
		if n+1 >= len(p.index) || p.index[n+1].first != key {
			return nil // key has no rows
		}
		start = p.index[n+1].rank
	}
	target := start + skip
	// The last page whose first row is at or before the target.
	m := sort.Search(len(p.index), func(i int) bool { return p.index[i].rank > target }) - 1
	return p.scan(m, true, func(rows [][2]string) (bool, error) {
		for i, r := range rows {
			if p.index[m].rank+i < target {
				continue
			}
			if r[0] != key || !f(r[1]) {
				return false, nil
			}
		}
		m++
		return true, nil
	})
}

// compareRowKey compares a row's key with k, for binary searches of a
// page's rows.
func compareRowKey(r [2]string, k string) int { return strings.Compare(r[0], k) }

// newRowPageWriter returns a writer of an index's pages to w, whose next
// byte is at offset off of the file; wrap makes a page's line.
func newRowPageWriter(w io.Writer, off int64, wrap func([][2]string) *snapState) *pageWriter[[2]string] {
	return &pageWriter[[2]string]{w: w, off: off, perPage: rowsPerPage, key: func(r [2]string) string { return r[0] }, wrap: wrap}
}

// mergeRows calls f with the rows of the pages (nil for none) whose key
// keep keeps (nil: all) and the rows added since (in key order; for one
// key, in the order added), the pages' first for a key both hold: the
// content index's items stay in deposit order. The pages are read
// without filling their cache.
func mergeRows(p *indexPages, keep func(string) bool, added [][2]string, f func([2]string)) error {
	next := 0
	if p != nil {
		err := p.scan(0, false, func(rows [][2]string) (bool, error) {
			for _, r := range rows {
				for ; next < len(added) && added[next][0] < r[0]; next++ {
					f(added[next])
				}
				if keep == nil || keep(r[0]) {
					f(r)
				}
			}
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	for ; next < len(added); next++ {
		f(added[next])
	}
	return nil
}

// ownerOf returns the item or package an object belongs to, from the
// rows added since the pages or the pages; s.mu is held.
func (s *State) ownerOf(name string) (string, bool, error) {
	if id, ok := s.objects[name]; ok || s.objectPages == nil {
		return id, ok, nil
	}
	var id string
	found := false
	if err := lookupRows(s.objectPages, name, func(v string) bool { id, found = v, true; return false }); err != nil {
		return "", false, s.pageFailed(err)
	}
	return id, found, nil
}

// pagesGeneration is the count of switches to a newer snapshot's pages
// (usePages): owners added since a generation are in s.objects for as long
// as it lasts.
func (s *State) pagesGeneration() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pagesGen
}

// ownedSince reports whether any of names has an owner among those added
// since the pages of generation gen, or gen has passed (its owners moved
// into newer pages): either way the names must be judged again. It reads
// no page.
func (s *State) ownedSince(names []string, gen uint64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pagesGen != gen {
		return true
	}
	for _, name := range names {
		if _, ok := s.objects[name]; ok {
			return true
		}
	}
	return false
}

// unowned returns those of names (in increasing order) that no item or
// package owns, reading each page of the object index they fall in once.
func (s *State) unowned(names []string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	cur, rows := -1, [][2]string(nil)
	for _, name := range names {
		if _, ok := s.objects[name]; ok {
			continue
		}
		if p := s.objectPages; p != nil {
			if n := p.find(name, true); n >= 0 {
				if n != cur {
					var err error
					if rows, err = p.page(n, false); err != nil {
						return nil, s.pageFailed(err)
					}
					cur = n
				}
				if _, ok := slices.BinarySearchFunc(rows, name, compareRowKey); ok {
					continue
				}
			}
		}
		out = append(out, name)
	}
	return out, nil
}

// contentItems returns the items of content SHA-256 sum, in deposit
// order: the pages' then those deposited since; s.mu is held.
func (s *State) contentItems(sum string) ([]string, error) {
	var out []string
	if s.contentPages != nil {
		if err := lookupRows(s.contentPages, sum, func(v string) bool { out = append(out, v); return true }); err != nil {
			return nil, s.pageFailed(err)
		}
	}
	return append(out, s.hot.bySHA256.items(sum)...), nil
}

// caseRows calls f with the ids of the items of case c in the case
// index's pages (c.paged of them), in deposit order, until f returns
// false; s.mu is held.
func (s *State) caseRows(c *Case, f func(string) bool) error {
	return s.caseRowsFrom(c, 0, f)
}

// caseRowsFrom is caseRows from the skip-th of the case's items in the
// pages on (skip < c.paged), reading no page before the one that holds
// it but the last one that begins before the case's id (lookupRowsFrom).
func (s *State) caseRowsFrom(c *Case, skip int, f func(string) bool) error {
	if c.paged == 0 {
		return nil
	}
	if s.casePages == nil {
		return fmt.Errorf("%w: case %s has %d items in pages, and the state has none", ErrIntegrity, c.ID, c.paged)
	}
	if err := lookupRowsFrom(s.casePages, c.ID, skip, f); err != nil {
		return s.pageFailed(err)
	}
	return nil
}

// casePagesKept reports whether the case index's pages' rows of case id
// are still its list: a case opened again (in a log from before a second
// opening was refused) has a list of its own; s.mu is held.
func (s *State) casePagesKept(id string) bool {
	c := s.cases[id]
	return c != nil && c.paged > 0
}

// addedObjects and addedContent return the rows of the object and the
// content index added since the pages, in key order (for one SHA-256, in
// deposit order); s.mu is held.
func (s *State) addedObjects() [][2]string {
	out := make([][2]string, 0, len(s.objects))
	for _, k := range slices.Sorted(maps.Keys(s.objects)) {
		out = append(out, [2]string{k, s.objects[k]})
	}
	return out
}

func (s *State) addedContent() [][2]string {
	x := s.hot.bySHA256
	out := make([][2]string, 0, len(x.first))
	for _, k := range slices.Sorted(maps.Keys(x.first)) {
		for _, id := range x.items(k) {
			out = append(out, [2]string{k, id})
		}
	}
	return out
}

// addedCaseItems returns the rows of the case index added since the
// pages (the items deposited since), by case id, each case's in deposit
// order; s.mu is held.
func (s *State) addedCaseItems() [][2]string {
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(s.cases)) {
		for _, id := range s.cases[k].Items {
			out = append(out, [2]string{k, id})
		}
	}
	return out
}
