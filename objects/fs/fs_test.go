package fs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// List reads a store whose folder is a link (an operator's choice), and
// does not follow a link planted inside it for a folder of objects: the
// link is listed as what it is, an entry no event accounts for (a scrub
// reports it), never the files it points to.
func TestListFollowsTheStoreFolderOnly(t *testing.T) {
	ctx := context.Background()
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "objects")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(ctx, fs.Config{Dir: link})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ev/one", strings.NewReader("1"), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "two"), []byte("2"), 0o600)
	if err := os.Symlink(elsewhere, filepath.Join(real, "pk")); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := s.List(ctx, "", func(i objects.Info) error { names = append(names, i.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ev/one", "pk"}) {
		t.Fatalf("listed %v, want [ev/one pk]", names)
	}
}
