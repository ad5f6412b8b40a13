package vault

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// recordedRefusal returns the reason of the last access.refused event of
// the log.
func recordedRefusal(t *testing.T, v *Vault) string {
	t.Helper()
	evs := logged(t, v)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == TypeAccessRefused {
			var d AccessRefused
			if err := json.Unmarshal(evs[i].Data, &d); err != nil {
				t.Fatal(err)
			}
			return d.Reason
		}
	}
	t.Fatal("no refusal recorded")
	return ""
}

// TestRefusalRecordsTheReasonNotTheAdvice: what the person refused can do
// next (a command, a box on a page) is in the answer, and the custody log
// records the reason alone: a court reads the log years later, when the
// program's commands and pages may be other ones. Two members of the
// class: a decision the sequencer refuses at its position (approving
// one's own request) and one refused before it (a suspension that would
// leave one custodian).
func TestRefusalRecordsTheReasonNotTheAdvice(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "inv": RoleInvestigator})

	req, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "dara", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Approve(ctx, p["c1"], req.ID)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "nobody approves their own request; another custodian must") || !strings.Contains(err.Error(), "custos reject") {
		t.Fatalf("own approval: the answer lost its reason or its advice: %v", err)
	}
	if got := recordedRefusal(t, v); got != "nobody approves their own request" {
		t.Errorf("own approval recorded as %q, want the reason alone", got)
	}

	_, err = v.Suspend(ctx, p["c1"], "c2", "under investigation")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "--leaving-fewer-custodians") {
		t.Fatalf("a suspension leaving one custodian: %v", err)
	}
	got := recordedRefusal(t, v)
	if !strings.Contains(got, "would leave 1 active custodian(s)") || strings.Contains(got, "custos ") || strings.Contains(got, "page") || strings.Contains(got, "--") {
		t.Errorf("the suspension's refusal recorded as %q: the reason, without the advice", got)
	}
}

// TestNoRefusalReasonNamesACommand reads the vault's sources: no reason a
// refusal records (the argument of refused, refusedHint, refuse,
// refuseHint, refuseUnseen that becomes AccessRefused.Reason) names a
// command, a flag or a page of the program; those go in the hint, which
// only the answer carries.
func TestNoRefusalReasonNamesACommand(t *testing.T) {
	// The position of the recorded reason (a format, or the text) among
	// each function's arguments.
	reasonArg := map[string]int{"refused": 1, "refusedHint": 2, "refuse": 4, "refuseHint": 4, "refuseUnseen": 5}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			}
			i, ok := reasonArg[fn]
			if !ok || i >= len(call.Args) {
				return true
			}
			calls++
			lit, ok := call.Args[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			reason, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, word := range []string{"custos ", " --", "(--", "page", "the box"} {
				if strings.Contains(reason, word) {
					t.Errorf("%s: %s records %q, which names %q: give the advice as the hint (refusedHint, refuseHint)", fset.Position(call.Pos()), fn, reason, strings.TrimSpace(word))
				}
			}
			return true
		})
	}
	if calls < 50 {
		t.Fatalf("found %d refusals in the vault's sources: the test no longer finds them", calls)
	}
}

// TestAMalformedItemIDIsSaidSoAlike: an item id that is not one the
// vault gives is answered in the same words wherever an item is named:
// a package's items, a view, a classification, an item's details.
func TestAMalformedItemIDIsSaidSoAlike(t *testing.T) {
	f := newPackageFixture(t)
	v, ctx := f.v, context.Background()
	const want = `item id "it_1" is malformed: item ids are it_ and 24 hex digits`
	_, errSeal := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial", Items: []string{"it_1"}})
	_, errOpen := v.Open(ctx, f.inv, RevealRequest{Item: "it_1", Purpose: "review"})
	_, errClassify := v.Classify(ctx, f.inv, "it_1", ClassifyRequest{Category: CategoryNotIllegal})
	_, errShow := v.ShowItem(ctx, f.inv, "it_1")
	for name, err := range map[string]error{"package seal": errSeal, "view": errOpen, "classify": errClassify, "item show": errShow} {
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s of it_1: %v, want %q", name, err, want)
		}
	}
	// A well-formed id of no item of the case is another answer.
	_, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial", Items: []string{"it_" + strings.Repeat("0", 24)}})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "is not an item of case P-1") {
		t.Errorf("a package of an item the case does not have: %v", err)
	}
}

// TestRoleGateSaysWhomToAsk: a refusal by a role gate says whom to ask,
// and records only its reason.
func TestRoleGateSaysWhomToAsk(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"inv": RoleInvestigator, "pros": RoleProsecutor})
	for _, c := range []struct {
		who          Principal
		action, hint string
	}{
		{p["inv"], "case.hold", "ask a custodian"},
		{p["inv"], "recipient.set", "only prosecutors and defence counsel register package recipients"},
		{p["pros"], "stats", "ask a custodian, an auditor or an analyst"},
		{p["inv"], "case.open", ""},
	} {
		err := v.MayAsk(ctx, c.who, c.action, "")
		if c.hint == "" {
			// An investigator may open a case.
			if err != nil {
				t.Errorf("%s: %v", c.action, err)
			}
			continue
		}
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), c.hint) {
			t.Errorf("%s: %v", c.action, err)
		}
		refusals := eventsOfType(t, v, TypeAccessRefused)
		var d AccessRefused
		if err := refusals[len(refusals)-1].DecodeData(&d); err != nil || strings.Contains(d.Reason, "ask ") {
			t.Errorf("%s: recorded %+v", c.action, d)
		}
	}
}

// TestOwnKeysHaveNoOneToAsk: registering a recipient is one's own to do:
// someone in another role is not told to ask anyone.
func TestOwnKeysHaveNoOneToAsk(t *testing.T) {
	v := openTestVault(t)
	p := people(t, v, map[string]string{"inv": RoleInvestigator})
	if err := v.MayAsk(context.Background(), p["inv"], "recipient.set", ""); !errors.Is(err, ErrForbidden) || strings.Contains(err.Error(), "ask ") {
		t.Fatalf("an investigator registering a recipient: %v", err)
	}
}

// TestRefusalsTellWebUsersThePageNotACommand: a refusal whose hint names
// a command of the CLI has another for a person using the web
// application (WebAnswer), naming the page instead, for refusals made
// before anything is recorded and for those recorded at the event's
// position alike; the CLI's answer keeps its command.
func TestRefusalsTellWebUsersThePageNotACommand(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	// A closed report changed: refused at the event's position.
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/closed"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, rp, "duplicate", ""); err != nil {
		t.Fatal(err)
	}
	closedErr := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: "https://host.example/closed", To: "Provider", Via: "email"})
	// One's own request approved: refused before anything is recorded.
	req, err := v.EnrollBy(ctx, h.cust, Enrolment{Name: "sothea", Role: RoleAnalyst})
	if err != nil {
		t.Fatal(err)
	}
	_, ownErr := v.Approve(ctx, h.cust, req.ID)
	for _, c := range []struct {
		name    string
		err     error
		cli     string
		web     string
		refused error
	}{
		{"a closed report's notice", closedErr, "custos report reopen", "on the report's page", ErrConflict},
		{"one's own request approved", ownErr, "custos reject", "on the Approvals page", ErrForbidden},
	} {
		if !errors.Is(c.err, c.refused) || !strings.Contains(c.err.Error(), c.cli) {
			t.Errorf("%s: %v, want %v naming %q", c.name, c.err, c.refused, c.cli)
			continue
		}
		web, ok := WebAnswer(c.err)
		if !ok || !strings.Contains(web, c.web) || strings.Contains(web, "custos ") || !strings.HasPrefix(web, c.refused.Error()+": ") {
			t.Errorf("%s: the web is told %q (%v), want it to name the page (%q), no command", c.name, web, ok, c.web)
		}
	}
	if _, ok := WebAnswer(ErrForbidden); ok {
		t.Error("an error without a web answer has one")
	}
}
