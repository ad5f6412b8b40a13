package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events/sqlite"
)

// TestLogFileReplacedStopsTheVault: an administrator renames an older
// copy of the custody log's file over it while the vault runs (or
// removes its WAL). The vault's next record goes to the file it opened,
// which a restart would no longer read: the act it records is refused
// (a view reveals nothing, a deposit is not acknowledged), and so is
// every later one, each naming the change, instead of being acknowledged
// and lost at the next start.
func TestLogFileReplacedStopsTheVault(t *testing.T) {
	for _, how := range []string{"an older copy renamed over it", "its WAL removed"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			v, err := Open(ctx, testConfig(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			inv := enrolled(t, v, "inv", RoleInvestigator)
			if err := v.OpenCase(ctx, inv, "S-1", "a log file replaced"); err != nil {
				t.Fatal(err)
			}
			first, err := v.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "first.txt", Body: strings.NewReader("acknowledged before")})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "log.db")
			if how == "its WAL removed" {
				err = os.Remove(path + "-wal")
			} else if b, rerr := os.ReadFile(path); rerr != nil {
				err = rerr
			} else if err = os.WriteFile(path+".older", b, 0o600); err == nil {
				err = os.Rename(path+".older", path)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				r, err := v.OpenItem(ctx, inv, first.ID, "review")
				if r != nil || !errors.Is(err, sqlite.ErrFileReplaced) {
					t.Fatalf("view %d after the change: %v, %v; want it refused with ErrFileReplaced", i+1, r, err)
				}
			}
			if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "second.txt", Body: strings.NewReader("after the change")}); !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Fatalf("a deposit after the change: %v, want it refused with ErrFileReplaced", err)
			}
		})
	}
}
