package hashset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "hashset", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sumLines returns n sha256sum lines with keys sha256(prefix, i).
func sumLines(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%x  file-%d.jpg\n", genKey(prefix, i), i)
	}
	return b.Bytes()
}

func genKey(prefix string, i int) []byte {
	h := sha256.Sum256([]byte(fmt.Sprint(prefix, i)))
	return h[:]
}

func TestBuildEveryFormatAndLookup(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct{ file, format string }{
		{"vics-2.0.json", "vics"}, {"vics-1.3.json", "vics"}, {"caid.json", "caid"}, {"icse.csv", "icse"},
		{"nsrl.txt", "nsrl"}, {"md5sum.txt", "md5sum"}, {"sha1sum.txt", "sha1sum"}, {"sha256sum.txt", "sha256sum"},
	} {
		t.Run(c.file, func(t *testing.T) {
			src := fixture(t, c.file)
			var want []Entry
			if _, err := Parse(bytes.NewReader(src), c.format, func(e Entry) error { want = append(want, e); return nil }); err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(strings.ReplaceAll(c.file, ".json", ""), filepath.Ext(c.file))
			sum, err := Build(root, name, bytes.NewReader(src), c.format, BuildOptions{DefaultCategory: "default"})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Entries != len(want) || sum.SourceSHA256 != fmt.Sprintf("%x", sha256.Sum256(src)) || len(sum.TableSHA256) != 64 {
				t.Fatalf("summary %+v", sum)
			}
			s, err := Open(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Verify(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				for _, a := range Algorithms {
					d := w.digest(a)
					if d == nil {
						continue
					}
					ms, err := s.Lookup(a, d)
					if err != nil {
						t.Fatal(err)
					}
					if len(ms) != 1 || ms[0].Number != uint32(i) || ms[0].Set != name || ms[0].Algorithm != a {
						t.Fatalf("entry %d by %s: %+v", i, a, ms)
					}
					got := ms[0].Entry
					if w.Category == "" {
						w.Category = "default"
					}
					if got.Category != w.Category || got.Series != w.Series || got.FileName != w.FileName ||
						got.Size != w.Size || got.ID != w.ID || got.PhotoDNA != w.PhotoDNA ||
						!bytes.Equal(got.PDQ, w.PDQ) || !bytes.Equal(got.digest(a), d) ||
						(got.VictimIdentified == nil) != (w.VictimIdentified == nil) ||
						got.VictimIdentified != nil && *got.VictimIdentified != *w.VictimIdentified {
						t.Fatalf("entry %d by %s:\n got %+v\nwant %+v", i, a, got, w)
					}
					// Absent: the same digest with its last bit flipped.
					absent := bytes.Clone(d)
					absent[len(absent)-1] ^= 1
					if ms, err := s.Lookup(a, absent); err != nil || len(ms) != 0 {
						t.Fatalf("absent %s: %v %v", a, ms, err)
					}
				}
			}
		})
	}
}

func TestLookupManyAndDuplicates(t *testing.T) {
	root := t.TempDir()
	const n = 20000
	src := sumLines("k", n)
	// A duplicate of entry 7 at the end.
	src = append(src, fmt.Sprintf("%x  again.jpg\n", genKey("k", 7))...)
	if _, err := Build(root, "many", bytes.NewReader(src), "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "many"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < n; i += 7 {
		ms, err := s.Lookup(SHA256, genKey("k", i))
		if err != nil || len(ms) < 1 || ms[0].Number != uint32(i) || ms[0].Entry.FileName != fmt.Sprintf("file-%d.jpg", i) {
			t.Fatalf("key %d: %+v %v", i, ms, err)
		}
		if ms, err := s.Lookup(SHA256, genKey("absent", i)); err != nil || len(ms) != 0 {
			t.Fatalf("absent %d: %v %v", i, ms, err)
		}
	}
	ms, _ := s.Lookup(SHA256, genKey("k", 7))
	if len(ms) != 2 || ms[1].Number != n || ms[1].Entry.FileName != "again.jpg" {
		t.Fatalf("duplicate: %+v", ms)
	}
	if _, err := s.Lookup(MD5, genKey("k", 1)); err == nil {
		t.Fatal("a 32-byte MD5 was accepted")
	}
	if ms, err := s.Lookup(MD5, genKey("k", 1)[:16]); err != nil || len(ms) != 0 {
		t.Fatal("MD5 in a set without MD5", ms, err)
	}
}

// A fan-out slot holding many records (keys sharing their first bytes)
// is narrowed by single reads before the final window.
func TestLookupSkewedKeys(t *testing.T) {
	root := t.TempDir()
	var src bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&src, "00000000%056x\n", i*3)
	}
	if _, err := Build(root, "skewed", &src, "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "skewed"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 15000 {
		ms, err := s.Lookup(SHA256, unhex(fmt.Sprintf("00000000%056x", i)))
		if err != nil || len(ms) != map[bool]int{true: 1, false: 0}[i%3 == 0] {
			t.Fatalf("key %d: %v %v", i, ms, err)
		}
	}
}

func TestPDQ(t *testing.T) {
	root := t.TempDir()
	if _, err := Build(root, "v", bytes.NewReader(fixture(t, "vics-2.0.json")), "vics", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "v"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	err = s.PDQ(func(n uint32, h [32]byte) error { got = append(got, fmt.Sprintf("%d %x", n, h)); return nil })
	if err != nil || len(got) != 1 || got[0] != "0 f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22" {
		t.Fatal(got, err)
	}
}

func TestReplaceAndFailedImports(t *testing.T) {
	root := t.TempDir()
	if _, err := Build(root, "set", bytes.NewReader(sumLines("first", 100)), "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, filepath.Join(root, "set"))

	// A fatal source, and a reader that fails half-way: the set is
	// unchanged and no temporary folder is left.
	if _, err := Build(root, "set", strings.NewReader(`{"value": [`), "vics", BuildOptions{}); err == nil {
		t.Fatal("broken JSON imported")
	}
	broken := io.MultiReader(bytes.NewReader(sumLines("second", 50)), errReader{})
	if _, err := Build(root, "set", broken, "sha256sum", BuildOptions{}); err == nil {
		t.Fatal("failing reader imported")
	}
	if got := snapshot(t, filepath.Join(root, "set")); got != first {
		t.Fatal("a failed import changed the set")
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}

	// A replacement.
	if _, err := Build(root, "set", bytes.NewReader(sumLines("second", 10)), "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "set"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Manifest().Entries != 10 {
		t.Fatalf("%d entries", s.Manifest().Entries)
	}
	if ms, _ := s.Lookup(SHA256, genKey("first", 1)); len(ms) != 0 {
		t.Fatal("the replaced set still matches")
	}
	if ms, _ := s.Lookup(SHA256, genKey("second", 1)); len(ms) != 1 {
		t.Fatal("the new set does not match")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func snapshot(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(h, "%s %x\n", e.Name(), sha256.Sum256(b))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestCorruptFiles(t *testing.T) {
	root := t.TempDir()
	src := sumLines("c", 3000)
	for _, c := range []struct {
		file   string
		damage func(path string)
	}{
		{"sha256.tab", func(p string) { os.Truncate(p, 1000) }},
		{"sha256.tab", func(p string) { flip(p, 8) }}, // the magic
		{"offsets.dat", func(p string) { os.Truncate(p, 10) }},
		{"entries.dat", func(p string) { appendTo(p, "x") }},
		{"manifest.json", func(p string) { os.WriteFile(p, []byte("{"), 0o600) }},
		{"pdq.dat", func(p string) { os.Remove(p) }},
	} {
		t.Run(c.file, func(t *testing.T) {
			if _, err := Build(root, "c", bytes.NewReader(src), "sha256sum", BuildOptions{}); err != nil {
				t.Fatal(err)
			}
			c.damage(filepath.Join(root, "c", c.file))
			s, err := Open(filepath.Join(root, "c"))
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			t.Log(err)
		})
	}
}

// A flipped byte anywhere in a set's data files is refused by Open,
// which hashes every file against the manifest before answering from it.
func TestOpenRefusesFlippedByte(t *testing.T) {
	root := t.TempDir()
	src := sumLines("v", 3000)
	for _, file := range []string{"sha256.tab", "entries.dat", "offsets.dat", "pdq.dat", "md5.tab"} {
		t.Run(file, func(t *testing.T) {
			if _, err := Build(root, "v", bytes.NewReader(src), "sha256sum", BuildOptions{}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(root, "v", file)
			fi, _ := os.Stat(p)
			flip(p, fi.Size()-1)
			s, err := Open(filepath.Join(root, "v"))
			if !errors.Is(err, ErrCorrupt) {
				if err == nil {
					s.Close()
				}
				t.Fatalf("Open of a set with a byte of %s flipped: %v", file, err)
			}
		})
	}
}

// TestEditAfterOpenIsRefusedOnRead: bytes edited in place after the set
// was opened (and checked) are never answered from: a lookup touching
// them fails with ErrCorrupt, whether the edit relabels an entry, moves
// an offset or changes a key's last bytes (which the resident index does
// not hold), and the PDQ list likewise. Put back, the same bytes are
// answered from again.
func TestEditAfterOpenIsRefusedOnRead(t *testing.T) {
	root := t.TempDir()
	build := func() *Set {
		t.Helper()
		os.RemoveAll(filepath.Join(root, "e"))
		if _, err := Build(root, "e", bytes.NewReader(sumLines("e", 3000)), "sha256sum", BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		s, err := Open(filepath.Join(root, "e"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	key := genKey("e", 1234)
	for _, c := range []struct {
		name, file string
		at         func(s *Set) int64
	}{
		{"an entry's text", "entries.dat", func(s *Set) int64 {
			var ob [8]byte
			s.offsets.f.ReadAt(ob[:], headerSize+8*1234)
			return int64(binary.LittleEndian.Uint64(ob[:])) + 2
		}},
		{"an offset", "offsets.dat", func(*Set) int64 { return headerSize + 8*1234 }},
		{"a key's last byte", "sha256.tab", func(s *Set) int64 {
			lo, _ := s.tables[indexOf(SHA256)].candidates(key)
			return headerSize + lo*36 + 31
		}},
		{"a key's entry number", "sha256.tab", func(s *Set) int64 {
			lo, _ := s.tables[indexOf(SHA256)].candidates(key)
			return headerSize + lo*36 + 32
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := build()
			before, err := s.Lookup(SHA256, key)
			if err != nil || len(before) != 1 {
				t.Fatalf("precondition: %+v, %v", before, err)
			}
			p := filepath.Join(root, "e", c.file)
			off := c.at(s)
			flip(p, off)
			if ms, err := s.Lookup(SHA256, key); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("a lookup after %s was edited in place answered %+v, %v", c.name, ms, err)
			}
			flip(p, off)
			if after, err := s.Lookup(SHA256, key); err != nil || !reflect.DeepEqual(after, before) {
				t.Fatalf("put back: %+v, %v", after, err)
			}
		})
	}
	t.Run("the PDQ list", func(t *testing.T) {
		os.RemoveAll(filepath.Join(root, "p"))
		if _, err := Build(root, "p", bytes.NewReader(fixture(t, "vics-2.0.json")), "vics", BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		s, err := Open(filepath.Join(root, "p"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		flip(filepath.Join(root, "p", "pdq.dat"), headerSize+5)
		if err := s.PDQ(func(uint32, [32]byte) error { return nil }); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("PDQ after pdq.dat was edited in place: %v", err)
		}
	})
}

func flip(p string, off int64) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x40
	f.WriteAt(b, off)
}

func appendTo(p, s string) {
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(s)
	f.Close()
}

func TestNames(t *testing.T) {
	for _, n := range []string{"nsrl", "projectvic-2026.11", "a_b", "0"} {
		if !ValidName(n) {
			t.Errorf("%q refused", n)
		}
	}
	for _, n := range []string{"", ".", "..", "a/b", "../x", ".hidden", "A", "a..b", "a b", strings.Repeat("a", 65), "-x"} {
		if ValidName(n) {
			t.Errorf("%q accepted", n)
		}
		if _, err := Build(t.TempDir(), n, strings.NewReader(""), "md5sum", BuildOptions{}); err == nil {
			t.Errorf("Build accepted %q", n)
		}
	}
}

func TestCatalog(t *testing.T) {
	root := t.TempDir()
	c, err := OpenAll(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import("nsrl", bytes.NewReader(fixture(t, "nsrl.txt")), "nsrl", BuildOptions{KnownGood: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import("vic", bytes.NewReader(fixture(t, "vics-2.0.json")), "vics", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// Leftovers of interrupted imports: a temporary folder, and a set
	// moved aside whose replacement never arrived.
	os.MkdirAll(filepath.Join(root, ".tmp-vic-123", "x"), 0o700)
	os.Rename(filepath.Join(root, "nsrl"), filepath.Join(root, ".old-nsrl-abc"))
	c, err = OpenAll(root)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ents, _ := os.ReadDir(root); len(ents) != 2 {
		t.Fatalf("root holds %v", ents)
	}
	if l := c.List(); len(l) != 2 || l[0].Name != "nsrl" || !l[0].KnownGood || l[1].Name != "vic" || l[1].Counts.PDQ != 1 {
		t.Fatalf("list %+v", l)
	}
	ms, err := c.Match(unhex("0e53c14a3e48d94ff596a2824307b492"), unhex("0000004da6391f7f5d2f7fccf36cebda60c6ea02"), nil)
	if err != nil || len(ms) != 2 || ms[0].Algorithm != MD5 || ms[1].Algorithm != SHA1 || !ms[0].KnownGood || ms[0].Set != "nsrl" {
		t.Fatalf("%+v %v", ms, err)
	}
	ms, err = c.Match(unhex("0123456789abcdef0123456789abcdef"), nil, nil)
	if err != nil || len(ms) != 1 || ms[0].Set != "vic" || ms[0].Entry.Category != "1" || ms[0].KnownGood {
		t.Fatalf("%+v %v", ms, err)
	}
	if err := c.Remove("nsrl"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.Match(unhex("0e53c14a3e48d94ff596a2824307b492"), nil, nil); len(ms) != 0 {
		t.Fatal("removed set matches")
	}
	if _, err := os.Stat(filepath.Join(root, "nsrl")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("removed set on disk")
	}
	if err := c.Remove("../x"); err == nil {
		t.Fatal("removed ../x")
	}
}

// Lookups run while the set is replaced, over and over: each sees the
// old set or the new one, never an error.
func TestCatalogConcurrentReplace(t *testing.T) {
	root := t.TempDir()
	c, err := OpenAll(root)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, b := sumLines("a", 2000), sumLines("b", 2000)
	if _, err := c.Import("s", bytes.NewReader(a), "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ka, kb := genKey("a", i%2000), genKey("b", i%2000)
				ma, err := c.Match(nil, nil, ka)
				if err != nil {
					errs <- err
					return
				}
				mb, err := c.Match(nil, nil, kb)
				if err != nil {
					errs <- err
					return
				}
				if len(ma)+len(mb) > 2 {
					errs <- fmt.Errorf("matches %v %v", ma, mb)
					return
				}
			}
		})
	}
	for i := range 6 {
		src := a
		if i%2 == 0 {
			src = b
		}
		if _, err := c.Import("s", bytes.NewReader(src), "sha256sum", BuildOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if ms, _ := c.Match(nil, nil, genKey("a", 5)); len(ms) != 1 {
		t.Fatal("final set is not a")
	}
}

// TestResidentIndexConfirmsOnDisk: a digest sharing a listed digest's
// first 128 bits (the resident index's) is not a match: the whole key on
// disk decides. Contains counts it as a candidate, from memory alone.
func TestResidentIndexConfirmsOnDisk(t *testing.T) {
	root := t.TempDir()
	if _, err := Build(root, "p", bytes.NewReader(sumLines("p", 100)), "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "p"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	listed := genKey("p", 7)
	forged := append([]byte(nil), listed...)
	forged[31] ^= 1
	if n, err := s.Contains(SHA256, forged); err != nil || n != 1 {
		t.Fatalf("Contains(forged) = %d, %v; want one candidate", n, err)
	}
	if ms, err := s.Lookup(SHA256, forged); err != nil || len(ms) != 0 {
		t.Fatalf("Lookup(forged) = %+v, %v; want no match", ms, err)
	}
	if ms, err := s.Lookup(SHA256, listed); err != nil || len(ms) != 1 || ms[0].Number != 7 {
		t.Fatalf("Lookup(listed) = %+v, %v", ms, err)
	}
	absent := genKey("q", 1)
	if n, _ := s.Contains(SHA256, absent); n != 0 {
		t.Fatalf("Contains(absent) = %d", n)
	}
}

// A staged build leaves the set of its name as it was until Commit puts
// it in place; Staged lists it meanwhile; Discard removes another; a
// cleanup of the root (a start) keeps staged sets.
func TestStagedBuildCommitAndDiscard(t *testing.T) {
	root := t.TempDir()
	if _, err := Build(root, "set", bytes.NewReader(sumLines("first", 100)), "sha256sum", BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, filepath.Join(root, "set"))
	for _, stage := range []string{"rq_1", "rq_2"} {
		if _, err := Build(root, "set", bytes.NewReader(sumLines(stage, 10)), "sha256sum", BuildOptions{Stage: stage}); err != nil {
			t.Fatal(err)
		}
	}
	if got := snapshot(t, filepath.Join(root, "set")); got != first {
		t.Fatal("a staged build changed the set in place")
	}
	if err := Clean(root); err != nil {
		t.Fatal(err)
	}
	if staged, err := Staged(root); err != nil || len(staged) != 2 || staged[0] != "rq_1" || staged[1] != "rq_2" {
		t.Fatalf("staged: %v, %v", staged, err)
	}
	if err := Discard(root, "rq_1"); err != nil {
		t.Fatal(err)
	}
	if err := Commit(root, "rq_2", "set"); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "set"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Manifest().Entries != 10 {
		t.Fatalf("the committed set has %d entries", s.Manifest().Entries)
	}
	if staged, _ := Staged(root); len(staged) != 0 {
		t.Fatalf("left staged: %v", staged)
	}
	if err := Discard(root, "../set"); err == nil {
		t.Fatal("a stage naming a path was taken")
	}
}

// TestOverlapCountsTheDigestsBothSetsList: two sets sharing some
// digests (one of them twice in a set) are found to share exactly those,
// either way round; sets sharing none, none; a digest sharing only its
// first 128 bits with another set's is not counted.
func TestOverlapCountsTheDigestsBothSetsList(t *testing.T) {
	root := t.TempDir()
	a := sumLines("a", 3000)
	b := append(sumLines("b", 2000), sumLines("a", 40)...) // a0..a39 in both
	b = append(b, fmt.Sprintf("%x  again.jpg\n", genKey("a", 7))...)
	near := genKey("a", 100)
	near = append(append([]byte{}, near[:16]...), bytes.Repeat([]byte{0xee}, 16)...)
	b = append(b, fmt.Sprintf("%x  near.jpg\n", near)...)
	sets := map[string]*Set{}
	for name, src := range map[string][]byte{"a": a, "b": b, "c": sumLines("c", 500)} {
		if _, err := Build(root, name, bytes.NewReader(src), "sha256sum", BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		s, err := Open(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sets[name] = s
	}
	for _, tc := range []struct {
		x, y string
		want uint64
	}{{"a", "b", 40}, {"b", "a", 40}, {"a", "c", 0}, {"c", "b", 0}} {
		if n, err := Overlap(sets[tc.x], sets[tc.y], SHA256); err != nil || n != tc.want {
			t.Errorf("sets %s and %s share %d SHA-256 digests (%v), want %d", tc.x, tc.y, n, err, tc.want)
		}
	}
}
