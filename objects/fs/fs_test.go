package fs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/objects/objtest"
)

func TestConformance(t *testing.T) {
	objtest.Run(t, func(t *testing.T) objects.Store {
		s, err := fs.New(context.Background(), fs.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRetentionClock checks retention against the store's clock, so a
// retention of years can be tested without waiting.
func TestRetentionClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := fs.New(ctx, fs.Config{Dir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	until := now.AddDate(10, 0, 0)
	if _, err := s.Put(ctx, "ev/a1", bytes.NewReader([]byte("x")), objects.PutOptions{RetainUntil: until}); err != nil {
		t.Fatal(err)
	}
	now = until.Add(-time.Second)
	if err := s.Delete(ctx, "ev/a1"); !errors.Is(err, objects.ErrLocked) {
		t.Fatalf("delete a second before retention ends: got %v, want ErrLocked", err)
	}
	now = until
	if err := s.Delete(ctx, "ev/a1"); err != nil {
		t.Fatalf("delete when retention ends: %v", err)
	}
}

// TestReopenRemovesLeftovers checks that temporary files of a crashed Put
// never become objects and are cleared when the store is opened again.
func TestReopenRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := fs.New(ctx, fs.Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, ".tmp", "0123abcd")
	if err := os.WriteFile(left, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover still there: %v", err)
	}
	n := 0
	s.List(ctx, "", func(objects.Info) error { n++; return nil })
	if n != 0 {
		t.Fatalf("list shows %d objects in an empty store", n)
	}
}

// TestObjectsAreReadOnly checks the file mode the fs backend promises.
func TestObjectsAreReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ev/ro", bytes.NewReader([]byte("x")), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "ev", "ro"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o400 {
		t.Fatalf("object mode %v, want 0400", fi.Mode().Perm())
	}
}
