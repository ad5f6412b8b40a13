package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
)

// A start deletes the objects no event accounts for (a deposit or a
// package that crashed before its event), records them first, and
// leaves every owned object alone: whether the store's listing, made
// while the state loads, fits in memory or has to be made again after
// it (maxPrelisted).
func TestStartSweepsOrphans(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prelisted int
	}{{"listed beside the load", 1 << 20}, {"listed again after the load", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(n int) { maxPrelisted = n }(maxPrelisted)
			maxPrelisted = tc.prelisted
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			ctx := context.Background()
			v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			inv := enrolled(t, v, "inv", RoleInvestigator)
			if err := v.OpenCase(ctx, inv, "S-1", "sweep"); err != nil {
				t.Fatal(err)
			}
			var owned []string
			for i := range 4 {
				it, err := v.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "e.bin", Body: strings.NewReader(strings.Repeat("e", i+1))})
				if err != nil {
					t.Fatal(err)
				}
				stored, _, _ := v.state.getItem(it.ID)
				owned = append(owned, stored.Deposit.Object)
			}
			v.Close()
			st.Close()

			objs, err := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
			if err != nil {
				t.Fatal(err)
			}
			orphans := []string{"ev/0crashed", "pk/0crashed"}
			for _, name := range orphans {
				if _, err := objs.Put(ctx, name, strings.NewReader("ciphertext"), objects.PutOptions{Unlocked: true}); err != nil {
					t.Fatal(err)
				}
			}

			v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			defer st.Close()
			defer v.Close()
			var swept ObjectsSwept
			evs := logged(t, v)
			for _, ev := range evs {
				if ev.Type == TypeObjectsSwept {
					if err := ev.DecodeData(&swept); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !slices.Equal(swept.Orphans, orphans) {
				t.Fatalf("objects.swept lists %v, want %v", swept.Orphans, orphans)
			}
			for _, name := range orphans {
				if _, err := objs.Stat(ctx, name); !errors.Is(err, objects.ErrNotFound) {
					t.Errorf("orphan %s: %v, want it deleted", name, err)
				}
			}
			for _, name := range owned {
				if _, err := objs.Stat(ctx, name); err != nil {
					t.Errorf("owned object %s: %v", name, err)
				}
			}
		})
	}
}

// failingList is a store whose listing of the evidence objects fails.
type failingList struct{ objects.Store }

func (f failingList) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	if strings.HasPrefix(prefix, "ev/") {
		return errors.New("the store is unreachable")
	}
	return f.Store.List(ctx, prefix, fn)
}

// A start whose sweep cannot list the store is refused, with the store's
// error: it must not go on as if nothing were left by a crash.
func TestStartRefusedWhenTheSweepCannotList(t *testing.T) {
	_, err := openVaultErr(t, func(cfg *Config) { cfg.Objects = failingList{cfg.Objects} })
	if err == nil || !strings.Contains(err.Error(), "sweeping objects") || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("start: %v, want the sweep's listing error", err)
	}
}

// openVaultErr opens a vault in a new folder as openTestVaultDir does,
// returning the start's error instead of failing.
func openVaultErr(t *testing.T, configure ...func(*Config)) (*Vault, error) {
	t.Helper()
	v, err := Open(context.Background(), testConfig(t, t.TempDir(), configure...))
	if err == nil {
		t.Cleanup(func() { v.Close() })
	}
	return v, err
}

// failingSecondList is a store whose listing of the evidence objects
// works once and then fails.
type failingSecondList struct {
	objects.Store
	calls *int
}

func (f failingSecondList) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	if strings.HasPrefix(prefix, "ev/") {
		if *f.calls++; *f.calls > 1 {
			return errors.New("the store went away")
		}
	}
	return f.Store.List(ctx, prefix, fn)
}

// A store too large for the names a start lists ahead is listed again
// after the load; if that listing fails, the start is refused too.
func TestStartRefusedWhenTheSweepsSecondListingFails(t *testing.T) {
	defer func(n int) { maxPrelisted = n }(maxPrelisted)
	maxPrelisted = 0
	calls := 0
	_, err := openVaultErr(t, func(cfg *Config) {
		// One object to list: more than the names listed ahead.
		if _, err := cfg.Objects.Put(context.Background(), "ev/0crashed", strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
			t.Fatal(err)
		}
		cfg.Objects = failingSecondList{cfg.Objects, &calls}
	})
	if err == nil || !strings.Contains(err.Error(), "sweeping objects") || !strings.Contains(err.Error(), "went away") || calls != 2 {
		t.Fatalf("start: %v after %d listings, want the second listing's error", err, calls)
	}
}

// vanishing is a store from which one object is gone by the time it is
// deleted (listed, then removed by someone else).
type vanishing struct {
	objects.Store
	name string
}

func (v vanishing) Delete(ctx context.Context, name string) error {
	if name == v.name {
		return fmt.Errorf("%s: %w", name, objects.ErrNotFound)
	}
	return v.Store.Delete(ctx, name)
}

// An orphan already gone when the sweep deletes it is swept, not
// recorded as retained (objects.retained is for objects the store keeps).
func TestSweptOrphanAlreadyGoneIsNotRetained(t *testing.T) {
	v, err := openVaultErr(t, func(cfg *Config) {
		if _, err := cfg.Objects.Put(context.Background(), "ev/0gone", strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
			t.Fatal(err)
		}
		cfg.Objects = vanishing{cfg.Objects, "ev/0gone"}
	})
	if err != nil {
		t.Fatal(err)
	}
	swept := false
	for _, ev := range logged(t, v) {
		switch ev.Type {
		case TypeObjectsSwept:
			swept = true
		case TypeObjectsRetained:
			t.Errorf("an orphan already gone was recorded as retained: %s", ev.Data)
		}
	}
	if !swept {
		t.Error("the orphan's sweep was not recorded")
	}
}
