package vault

import (
	"container/list"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// snapFile is the state snapshot file a state reads its pages from (the
// one a start loaded, or the one the vault last wrote), open until the
// state no longer uses it. Its pages of items and of the object, content
// and case indexes (pageSet) share it.
type snapFile struct {
	mu     sync.Mutex
	r      io.ReaderAt
	close  func() error // nil for a reader that needs none
	closed bool
}

// readAt reads len(b) bytes at off.
func (f *snapFile) readAt(b []byte, off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errPagesClosed
	}
	_, err := f.r.ReadAt(b, off)
	return err
}

// release closes the file; reads after it fail with errPagesClosed.
func (f *snapFile) release() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed && f.close != nil {
		f.close()
	}
	f.closed = true
}

// pageRef is where one page is in a snapshot file.
type pageRef struct {
	first string // the key of its first entry; pages are in key order
	rank  int    // how many entries the pages before it hold
	off   int64
	size  int // bytes, the newline included
	sum   [sha256.Size]byte
}

// pageSet is one kind of page of a snapshot file, read a page at a time
// (docs/state-snapshots.md section 2.1): an index of where each page is
// and the SHA-256 of its bytes (the snapshot's page index, which a start
// read under the summary's MAC, or what the vault wrote), and a bounded
// cache of the pages read last. A page is decoded only if its bytes have
// the SHA-256 the index holds, and used only if its first key and count
// of entries are those the index gives; otherwise the read is an
// ErrIntegrity wrapping errPageCheck.
type pageSet[T any] struct {
	file  *snapFile
	what  string // "items", "objects", "content SHA-256s", "cases' items": for errors
	index []pageRef
	// count is how many entries the pages hold.
	count int
	// decode returns a page's entries from its line, checking that the
	// line is a page of this kind.
	decode func(*snapState) ([]T, error)

	mu    sync.Mutex // guards the cache
	cache *list.List // of *cachedPage[T], most recently used first
	byNum map[int]*list.Element
}

type cachedPage[T any] struct {
	n       int
	entries []T // never changed
}

// pageCacheSize is how many pages of one kind a cache keeps: for items,
// 16,384 of them, about 5 MiB.
const pageCacheSize = 256

// errPageCheck marks a page whose bytes are not those the vault wrote.
var errPageCheck = errors.New("the state snapshot's page")

// errPageUnreadable marks a page the storage could not read.
var errPageUnreadable = errors.New("reading the state snapshot's page")

// errPagesClosed is a read after the vault closed.
var errPagesClosed = errors.New("the vault is closed")

// errPageAltered is a page whose bytes are not those the index was made
// from.
var errPageAltered = errors.New("its bytes are not those the vault wrote")

func newPageSet[T any](file *snapFile, what string, index []pageRef, count int, decode func(*snapState) ([]T, error)) *pageSet[T] {
	return &pageSet[T]{file: file, what: what, index: index, count: count, decode: decode, cache: list.New(), byNum: map[int]*list.Element{}}
}

// find returns the number of the last page whose first key is before
// key (before or at it, if atOrBefore), or -1.
func (p *pageSet[T]) find(key string, atOrBefore bool) int {
	return sort.Search(len(p.index), func(i int) bool {
		if atOrBefore {
			return p.index[i].first > key
		}
		return p.index[i].first >= key
	}) - 1
}

// page returns the entries of page n, from the cache or read and
// checked; keep puts a page read in the cache (a scan of all pages does
// not).
func (p *pageSet[T]) page(n int, keep bool) ([]T, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.byNum[n]; e != nil {
		p.cache.MoveToFront(e)
		return e.Value.(*cachedPage[T]).entries, nil
	}
	entries, err := p.read(n)
	if err != nil {
		return nil, err
	}
	if keep {
		p.byNum[n] = p.cache.PushFront(&cachedPage[T]{n: n, entries: entries})
		if p.cache.Len() > pageCacheSize {
			last := p.cache.Back()
			delete(p.byNum, last.Value.(*cachedPage[T]).n)
			p.cache.Remove(last)
		}
	}
	return entries, nil
}

// read reads page n and checks it against the index.
func (p *pageSet[T]) read(n int) ([]T, error) {
	pg := p.index[n]
	b := make([]byte, pg.size)
	if err := p.file.readAt(b, pg.off); err != nil {
		switch {
		case errors.Is(err, errPagesClosed):
			return nil, err
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, p.failed(pg, errors.New("the file is cut short"))
		}
		// The storage's failure, not a change to the file: the request
		// fails, the vault goes on.
		return nil, fmt.Errorf("%w: %w of %s from %q (at byte %d): %w", ErrUnavailable, errPageUnreadable, p.what, pg.first, pg.off, err)
	}
	sum := sha256.Sum256(b)
	if subtle.ConstantTimeCompare(sum[:], pg.sum[:]) != 1 {
		return nil, p.failed(pg, errPageAltered)
	}
	var part snapState
	if err := decodeSnapState(b, &part); err != nil {
		return nil, p.failed(pg, err)
	}
	entries, err := p.decode(&part)
	if err != nil {
		return nil, p.failed(pg, err)
	}
	// The page is the one the index says: its first key and its count
	// of entries (up to the next page's rank) are those the lookups rely
	// on, from a page index the start took on its summary's MAC alone.
	next := p.count
	if n+1 < len(p.index) {
		next = p.index[n+1].rank
	}
	if len(entries) != next-pg.rank || firstKey(entries[0]) != pg.first {
		return nil, p.failed(pg, errPageNotIndexed)
	}
	return entries, nil
}

// errPageNotIndexed is a page whose first key or count of entries is not
// what the page index gives.
var errPageNotIndexed = errors.New("its entries are not those the page index gives it")

// firstKey is the key an entry of a page is indexed by: an item's id, an
// index row's key.
func firstKey[T any](e T) string {
	switch x := any(e).(type) {
	case *Item:
		return x.ID
	case [2]string:
		return x[0]
	}
	panic(fmt.Sprintf("a page of %T", e))
}

func (p *pageSet[T]) failed(pg pageRef, err error) error {
	return fmt.Errorf("%w: %w of %s from %q (at byte %d): %w", ErrIntegrity, errPageCheck, p.what, pg.first, pg.off, err)
}

// scan calls f with the entries of each page from page from on, in key
// order, read and checked; keep caches the pages read. f returns false
// to stop.
func (p *pageSet[T]) scan(from int, keep bool, f func([]T) (bool, error)) error {
	for n := max(from, 0); n < len(p.index); n++ {
		entries, err := p.page(n, keep)
		if err != nil {
			return err
		}
		if more, err := f(entries); err != nil || !more {
			return err
		}
	}
	return nil
}

// pageWriter writes entries as the pages of a snapshot, perPage to a
// line, and makes the index of what it wrote.
type pageWriter[T any] struct {
	w       io.Writer
	off     int64 // of the next byte written
	perPage int
	key     func(T) string
	wrap    func([]T) *snapState // the line of a page
	buf     []T
	index   []pageRef
	count   int
	err     error
}

// add adds an entry (in key order) to the page being filled, and writes
// the page once it holds perPage entries. An error is kept in pw.err,
// and later calls do nothing.
func (pw *pageWriter[T]) add(e T) {
	if pw.err != nil {
		return
	}
	pw.buf = append(pw.buf, e)
	if len(pw.buf) == pw.perPage {
		pw.flush()
	}
}

// flush writes the entries added since the last page as a page, and
// indexes it: its first key, rank, place and SHA-256.
func (pw *pageWriter[T]) flush() {
	if pw.err != nil || len(pw.buf) == 0 {
		return
	}
	b, err := encodeSnapState(pw.wrap(pw.buf))
	if err != nil {
		pw.err = err
		return
	}
	b = append(b, '\n')
	pg := pageRef{first: pw.key(pw.buf[0]), rank: pw.count, off: pw.off, size: len(b), sum: sha256.Sum256(b)}
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
func (pw *pageWriter[T]) close() error {
	pw.flush()
	return pw.err
}
