package pdq

import (
	"bufio"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vectors = "../testdata/pdq"

type vector struct {
	path string
	want Hash
}

// readVectors reads expected.tsv: an image path (relative to the vectors'
// folder) and its expected hash on each line.
func readVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open(filepath.Join(vectors, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		path, hex, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("expected.tsv: no tab in %q", line)
		}
		h, err := ParseHash(hex)
		if err != nil {
			t.Fatalf("expected.tsv: %s: %v", path, err)
		}
		vs = append(vs, vector{filepath.Join(vectors, path), h})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("expected.tsv has no vectors")
	}
	return vs
}

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestVectors hashes the reference's images through FromImage and
// through HashReader: each must be within distance 16 of the reference's
// hash.
func TestVectors(t *testing.T) {
	maxD := 0
	for _, v := range readVectors(t) {
		h, q := FromImage(decodeFile(t, v.path))
		d := Distance(h, v.want)
		t.Logf("%-50s distance %3d quality %3d", strings.TrimPrefix(v.path, vectors+"/images/"), d, q)
		if d > 16 {
			t.Errorf("%s: hash %v, want %v (distance %d > 16)", v.path, h, v.want, d)
		}
		maxD = max(maxD, d)
	}
	t.Logf("largest distance from the reference: %d", maxD)
}

// TestVectorsHashReader hashes the vectors' files through HashReader,
// which must agree with FromImage on images without EXIF orientation.
func TestVectorsHashReader(t *testing.T) {
	for _, v := range readVectors(t) {
		f, err := os.Open(v.path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := HashReader(f, DefaultLimits)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", v.path, err)
			continue
		}
		img := decodeFile(t, v.path)
		h, q := FromImage(img)
		if res.Hash != h || res.Quality != q || res.Orientation != 1 ||
			res.Width != img.Bounds().Dx() || res.Height != img.Bounds().Dy() {
			t.Errorf("%s: HashReader %+v, FromImage %v quality %d", v.path, res, h, q)
		}
		if want := strings.TrimPrefix(filepath.Ext(v.path), "."); want != res.Format && !(want == "jpg" && res.Format == "jpeg") {
			t.Errorf("%s: format %q", v.path, res.Format)
		}
	}
}

// dihFiles are the reference's eight dihedral images, in Dihedral's
// order.
var dihFiles = [8]string{
	"bridge-1-original.jpg", "bridge-2-rotate-90.jpg", "bridge-3-rotate-180.jpg", "bridge-4-rotate-270.jpg",
	"bridge-5-flipx.jpg", "bridge-6-flipy.jpg", "bridge-7-flip-plus-1.jpg", "bridge-8-flip-minus-1.jpg",
}

// TestDihedralVectors: the eight variants of each of the reference's
// dihedral images match all eight images, each through the variant that
// turns the one into the other.
func TestDihedralVectors(t *testing.T) {
	var plain [8]Hash
	var dih [8][8]Hash
	for i, name := range dihFiles {
		img := decodeFile(t, filepath.Join(vectors, "images/reg-test-input/dih", name))
		var q int
		dih[i], q = Dihedral(img)
		plain[i], _ = FromImage(img)
		if dih[i][Original] != plain[i] {
			t.Errorf("%s: Dihedral[Original] %v, FromImage %v", name, dih[i][Original], plain[i])
		}
		if q < MinQuality {
			t.Errorf("%s: quality %d", name, q)
		}
	}
	// From the original, variant v is image v.
	maxD := 0
	for v := range 8 {
		d := Distance(dih[0][v], plain[v])
		maxD = max(maxD, d)
		if d > DefaultMaxDistance {
			t.Errorf("original's variant %d to %s: distance %d", v, dihFiles[v], d)
		}
	}
	t.Logf("original's variants to the eight images: largest distance %d", maxD)
	// Every image matches every other through one of its variants.
	maxD = 0
	for i := range 8 {
		for j := range 8 {
			best := 256
			for v := range 8 {
				best = min(best, Distance(dih[i][v], plain[j]))
			}
			maxD = max(maxD, best)
			if best > DefaultMaxDistance {
				t.Errorf("%s to %s: nearest variant at distance %d", dihFiles[i], dihFiles[j], best)
			}
		}
	}
	t.Logf("any image's nearest variant to any other: largest distance %d", maxD)
}

// TestDihedralPixels: of the eight variants of a hash, variant v is the
// nearest to the hash of the image moved pixel by pixel by transform v,
// which fixes the meaning of each index. It is not equal to it: the
// reference's box filter of even width and its decimation both sit half
// a pixel off centre, so mirroring an axis moves the samples by up to two
// pixels of the shrunk image, which changes some bits (as in the
// reference, whose dihedral images are 16 to 18 bits from its variants).
// On the 256-pixel q1050, with two-pixel windows, that is half a cell of
// the 64x64 grid and 52 bits; on larger images it stays within the
// matching threshold.
func TestDihedralPixels(t *testing.T) {
	for _, c := range []struct {
		name  string
		match bool
	}{
		{"bridge-mods/aaa-orig.jpg", true},
		{"misc-images/c.png", true},
		{"reg-test-input/labelme-subset/q1050.jpg", false},
	} {
		img := decodeFile(t, filepath.Join(vectors, "images", c.name))
		hs, _ := Dihedral(img)
		maxD := 0
		for v := range 8 {
			h, _ := FromImage(transform(img, v))
			nearest := 0
			for u := range 8 {
				if Distance(hs[u], h) < Distance(hs[nearest], h) {
					nearest = u
				}
			}
			d := Distance(hs[v], h)
			maxD = max(maxD, d)
			if nearest != v {
				t.Errorf("%s: moved by %d, nearest to variant %d", c.name, v, nearest)
			}
			if c.match && d > DefaultMaxDistance {
				t.Errorf("%s: variant %d: distance %d to the moved pixels' hash", c.name, v, d)
			}
		}
		t.Logf("%s: variants to the moved pixels' hashes: largest distance %d", c.name, maxD)
	}
}

// TestBridgeMods: every edit of the bridge photo matches the original
// at the default threshold; the unrelated labelme images match neither
// it nor each other, even through a dihedral variant.
func TestBridgeMods(t *testing.T) {
	dir := filepath.Join(vectors, "images/bridge-mods")
	orig, q := FromImage(decodeFile(t, filepath.Join(dir, "aaa-orig.jpg")))
	if q < MinQuality {
		t.Fatalf("aaa-orig.jpg: quality %d", q)
	}
	var x Index
	x.Add(0, orig)
	mods, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(mods) < 12 {
		t.Fatalf("bridge-mods: %d files, %v", len(mods), err)
	}
	maxD := 0
	for _, p := range mods {
		h, _ := FromImage(decodeFile(t, p))
		d := Distance(h, orig)
		maxD = max(maxD, d)
		if d > DefaultMaxDistance {
			t.Errorf("%s: distance %d to aaa-orig.jpg", filepath.Base(p), d)
		}
		if ms := x.Search(h, DefaultMaxDistance); len(ms) != 1 || ms[0].Distance != d {
			t.Errorf("%s: Search found %v", filepath.Base(p), ms)
		}
	}
	t.Logf("bridge-mods: largest distance to aaa-orig.jpg %d", maxD)

	others, err := filepath.Glob(filepath.Join(vectors, "images/reg-test-input/labelme-subset/*.jpg"))
	if err != nil || len(others) < 7 {
		t.Fatalf("labelme-subset: %d files, %v", len(others), err)
	}
	minD := 256
	for i, p := range others {
		hs, _ := Dihedral(decodeFile(t, p))
		for v := range hs {
			minD = min(minD, Distance(hs[v], orig))
		}
		if ms := x.SearchDihedral(hs, DefaultMaxDistance); len(ms) != 0 {
			t.Errorf("%s matches the bridge: %v", filepath.Base(p), ms)
		}
		x.Add(uint32(i+1), hs[Original])
	}
	for i, p := range others {
		h, _ := FromImage(decodeFile(t, p))
		if ms := x.Search(h, DefaultMaxDistance); len(ms) != 1 || ms[0].ID != uint32(i+1) || ms[0].Distance != 0 {
			t.Errorf("%s: Search found %v, want itself alone", filepath.Base(p), ms)
		}
	}
	t.Logf("labelme-subset: smallest distance to aaa-orig.jpg (any variant) %d", minD)
}
