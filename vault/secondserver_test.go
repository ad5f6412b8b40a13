package vault

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestASecondServerOnTheLogHaltsTheFirst: a second server started on the
// same custody log, object store and keyring (an operator's mistake: one
// server only writes a log) sweeps what it cannot account for, among it
// the object of a deposit the first is writing. The first, once an
// append of its own meets the second's server.started, writes nothing
// more: that deposit is not acknowledged (its object was recorded swept),
// nor a later one, and a view (whose access must be recorded first) is
// refused too; the second goes on, and reads back what the first
// acknowledged before.
func TestASecondServerOnTheLogHaltsTheFirst(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ps := &pausingStore{prefix: "ev/", stored: make(chan string), release: make(chan struct{})}
	cfgA := testConfig(t, dir, func(cfg *Config) { ps.Store, cfg.Objects = cfg.Objects, ps })
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

	// A deposit of the first server stores its object and waits, its
	// event not yet appended, while the second server starts and sweeps.
	ps.armed.Store(true)
	inFlight := make(chan error, 1)
	go func() {
		_, err := a.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "in-flight.txt", Body: strings.NewReader("written as the second server started")})
		inFlight <- err
	}()
	object := <-ps.stored

	cfgB := testConfig(t, dir)
	cfgB.RecoveryRecipient = cfgA.RecoveryRecipient
	b, err := Open(ctx, cfgB)
	if err != nil {
		t.Fatalf("the second server: %v", err)
	}
	defer b.Close()
	if !slices.ContainsFunc(sweptOrphans(t, b), func(names []string) bool { return slices.Contains(names, object) }) {
		t.Fatalf("the second server's sweep did not take the first's deposit in flight (%s) for an orphan: the case this guards against did not arise", object)
	}
	close(ps.release)
	if err := <-inFlight; !errors.Is(err, ErrAnotherServer) || !errors.Is(err, ErrLogHalted) {
		t.Fatalf("the first server's deposit whose object the second swept: %v, want ErrAnotherServer", err)
	}

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
