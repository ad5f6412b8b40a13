// Package objects defines where evidence ciphertext lives: a write-once
// object store. Backends: fs (a local folder, the embedded default) and s3
// (MinIO or any S3 service with object lock). Every backend passes
// objects/objtest.
//
// Object names are chosen by the vault and reveal nothing: a kind prefix
// and random hex ("ev/3f9a...", "pkg/..."). Stores never hold plaintext.
package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Info describes a stored object.
type Info struct {
	Name string
	Size int64
}

// PutOptions carry the write-once policy of one object.
type PutOptions struct {
	// RetainUntil, if set, is the date before which the object can be
	// neither deleted nor overwritten, not even by the store's
	// administrator (S3 object lock in COMPLIANCE mode). The fs backend
	// records it and refuses deletion before it.
	RetainUntil time.Time
	// Unlocked writes the object with no retention at all, not even a
	// store's default: the vault must be able to delete it. Only copies
	// of keys and of the vault's sticky log head are written so; a case
	// key that could not be deleted would defeat crypto-shredding.
	Unlocked bool
}

// Store is a write-once object store.
type Store interface {
	// Put streams r into a new object called name and returns once it is
	// durable. It never overwrites: an existing name gives ErrExists. If r
	// fails or ctx ends, nothing is left under name.
	Put(ctx context.Context, name string, r io.Reader, opts PutOptions) (Info, error)
	// Open streams an object's bytes.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Stat returns an object's size, or ErrNotFound.
	Stat(ctx context.Context, name string) (Info, error)
	// List calls fn for every object whose name starts with prefix.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes an object; ErrLocked while retention or a legal hold
	// forbids it.
	Delete(ctx context.Context, name string) error
	// SetLegalHold places or lifts a legal hold on an object.
	SetLegalHold(ctx context.Context, name string, on bool) error
	// ExtendRetention moves an object's retention date to until; it never
	// shortens it (object lock in COMPLIANCE mode forbids that too). The
	// vault writes evidence with a short pending retention and extends it
	// once the deposit event is durable, so that ciphertext a crash left
	// without an event can be swept once that short retention ends.
	ExtendRetention(ctx context.Context, name string, until time.Time) error
	// Close releases the store.
	Close() error
}

// Lock is what protects an object from deletion: its legal hold and the
// end of its retention (zero: none).
type Lock struct {
	LegalHold   bool
	RetainUntil time.Time
}

// LockReader is a store that reads an object's lock back, so that an
// audit can check that what the vault set is still there (a legal hold
// lifted or a retention shortened by someone with the store's own
// access). ErrNotFound for an object that does not exist.
type LockReader interface {
	Lock(ctx context.Context, name string) (Lock, error)
}

// NameLister is a Store that lists names alone more cheaply than List
// (the fs store: without a stat of every object).
type NameLister interface {
	// ListNames calls fn with the name of every object whose name starts
	// with prefix: the names List gives, in any order.
	ListNames(ctx context.Context, prefix string, fn func(name string) error) error
}

// ListNames calls fn with the name of every object of s whose name
// starts with prefix: through s's own ListNames if it is a NameLister,
// else through List. fn's error ends the listing and is returned.
func ListNames(ctx context.Context, s Store, prefix string, fn func(name string) error) error {
	if nl, ok := s.(NameLister); ok {
		return nl.ListNames(ctx, prefix, fn)
	}
	return s.List(ctx, prefix, func(i Info) error { return fn(i.Name) })
}

// ForeignLister is a Store that can list what its place holds besides
// the objects it wrote: entries List skips because no object has that
// name or shape. Whoever can write the store's place could keep other
// data there, out of sight of a listing of objects; a scrub reports them.
type ForeignLister interface {
	// ListForeign calls fn with a readable name of each such entry
	// (Go-quoted if it is not printable ASCII) and why it is not an
	// object. fn's error ends the listing and is returned.
	ListForeign(ctx context.Context, fn func(entry, why string) error) error
}

// EntryName is how a ForeignLister names an entry: as it is if it is
// printable ASCII without quotes or backslashes, else Go-quoted
// (strconv.Quote), so that a name cannot break the line it is shown on.
func EntryName(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.Quote(name)
		}
	}
	return name
}

var (
	ErrExists   = errors.New("object already exists")
	ErrNotFound = errors.New("object not found")
	ErrLocked   = errors.New("object is under retention or legal hold")
	// ErrTooLarge: ReadSmall found more than its limit.
	ErrTooLarge = errors.New("larger than expected")
	// ErrNotRegular: what holds the name (or the folder it is in) is
	// not a plain file or folder but a link, a named pipe, a device or
	// a socket, which no store writes: someone with the store's folder
	// put it there. The file store neither follows nor opens it.
	ErrNotRegular = errors.New("not an object: a link, pipe, device or socket holds its name")
)

// ValidName reports whether name is one the vault could have chosen:
// lowercase letters, digits and at most one '/', 1 to 128 bytes. Stores
// refuse anything else, so no name can climb out of a folder or bucket.
func ValidName(name string) error {
	if !IsValidName(name) {
		return fmt.Errorf("invalid object name %q", name)
	}
	return nil
}

// IsValidName is ValidName as a bool, for a listing that skips what is
// not an object (the file store's lock files) without an error each.
func IsValidName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	slashes := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '/' && i > 0 && i < len(name)-1:
			slashes++
		default:
			return false
		}
	}
	return slashes <= 1
}

// ReadSmall reads a whole object of at most max bytes (a key copy, a
// checkpoint note): a larger object is an error, never silently cut.
func ReadSmall(ctx context.Context, s Store, name string, max int64) ([]byte, error) {
	rc, err := s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", name, max, ErrTooLarge)
	}
	return b, nil
}

// CountingReader counts the bytes read through it.
type CountingReader struct {
	R io.Reader
	N int64
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
