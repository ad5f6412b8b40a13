package vault

import (
	"container/list"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
)

// itemPages are the items of a state snapshot, read from its file a page
// at a time (docs/state-snapshots.md section 7). The state keeps in
// memory only the items deposited or changed since the snapshot
// (State.items), this index of the pages (each page's first item id,
// place in the file and SHA-256: about two bytes an item) and a bounded
// cache of the pages read last.
//
// A page is used only if its bytes have the SHA-256 the index holds. The
// index is made from the bytes a snapshot's MAC covered as they were read
// at a start, or from the bytes the vault wrote: someone who changes the
// file afterwards gets an ErrIntegrity, never an item the vault did not
// write.
type itemPages struct {
	r      io.ReaderAt
	close  func() error
	closed bool
	index  []itemPage
	// count is how many items the pages hold.
	count int

	mu    sync.Mutex // guards the cache, and reads of r
	cache *list.List // of *cachedPage, most recently used first
	byNum map[int]*list.Element
}

// itemPage is where one page of items is in a snapshot file.
type itemPage struct {
	first string // the id of its first item; pages are in id order
	off   int64
	size  int // bytes, the newline included
	sum   [sha256.Size]byte
}

type cachedPage struct {
	n     int
	items []*Item // in id order; never changed (State.itemToChange copies)
}

// itemsPerPage is how many items the vault writes in one page: about 15
// KiB of JSON, read and checked in some tens of microseconds.
const itemsPerPage = 64

// maxItemsPerPage bounds a page a start accepts.
const maxItemsPerPage = 4096

// pageCacheSize is how many pages the cache keeps: 16,384 items, about
// 5 MiB.
const pageCacheSize = 256

// pagedItem is an item as a page holds it, with the count of the events
// that name it (Item.events).
type pagedItem struct {
	Item   *Item     `json:"item"`
	Events [2]uint64 `json:"events"`
}

// errPageCheck marks an error reading a page of items.
var errPageCheck = errors.New("the state snapshot's page of items")

// errPageUnreadable marks a page the storage could not read.
var errPageUnreadable = errors.New("reading the state snapshot's page of items")

// errPagesClosed is a read after the vault closed.
var errPagesClosed = errors.New("the vault is closed")

// errPageAltered is a page whose bytes are not those the index was made
// from.
var errPageAltered = errors.New("its bytes are not those the vault wrote")

func newItemPages(r io.ReaderAt, close func() error, index []itemPage, count int) *itemPages {
	return &itemPages{r: r, close: close, index: index, count: count, cache: list.New(), byNum: map[int]*list.Element{}}
}

// release closes the file the pages are read from.
func (p *itemPages) release() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed && p.close != nil {
		p.close()
	}
	p.closed = true
}

// lookup returns the item id of the pages, nil if they hold none. The
// item is shared: it must not be changed.
func (p *itemPages) lookup(id string) (*Item, error) {
	i := sort.Search(len(p.index), func(i int) bool { return p.index[i].first > id }) - 1
	if i < 0 {
		return nil, nil
	}
	items, err := p.page(i, true)
	if err != nil {
		return nil, err
	}
	if j, ok := slices.BinarySearchFunc(items, id, func(it *Item, id string) int { return strings.Compare(it.ID, id) }); ok {
		return items[j], nil
	}
	return nil, nil
}

// page returns the items of page n, from the cache or read and checked;
// keep puts a page read in the cache (a scan of all pages does not).
func (p *itemPages) page(n int, keep bool) ([]*Item, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.byNum[n]; e != nil {
		p.cache.MoveToFront(e)
		return e.Value.(*cachedPage).items, nil
	}
	items, err := p.read(n)
	if err != nil {
		return nil, err
	}
	if keep {
		p.byNum[n] = p.cache.PushFront(&cachedPage{n: n, items: items})
		if p.cache.Len() > pageCacheSize {
			last := p.cache.Back()
			delete(p.byNum, last.Value.(*cachedPage).n)
			p.cache.Remove(last)
		}
	}
	return items, nil
}

// read reads page n and checks it against the index; p.mu is held.
func (p *itemPages) read(n int) ([]*Item, error) {
	pg := p.index[n]
	if p.closed {
		return nil, errPagesClosed
	}
	b := make([]byte, pg.size)
	if _, err := p.r.ReadAt(b, pg.off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, p.failed(pg, errors.New("the file is cut short"))
		}
		// The storage's failure, not a change to the file: the request
		// fails, the vault goes on.
		return nil, fmt.Errorf("%w: %w from %q (at byte %d): %w", ErrUnavailable, errPageUnreadable, pg.first, pg.off, err)
	}
	sum := sha256.Sum256(b)
	if subtle.ConstantTimeCompare(sum[:], pg.sum[:]) != 1 {
		return nil, p.failed(pg, errPageAltered)
	}
	var part snapState
	if err := decodeSnapState(b, &part); err != nil {
		return nil, p.failed(pg, err)
	}
	items, err := pageItems(&part)
	if err != nil {
		return nil, p.failed(pg, err)
	}
	if items[0].ID != pg.first {
		return nil, p.failed(pg, errors.New("its first item is not the one the index holds"))
	}
	return items, nil
}

func (p *itemPages) failed(pg itemPage, err error) error {
	return fmt.Errorf("%w: %w from %q (at byte %d): %w", ErrIntegrity, errPageCheck, pg.first, pg.off, err)
}

// scan calls f with the items of each page in id order, read and checked
// but not cached.
func (p *itemPages) scan(f func([]*Item) error) error {
	for n := range p.index {
		items, err := p.page(n, false)
		if err != nil {
			return err
		}
		if err := f(items); err != nil {
			return err
		}
	}
	return nil
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

// isZeroSnapState reports whether b holds nothing.
func isZeroSnapState(b *snapState) bool {
	return b.ApprovedHalves == nil && b.CaseEvents == nil && b.CaseOwn == nil && b.Cases == nil && b.Decided == nil &&
		b.Hot == nil && b.ItemEvents == nil && b.Log == nil && b.LostKeys == nil && b.Packages == nil &&
		b.Persons == nil && b.Recent == nil && b.Requests == nil && b.Retained == nil && b.Sessions == nil && b.Paged == nil
}

// pageWriter writes items as the pages of a snapshot, itemsPerPage to a
// line, and makes the index of what it wrote.
type pageWriter struct {
	w     io.Writer
	off   int64 // of the next byte written
	buf   []pagedItem
	index []itemPage
	count int
	err   error
}

func (pw *pageWriter) add(it *Item) {
	if pw.err != nil {
		return
	}
	pw.buf = append(pw.buf, pagedItem{Item: it, Events: [2]uint64{it.events.n, it.events.last}})
	if len(pw.buf) == itemsPerPage {
		pw.flush()
	}
}

func (pw *pageWriter) flush() {
	if pw.err != nil || len(pw.buf) == 0 {
		return
	}
	b, err := encodeSnapState(&snapState{Paged: pw.buf})
	if err != nil {
		pw.err = err
		return
	}
	b = append(b, '\n')
	pg := itemPage{first: pw.buf[0].Item.ID, off: pw.off, size: len(b), sum: sha256.Sum256(b)}
	if _, err := pw.w.Write(b); err != nil {
		pw.err = err
		return
	}
	pw.off += int64(len(b))
	pw.index = append(pw.index, pg)
	pw.count += len(pw.buf)
	pw.buf = pw.buf[:0]
}

// close writes the last page.
func (pw *pageWriter) close() error {
	pw.flush()
	return pw.err
}

// usePages makes the state read its items from p, which holds every item
// of the state as it is now (the snapshot just written), and forgets the
// items it held as deposited or changed since the last: they are in p.
// It runs where no event is applied (the sequencer's writer goroutine, or
// after it stopped); the pages read before are closed once no reader
// holds the lock.
func (s *State) usePages(p *itemPages) {
	if p.count == 0 {
		p.release()
		p = nil
	}
	s.mu.Lock()
	old := s.pages
	s.pages = p
	s.items = make(map[string]*Item)
	s.mu.Unlock()
	old.release()
}

// closePages closes the file the state's pages are read from, once the
// state is no longer used.
func (s *State) closePages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages.release()
}
