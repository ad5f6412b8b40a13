package vault

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestASecondServerOnTheLogHaltsTheFirst: a second server started on the
// same custody log, object store and keyring (an operator's mistake: one
// server only writes a log) sweeps what it cannot account for, which may
// be what the first is writing. The first, once an append of its own
// meets the second's server.started, writes nothing more: its deposit is
// not acknowledged, and a view (whose access must be recorded first) is
// refused too; the second goes on, and reads back what the first
// acknowledged before.
func TestASecondServerOnTheLogHaltsTheFirst(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfgA := testConfig(t, dir)
	a, err := Open(ctx, cfgA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	inv := enrolled(t, a, "inv", RoleInvestigator)
	if err := a.OpenCase(ctx, inv, "S-1", "two servers"); err != nil {
		t.Fatal(err)
	}
	first, err := a.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "first.txt", Body: strings.NewReader("acknowledged before")})
	if err != nil {
		t.Fatal(err)
	}

	cfgB := testConfig(t, dir)
	cfgB.RecoveryRecipient = cfgA.RecoveryRecipient
	b, err := Open(ctx, cfgB)
	if err != nil {
		t.Fatalf("the second server: %v", err)
	}
	defer b.Close()

	_, err = a.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "second.txt", Body: strings.NewReader("after the second server started")})
	if !errors.Is(err, ErrAnotherServer) || !errors.Is(err, ErrLogHalted) {
		t.Fatalf("the first server's deposit after the second started: %v, want ErrAnotherServer", err)
	}
	if _, err := a.OpenItem(ctx, inv, first.ID, "review"); !errors.Is(err, ErrLogHalted) {
		t.Fatalf("the first server's view after the second started: %v, want ErrLogHalted", err)
	}

	// The second server holds the log: what the first acknowledged reads
	// back through it, and it takes deposits.
	r, err := b.OpenItem(ctx, inv, first.ID, "review")
	if err != nil {
		t.Fatalf("the first deposit through the second server: %v", err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "third.txt", Body: strings.NewReader("through the second")}); err != nil {
		t.Fatalf("a deposit through the second server: %v", err)
	}
}
