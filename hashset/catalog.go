package hashset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Catalog is every set under one root folder. It is safe for concurrent
// use: Match may run while Import replaces a set, and sees either the
// previous set or the new one.
type Catalog struct {
	root string
	imu  sync.Mutex // serialises imports and removals
	mu   sync.RWMutex
	sets map[string]*Set
}

// OpenAll opens every set under root (creating root if needed). It first
// cleans up after interrupted imports: temporary folders are removed, and
// a set moved aside by a replacement that did not finish is restored.
// A set that cannot be opened is an error.
func OpenAll(root string) (*Catalog, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	if err := cleanRoot(root); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	c := &Catalog{root: root, sets: map[string]*Set{}}
	for _, e := range ents {
		if !e.IsDir() || !ValidName(e.Name()) {
			continue
		}
		s, err := Open(filepath.Join(root, e.Name()))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("hash set %s: %w", e.Name(), err)
		}
		c.sets[e.Name()] = s
	}
	return c, nil
}

// Clean tidies root after interrupted imports and removals, as OpenAll
// does: temporary folders are removed, and a set moved aside by a
// replacement that did not finish is restored. For callers that open
// sets one by one.
func Clean(root string) error { return cleanRoot(root) }

func cleanRoot(root string) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, ".tmp-"):
			if err := os.RemoveAll(filepath.Join(root, n)); err != nil {
				return err
			}
		case strings.HasPrefix(n, ".old-"):
			// .old-NAME-RANDOM: the previous set, moved aside.
			name := n[len(".old-"):]
			if i := strings.LastIndexByte(name, '-'); i > 0 {
				name = name[:i]
			}
			dst := filepath.Join(root, name)
			if _, err := os.Stat(dst); ValidName(name) && errors.Is(err, os.ErrNotExist) {
				if err := os.Rename(filepath.Join(root, n), dst); err != nil {
					return err
				}
				continue
			}
			if err := os.RemoveAll(filepath.Join(root, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close closes every set.
func (c *Catalog) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for _, s := range c.sets {
		err = errors.Join(err, s.Close())
	}
	c.sets = map[string]*Set{}
	return err
}

// Import builds the set name from src (see Build) and puts it in place
// of any set of that name.
func (c *Catalog) Import(name string, src io.Reader, format string, opts BuildOptions) (*Summary, error) {
	c.imu.Lock()
	defer c.imu.Unlock()
	sum, err := Build(c.root, name, src, format, opts)
	if err != nil {
		return nil, err
	}
	s, err := Open(filepath.Join(c.root, name))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	old := c.sets[name]
	c.sets[name] = s
	c.mu.Unlock()
	// No Match holds old any more: it held the read lock.
	if old != nil {
		old.Close()
	}
	return sum, nil
}

// Remove deletes the set name.
func (c *Catalog) Remove(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("invalid hash set name %q", name)
	}
	c.imu.Lock()
	defer c.imu.Unlock()
	c.mu.Lock()
	s, ok := c.sets[name]
	delete(c.sets, name)
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("no hash set %q", name)
	}
	s.Close()
	// Rename first, so that no half-deleted set is ever opened.
	gone := filepath.Join(c.root, ".tmp-"+name+"-removed-"+randomSuffix())
	if err := os.Rename(filepath.Join(c.root, name), gone); err != nil {
		return err
	}
	return os.RemoveAll(gone)
}

// List returns the manifests of the sets, sorted by name.
func (c *Catalog) List() []Manifest {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var ms []Manifest
	for _, s := range c.sets {
		ms = append(ms, s.Manifest())
	}
	slices.SortFunc(ms, func(a, b Manifest) int { return strings.Compare(a.Name, b.Name) })
	return ms
}

// Match looks a file's digests up in every set; nil digests are skipped.
// Matches are ordered by set name, then algorithm (MD5, SHA-1, SHA-256),
// then entry number.
func (c *Catalog) Match(md5, sha1, sha256 []byte) ([]Match, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := make([]string, 0, len(c.sets))
	for n := range c.sets {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []Match
	for _, n := range names {
		for i, d := range [][]byte{md5, sha1, sha256} {
			if d == nil {
				continue
			}
			ms, err := c.sets[n].Lookup(Algorithms[i], d)
			if err != nil {
				return out, fmt.Errorf("hash set %s: %w", n, err)
			}
			out = append(out, ms...)
		}
	}
	return out, nil
}
