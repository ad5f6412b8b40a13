package vault

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// itemPages are the items of a state snapshot, read from its file a page
// at a time (docs/state-snapshots.md section 2.1): the state keeps in
// memory only the items deposited or changed since the snapshot
// (State.items), the pages' index (each page's first item id, rank,
// place in the file and SHA-256: about two bytes an item) and a bounded
// cache of the pages read last.
type itemPages = pageSet[*Item]

// itemsPerPage is how many items the vault writes in one page: about 15
// KiB of JSON, read and checked in some tens of microseconds.
const itemsPerPage = 64

// maxItemsPerPage bounds a page a start accepts.
const maxItemsPerPage = 4096

// pagedItem is an item as a page holds it, with the count of the events
// that name it (Item.events).
type pagedItem struct {
	Item   *Item     `json:"item"`
	Events [2]uint64 `json:"events"`
}

// lookupItem returns the item id of the pages, nil if they hold none.
// The item is shared: it must not be changed.
func lookupItem(p *itemPages, id string) (*Item, error) {
	n := p.find(id, true)
	if n < 0 {
		return nil, nil
	}
	items, err := p.page(n, true)
	if err != nil {
		return nil, err
	}
	if j, ok := slices.BinarySearchFunc(items, id, func(it *Item, id string) int { return strings.Compare(it.ID, id) }); ok {
		return items[j], nil
	}
	return nil, nil
}

// newItemPageWriter returns a writer of item pages to w, whose next byte
// is at offset off of the file.
func newItemPageWriter(w io.Writer, off int64) *pageWriter[*Item] {
	return &pageWriter[*Item]{w: w, off: off, perPage: itemsPerPage,
		key: func(it *Item) string { return it.ID },
		wrap: func(items []*Item) *snapState {
			out := make([]pagedItem, len(items))
			for i, it := range items {
				out[i] = pagedItem{Item: it, Events: [2]uint64{it.events.n, it.events.last}}
			}
			return &snapState{Paged: out}
		}}
}

// pageItems returns the items of a page line, with their event counts,
// checking that it is one: a line that holds items and nothing else, in
// strictly increasing id order, each counting at least its deposit.
func pageItems(part *snapState) ([]*Item, error) {
	if len(part.Paged) == 0 || len(part.Paged) > maxItemsPerPage {
		return nil, fmt.Errorf("a page of %d items", len(part.Paged))
	}
	rest := *part
	rest.Paged = nil
	if !isZeroSnapState(&rest) {
		return nil, errors.New("a page holds more than items")
	}
	items := make([]*Item, len(part.Paged))
	for i, pi := range part.Paged {
		it := pi.Item
		switch {
		case it == nil || it.ID == "":
			return nil, errors.New("a page holds an item without an id")
		case i > 0 && it.ID <= items[i-1].ID:
			return nil, fmt.Errorf("its item %q is out of order", it.ID)
		case pi.Events[0] == 0 || pi.Events[1] < it.DepositAt:
			return nil, fmt.Errorf("its item %q counts events %v, not its deposit's", it.ID, pi.Events)
		}
		it.events = named{n: pi.Events[0], last: pi.Events[1]}
		items[i] = it
	}
	return items, nil
}

// isZeroSnapState reports whether b holds nothing (whatever fields the
// type gains).
func isZeroSnapState(b *snapState) bool { return reflect.ValueOf(b).Elem().IsZero() }

// snapPages are the pages of one snapshot file the state reads: its
// items, its object index, its content index and its case index.
type snapPages struct {
	items                   *itemPages
	objects, content, cases *indexPages
}

// usePages makes the state read its items and indexes from p, which
// holds them all as they are now (the snapshot just written), and
// forgets the items it held as deposited or changed since the last and
// the rows it held as added: they are in p. It runs where no event is
// applied (the sequencer's writer goroutine, or after it stopped); the
// file read before is closed once no reader holds the lock.
func (s *State) usePages(p snapPages) {
	s.mu.Lock()
	old := s.file()
	s.pages, s.objectPages, s.contentPages, s.casePages = p.items, p.objects, p.content, p.cases
	s.pagesGen++
	s.items = make(map[string]*Item)
	s.objects = make(map[string]string)
	s.hot.bySHA256 = newContentIndex(0)
	for _, c := range s.cases {
		c.paged += len(c.Items)
		c.Items = nil
	}
	s.mu.Unlock()
	old.release()
}

// file returns the snapshot file the state reads pages from, or nil. The
// four kinds of page are set together, from one file.
func (s *State) file() *snapFile {
	if s.pages == nil {
		return nil
	}
	return s.pages.file
}

// closePages closes the file the state's pages are read from, once the
// state is no longer used.
func (s *State) closePages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file().release()
}
