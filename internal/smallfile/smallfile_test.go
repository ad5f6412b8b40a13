package smallfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/internal/testenv"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("a checkpoint"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := smallfile.Read(small, 12); err != nil || string(b) != "a checkpoint" {
		t.Fatalf("Read = %q, %v", b, err)
	}
	if _, err := smallfile.Read(small, 11); !errors.Is(err, smallfile.ErrTooLarge) {
		t.Fatalf("a file one byte over its limit: %v, want ErrTooLarge", err)
	}
	if _, err := smallfile.Read(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing file: %v, want fs.ErrNotExist", err)
	}
}

// A sparse gigabyte (nothing on disk), a link to /dev/zero and a named
// pipe with no writer are each refused at once, without reading them.
func TestReadRefusesWhatIsNotSmall(t *testing.T) {
	dir := t.TempDir()
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	before := testenv.ResetPeakMemory(t)
	for path, want := range map[string]error{sparse: smallfile.ErrTooLarge, zero: smallfile.ErrNotRegular, pipe: smallfile.ErrNotRegular, dir: smallfile.ErrNotRegular} {
		if _, err := smallfile.Read(path, 4096); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", filepath.Base(path), err, want)
		}
	}
	if grew := testenv.PeakMemory(t) - before; grew > 64<<20 {
		t.Errorf("the reads raised the peak memory by %d MiB", grew>>20)
	}
}

// ReadNoLink refuses a link in the path's last element, even to a
// regular file Read would take; a plain file reads as with Read.
func TestReadNoLink(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(plain, link); err != nil {
		t.Fatal(err)
	}
	if b, err := smallfile.ReadNoLink(plain, 64); err != nil || string(b) != "sealed" {
		t.Fatalf("a plain file: %q %v", b, err)
	}
	if _, err := smallfile.Read(link, 64); err != nil {
		t.Fatalf("Read follows the link: %v", err)
	}
	if _, err := smallfile.ReadNoLink(link, 64); !errors.Is(err, smallfile.ErrNotRegular) {
		t.Fatalf("ReadNoLink of a link: %v, want ErrNotRegular", err)
	}
	if _, err := smallfile.ReadNoLink(filepath.Join(dir, "missing"), 64); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
}
