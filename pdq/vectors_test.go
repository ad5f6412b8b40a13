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
