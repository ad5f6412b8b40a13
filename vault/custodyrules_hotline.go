package vault

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
)

// The rules of hotline reports (custody-log.md section 7, step 8): the
// decisions about a report are an active analyst's, about a report the
// log received and did not close (but a reopening), and an assessment
// is into a case the analyst is assigned to, as every release decided
// them. From the first start that records hotline_rules 2026-12-08 or
// later (startedHotlineRules), for good: a decision about a
// report in a case names that case and is made by one of its analysts
// at that position, a capture deposited for a report goes to its case,
// nothing is decided about a report whose case's destruction was
// approved, and the times a person states (a report received, a notice
// sent, acknowledged, a removal) are neither after the event that
// records them nor more than MaxBackdate before it, and none before
// the report's receipt.

// startedHotlineRules is the server.started member that names, by its
// date, the rules of hotline work the server keeps (hotlineRules): from
// "2026-12-08", it decides about a report in a case only for that
// case's analysts, naming the case in each decision's event, and
// reveals an item whose deposit matched a known-illegal entry only with
// the override the access records. The audit's rules of that date apply
// from the first start that records it, whatever starts follow; a later
// release that keeps more records a later date.
const (
	startedHotlineRules = "hotline_rules"
	hotlineRules        = "2026-12-08"
)

// reportRules: the rules of hotline_rules 2026-12-08 apply.
func (r *CustodyRules) reportRules() bool { return r.hotlineRules >= "2026-12-08" }

// hotlineRulesOf reads a server.started's hotline_rules (d), for
// started: a date, YYYY-MM-DD; "" when absent. A value of another form
// (which no vault writes) turns every rule on, and is a finding
// (badHotlineRules).
func hotlineRulesOf(d map[string]string) string {
	v, ok := d[startedHotlineRules]
	if !ok {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return "9999-12-31"
	}
	return v
}

// badHotlineRules is the finding of a server.started whose
// hotline_rules is not a date.
func (r *CustodyRules) badHotlineRules(ev *events.Event) error {
	d, err := data[map[string]string](ev)
	if err != nil {
		return nil
	}
	if v, ok := d[startedHotlineRules]; ok {
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return r.broken(ev, "server.started records hotline_rules %q, which is not a date (YYYY-MM-DD): every rule of hotline work applies from here", v)
		}
	}
	return nil
}

// reportDecisionTypes are the events that record an analyst's decision
// about a report.
var reportDecisionTypes = map[string]string{
	TypeReportAssessing: "assessed", TypeReportClosed: "closed", TypeReportReopened: "reopened",
	TypeNoticeSent: "noticed", TypeNoticeAcknowledged: "acknowledged", TypeContentRemoved: "removal recorded",
	TypeReportForwarded: "forwarded",
}

// ruleReport is what the rules keep of a report: the case it is in
// ("" for none), whether it is closed, and when it was received (the
// time its report.received states, or the event's).
type ruleReport struct {
	inCase   string
	closed   bool
	received time.Time
	// urls are the report's URLs, as its report.received recorded them,
	// each with its notice once one was sent (hotlineRules only).
	urls map[string]*ruleNotice
}

// ruleNotice is what the rules keep of a URL's notice: when it was
// first sent (stated, or the event's time; zero while none was), and
// whether its acknowledgement and its removal were recorded.
type ruleNotice struct {
	sent, last            time.Time
	acknowledged, removed bool
}

// reportFields are the members the rules read of a report event.
type reportFields struct {
	Report string `json:"report"`
	At     string `json:"at"`
	URL    string `json:"url"`
}

// receivedURLs are a report.received's URLs (report.forwarded's "urls"
// is a count: the members are read type by type).
type receivedURLs struct {
	URLs []string `json:"urls"`
}

// report is the rule of a report event (finding: what earlier rules
// found at it).
func (r *CustodyRules) report(ev *events.Event, finding error) error {
	d, err := ruleData[reportFields](r, ev)
	if err != nil {
		return finding
	}
	if r.reports == nil {
		r.reports = map[string]*ruleReport{}
	}
	rp := r.reports[d.Report]
	if ev.Type == TypeReportReceived {
		if err := r.standing(ev); err != nil && finding == nil {
			finding = err // an analyst's entry, as every act (the public's is no one's)
		}
		if rp != nil {
			return r.broken(ev, "report %s was received again: a report id is recorded once", d.Report)
		}
		rp = &ruleReport{received: ev.Timestamp()}
		if at, ok := stated(d.At); ok {
			rp.received = at
		}
		if r.reportRules() {
			if u, err := ruleData[receivedURLs](r, ev); err == nil {
				rp.urls = make(map[string]*ruleNotice, len(u.URLs))
				for _, u := range u.URLs {
					rp.urls[strings.Clone(u)] = &ruleNotice{}
				}
			}
		}
		r.reports[strings.Clone(d.Report)] = rp
		if r.reportRules() && ev.Actor.Role == RolePublic && d.At != "" && finding == nil {
			// The public intake takes no time from the reporter.
			return r.broken(ev, "report %s from the public intake was recorded as received at %s: the intake records the time it received it, never one stated", d.Report, d.At)
		}
		if why := r.statedTime(ev, d.At, time.Time{}); why != "" && finding == nil {
			return r.broken(ev, "report %s was recorded as received %s", d.Report, why)
		}
		return finding
	}
	what := reportDecisionTypes[ev.Type]
	if what == "" {
		return finding // the opening of a contact: read, not decided
	}
	if why := r.cannotAct(ev, "an analyst", RoleAnalyst); why != "" {
		return r.broken(ev, "report %s was %s %s", d.Report, what, why)
	}
	switch {
	case rp == nil:
		return r.broken(ev, "report %s was %s, but the log never received it", d.Report, what)
	case rp.closed && ev.Type != TypeReportReopened:
		return r.broken(ev, "report %s was %s while it was closed: a closed report is reopened first", d.Report, what)
	case !rp.closed && ev.Type == TypeReportReopened:
		return r.broken(ev, "report %s was reopened, but it was not closed", d.Report)
	}
	if ev.Type == TypeReportAssessing {
		// Into a case of the analyst's, opened and not destroyed.
		c := r.cases[ev.Case]
		switch {
		case c == nil:
			return r.broken(ev, "report %s was assessed into case %q, which the log never opened", d.Report, ev.Case)
		case !c.members[ev.Actor.Person]:
			return r.broken(ev, "report %s was assessed into case %s by %s, who was not assigned to it at that position", d.Report, ev.Case, ev.Actor.Person)
		case c.destroyed != 0:
			return r.broken(ev, "report %s was assessed into case %s after its destruction was approved (event %d)", d.Report, ev.Case, c.destroyed)
		}
	}
	if r.reportRules() && rp.inCase == "" && ev.Type != TypeReportAssessing && ev.Case != "" {
		return r.broken(ev, "report %s was %s as a report of case %s, but it is in no case", d.Report, what, ev.Case)
	}
	if r.reportRules() && rp.inCase != "" {
		c := r.cases[rp.inCase]
		switch {
		case ev.Type != TypeReportAssessing && ev.Case != rp.inCase:
			return r.broken(ev, "report %s was %s as a report of case %q, but it is in case %s", d.Report, what, ev.Case, rp.inCase)
		case c != nil && c.destroyed != 0:
			return r.broken(ev, "report %s was %s after the destruction of its case %s was approved (event %d)", d.Report, what, rp.inCase, c.destroyed)
		case c != nil && !c.members[ev.Actor.Person]:
			return r.broken(ev, "report %s was %s by %s, who was not assigned to its case %s at that position: a report in a case is that case's analysts' work", d.Report, what, ev.Actor.Person, rp.inCase)
		}
	}
	if r.reportRules() {
		if why := r.statedTime(ev, d.At, rp.received); why != "" {
			return r.broken(ev, "report %s was %s %s", d.Report, what, why)
		}
		if f := r.noticeRule(ev, d, rp, what); f != nil {
			return f
		}
	}
	switch ev.Type {
	case TypeReportAssessing:
		rp.inCase = strings.Clone(ev.Case)
	case TypeReportClosed:
		rp.closed = true
	case TypeReportReopened:
		rp.closed = false
	}
	return finding
}

// noticeRule is the rule of a notice and takedown event (hotlineRules):
// a notice names one of the report's URLs; an acknowledgement or a
// removal follows a notice of that URL, once each, and states no time
// before the notice's first sending (to the second, as times are
// stated). It notes what it allowed. (A report received before the
// rules began has no URLs kept: its notices are not judged.)
func (r *CustodyRules) noticeRule(ev *events.Event, d reportFields, rp *ruleReport, what string) error {
	if rp.urls == nil {
		return nil
	}
	switch ev.Type {
	case TypeNoticeSent:
		n := rp.urls[d.URL]
		if n == nil {
			return r.broken(ev, "report %s was noticed for %q, which it does not name", d.Report, d.URL)
		}
		at, ok := stated(d.At)
		if !ok {
			at = ev.Timestamp()
		}
		if !n.last.IsZero() && at.Before(n.last.Truncate(time.Second)) {
			return r.broken(ev, "report %s was noticed again for %q with a stated time %s before its last notice (%s)", d.Report, d.URL, d.At, n.last.UTC().Format(time.RFC3339))
		}
		if n.sent.IsZero() {
			n.sent = at
		}
		n.last = at
	case TypeNoticeAcknowledged, TypeContentRemoved:
		n := rp.urls[d.URL]
		switch {
		case n == nil || n.sent.IsZero():
			return r.broken(ev, "report %s had its %s for %q, for which no notice was recorded", d.Report, what, d.URL)
		case ev.Type == TypeNoticeAcknowledged && n.acknowledged, ev.Type == TypeContentRemoved && n.removed:
			return r.broken(ev, "report %s had its %s for %q a second time", d.Report, what, d.URL)
		}
		if at, ok := stated(d.At); ok && at.Before(n.sent.Truncate(time.Second)) {
			return r.broken(ev, "report %s had its %s for %q with a stated time %s before the notice was sent (%s)", d.Report, what, d.URL, d.At, n.sent.UTC().Format(time.RFC3339))
		}
		if ev.Type == TypeNoticeAcknowledged {
			n.acknowledged = true
		} else {
			n.removed = true
		}
	}
	return nil
}

// capturedFor is the rule of a deposit made for a report: from the start
// that records hotline_rules, into the case the report is assessed in.
func (r *CustodyRules) capturedFor(ev *events.Event) error {
	// Most deposits name no report: their data is not decoded again.
	if !r.reportRules() || !bytes.Contains(ev.Data, []byte(`"report"`)) {
		return nil
	}
	d, err := ruleData[reportFields](r, ev)
	if err != nil || d.Report == "" {
		return nil
	}
	switch rp := r.reports[d.Report]; {
	case rp == nil:
		return r.broken(ev, "item %s was deposited for report %s, which the log never received", ev.Item, d.Report)
	case rp.inCase != ev.Case:
		return r.broken(ev, "item %s was deposited into case %s for report %s, which is assessed into case %q", ev.Item, ev.Case, d.Report, rp.inCase)
	case rp.closed:
		return r.broken(ev, "item %s was deposited for report %s while it was closed", ev.Item, d.Report)
	}
	return nil
}

// statedTime says what is wrong with a time a person stated (at, "" for
// none) of what ev records: after the event, more than MaxBackdate
// before it (a minute's slack each way, for the clocks of a batch), or
// before notBefore (the report's receipt; zero: none). "" when nothing
// is.
func (r *CustodyRules) statedTime(ev *events.Event, at string, notBefore time.Time) string {
	t, ok := stated(at)
	if !ok {
		if at != "" && r.reportRules() {
			return "with a stated time " + strconv.Quote(at) + " that is not an RFC 3339 time"
		}
		return ""
	}
	if !r.reportRules() {
		return ""
	}
	now := ev.Timestamp()
	switch {
	case t.After(now.Add(expirySlack)):
		return "with a stated time " + at + " after the event that records it (" + now.UTC().Format(time.RFC3339) + ")"
	case now.Sub(t) > MaxBackdate+expirySlack:
		return "with a stated time " + at + " more than 30 days before the event that records it"
	case !notBefore.IsZero() && t.Before(notBefore.Truncate(time.Second)):
		return "with a stated time " + at + " before the report was received (" + notBefore.UTC().Format(time.RFC3339) + ")"
	}
	return ""
}

// stated reads a stated time (RFC 3339); false for none or another form.
func stated(at string) (time.Time, bool) {
	if at == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, at)
	return t, err == nil
}

// matchFields are the members the rules read of a deposit's matches, a
// vote's category and a view's override.
type matchFields struct {
	Matches []struct {
		Set      string `json:"set"`
		Entry    uint64 `json:"entry"`
		Category string `json:"category"`
	} `json:"matches"`
	Category string `json:"category"`
	Override string `json:"override"`
}

// matchHold is an item whose deposit matched a known-illegal entry
// (which), and the votes on it the rules allowed, by voter.
type matchHold struct {
	entry string
	votes map[string]string
}

// knownMatch is the rule of a reveal (from hotline_rules 2026-12-08): an
// item whose deposit matched a known-illegal hash-set entry (baseline or
// national) is known material for good unless votes clear it, as the
// vault decides it (Classification.clearedByVotes): the counted votes
// (of voters neither suspended nor removed) are all not-illegal, as many
// as the case's policy asks, and at least two of their voters are
// assigned to the item's case at that position. A view of it that is
// not cleared so records the override that reveals it (why it was
// known). (It is the part of the vault's decision the log shows alone:
// whether an item copies or looks like one held illegal depends on the
// votes of every other item and the sets in use then.) Its memory is an
// entry an item that matched such an entry, with its votes.
func (r *CustodyRules) knownMatch(ev *events.Event) error {
	switch ev.Type {
	case TypeItemDeposited:
		// Most deposits match nothing: their data is not decoded again.
		if !bytes.Contains(ev.Data, []byte(`"matches"`)) {
			return nil
		}
		d, err := ruleData[matchFields](r, ev)
		if err != nil {
			return nil
		}
		for _, m := range d.Matches {
			if m.Category == CategoryBaseline || m.Category == CategoryNational {
				if r.heldByMatch == nil {
					r.heldByMatch = map[string]*matchHold{}
				}
				r.heldByMatch[strings.Clone(ev.Item)] = &matchHold{entry: fmt.Sprintf("entry %d of hash set %s (%s)", m.Entry, m.Set, m.Category)}
				break
			}
		}
	case TypeItemClassified:
		h := r.heldByMatch[ev.Item]
		if h == nil {
			return nil
		}
		// Only a vote the rules allow counts: one that is a finding
		// (by someone who may not vote there) changes nothing, even
		// once an auditor accepts the finding.
		dep, _ := r.itemCase(ev.Item)
		c := r.cases[dep]
		if dep != ev.Case || c == nil || c.destroyed != 0 || !c.members[ev.Actor.Person] || r.cannotAct(ev, "", RoleInvestigator, RoleAnalyst) != "" {
			return nil
		}
		if d, err := ruleData[matchFields](r, ev); err == nil {
			if h.votes == nil {
				h.votes = map[string]string{}
			}
			h.votes[strings.Clone(ev.Actor.Person)] = strings.Clone(d.Category) // a later vote replaces the earlier
		}
	case TypeItemAccessed:
		h := r.heldByMatch[ev.Item]
		if h == nil || !r.reportRules() || r.clearedByVotes(ev.Item, h) {
			return nil
		}
		if d, err := ruleData[matchFields](r, ev); err == nil && d.Override == "" {
			return r.broken(ev, "item %s was sent to %s without the override that reveals known material: its deposit matched %s, and no votes cleared it (not-illegal, as many as the case asks, two of them by people of the case)", ev.Item, ev.Actor.Person, h.entry)
		}
	}
	return nil
}

// clearedByVotes is Classification.clearedByVotes at the rules'
// position for a matched item: its counted votes all not-illegal, at
// least the case's policy of them, two of their voters assigned now.
func (r *CustodyRules) clearedByVotes(item string, h *matchHold) bool {
	dep, _ := r.itemCase(item)
	c := r.cases[dep]
	if c == nil {
		return false
	}
	counted, clearers := 0, 0
	for voter, category := range h.votes {
		if p := r.persons[voter]; p == nil || p.suspended || p.removed {
			continue // not counted, as the vault counts none of theirs
		}
		if category != CategoryNotIllegal {
			return false // a dissent: nothing is settled
		}
		counted++
		if c.members[voter] {
			clearers++
		}
	}
	return counted >= c.votesNeeded() && clearers >= minNotIllegalVoters
}
