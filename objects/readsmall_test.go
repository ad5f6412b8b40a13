package objects_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
)

func TestReadSmallRefusesWhatIsLarger(t *testing.T) {
	ctx := context.Background()
	s, err := fs.New(ctx, fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "key/a", bytes.NewReader([]byte("12345")), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	if b, err := objects.ReadSmall(ctx, s, "key/a", 5); err != nil || string(b) != "12345" {
		t.Fatalf("read at the limit: %q %v", b, err)
	}
	if _, err := objects.ReadSmall(ctx, s, "key/a", 4); err == nil {
		t.Fatal("an object over the limit was read, cut")
	}
	if _, err := objects.ReadSmall(ctx, s, "key/absent", 4); err == nil {
		t.Fatal("a missing object was read")
	}
}
