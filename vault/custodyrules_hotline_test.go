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
	roles := map[string]string{ana: RoleAnalyst, ana2: RoleAnalyst, c1: RoleCustodian, c2: RoleCustodian, "custos": RoleSystem, "public": RolePublic}
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
		"data that does not read by the grammar": {
			started, opened, received, assessed,
			{TypeNoticeSent, ana, json.RawMessage(`{"report":"rp_1","url":"https://x.example/a","to":"h","via":"email","at":5}`), "does not read by the grammar", 2 * time.Minute, "", ""},
			{TypeReportClosed, ana, json.RawMessage(`{"report":"rp_9","Report":"rp_1","reason":"duplicate"}`), "does not read by the grammar", 2 * time.Minute, "", ""},
			{TypeReportClosed, ana, json.RawMessage(`{"report":"rp_1","report":"rp_9","reason":"duplicate"}`), "does not read by the grammar", 2 * time.Minute, "", ""},
		},
		"notice and takedown out of order": {
			started, opened, received, assessed,
			{TypeNoticeSent, ana, NoticeSent{Report: "rp_1", URL: "https://x.example/other", To: "h", Via: "email"}, "which it does not name", 2 * time.Minute, "", ""},
			{TypeContentRemoved, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a"}, "for which no notice was recorded", 2 * time.Minute, "", ""},
			notice(ana, "", base.Add(time.Minute), ""),
			{TypeNoticeAcknowledged, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a", At: base.Add(30 * time.Second).Format(time.RFC3339)}, "before the notice was sent", 3 * time.Minute, "", ""},
			{TypeNoticeAcknowledged, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a"}, "", 3 * time.Minute, "", ""},
			{TypeNoticeAcknowledged, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a"}, "a second time", 3 * time.Minute, "", ""},
			{TypeContentRemoved, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a"}, "", 4 * time.Minute, "", ""},
			{TypeContentRemoved, ana, NoticeProgress{Report: "rp_1", URL: "https://x.example/a"}, "a second time", 4 * time.Minute, "", ""},
		},
		"a capture for a closed report, a public report backdated, a notice sent again before the last": {
			started, opened, received, assessed,
			notice(ana, "", base.Add(time.Minute), ""),
			{TypeNoticeSent, ana, NoticeSent{Report: "rp_1", URL: "https://x.example/a", To: "h2", Via: "iccam", At: base.Add(30 * time.Second).Format(time.RFC3339)}, "before its last notice", 3 * time.Minute, "", ""},
			{TypeReportClosed, ana, ReportClosed{Report: "rp_1", Reason: "actioned"}, "", 4 * time.Minute, "", ""},
			{TypeItemDeposited, ana, ItemDeposited{Name: "late.png", Report: "rp_1"}, "while it was closed", 5 * time.Minute, "", "it_0123456789abcdef01234569"},
			{TypeReportReceived, "public", ReportReceived{Report: "rp_3", Channel: "web", URLs: []string{"https://x.example/p"}, At: base.Add(-time.Hour).Format(time.RFC3339)}, "from the public intake was recorded as received at", 0, "-", ""},
		},
		"a report in no case decided as a case's": {
			started, opened, received,
			{TypeReportClosed, ana, ReportClosed{Report: "rp_1", Reason: "duplicate"}, "but it is in no case", time.Minute, "", ""},
			{TypeReportClosed, ana, ReportClosed{Report: "rp_1", Reason: "duplicate"}, "", time.Minute, "-", ""},
		},
		"a vote for no category, and a start's hotline_rules that is no date": {
			started, opened,
			{TypeItemDeposited, ana, ItemDeposited{Name: "c.png"}, "", 0, "", "it_0123456789abcdef01234567"},
			{TypeItemClassified, ana, ItemClassified{Category: "banana"}, "which is none of baseline, national, not-illegal", 0, "", "it_0123456789abcdef01234567"},
			{TypeServerStarted, "custos", map[string]string{"sealer": "s", startedHotlineRules: "yes"}, "not a date", 0, "-", ""},
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
	roles := map[string]string{inv: RoleInvestigator, ana: RoleAnalyst, "keo.vanna": RoleCustodian, "custos": RoleSystem}
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
	raw := func(ev *events.Event, data string) *events.Event { ev.Data = json.RawMessage(data); return ev }
	voteBy := func(person, role, item, category string) *events.Event {
		ev := vote(item, category)
		ev.Actor = events.Actor{Person: person, Role: role}
		return ev
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
			// One person's not-illegal vote does not clear known
			// material; a second person's of the case does; a vote
			// changed back holds it again.
			{view(a, ""), "no votes cleared it"},
			{voteBy(inv, RoleInvestigator, a, CategoryNotIllegal), ""},
			{view(a, ""), ""},
			{vote(a, CategoryBaseline), ""},
			{view(a, ""), "no votes cleared it"},
		},
		"a vote that is itself a finding lifts nothing": {
			{start(hotlineRules), ""},
			{&events.Event{Type: TypeCaseOpened, Case: "CASE-1", Actor: events.Actor{Person: inv, Role: RoleInvestigator}, Data: opened}, ""},
			{matched(a, CategoryBaseline), ""},
			{&events.Event{Type: TypeItemClassified, Case: "CASE-1", Item: a, Actor: events.Actor{Person: "keo.vanna", Role: RoleCustodian}, Data: json.RawMessage(`{"category":"not-illegal"}`)}, "only an investigator or analyst does it"},
			{view(a, ""), "without the override"},
		},
		"an override in a member of another case, or given twice": {
			{start(hotlineRules), ""},
			{&events.Event{Type: TypeCaseOpened, Case: "CASE-1", Actor: events.Actor{Person: inv, Role: RoleInvestigator}, Data: opened}, ""},
			{matched(b, CategoryBaseline), ""},
			{raw(view(b, ""), `{"purpose":"p","access":"copy","Override":"x"}`), "does not read by the grammar"},
			{raw(view(b, ""), `{"purpose":"p","access":"copy","override":"","override":"x"}`), "does not read by the grammar"},
			{raw(view(b, ""), `{"purpose":"p","access":"copy","override":"x","override":""}`), "does not read by the grammar"},
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
