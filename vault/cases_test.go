package vault

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestACasesOwnRetentionIsKept: a case opened with its own retention
// keeps it (case.opened records it, and the state derives it); a
// retention shorter than the vault's default is a custodian's to give,
// and one below the vault's floor is nobody's. A refused opening records
// no case.
func TestACasesOwnRetentionIsKept(t *testing.T) {
	ctx := context.Background()
	v := openTestVault(t)
	inv := enrolled(t, v, "inv", RoleInvestigator)
	cust := enrolled(t, v, "cust", RoleCustodian)
	long := 30 * 365 * 24 * time.Hour
	if err := v.OpenCaseWith(ctx, inv, "R-LONG", "kept for thirty years", long); err != nil {
		t.Fatal(err)
	}
	if c, ok := v.state.getCase("R-LONG"); !ok || c.Retention != long {
		t.Fatalf("the case's retention is %v, want %v", c.Retention, long)
	}
	short := v.cfg.Retention / 2
	if err := v.OpenCaseWith(ctx, inv, "R-SHORT", "shorter than the default", short); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an investigator's retention below the default: %v, want ErrForbidden", err)
	}
	if err := v.OpenCaseWith(ctx, cust, "R-FLOOR", "below the floor", v.cfg.MinRetention/2); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a retention below the floor: %v, want ErrBadInput", err)
	}
	for _, id := range []string{"R-SHORT", "R-FLOOR"} {
		if _, ok := v.state.getCase(id); ok {
			t.Errorf("the refused case %s was opened", id)
		}
	}
	if err := v.OpenCaseWith(ctx, cust, "R-SHORT", "shorter, by a custodian", short); err != nil {
		t.Fatal(err)
	}
	if c, _ := v.state.getCase("R-SHORT"); c.Retention != short {
		t.Fatalf("the custodian's case keeps %v, want %v", c.Retention, short)
	}
}
