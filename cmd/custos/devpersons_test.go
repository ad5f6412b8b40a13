package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
)

// openDataVault opens a vault on the server's layout of the data folder
// data (DATA/custody.db, DATA/keyring, DATA/objects), closed when the
// test ends if the test did not stop it first (stop: closing it
// publishes a checkpoint of every event and writes the sticky head and
// its copy; the log's file is closed with it).
func openDataVault(t *testing.T, data string) (*vault.Vault, func() error) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(data, "custody.db")})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := fs.New(ctx, fs.Config{Dir: filepath.Join(data, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := soft.New(ctx, soft.Config{Dir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := age.GenerateX25519Identity()
	v, err := vault.Open(ctx, vault.Config{Log: st, Objects: objs, Sealer: sealer,
		KeyringDir: filepath.Join(data, keyringDir), SpoolDir: filepath.Join(data, "spool"),
		RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceValue(func() error {
		err := v.Close()
		st.Close()
		return err
	})
	t.Cleanup(func() { stop() })
	return v, stop
}

// --dev on a vault in use (people enrolled by its custodians, no
// development credentials in its data folder) gave whoever started the
// server two custodians of their own. It is refused, nothing enrolled;
// a development vault joined by other people since starts as before,
// and refuses too once its credential files are gone (which would have
// enrolled the missing persons beside the others).
func TestDevPersonsOnlyInAVaultOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	devOnly := func(v *vault.Vault) []string { return v.EnrolledOutside(nil) }

	inUse, _ := openDataVault(t, t.TempDir())
	if _, err := inUse.Enroll(ctx, "ivan", vault.RoleInvestigator); err != nil {
		t.Fatal(err)
	}
	err := devPersons(ctx, inUse, t.TempDir(), "http://127.0.0.1:1", logger)
	if err == nil || !strings.Contains(err.Error(), "--dev enrols its development persons") || !strings.Contains(err.Error(), "ivan") {
		t.Fatalf("--dev on a vault in use: %v", err)
	}
	if got := devOnly(inUse); !slices.Equal(got, []string{"ivan"}) {
		t.Fatalf("persons after the refused --dev: %q, want ivan alone", got)
	}

	data := t.TempDir()
	dev, _ := openDataVault(t, data)
	if err := devPersons(ctx, dev, data, "http://127.0.0.1:1", logger); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Enroll(ctx, "analyst9", vault.RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	if err := devPersons(ctx, dev, data, "http://127.0.0.1:2", logger); err != nil {
		t.Fatalf("a development vault joined by another person: %v", err)
	}
	if err := os.Remove(filepath.Join(data, "dev", "custodian2.env")); err != nil {
		t.Fatal(err)
	}
	if err := devPersons(ctx, dev, data, "http://127.0.0.1:3", logger); err == nil || !strings.Contains(err.Error(), "analyst9") {
		t.Fatalf("a development vault whose credential file is gone, beside another person: %v", err)
	}
}

// A development vault started by a release with fewer development
// persons gets the new ones (analyst2, analyst3) at its next start, beside
// the persons it has, whose credentials stay as they were.
func TestDevPersonsAddedToAnEarlierDevelopmentVault(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	data := t.TempDir()
	dev, _ := openDataVault(t, data)
	all := devRoles
	devRoles = all[:len(all)-2] // a release before analyst2 and analyst3
	err := devPersons(ctx, dev, data, "http://127.0.0.1:1", logger)
	devRoles = all
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(data, "dev", "custodian.env"))
	if err != nil {
		t.Fatal(err)
	}
	if err := devPersons(ctx, dev, data, "http://127.0.0.1:1", logger); err != nil {
		t.Fatalf("the next start: %v", err)
	}
	for _, name := range []string{"analyst2", "analyst3"} {
		b, err := os.ReadFile(filepath.Join(data, "dev", name+".env"))
		if err != nil || envValue(string(b), "CUSTOS_TOKEN") == "" {
			t.Fatalf("%s after the next start: %v", name, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(data, "dev", "custodian.env")); string(after) != string(before) {
		t.Fatal("the custodian's credential changed")
	}
	if others := dev.EnrolledOutside(map[string]string{}); len(others) != len(all) {
		t.Fatalf("enrolled: %q, want the %d development persons", others, len(all))
	}
}
