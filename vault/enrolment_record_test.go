package vault

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The people list says how each person was enrolled (who approved, who
// asked, why, when) as their person.enrolled event recorded it, after a
// restart too; and lists the enrolments asked for that no second
// custodian has decided, until they are decided, rejected, or their
// requester is suspended (such a request is never approved).
func TestPeopleListSaysWhoEnrolledWhomAndWhoIsAskedFor(t *testing.T) {
	ctx := context.Background()
	v, dir := openTestVaultDir(t)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "aud": RoleAuditor})

	if n := personInfo(t, v, cs["c1"], "c2").Enrolment; n == nil || n.By != System.Person || n.RequestedBy != "" {
		t.Fatalf("a custodian the vault started with: enrolment %+v", n)
	}

	asked, err := v.EnrollBy(ctx, cs["c1"], Enrolment{Name: "sophea", Role: RoleAnalyst, Reason: "joins the hotline's analysts, HR-2026-14"})
	if err != nil {
		t.Fatal(err)
	}
	rejected, err := v.EnrollBy(ctx, cs["c1"], Enrolment{Name: "mallory", Role: RoleCustodian})
	if err != nil {
		t.Fatal(err)
	}
	voided, err := v.EnrollBy(ctx, cs["c3"], Enrolment{Name: "trent", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"c2", "aud"} {
		pending, err := v.PendingEnrolments(ctx, cs[who])
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 3 || pending[0].Name != "sophea" || pending[0].Request != asked.ID || pending[0].RequestedBy != "c1" ||
			pending[0].Role != RoleAnalyst || pending[2].Request != voided.ID || pending[0].Reason != "joins the hotline's analysts, HR-2026-14" || !pending[0].Expires.After(pending[0].Opened) {
			t.Fatalf("pending enrolments, as %s sees them: %+v", who, pending)
		}
	}
	if _, err := v.Reject(ctx, cs["c2"], rejected.ID, "no third custodian is needed"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Suspend(ctx, cs["c1"], "c3", "on leave during the inquiry"); err != nil {
		t.Fatal(err)
	}
	before := v.cfg.Now()
	if _, err := v.Approve(ctx, cs["c2"], asked.ID); err != nil {
		t.Fatal(err)
	}
	if pending, err := v.PendingEnrolments(ctx, cs["c2"]); err != nil || len(pending) != 0 {
		t.Fatalf("after the approval, the rejection and the requester's suspension, pending: %+v, %v", pending, err)
	}

	check := func(when string) {
		t.Helper()
		n := personInfo(t, v, cs["aud"], "sophea").Enrolment
		if n == nil || n.By != "c2" || n.RequestedBy != "c1" || n.Reason != "joins the hotline's analysts, HR-2026-14" || n.At.Before(before.Add(-time.Second)) {
			t.Fatalf("%s, sophea's enrolment: %+v", when, n)
		}
	}
	check("at once")

	// Replayed from the log (openTestVaultDir's clean-up also compares
	// a snapshot's state with the replay's).
	v.Close()
	v, err = Open(ctx, testConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	check("after a restart")

	// Only custodians and auditors are told.
	inv := people(t, v, map[string]string{"ivan": RoleInvestigator})["ivan"]
	if _, err := v.PendingEnrolments(ctx, inv); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an investigator asking for pending enrolments: %v", err)
	}
}
