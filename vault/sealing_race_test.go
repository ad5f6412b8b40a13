package vault

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
)

// TestDestructionWhileAPackageIsBuilt: a destruction approved while a
// package is being built leaves no package: its sealed event is refused
// at its position, and its file is not left readable as a package.
func TestDestructionWhileAPackageIsBuilt(t *testing.T) {
	f := newPackageFixture(t)
	v := f.v
	ctx := context.Background()
	c1tok, _ := v.Enroll(ctx, "c1", RoleCustodian)
	c2tok, _ := v.Enroll(ctx, "c2", RoleCustodian)
	c1, _ := signIn(v, c1tok)
	c2, _ := signIn(v, c2tok)
	req, err := v.RequestDestruction(ctx, c1, "P-1", "court order 9", "ended")
	if err != nil {
		t.Fatal(err)
	}
	v.testBeforeStorePackage = func() {
		if _, err := v.ApproveDestruction(ctx, c2, "P-1", req); err != nil {
			t.Error(err)
		}
	}
	_, err = v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "late"})
	v.testBeforeStorePackage = nil
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("sealing across a destruction: %v", err)
	}
	n := 0
	v.state.mu.RLock()
	for _, p := range v.state.packages {
		if p.Sealed != nil && p.Sealing.Purpose == "late" {
			n++
		}
	}
	v.state.mu.RUnlock()
	if n != 0 {
		t.Fatal("a package was recorded as sealed after its case's destruction")
	}
	res, err := v.Scrub(ctx, f.auditor)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unaccounted) != 0 {
		t.Fatalf("the refused package's file is unaccounted: %v", res.Unaccounted)
	}
}

// failingDeletes refuses to delete key replicas while fail is set.
type failingDeletes struct {
	objects.Store
	fail bool
}

func (f *failingDeletes) Delete(ctx context.Context, name string) error {
	if f.fail && strings.HasPrefix(name, "key/") {
		return errors.New("object store refused the deletion")
	}
	return f.Store.Delete(ctx, name)
}

// TestInterruptedDestructionIsFinished: when a key copy cannot be
// deleted, the approval stands (nothing of the case is revealed) and
// approving again, or the next start, finishes the shredding and records
// it.
func TestInterruptedDestructionIsFinished(t *testing.T) {
	for _, finish := range []string{"approve again", "restart"} {
		t.Run(finish, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			fsobjs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
			objs := &failingDeletes{Store: fsobjs}
			sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
			rec, _ := age.GenerateX25519Identity()
			cfg := Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"), SpoolDir: filepath.Join(dir, "spool"),
				RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler), Retention: time.Second, PendingRetention: time.Second}
			v, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			login := func(name, role string) Principal { return enrolled(t, v, name, role) }
			inv, c1, c2 := login("inv", RoleInvestigator), login("c1", RoleCustodian), login("c2", RoleCustodian)
			if err := v.OpenCase(ctx, inv, "D-1", "t"); err != nil {
				t.Fatal(err)
			}
			backup := map[string][]byte{}
			files, _ := filepath.Glob(filepath.Join(dir, "keyring", "cases", caseHash("D-1")+"*"))
			for _, f := range files {
				backup[f], _ = os.ReadFile(f)
			}
			req, _ := v.RequestDestruction(ctx, c1, "D-1", "order", "reason")
			objs.fail = true
			if _, err := v.ApproveDestruction(ctx, c2, "D-1", req); err == nil {
				t.Fatal("a destruction whose key copies could not be deleted reported success")
			}
			if c, _ := v.state.getCase("D-1"); !c.Destroyed || c.Shredded {
				t.Fatalf("after the interrupted destruction: destroyed %v, shredded %v", c.Destroyed, c.Shredded)
			}
			objs.fail = false
			if finish == "restart" {
				v.Close()
				if v, err = Open(ctx, cfg); err != nil {
					t.Fatal(err)
				}
			} else if _, err := v.ApproveDestruction(ctx, c2, "D-1", req); err != nil {
				t.Fatalf("approving again: %v", err)
			}
			defer v.Close()
			if c, _ := v.state.getCase("D-1"); !c.Shredded {
				t.Fatal("the interrupted destruction was not finished")
			}
			left := 0
			fsobjs.List(ctx, "key/", func(objects.Info) error { left++; return nil })
			local, _ := filepath.Glob(filepath.Join(dir, "keyring", "cases", caseHash("D-1")+"*"))
			if left != 0 || len(local) != 0 {
				t.Fatalf("key copies left after the destruction: %d replicas, %v", left, local)
			}
			// A keyring restored from a backup taken before the
			// destruction brings the key files back; the next start
			// removes them.
			for f, b := range backup {
				if err := os.WriteFile(f, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			v.Close()
			if v, err = Open(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if local, _ := filepath.Glob(filepath.Join(dir, "keyring", "cases", caseHash("D-1")+"*")); len(local) != 0 || len(backup) != 2 {
				t.Fatalf("restored key files of a destroyed case survived a start: %v (backup of %d files)", local, len(backup))
			}
		})
	}
}
