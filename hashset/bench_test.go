package hashset

import (
	"bytes"
	"path/filepath"
	"testing"
)

func BenchmarkBuild100k(b *testing.B) {
	src := sumLines("b", 100_000)
	root := b.TempDir()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Build(root, "b", bytes.NewReader(src), "sha256sum", BuildOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup1M(b *testing.B) {
	const n = 1_000_000
	root := b.TempDir()
	if _, err := Build(root, "l", bytes.NewReader(sumLines("l", n)), "sha256sum", BuildOptions{}); err != nil {
		b.Fatal(err)
	}
	s, err := Open(filepath.Join(root, "l"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	keys := make([][]byte, 4096)
	for i := range keys {
		if i%2 == 0 {
			keys[i] = genKey("l", i*97%n)
		} else {
			keys[i] = genKey("absent", i)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.Lookup(SHA256, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
