package hashset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/custos-vault/custos/internal/ctxio"
	"github.com/custos-vault/custos/internal/smallfile"
)

// Set is an open hash set. Its methods are safe for concurrent use; it
// reads with positioned reads, each checked against the SHA-256 of the
// blocks it reads (verified.go), and keeps in memory the manifest, each
// table's fan-out and resident index, and those blocks' sums.
type Set struct {
	dir      string
	m        Manifest
	entries  *verifiedFile
	offsets  *verifiedFile
	pdq      *verifiedFile
	tables   [3]*table
	nEntries uint64
	entEnd   int64
}

type table struct {
	a     Algorithm
	f     *verifiedFile
	count uint64
	ks    int
	bits  uint32
	fan   []uint32
	// resident is the table's index in memory: per record, in table
	// order, the first residentKey bytes of its key (the whole of an
	// MD5) and its entry number, residentRecord bytes in all.
	resident []byte
}

// The resident index keeps 128 bits of each key: enough to decide that
// a digest is absent without reading the disk, and to find the records
// a present one may be. A candidate is confirmed against the whole key
// on disk before it is reported (Lookup), so a file crafted to share a
// listed digest's first 128 bits never matches.
const (
	residentKey    = 16
	residentRecord = residentKey + 4
)

// Match is a digest found in a set.
type Match struct {
	Set       string
	Algorithm Algorithm
	// Number is the entry's number in its set, from 0 in source order.
	Number uint32
	// Entry is the entry's metadata, with the matched digest set and the
	// set's default category where the source gave none.
	Entry     Entry
	KnownGood bool
}

// ErrCorrupt wraps every error caused by a set's files not being what
// their headers and manifest say.
var ErrCorrupt = errors.New("corrupt hash set")

func corrupt(file, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, file, fmt.Sprintf(format, args...))
}

// Open opens the set in dir, checking its manifest, the headers and
// sizes of its files, and their SHA-256 against the manifest's and its
// table digest: every byte the set answers from later is checked
// against the sums taken here (verified.go). Errors wrap ErrCorrupt
// when a file is not what the manifest says.
func Open(dir string) (*Set, error) {
	mb, err := smallfile.Read(filepath.Join(dir, manifestName), maxManifest)
	if err != nil {
		return nil, err
	}
	s := &Set{dir: dir}
	if err := json.Unmarshal(mb, &s.m); err != nil {
		return nil, corrupt(manifestName, "%v", err)
	}
	if s.m.Version != formatVersion {
		return nil, corrupt(manifestName, "version %d, this build reads %d", s.m.Version, formatVersion)
	}
	if len(s.m.Files) != len(dataFiles) {
		return nil, corrupt(manifestName, "%d files listed, want %d", len(s.m.Files), len(dataFiles))
	}
	for i, f := range s.m.Files {
		if f.Name != dataFiles[i] {
			return nil, corrupt(manifestName, "file %d is %q, want %q", i, f.Name, dataFiles[i])
		}
	}
	if err := s.open(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Set) open() error {
	sizes := map[string]int64{}
	sums := map[string]FileSum{}
	for _, f := range s.m.Files {
		sizes[f.Name], sums[f.Name] = f.Size, f
	}
	if d := tableDigest(s.m.Files); d != s.m.TableSHA256 {
		return corrupt(manifestName, "table digest %s, the manifest's files give %s", s.m.TableSHA256, d)
	}
	openFile := func(name string, count uint64) (*verifiedFile, header, error) {
		f, err := os.Open(filepath.Join(s.dir, name))
		if err != nil {
			return nil, header{}, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, header{}, err
		}
		if fi.Size() != sizes[name] {
			f.Close()
			return nil, header{}, corrupt(name, "%d bytes, the manifest says %d", fi.Size(), sizes[name])
		}
		vf, err := openVerified(name, f, fi.Size(), sums[name])
		if err != nil {
			f.Close()
			return nil, header{}, err
		}
		h, err := readHeader(vf, kinds[name])
		if err == nil && h.count != count {
			err = fmt.Errorf("%d records, the manifest says %d", h.count, count)
		}
		if err != nil {
			f.Close()
			return nil, header{}, corrupt(name, "%v", err)
		}
		return vf, h, nil
	}
	var err error
	s.nEntries = s.m.Entries
	if s.nEntries > maxEntries {
		return corrupt(manifestName, "%d entries", s.nEntries)
	}
	if s.entries, _, err = openFile(entriesName, s.nEntries); err != nil {
		return err
	}
	s.entEnd = sizes[entriesName]
	if s.offsets, _, err = openFile(offsetsName, s.nEntries); err != nil {
		return err
	}
	if sizes[offsetsName] != headerSize+8*int64(s.nEntries+1) {
		return corrupt(offsetsName, "%d bytes for %d entries", sizes[offsetsName], s.nEntries)
	}
	if s.pdq, _, err = openFile(pdqName, s.m.Counts.PDQ); err != nil {
		return err
	}
	if s.m.Counts.PDQ > s.nEntries || sizes[pdqName] != headerSize+pdqRecord*int64(s.m.Counts.PDQ) {
		return corrupt(pdqName, "%d bytes for %d records", sizes[pdqName], s.m.Counts.PDQ)
	}
	for i, a := range Algorithms {
		name := tableName(a)
		f, h, err := openFile(name, s.m.Counts.of(a))
		if err != nil {
			return err
		}
		t := &table{a: a, f: f, count: h.count, ks: a.Size(), bits: h.bits}
		s.tables[i] = t
		if int(h.keySize) != t.ks || h.bits < 8 || h.bits > 24 || h.count > maxEntries {
			return corrupt(name, "key size %d, fan-out bits %d, %d records", h.keySize, h.bits, h.count)
		}
		recs := int64(h.count) * int64(t.ks+4)
		fanLen := int64(1)<<h.bits + 1
		if sizes[name] != headerSize+recs+4*fanLen {
			return corrupt(name, "%d bytes for %d records", sizes[name], h.count)
		}
		fb := make([]byte, 4*fanLen)
		if _, err := f.ReadAt(fb, headerSize+recs); err != nil {
			return corrupt(name, "reading the fan-out: %v", err)
		}
		t.fan = make([]uint32, fanLen)
		for j := range t.fan {
			t.fan[j] = binary.LittleEndian.Uint32(fb[4*j:])
			if j > 0 && t.fan[j] < t.fan[j-1] {
				return corrupt(name, "fan-out decreases at %d", j)
			}
		}
		if t.fan[0] != 0 || uint64(t.fan[fanLen-1]) != h.count {
			return corrupt(name, "fan-out does not span the %d records", h.count)
		}
		if err := t.load(); err != nil {
			return err
		}
	}
	return nil
}

// load reads the table's records once, in order, into its resident
// index.
func (t *table) load() error {
	rs := t.ks + 4
	t.resident = make([]byte, 0, int(t.count)*residentRecord)
	r := bufio.NewReaderSize(io.NewSectionReader(t.f, headerSize, int64(t.count)*int64(rs)), 1<<20)
	rec := make([]byte, rs)
	var prev []byte
	for i := uint64(0); i < t.count; i++ {
		if _, err := io.ReadFull(r, rec); err != nil {
			return corrupt(tableName(t.a), "reading record %d: %v", i, err)
		}
		if prev != nil && bytes.Compare(prev, rec[:t.ks]) > 0 {
			return corrupt(tableName(t.a), "record %d is out of order", i)
		}
		prev = append(prev[:0], rec[:t.ks]...)
		t.resident = append(t.resident, rec[:residentKey]...)
		t.resident = append(t.resident, rec[t.ks:]...)
	}
	return nil
}

// Close closes the set's files.
func (s *Set) Close() error {
	var err error
	for _, f := range []*verifiedFile{s.entries, s.offsets, s.pdq} {
		if f != nil {
			err = errors.Join(err, f.f.Close())
		}
	}
	for _, t := range s.tables {
		if t != nil && t.f != nil {
			err = errors.Join(err, t.f.f.Close())
		}
	}
	return err
}

// Manifest returns the set's manifest.
func (s *Set) Manifest() Manifest { return s.m }

// Lookup returns the entries whose digest of algorithm a is digest, in
// entry order; none is not an error. A digest of the wrong length is.
func (s *Set) Lookup(a Algorithm, digest []byte) ([]Match, error) {
	i := indexOf(a)
	if i < 0 {
		return nil, fmt.Errorf("unknown algorithm %q", a)
	}
	if len(digest) != a.Size() {
		return nil, fmt.Errorf("%s digest of %d bytes, want %d", a, len(digest), a.Size())
	}
	nums, err := s.tables[i].find(digest, s.nEntries)
	if err != nil || len(nums) == 0 {
		return nil, err
	}
	ms := make([]Match, 0, len(nums))
	for _, n := range nums {
		e, err := s.Entry(n)
		if err != nil {
			return nil, err
		}
		d := append([]byte(nil), digest...)
		switch a {
		case MD5:
			e.MD5 = d
		case SHA1:
			e.SHA1 = d
		case SHA256:
			e.SHA256 = d
		}
		ms = append(ms, Match{Set: s.m.Name, Algorithm: a, Number: n, Entry: e, KnownGood: s.m.KnownGood})
	}
	return ms, nil
}

func indexOf(a Algorithm) int {
	for i, x := range Algorithms {
		if x == a {
			return i
		}
	}
	return -1
}

// candidates returns the positions of the records whose key starts with
// key's first residentKey bytes, from the resident index alone.
func (t *table) candidates(key []byte) (lo, hi int64) {
	p := prefix(key, t.bits)
	lo, hi = int64(t.fan[p]), int64(t.fan[p+1])
	k := key[:residentKey]
	at := func(i int64) []byte { return t.resident[i*residentRecord : i*residentRecord+residentKey] }
	// The first record >= k, then the first > k.
	a, b := lo, hi
	for a < b {
		mid := a + (b-a)/2
		if bytes.Compare(at(mid), k) < 0 {
			a = mid + 1
		} else {
			b = mid
		}
	}
	end := a
	for end < hi && bytes.Equal(at(end), k) {
		end++
	}
	return a, end
}

// find returns the entry numbers of the records whose key is key: the
// resident index names the candidates, and each is confirmed against
// its whole key on disk unless the key is no longer than the index's.
func (t *table) find(key []byte, nEntries uint64) ([]uint32, error) {
	lo, hi := t.candidates(key)
	var out []uint32
	rs := int64(t.ks + 4)
	var rec [32 + 4]byte
	if t.ks > residentKey && hi-lo > 8 {
		// Many records share the key's first 128 bits (a set crafted
		// or generated that way): narrow them on disk, by binary
		// search on the whole key, instead of reading each.
		a, b := lo, hi
		for a < b {
			mid := a + (b-a)/2
			if _, err := t.f.ReadAt(rec[:t.ks], headerSize+mid*rs); err != nil {
				return nil, t.readErr(err)
			}
			if bytes.Compare(rec[:t.ks], key) < 0 {
				a = mid + 1
			} else {
				b = mid
			}
		}
		lo = a
	}
	for i := lo; i < hi; i++ {
		num := binary.LittleEndian.Uint32(t.resident[i*residentRecord+residentKey:])
		if uint64(num) >= nEntries {
			return nil, corrupt(tableName(t.a), "entry number %d of %d", num, nEntries)
		}
		if t.ks > residentKey {
			if _, err := t.f.ReadAt(rec[:rs], headerSize+i*rs); err != nil {
				return nil, t.readErr(err)
			}
			switch c := bytes.Compare(rec[:t.ks], key); {
			case c > 0:
				return out, nil // sorted: no later record has the key
			case c < 0:
				continue
			}
			if binary.LittleEndian.Uint32(rec[t.ks:]) != num {
				return nil, corrupt(tableName(t.a), "record %d changed on disk", i)
			}
		}
		out = append(out, num)
	}
	return out, nil
}

// Find returns the entry numbers of the records of algorithm a whose
// digest is digest, confirmed against the whole key (one disk read per
// candidate; none for an absent digest), without reading their metadata.
func (s *Set) Find(a Algorithm, digest []byte) ([]uint32, error) {
	i := indexOf(a)
	if i < 0 {
		return nil, fmt.Errorf("unknown algorithm %q", a)
	}
	if len(digest) != a.Size() {
		return nil, fmt.Errorf("%s digest of %d bytes, want %d", a, len(digest), a.Size())
	}
	return s.tables[i].find(digest, s.nEntries)
}

// Contains reports how many records of algorithm a may hold digest,
// from the memory-resident index alone (no disk read): 0 means the
// digest is certainly absent; a positive count is confirmed by Lookup.
// This is what a deposit's matching costs for a digest the set does not
// list, the usual case.
func (s *Set) Contains(a Algorithm, digest []byte) (int, error) {
	i := indexOf(a)
	if i < 0 {
		return 0, fmt.Errorf("unknown algorithm %q", a)
	}
	if len(digest) != a.Size() {
		return 0, fmt.Errorf("%s digest of %d bytes, want %d", a, len(digest), a.Size())
	}
	lo, hi := s.tables[i].candidates(digest)
	return int(hi - lo), nil
}

func (t *table) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return corrupt(tableName(t.a), "truncated")
	}
	return err
}

// Entry returns entry n's metadata (without digests), with the set's
// default category where the source gave none.
func (s *Set) Entry(n uint32) (Entry, error) {
	if uint64(n) >= s.nEntries {
		return Entry{}, fmt.Errorf("entry %d of %d", n, s.nEntries)
	}
	var ob [16]byte
	if _, err := s.offsets.ReadAt(ob[:], headerSize+8*int64(n)); err != nil {
		return Entry{}, corrupt(offsetsName, "%v", err)
	}
	start, end := binary.LittleEndian.Uint64(ob[:]), binary.LittleEndian.Uint64(ob[8:])
	if start < headerSize || end < start || end > uint64(s.entEnd) || end-start > maxRecord {
		return Entry{}, corrupt(offsetsName, "entry %d at [%d, %d)", n, start, end)
	}
	b := make([]byte, end-start)
	if _, err := s.entries.ReadAt(b, int64(start)); err != nil {
		return Entry{}, corrupt(entriesName, "entry %d: %v", n, err)
	}
	e, err := decodeEntry(b)
	if err != nil {
		return Entry{}, corrupt(entriesName, "entry %d: %v", n, err)
	}
	if e.Category == "" {
		e.Category = s.m.DefaultCategory
	}
	return e, nil
}

// PDQ calls fn with every PDQ hash of the set and its entry number, in
// entry order, until fn returns an error.
func (s *Set) PDQ(fn func(entry uint32, pdq [32]byte) error) error {
	r := io.NewSectionReader(s.pdq, headerSize, pdqRecord*int64(s.m.Counts.PDQ))
	buf := make([]byte, pdqRecord*1024)
	for {
		n, err := io.ReadFull(r, buf)
		if n%pdqRecord != 0 {
			return corrupt(pdqName, "truncated")
		}
		for i := 0; i < n; i += pdqRecord {
			num := binary.LittleEndian.Uint32(buf[i:])
			if uint64(num) >= s.nEntries {
				return corrupt(pdqName, "entry number %d of %d", num, s.nEntries)
			}
			var h [32]byte
			copy(h[:], buf[i+4:i+pdqRecord])
			if err := fn(num, h); err != nil {
				return err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Verify re-hashes the set's files and compares them with the manifest
// and its table digest; an edited, truncated, grown or replaced file is
// reported with ErrCorrupt. Each file is read to at most one byte past
// its manifest's size (a file grown to terabytes, sparse, costs nothing
// to grow), and the reading stops when ctx ends (its error).
func (s *Set) Verify(ctx context.Context) error {
	files := map[string]*os.File{entriesName: s.entries.f, offsetsName: s.offsets.f, pdqName: s.pdq.f}
	for _, t := range s.tables {
		files[tableName(t.a)] = t.f.f
	}
	var sums []FileSum
	for _, want := range s.m.Files {
		// The open files, not the paths: the set may have been replaced
		// on disk since it was opened.
		got, err := hashReader(want.Name, ctxio.NewReader(ctx, io.NewSectionReader(files[want.Name], 0, want.Size+1)))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if got != want {
			return corrupt(want.Name, "SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", got.SHA256, got.Size, want.SHA256, want.Size)
		}
		sums = append(sums, got)
	}
	if d := tableDigest(sums); d != s.m.TableSHA256 {
		return corrupt(manifestName, "table digest %s, the manifest says %s", d, s.m.TableSHA256)
	}
	return nil
}

// Overlap counts the distinct digests of algorithm alg that both sets
// list: a merge of their resident indexes (in memory, in table order),
// each candidate confirmed against its whole key on disk. It is what
// tells an importer that a set of known-good files and one of known
// material list the same files.
func Overlap(a, b *Set, alg Algorithm) (uint64, error) {
	k := indexOf(alg)
	if k < 0 {
		return 0, fmt.Errorf("unknown algorithm %q", alg)
	}
	ta, tb := a.tables[k], b.tables[k]
	na, nb := int64(len(ta.resident)/residentRecord), int64(len(tb.resident)/residentRecord)
	prefixOf := func(t *table, i int64) []byte { return t.resident[i*residentRecord : i*residentRecord+residentKey] }
	var n uint64
	var last []byte
	key := make([]byte, ta.ks)
	for i, j := int64(0), int64(0); i < na && j < nb; {
		switch c := bytes.Compare(prefixOf(ta, i), prefixOf(tb, j)); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			if ta.ks > residentKey {
				if _, err := ta.f.ReadAt(key, headerSize+i*int64(ta.ks+4)); err != nil {
					return 0, ta.readErr(err)
				}
			} else {
				copy(key, prefixOf(ta, i))
			}
			if !bytes.Equal(key, last) {
				found, err := tb.find(key, b.nEntries)
				if err != nil {
					return 0, err
				}
				if len(found) > 0 {
					n++
				}
				last = append(last[:0], key...)
			}
			i++
		}
	}
	return n, nil
}
