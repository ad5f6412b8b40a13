package vault

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestCustodyRulesOfReports: the decisions about a hotline report are an
// analyst's, about a report the log received and did not close; from the
// start that records hotline_rules, a report in a case is its analysts'
// work, named with its case (a decision recorded without the case would
// pass for a report in none), its captures go to its case, and the times
// people state are neither after the event nor more than 30 days before
// it, nor before the report's receipt. A log from before that start is
// judged by the first rules alone.
func TestCustodyRulesOfReports(t *testing.T) {
	type step struct {
		typ, person string
		data        any
		broken      string
		at          time.Duration // after base
		caseID      string        // "-" for none; "" for CASE-1
		item        string
	}
	ana, ana2, c1, c2 := "lim.sovann", "ry.chan", "keo.vanna", "chea.sopheap"
	roles := map[string]string{ana: RoleAnalyst, ana2: RoleAnalyst, c1: RoleCustodian, c2: RoleCustodian, "custos": RoleSystem}
	started := step{TypeServerStarted, "custos", map[string]string{"sealer": "s", "request_ttl": "72h0m0s", startedHotlineRules: hotlineRules}, "", 0, "-", ""}
	before := step{TypeServerStarted, "custos", map[string]string{"sealer": "s", "request_ttl": "72h0m0s"}, "", 0, "-", ""}
	opened := step{TypeCaseOpened, ana, CaseOpened{Title: "t", Members: []string{ana}}, "", 0, "", ""}
	other := step{TypeCaseOpened, ana2, CaseOpened{Title: "u", Members: []string{ana2}}, "", 0, "CASE-2", ""}
	received := step{TypeReportReceived, ana, ReportReceived{Report: "rp_1", Channel: "email", URLs: []string{"https://x.example/a"}}, "", 0, "-", ""}
	assessed := step{TypeReportAssessing, ana, ReportAssessing{Report: "rp_1"}, "", time.Minute, "", ""}
	notice := func(by, caseID string, at time.Time, broken string) step {
		n := NoticeSent{Report: "rp_1", URL: "https://x.example/a", To: "host", Via: "email"}
		if !at.IsZero() {
			n.At = at.Format(time.RFC3339)
		}
		return step{TypeNoticeSent, by, n, broken, 2 * time.Minute, caseID, ""}
	}
	var none time.Time
	for name, steps := range map[string][]step{
		"a report worked in its case by its analyst": {
			started, opened, received, assessed,
			notice(ana, "", base.Add(time.Minute), ""),
			{TypeContentRemoved, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a"}, "", 3 * time.Minute, "", ""},
			{TypeItemDeposited, ana, ItemDeposited{Name: "c.png", Report: "rp_1"}, "", 3 * time.Minute, "", "it_0123456789abcdef01234567"},
			{TypeReportForwarded, ana, ReportForwarded{Report: "rp_1", To: "p", Kind: "hotline", Format: "csv"}, "", 4 * time.Minute, "", ""},
			{TypeReportClosed, ana, ReportClosed{Report: "rp_1", Reason: "actioned"}, "", 5 * time.Minute, "", ""},
			{TypeReportReopened, ana, ReportReopened{Report: "rp_1", Reason: "r"}, "", 6 * time.Minute, "", ""},
		},
		"decisions by someone not an analyst, or on a report never received": {
			started, opened, received,
			notice(c1, "-", none, "a custodian: only an analyst does it"),
			{TypeReportForwarded, ana, ReportForwarded{Report: "rp_9", To: "p", Kind: "police", Format: "csv"}, "the log never received it", 0, "-", ""},
		},
		"an assessment into a case of someone else's": {
			started, opened, other, received,
			{TypeReportAssessing, ana2, ReportAssessing{Report: "rp_1"}, "who was not assigned to it", 0, "", ""},
			{TypeReportAssessing, ana, ReportAssessing{Report: "rp_1"}, "which the log never opened", 0, "NEVER", ""},
		},
		"another case's analyst, with the case named or left out": {
			started, opened, other, received, assessed,
			notice(ana2, "", none, "who was not assigned to its case CASE-1"),
			notice(ana2, "-", none, `as a report of case "", but it is in case CASE-1`),
			notice(ana2, "CASE-2", none, `as a report of case "CASE-2", but it is in case CASE-1`),
			{TypeItemDeposited, ana2, ItemDeposited{Name: "c.png", Report: "rp_1"}, `which is assessed into case "CASE-1"`, 0, "CASE-2", "it_0123456789abcdef01234568"},
		},
		"stated times after the event, more than 30 days before it, before the receipt": {
			started, opened, received, assessed,
			notice(ana, "", base.Add(time.Hour), "after the event that records it"),
			notice(ana, "", base.Add(-31*24*time.Hour), "more than 30 days before"),
			notice(ana, "", base.Add(-time.Hour), "before the report was received"),
			{TypeReportReceived, ana, ReportReceived{Report: "rp_2", Channel: "email", URLs: []string{"https://x.example/b"}, At: base.Add(time.Hour).Format(time.RFC3339)}, "received with a stated time", 0, "-", ""},
		},
		"a closed report changed, a report reopened that was open": {
			started, opened, received, assessed,
			{TypeReportClosed, ana, ReportClosed{Report: "rp_1", Reason: "duplicate"}, "", 3 * time.Minute, "", ""},
			notice(ana, "", none, "while it was closed"),
			{TypeReportReopened, ana, ReportReopened{Report: "rp_1", Reason: "r"}, "", 4 * time.Minute, "", ""},
			{TypeReportReopened, ana, ReportReopened{Report: "rp_1", Reason: "r"}, "but it was not closed", 4 * time.Minute, "", ""},
		},
		"a log from before hotline_rules: the first rules alone": {
			before, opened, other, received, assessed,
			notice(ana2, "-", base.Add(-40*24*time.Hour), ""),
			notice(c1, "-", none, "a custodian: only an analyst does it"),
		},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			enroll(t, &r, roles)
			for i, s := range steps {
				ev := ruleStep(t, uint64(i), s.typ, s.person, roles[s.person], s.data, s.at, s.caseID)
				ev.Item = s.item
				checkRule(t, &r, ev, s.broken)
			}
		})
	}
}

// TestCustodyRulesOfReveals: from the start that records hotline_rules,
// a view of an item whose deposit matched a known-illegal entry records
// its override (the vault reveals known material only so), until a
// not-illegal vote on it; a match of another category, or a log from
// before that start, asks none.
func TestCustodyRulesOfReveals(t *testing.T) {
	inv, ana := "sok.dara", "lim.sovann"
	roles := map[string]string{inv: RoleInvestigator, ana: RoleAnalyst, "custos": RoleSystem}
	matched := func(item, category string) *events.Event {
		b, _ := json.Marshal(ItemDeposited{Name: "a.jpg", Matches: []HashSetMatch{{Set: "caid", Entry: 4, Algorithm: "sha256", Category: category}}})
		return &events.Event{Type: TypeItemDeposited, Case: "CASE-1", Item: item, Actor: events.Actor{Person: inv, Role: RoleInvestigator}, Data: b}
	}
	view := func(item, override string) *events.Event {
		b, _ := json.Marshal(ItemAccessed{Purpose: "review", Access: "copy", Override: override})
		return &events.Event{Type: TypeItemAccessed, Case: "CASE-1", Item: item, Actor: events.Actor{Person: ana, Role: RoleAnalyst}, Data: b}
	}
	vote := func(item, category string) *events.Event {
		b, _ := json.Marshal(ItemClassified{Category: category})
		return &events.Event{Type: TypeItemClassified, Case: "CASE-1", Item: item, Actor: events.Actor{Person: ana, Role: RoleAnalyst}, Data: b}
	}
	start := func(rules string) *events.Event {
		d := map[string]string{"sealer": "s"}
		if rules != "" {
			d[startedHotlineRules] = rules
		}
		b, _ := json.Marshal(d)
		return &events.Event{Type: TypeServerStarted, Actor: events.Actor{Person: "custos", Role: RoleSystem}, Data: b}
	}
	opened, _ := json.Marshal(CaseOpened{Title: "t", Members: []string{inv, ana}})
	a, b, c := "it_0123456789abcdef0123456a", "it_0123456789abcdef0123456b", "it_0123456789abcdef0123456c"
	for name, steps := range map[string][]struct {
		ev     *events.Event
		broken string
	}{
		"known-illegal matches revealed with and without the override": {
			{start(hotlineRules), ""},
			{&events.Event{Type: TypeCaseOpened, Case: "CASE-1", Actor: events.Actor{Person: inv, Role: RoleInvestigator}, Data: opened}, ""},
			{matched(a, CategoryBaseline), ""}, {matched(b, CategoryNational), ""}, {matched(c, CategoryNotIllegal), ""},
			{view(a, "it matches entry 4 of hash set caid (baseline)"), ""},
			{view(a, ""), "without the override that reveals known material: its deposit matched entry 4 of hash set caid (baseline)"},
			{view(b, ""), "entry 4 of hash set caid (national)"},
			{view(c, ""), ""},
			{vote(a, CategoryBaseline), ""},
			{view(a, ""), "without the override"},
			{vote(a, CategoryNotIllegal), ""},
			{view(a, ""), ""},
		},
		"a log from before hotline_rules": {
			{start(""), ""},
			{&events.Event{Type: TypeCaseOpened, Case: "CASE-1", Actor: events.Actor{Person: inv, Role: RoleInvestigator}, Data: opened}, ""},
			{matched(a, CategoryBaseline), ""},
			{view(a, ""), ""},
			{start(hotlineRules), ""},
			{view(a, ""), "without the override"},
			{start(""), ""}, // an older release started again: the rule stands
			{view(a, ""), "without the override"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			enroll(t, &r, roles)
			for i, s := range steps {
				s.ev.Seq, s.ev.Time = uint64(i), events.FormatTime(base.Add(time.Duration(i)*time.Second))
				checkRule(t, &r, s.ev, s.broken)
			}
		})
	}
}
