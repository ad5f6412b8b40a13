package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteNewNeverReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key")
	if err := WriteNew(p, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(p, []byte("second")); err == nil {
		t.Fatal("WriteNew replaced an existing file")
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("file holds %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := Replace(p, []byte("third")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "third" {
		t.Fatalf("file holds %q", b)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}

// Create makes a new file with the given mode less the umask, and never
// replaces one; ReplaceMode keeps the mode it is given.
func TestCreateAndReplaceMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "checkpoint")
	old := syscall.Umask(0o027)
	err := Create(p, []byte("first"), 0o644)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 (0644 less umask 027)", fi.Mode().Perm())
	}
	if err := Create(p, []byte("second"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("the file holds %q", b)
	}
	if err := ReplaceMode(p, []byte("third"), 0o604); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o604 {
		t.Fatalf("mode after ReplaceMode %v", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(p); string(b) != "third" {
		t.Fatalf("the file holds %q", b)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Fatalf("%d files left in the folder, want 1", len(left))
	}
}
