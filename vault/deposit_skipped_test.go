package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestRecordSkipped: what a deposit left out is recorded as the
// depositor's statement (deposit.skipped, with its source, count and
// files), for a case they are assigned to; anyone else is refused and
// the refusal recorded, as a deposit's would be; text that is not
// readable, an empty list, a count below it, and a destroyed case are
// refused and change nothing.
func TestRecordSkipped(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"inv": RoleInvestigator, "inv2": RoleInvestigator, "cust": RoleCustodian, "cust2": RoleCustodian})
	if err := v.OpenCase(ctx, p["inv"], "S-1", "seized drive"); err != nil {
		t.Fatal(err)
	}
	files := []SkippedFile{{Path: "drive/deep", Reason: "a folder that could not be read", LeftBehind: true}, {Path: "drive/link", Reason: "a symbolic link to /etc/passwd (not followed)"}}
	seq, err := v.RecordSkipped(ctx, p["inv"], "S-1", DepositSkipped{Source: "exhibit JD/1", Count: 2, Deposited: 5, Already: 1, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	var got *events.Event
	v.cfg.Log.Read(ctx, seq, func(r events.Record) error {
		if got == nil {
			got, _ = events.Decode(r.Bytes)
		}
		return nil
	})
	var d DepositSkipped
	if got == nil || got.Type != TypeDepositSkipped || got.Case != "S-1" || got.Actor.Person != "inv" || got.DecodeData(&d) != nil ||
		d.Source != "exhibit JD/1" || d.Count != 2 || d.Deposited != 5 || d.Already != 1 || len(d.Files) != 2 || !d.Files[0].LeftBehind || d.Files[1].LeftBehind {
		t.Fatalf("recorded: %+v %+v", got, d)
	}

	var long []SkippedFile
	for range 20 {
		long = append(long, SkippedFile{Path: strings.Repeat("d/", 2048), Reason: "too deep"})
	}
	before := v.log.Size()
	for _, c := range []struct {
		who   Principal
		count int
		files []SkippedFile
		want  error
	}{
		{p["inv2"], 1, files[:1], ErrNotFound}, // not assigned: as a case not seen
		{p["cust"], 1, files[:1], ErrForbidden},
		{p["inv"], 0, nil, ErrBadInput},
		{p["inv"], 1, files, ErrBadInput},
		{p["inv"], 1, []SkippedFile{{Path: "a\x1b[2Jb", Reason: "x"}}, ErrBadInput},
		{p["inv"], 1, []SkippedFile{{Path: "a", Reason: ""}}, ErrBadInput},
		{p["inv"], MaxSkippedListed + 1, make([]SkippedFile, MaxSkippedListed+1), ErrBadInput},
		{p["inv"], 20, long, ErrBadInput}, // 20 paths of 4 KiB: over the event's bound
	} {
		if _, err := v.RecordSkipped(ctx, c.who, "S-1", DepositSkipped{Count: c.count, Files: c.files}); !errors.Is(err, c.want) {
			t.Errorf("%s, %d of %d files: %v, want %v", c.who.Name, len(c.files), c.count, err, c.want)
		}
	}
	if _, err := v.RecordSkipped(ctx, p["inv"], "S-1", DepositSkipped{Count: 1, Deposited: -1, Files: files[:1]}); !errors.Is(err, ErrBadInput) {
		t.Errorf("a negative count deposited: %v", err)
	}
	v.cfg.Log.Read(ctx, before, func(r events.Record) error {
		ev, _ := events.Decode(r.Bytes)
		if ev.Type != TypeAccessRefused {
			t.Errorf("a refused statement left a %s", ev.Type)
		}
		return nil
	})

	// A case takes at most MaxSkippedStatements: every package of it
	// carries them, and a member sending them without end would make
	// its packages too large to verify.
	if err := v.OpenCase(ctx, p["inv"], "S-2", "many"); err != nil {
		t.Fatal(err)
	}
	for i := range MaxSkippedStatements {
		if _, err := v.RecordSkipped(ctx, p["inv"], "S-2", DepositSkipped{Count: 1, Files: files[:1]}); err != nil {
			t.Fatalf("statement %d: %v", i+1, err)
		}
	}
	if _, err := v.RecordSkipped(ctx, p["inv"], "S-2", DepositSkipped{Count: 1, Files: files[:1]}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "the most a case takes") {
		t.Fatalf("statement %d: %v", MaxSkippedStatements+1, err)
	}
	if _, err := v.RecordSkipped(ctx, p["inv"], "S-1", DepositSkipped{Count: MaxSkippedCount + 1, Files: files[:1]}); !errors.Is(err, ErrBadInput) {
		t.Errorf("a count no deposit has: %v", err)
	}

	// A destroyed case takes no statement.
	req, err := v.RequestDestruction(ctx, p["cust"], "S-1", "order 1/2026", "retention ended")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, p["cust2"], "S-1", req); err != nil {
		t.Fatal(err)
	}
	if _, err := v.RecordSkipped(ctx, p["inv"], "S-1", DepositSkipped{Count: 1, Files: files[:1]}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "destroyed") {
		t.Errorf("a destroyed case: %v", err)
	}
}

// TestAStatementOfWhatADepositSkipped: a deposit, then its depositor's
// statement of what it skipped; its log is in the state corpus
// (stateCorpusTests), so that a change to how the state counts
// statements is seen.
func TestAStatementOfWhatADepositSkipped(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := people(t, v, map[string]string{"inv": RoleInvestigator})["inv"]
	if err := v.OpenCase(ctx, inv, "ST-1", "a phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "ST-1", Name: "DCIM/a.jpg", Source: "phone JD/1", Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.RecordSkipped(ctx, inv, "ST-1", DepositSkipped{Source: "phone JD/1", Count: 1, Deposited: 1,
		Files: []SkippedFile{{Path: "DCIM/b.jpg", Reason: "listed in SUMS (acquired) but not in the folder", LeftBehind: true}}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := v.state.getCase("ST-1"); c.Statements != 1 {
		t.Fatalf("the case counts %d statements", c.Statements)
	}
}
