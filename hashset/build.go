package hashset

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/readfull"
)

// BuildOptions tune an import.
type BuildOptions struct {
	// DefaultCategory is reported for entries whose source gives none.
	DefaultCategory string
	// KnownGood marks a set of known-good files (NSRL): a match means the
	// file is not of interest.
	KnownGood bool
	// Progress, if set, is called with the number of entries read so
	// far, every 65,536 entries and once at the end.
	Progress func(entries int)
	// Now stamps the manifest; time.Now if nil.
	Now func() time.Time
	// BeforeCommit, if set, is called with the summary once the new set
	// is built and durable, before it replaces the old one: an error
	// abandons the new set (the old one stays) and Build returns it. A
	// custody log records the import here, before the set is used.
	BeforeCommit func(*Summary) error
	// CategoryOf, if set, says what an entry's category (Entry.Category,
	// as its source gives it, "" for none) means: the build counts the
	// entries by its answers in Summary.Categories.
	CategoryOf func(named string) string
	// Stage, if set, keeps the built set staged beside the sets, in the
	// folder StagedDir(root, Stage), instead of replacing root/name: a
	// later Commit puts it in place, Discard removes it. Stage is a
	// ValidName (a vault uses the request that asks for the import).
	Stage string
}

// stagedPrefix begins the names of staged sets' folders (BuildOptions.Stage).
const stagedPrefix = ".staged-"

// StagedDir is the folder of the set staged under stage in root.
func StagedDir(root, stage string) string { return filepath.Join(root, stagedPrefix+stage) }

// Staged lists the stages of the sets staged in root, sorted.
func Staged(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), stagedPrefix); ok && e.IsDir() && ValidName(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Commit puts the set staged under stage in place as root/name, replacing
// any set there as Build does; the staged set's manifest must name name.
func Commit(root, stage, name string) error {
	if !ValidName(stage) || !ValidName(name) {
		return fmt.Errorf("invalid stage %q or hash set name %q", stage, name)
	}
	return replaceDir(root, StagedDir(root, stage), name)
}

// Discard removes the set staged under stage (none: nothing to do).
func Discard(root, stage string) error {
	if !ValidName(stage) {
		return fmt.Errorf("invalid stage %q", stage)
	}
	if err := os.RemoveAll(StagedDir(root, stage)); err != nil {
		return err
	}
	return durable.SyncDir(root)
}

// Summary reports an import.
type Summary struct {
	Name         string
	Format       string
	SourceSHA256 string // hex, of the bytes read from the source
	Lines        int
	Entries      int
	Rejected     int
	// CaseMediaWithoutCategory is ParseStats.CaseMediaWithoutCategory.
	CaseMediaWithoutCategory int
	Problems                 []Problem // the first MaxProblems
	Counts                   Counts
	// Categories counts the entries by what BuildOptions.CategoryOf says
	// their category means (nil without it).
	Categories map[string]int
	// TableSHA256 is the digest over the built files (docs/hashsets.md),
	// to be recorded in the custody log; Set.Verify recomputes it.
	TableSHA256 string
	Elapsed     time.Duration
}

// Build parses src in the given format and builds the set root/name. It
// builds in a temporary folder under root, fsyncs every file, then
// replaces root/name in one rename, so that readers and a crash see
// either the previous set or the new one, never a part. On error the
// previous set is left as it was.
func Build(root, name string, src io.Reader, format string, opts BuildOptions) (*Summary, error) {
	start := time.Now()
	if !ValidName(name) {
		return nil, fmt.Errorf("invalid hash set name %q", name)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(root, ".tmp-"+name+"-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	b, err := newBuilder(tmp)
	if err != nil {
		return nil, err
	}
	defer b.abort()
	h := sha256.New()
	// Sticky: the formats' readers peek (a byte-order mark, a
	// delimiter), and a source cut short must fail them, never end them.
	tee := io.TeeReader(readfull.Sticky(src), h)
	var categories map[string]int
	if opts.CategoryOf != nil {
		categories = map[string]int{}
	}
	st, err := Parse(tee, format, func(e Entry) error {
		if err := b.add(&e); err != nil {
			return err
		}
		if categories != nil {
			categories[opts.CategoryOf(e.Category)]++
		}
		if opts.Progress != nil && b.n%65536 == 0 {
			opts.Progress(int(b.n))
		}
		return nil
	})
	if err == nil {
		// The source's digest covers all of it, even after the end of
		// the data (white space after a JSON document).
		_, err = io.Copy(io.Discard, tee)
	}
	if err != nil {
		if errors.Is(err, ErrNoEntries) && st.Rejected > 0 {
			err = fmt.Errorf("%w (%d rejected, first: %v)", err, st.Rejected, st.Problems[0])
		}
		return nil, fmt.Errorf("import of %s: %w", name, err)
	}
	if opts.Progress != nil {
		opts.Progress(int(b.n))
	}
	counts, err := b.finish()
	if err != nil {
		return nil, err
	}
	m := Manifest{Version: formatVersion, Name: name, Format: format,
		DefaultCategory: opts.DefaultCategory, KnownGood: opts.KnownGood,
		SourceSHA256: hex.EncodeToString(h.Sum(nil)), Entries: b.n,
		Rejected: st.Rejected, Counts: counts}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m.Imported = now().UTC().Format(time.RFC3339)
	for _, f := range dataFiles {
		fs, err := hashFile(filepath.Join(tmp, f))
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, fs)
	}
	m.TableSHA256 = tableDigest(m.Files)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeSynced(filepath.Join(tmp, manifestName), append(mb, '\n')); err != nil {
		return nil, err
	}
	if err := durable.SyncDir(tmp); err != nil {
		return nil, err
	}
	sum := &Summary{Name: name, Format: format, SourceSHA256: m.SourceSHA256,
		Lines: st.Lines, Entries: int(b.n), Rejected: st.Rejected, Problems: st.Problems,
		Counts: counts, TableSHA256: m.TableSHA256, CaseMediaWithoutCategory: st.CaseMediaWithoutCategory, Categories: categories}
	if opts.BeforeCommit != nil {
		if err := opts.BeforeCommit(sum); err != nil {
			return nil, err
		}
	}
	if opts.Stage != "" {
		if !ValidName(opts.Stage) {
			return nil, fmt.Errorf("invalid stage %q", opts.Stage)
		}
		if err := os.Rename(tmp, StagedDir(root, opts.Stage)); err != nil {
			return nil, err
		}
		if err := durable.SyncDir(root); err != nil {
			return nil, err
		}
	} else if err := replaceDir(root, tmp, name); err != nil {
		return nil, err
	}
	ok = true
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// replaceDir renames tmp to root/name, replacing any set there: by an
// atomic exchange where the file system offers one, otherwise by moving
// the old set aside first (Open's cleanup restores it after a crash
// between the two renames).
func replaceDir(root, tmp, name string) error {
	dst := filepath.Join(root, name)
	err := os.Rename(tmp, dst)
	if err != nil {
		if _, serr := os.Stat(dst); serr != nil {
			return err
		}
		if err = exchange(tmp, dst); err != nil {
			old := filepath.Join(root, ".old-"+name+"-"+randomSuffix())
			if err := os.Rename(dst, old); err != nil {
				return err
			}
			if err := os.Rename(tmp, dst); err != nil {
				os.Rename(old, dst)
				return err
			}
			tmp = old
		}
		// tmp now holds the previous set.
		if err := durable.SyncDir(root); err != nil {
			return err
		}
		return os.RemoveAll(tmp)
	}
	return durable.SyncDir(root)
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// outFile is a buffered file being written.
type outFile struct {
	f  *os.File
	bw *bufio.Writer
}

func createOut(path string) (*outFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &outFile{f: f, bw: bufio.NewWriterSize(f, 1<<20)}, nil
}

// close flushes, writes the header at offset 0, fsyncs and closes.
func (o *outFile) close(h header) error {
	err := o.bw.Flush()
	if err == nil {
		_, err = o.f.WriteAt(h.bytes(), 0)
	}
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// builder writes a set's files while the source is parsed. Keys are
// spilled into one file per algorithm in chunks tagged by their first
// byte (256 buckets); finish sorts one bucket at a time, so memory is
// bounded by the largest bucket, not by the set.
type builder struct {
	dir     string
	entries *outFile
	offsets *outFile
	pdq     *outFile
	spills  [3]*spill
	n       uint64 // entries so far
	off     uint64 // end of entries.dat
	npdq    uint64
	rec     []byte
}

type spill struct {
	a      Algorithm
	f      *os.File
	off    int64
	bufs   [256][]byte
	chunks [256][]chunk
	count  uint64
}

type chunk struct{ off, n int64 }

const spillChunk = 32 << 10

func newBuilder(dir string) (*builder, error) {
	b := &builder{dir: dir, off: headerSize}
	var err error
	pad := make([]byte, headerSize)
	for _, p := range []struct {
		o    **outFile
		name string
	}{{&b.entries, entriesName}, {&b.offsets, offsetsName}, {&b.pdq, pdqName}} {
		if *p.o, err = createOut(filepath.Join(dir, p.name)); err != nil {
			return nil, err
		}
		(*p.o).bw.Write(pad)
	}
	for i, a := range Algorithms {
		f, err := os.CreateTemp(dir, ".spill-"+string(a)+"-")
		if err != nil {
			return nil, err
		}
		b.spills[i] = &spill{a: a, f: f}
	}
	return b, nil
}

func (b *builder) abort() {
	for _, o := range []*outFile{b.entries, b.offsets, b.pdq} {
		if o != nil {
			o.f.Close()
		}
	}
	for _, s := range b.spills {
		if s != nil {
			s.f.Close()
		}
	}
}

func (b *builder) add(e *Entry) error {
	if b.n >= maxEntries {
		return fmt.Errorf("more than %d entries", uint64(maxEntries))
	}
	num := uint32(b.n)
	var o [8]byte
	binary.LittleEndian.PutUint64(o[:], b.off)
	b.offsets.bw.Write(o[:])
	b.rec = appendEntry(b.rec[:0], e)
	if _, err := b.entries.bw.Write(b.rec); err != nil {
		return err
	}
	b.off += uint64(len(b.rec))
	for _, s := range b.spills {
		if d := e.digest(s.a); d != nil {
			if err := s.add(d, num); err != nil {
				return err
			}
		}
	}
	if len(e.PDQ) == 32 {
		var r [pdqRecord]byte
		binary.LittleEndian.PutUint32(r[:], num)
		copy(r[4:], e.PDQ)
		if _, err := b.pdq.bw.Write(r[:]); err != nil {
			return err
		}
		b.npdq++
	}
	b.n++
	return nil
}

func (s *spill) add(key []byte, num uint32) error {
	k := key[0]
	if s.bufs[k] == nil {
		s.bufs[k] = make([]byte, 0, spillChunk)
	}
	s.bufs[k] = binary.LittleEndian.AppendUint32(append(s.bufs[k], key...), num)
	s.count++
	if len(s.bufs[k])+len(key)+4 > spillChunk {
		return s.flush(k)
	}
	return nil
}

func (s *spill) flush(k byte) error {
	if len(s.bufs[k]) == 0 {
		return nil
	}
	if _, err := s.f.WriteAt(s.bufs[k], s.off); err != nil {
		return err
	}
	s.chunks[k] = append(s.chunks[k], chunk{s.off, int64(len(s.bufs[k]))})
	s.off += int64(len(s.bufs[k]))
	s.bufs[k] = s.bufs[k][:0]
	return nil
}

// finish completes every file and removes the spill files.
func (b *builder) finish() (Counts, error) {
	var c Counts
	var o [8]byte
	binary.LittleEndian.PutUint64(o[:], b.off)
	b.offsets.bw.Write(o[:])
	if err := b.entries.close(header{kind: kinds[entriesName], count: b.n}); err != nil {
		return c, err
	}
	if err := b.offsets.close(header{kind: kinds[offsetsName], count: b.n}); err != nil {
		return c, err
	}
	if err := b.pdq.close(header{kind: kinds[pdqName], count: b.npdq}); err != nil {
		return c, err
	}
	c.PDQ = b.npdq
	for i, s := range b.spills {
		if err := s.writeTable(filepath.Join(b.dir, tableName(s.a))); err != nil {
			return c, err
		}
		switch s.a {
		case MD5:
			c.MD5 = s.count
		case SHA1:
			c.SHA1 = s.count
		case SHA256:
			c.SHA256 = s.count
		}
		s.f.Close()
		os.Remove(s.f.Name())
		b.spills[i] = nil
	}
	return c, nil
}

// writeTable sorts the spilled records bucket by bucket and writes the
// table: header, records, fan-out.
func (s *spill) writeTable(path string) error {
	ks := s.a.Size()
	rs := ks + 4
	bits := fanoutBits(s.count)
	fan := make([]uint32, 1<<bits+1)
	out, err := createOut(path)
	if err != nil {
		return err
	}
	defer out.f.Close()
	out.bw.Write(make([]byte, headerSize))
	var buf []byte
	type ref struct {
		p uint64
		i uint32
	}
	var refs []ref
	for k := range 256 {
		buf = buf[:0]
		for _, c := range s.chunks[k] {
			buf = slices.Grow(buf, int(c.n))
			if _, err := s.f.ReadAt(buf[len(buf):len(buf)+int(c.n)], c.off); err != nil {
				return err
			}
			buf = buf[:len(buf)+int(c.n)]
		}
		buf = append(buf, s.bufs[k]...)
		s.bufs[k] = nil
		m := len(buf) / rs
		refs = refs[:0]
		for i := range m {
			var p [8]byte
			copy(p[:], buf[i*rs:])
			refs = append(refs, ref{binary.BigEndian.Uint64(p[:]), uint32(i)})
		}
		slices.SortFunc(refs, func(x, y ref) int {
			if x.p != y.p {
				if x.p < y.p {
					return -1
				}
				return 1
			}
			a, b := buf[int(x.i)*rs:int(x.i+1)*rs], buf[int(y.i)*rs:int(y.i+1)*rs]
			if c := bytes.Compare(a[:ks], b[:ks]); c != 0 {
				return c
			}
			return int(binary.LittleEndian.Uint32(a[ks:])) - int(binary.LittleEndian.Uint32(b[ks:]))
		})
		for _, r := range refs {
			rec := buf[int(r.i)*rs : int(r.i+1)*rs]
			fan[(r.p>>(64-bits))+1]++
			if _, err := out.bw.Write(rec); err != nil {
				return err
			}
		}
	}
	for i := 1; i < len(fan); i++ {
		fan[i] += fan[i-1]
	}
	fb := make([]byte, 4*len(fan))
	for i, v := range fan {
		binary.LittleEndian.PutUint32(fb[4*i:], v)
	}
	out.bw.Write(fb)
	return out.close(header{kind: kinds[tableName(s.a)], count: s.count, keySize: uint32(ks), bits: bits})
}
