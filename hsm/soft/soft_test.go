package soft_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/sealertest"
	"github.com/custos-vault/custos/hsm/soft"
)

func newAt(t *testing.T, dir string) hsm.Sealer {
	t.Helper()
	s, err := soft.New(context.Background(), soft.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	sealertest.Run(t, func(t *testing.T) hsm.Sealer { return newAt(t, dir) }, sealertest.Options{
		Other: func(t *testing.T) hsm.Sealer { return newAt(t, t.TempDir()) },
	})
}

// A key file that cannot be read is an unavailable sealer, not a reason to
// make a new key (which would orphan every blob sealed under the old one).
func TestUnreadableKey(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := t.TempDir()
	newAt(t, dir).Close()
	key := filepath.Join(dir, "kek")
	if err := os.Chmod(key, 0); err != nil {
		t.Fatal(err)
	}
	_, err := soft.New(context.Background(), soft.Config{Dir: dir})
	if !errors.Is(err, hsm.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

func TestWrongKeyLength(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kek"), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := soft.New(context.Background(), soft.Config{Dir: dir}); err == nil {
		t.Fatal("a 5-byte key file was accepted")
	}
}
