package vault

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/pdq"
)

// The projection of hotline work: reports and their notices, votes,
// classification policies, hash sets, and each person's exposure. Like
// the rest of State it is rebuilt from the log at every start.

// Report is a report's projection.
type Report struct {
	ReportReceived
	ReceivedAt time.Time
	// ReceivedBy is the analyst who entered it, or "" for the public
	// intake.
	ReceivedBy string
	Status     string
	// Case is the case its captures go to, once assessed.
	Case         string
	AssessedBy   string
	AssessedAt   time.Time
	ClosedReason string
	ClosedAt     time.Time
	// Closings are every report.closed event of the report (a reopened
	// report keeps them), for the statistics.
	Closings []Closing
	// Notices by URL, in the order they were sent.
	Notices  []*Notice
	Forwards []Forward
	Items    []string
	// Events are the positions of the report's own events (report.*),
	// in log order: its history, read from the log when shown
	// (Vault.ReportDetail), so that notes are not held in memory.
	Events []uint64
}

// Closing is one report.closed event: its reason and time.
type Closing struct {
	Reason string
	At     time.Time
	// Case is the case the report was in when it was closed: its
	// analysts' to know (Vault.Statistics).
	Case string
}

// Notice is the notice and takedown of one reported URL.
type Notice struct {
	NoticeSent
	// SentAt is the first sending's time, from which removal is timed;
	// LastSentAt the latest sending's (to To), when the URL was noticed
	// again, else zero.
	SentAt, AcknowledgedAt, RemovedAt time.Time
	LastSentAt                        time.Time
	// AcknowledgedNote and RemovedNote are what the analyst noted of
	// the acknowledgement and the removal ("ticket 5521", "checked:
	// 404"), as their events recorded them.
	AcknowledgedNote, RemovedNote string `json:",omitempty"`
	By                            string
	// Case is the case the report was in when the notice was last sent,
	// or its acknowledgement or removal last recorded ("" before it was
	// assessed): its analysts' to read, and what keeps the report in
	// that case (heldInCase).
	Case string
}

// Forward is a report forwarded out of the vault.
type Forward struct {
	ReportForwarded
	At time.Time
	By string
	// Case is the case the report was in when it was forwarded.
	Case string
}

// Vote is one person's classification of an item.
type Vote struct {
	ItemClassified
	By  string
	At  time.Time
	Seq uint64
	// Case is the case of the vote's item.
	Case string
}

// HashSet is an imported hash set's projection.
type HashSet struct {
	HashSetImported
	At time.Time
	By string
}

// Exposure counts what a person was shown on one day (UTC).
type Exposure struct {
	Items int
	// Overrides counts items revealed although known.
	Overrides int
	// VideoMS is the duration of the videos revealed, in milliseconds.
	VideoMS int64
}

type hotlineState struct {
	reports     map[string]*Report
	reportOrder []string
	// votes: item -> person -> their latest vote.
	votes map[string]map[string]Vote
	// settled: item -> the illegal category its votes settled, kept
	// while later votes leave it unsettled (a dissent, a vote changed),
	// until two people's votes settle it as not illegal; dropped when a
	// custodian's decision unsettles it (a policy changed, a voter
	// suspended or removed), which sends it back for review
	// (Classification.heldIllegal).
	settled map[string]settledMark
	// exportedSums: the SHA-256 of each hash list a case's export or a
	// report's forwarding wrote, in any format -> the event that
	// recorded it: a file that is one of them is refused as an import
	// (ImportHashSet). Without categories (sums, csv), every item it
	// lists, classified or not, would take the category given; a VICS
	// list carries the categories its case's own policy settled, which
	// imported here would decide for every case, a stricter one too.
	exportedSums map[string]uint64
	// policy: case -> votes that settle a category (absent: 1).
	policy   map[string]int
	hashsets map[string]*HashSet
	// bySHA256 lists the items of each content SHA-256.
	bySHA256 contentIndex
	// pdq holds the items with a PDQ hash of quality at least
	// pdqMinQuality, in deposit order.
	pdq []pdqItem
	// judged holds, of those, the items that can carry a category (a
	// vote, or a deposit match with one): the only ones a known-material
	// check compares with, so that it costs what has been classified,
	// not everything ever deposited.
	judged    []pdqItem
	judgedSet map[string]bool
	pdqOf     map[string][32]byte
	// exposure: person -> day (2006-01-02) -> counts.
	exposure map[string]map[string]*Exposure
	// contacts is the reporter-contacts key's recipient, once created.
	contacts string
}

// settledMark is the illegal category an item's votes settled, and its
// case.
type settledMark struct {
	Case     string `json:"case"`
	Category string `json:"category"`
	// Voters are the people whose counted votes agreed when they settled
	// it (the last time they did), sorted: a copy in a case of a
	// stricter policy is judged by how many of them still count
	// (Vault.heldIllegalCopy), not by their votes since.
	Voters []string `json:"voters"`
	// Released: a custodian's decision (a policy raised, a voter
	// suspended or removed) unsettled the item since, and sent it back
	// for review: the mark no longer holds it, but one person's
	// not-illegal vote does not settle it either (Classification's
	// NotSettledBecause), as two people's agreeing does.
	Released bool `json:"released,omitempty"`
}

type pdqItem struct {
	item string
	hash [32]byte
}

func newHotlineState() *hotlineState {
	return &hotlineState{reports: map[string]*Report{}, votes: map[string]map[string]Vote{}, settled: map[string]settledMark{}, exportedSums: map[string]uint64{}, policy: map[string]int{},
		hashsets: map[string]*HashSet{}, bySHA256: newContentIndex(0), judgedSet: map[string]bool{}, pdqOf: map[string][32]byte{}, exposure: map[string]map[string]*Exposure{}}
}

func init() {
	appliers[TypeReportReceived] = applyReportReceived
	appliers[TypeReportAssessing] = applyReportAssessing
	appliers[TypeReportClosed] = applyReportClosed
	appliers[TypeReportReopened] = applyReportReopened
	appliers[TypeNoticeSent] = applyNoticeSent
	appliers[TypeNoticeAcknowledged] = applyNoticeProgress(false)
	appliers[TypeContentRemoved] = applyNoticeProgress(true)
	appliers[TypeReportForwarded] = applyReportForwarded
	appliers[TypeReportContactOpened] = applyReportContactOpened
	appliers[TypeItemClassified] = applyItemClassified
	appliers[TypeClassificationPolicySet] = applyClassificationPolicy
	appliers[TypeHashSetImported] = applyHashSetImported
	appliers[TypeHashSetRemoved] = applyHashSetRemoved
	appliers[TypeHashesExported] = applyHashesExported
}

func applyHashesExported(s *State, ev *events.Event) error {
	d, err := data[HashesExported](ev)
	if err != nil {
		return err
	}
	if _, err := s.caseOf(ev); err != nil {
		return err
	}
	if !slices.Contains(HashFormats, d.Format) || !isDigest(d.SHA256) {
		return fmt.Errorf("format %q and sha256 %q are not a hash list's", d.Format, d.SHA256)
	}
	s.hot.exportedSums[d.SHA256] = ev.Seq
	return nil
}

// exportedList is the event (case.hashes.exported, report.forwarded)
// that recorded a hash list the vault wrote whose SHA-256 (hex) is sum,
// if one did.
func (s *State) exportedList(sum string) (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seq, ok := s.hot.exportedSums[sum]
	return seq, ok
}

// reportEvent is reportOf for an applier of one of the report's events,
// whose position it notes (Report.Events).
func (s *State) reportEvent(id string, ev *events.Event) (*Report, error) {
	r, err := s.reportOf(id)
	if err == nil {
		r.Events = append(r.Events, ev.Seq)
	}
	return r, err
}

func (s *State) reportOf(id string) (*Report, error) {
	r := s.hot.reports[id]
	if r == nil {
		return nil, fmt.Errorf("names report %q, which the log never received", id)
	}
	return r, nil
}

func applyReportReceived(s *State, ev *events.Event) error {
	d, err := data[ReportReceived](ev)
	if err != nil {
		return err
	}
	if err := checkReportID(d.Report); err != nil {
		return err
	}
	if s.hot.reports[d.Report] != nil {
		return fmt.Errorf("report %s was already received", d.Report)
	}
	r := &Report{ReportReceived: d, ReceivedAt: statedTime(d.At, ev.Timestamp()), Status: StatusReceived, Events: []uint64{ev.Seq}}
	if ev.Actor.Role != RolePublic {
		r.ReceivedBy = ev.Actor.Person
	}
	s.hot.reports[d.Report] = r
	s.hot.reportOrder = append(s.hot.reportOrder, d.Report)
	return nil
}

func applyReportAssessing(s *State, ev *events.Event) error {
	d, err := data[ReportAssessing](ev)
	if err != nil {
		return err
	}
	r, err := s.reportEvent(d.Report, ev)
	if err != nil {
		return err
	}
	if _, err := s.caseOf(ev); err != nil {
		return err
	}
	r.Case, r.AssessedBy, r.AssessedAt = ev.Case, ev.Actor.Person, ev.Timestamp()
	r.Status = r.openStatus()
	return nil
}

func applyReportClosed(s *State, ev *events.Event) error {
	d, err := data[ReportClosed](ev)
	if err != nil {
		return err
	}
	r, err := s.reportEvent(d.Report, ev)
	if err != nil {
		return err
	}
	r.Status, r.ClosedReason, r.ClosedAt = StatusClosed, d.Reason, ev.Timestamp()
	r.Closings = append(r.Closings, Closing{Reason: d.Reason, At: ev.Timestamp(), Case: ev.Case})
	return nil
}

func applyReportReopened(s *State, ev *events.Event) error {
	d, err := data[ReportReopened](ev)
	if err != nil {
		return err
	}
	r, err := s.reportEvent(d.Report, ev)
	if err != nil {
		return err
	}
	r.ClosedReason, r.ClosedAt = "", time.Time{}
	r.Status = r.openStatus()
	return nil
}

// openStatus is the status of an open report, from what was done with
// it, whatever the order: actioned once a notice was sent or it was
// forwarded, assessing once it is in a case, received before.
func (r *Report) openStatus() string {
	switch {
	case len(r.Notices) > 0 || len(r.Forwards) > 0:
		return StatusActioned
	case r.Case != "":
		return StatusAssessing
	}
	return StatusReceived
}

func applyNoticeSent(s *State, ev *events.Event) error {
	d, err := data[NoticeSent](ev)
	if err != nil {
		return err
	}
	r, err := s.reportEvent(d.Report, ev)
	if err != nil {
		return err
	}
	if n := r.notice(d.URL); n != nil {
		// A notice sent again (to another provider, or repeated) keeps
		// the first sending time: removal is timed from the first.
		n.To, n.Via, n.Reference, n.Country = d.To, d.Via, d.Reference, d.Country
		n.LastSentAt, n.Case = statedTime(d.At, ev.Timestamp()), ev.Case
	} else {
		r.Notices = append(r.Notices, &Notice{NoticeSent: d, SentAt: statedTime(d.At, ev.Timestamp()), By: ev.Actor.Person, Case: ev.Case})
	}
	if r.Status != StatusClosed {
		r.Status = StatusActioned
	}
	return nil
}

func applyNoticeProgress(removed bool) applier {
	return func(s *State, ev *events.Event) error {
		d, err := data[NoticeProgress](ev)
		if err != nil {
			return err
		}
		r, err := s.reportEvent(d.Report, ev)
		if err != nil {
			return err
		}
		n := r.notice(d.URL)
		if n == nil {
			return fmt.Errorf("report %s has no notice for %s", d.Report, d.URL)
		}
		if removed {
			n.RemovedAt, n.RemovedNote = statedTime(d.At, ev.Timestamp()), d.Note
		} else {
			n.AcknowledgedAt, n.AcknowledgedNote = statedTime(d.At, ev.Timestamp()), d.Note
		}
		// What the case's analysts recorded of it makes the notice
		// theirs, as a sending in the case does (one sent before the
		// report was assessed included).
		n.Case = ev.Case
		return nil
	}
}

func applyReportForwarded(s *State, ev *events.Event) error {
	d, err := data[ReportForwarded](ev)
	if err != nil {
		return err
	}
	r, err := s.reportEvent(d.Report, ev)
	if err != nil {
		return err
	}
	r.Forwards = append(r.Forwards, Forward{ReportForwarded: d, At: ev.Timestamp(), By: ev.Actor.Person, Case: ev.Case})
	if isDigest(d.SHA256) {
		s.hot.exportedSums[d.SHA256] = ev.Seq
	}
	if r.Status != StatusClosed {
		r.Status = StatusActioned
	}
	return nil
}

// applyReportContactOpened puts the opening in the report's history.
func applyReportContactOpened(s *State, ev *events.Event) error {
	d, err := data[ReportContactOpened](ev)
	if err != nil {
		return err
	}
	_, err = s.reportEvent(d.Report, ev)
	return err
}

func applyItemClassified(s *State, ev *events.Event) error {
	d, err := data[ItemClassified](ev)
	if err != nil {
		return err
	}
	if it, err := s.item(ev.Item); err != nil {
		return err
	} else if it == nil {
		return fmt.Errorf("names item %q, which was never deposited", ev.Item)
	}
	if before, voters := s.settlement(ev.Item, ev.Case); Illegal(before) {
		// Settled however it came to be (a vote, a policy lowered, a
		// voter reinstated): this vote does not unsettle it for welfare.
		s.hot.settled[ev.Item] = settledMark{Case: ev.Case, Category: before, Voters: voters}
	}
	m := s.hot.votes[ev.Item]
	if m == nil {
		m = map[string]Vote{}
		s.hot.votes[ev.Item] = m
	}
	m[ev.Actor.Person] = Vote{ItemClassified: d, By: ev.Actor.Person, At: ev.Timestamp(), Seq: ev.Seq, Case: ev.Case}
	s.hot.judge(ev.Item)
	// A mark stays when votes clear the item (Classification.heldIllegal
	// asks clearedByVotes first): should the clearing lapse (a voter
	// removed from the case, a vote changed), the mark holds it again.
	if settled, voters := s.settlement(ev.Item, ev.Case); Illegal(settled) {
		s.hot.settled[ev.Item] = settledMark{Case: ev.Case, Category: settled, Voters: voters}
	}
	return nil
}

// settlement is the category the counted votes on an item settle under
// its case's policy ("" if none), and who cast them (sorted), as
// Vault.classification counts them; under the lock.
func (s *State) settlement(item, caseID string) (string, []string) {
	needed := s.hot.policy[caseID]
	if needed < 1 {
		needed = 1
	}
	tally := map[string][]string{}
	for by, vt := range s.hot.votes[item] {
		if p := s.persons[by]; p != nil && p.active() == nil {
			tally[vt.Category] = append(tally[vt.Category], by)
		}
	}
	if len(tally) != 1 {
		return "", nil
	}
	for c, voters := range tally {
		if len(voters) >= needed {
			slices.Sort(voters)
			return c, voters
		}
	}
	return "", nil
}

// marksSettled returns the marked items match selects, each with
// whether its votes settle it as illegal now; a custodian's decision
// (a policy changed, a voter suspended, removed or reinstated) is applied
// between it and dropUnsettled; under the lock.
func (s *State) marksSettled(match func(item string, mk settledMark) bool) map[string]bool {
	out := map[string]bool{}
	for item, mk := range s.hot.settled {
		if match(item, mk) {
			c, _ := s.settlement(item, mk.Case)
			out[item] = Illegal(c)
		}
	}
	return out
}

// markSettledVotedBy marks the items person voted on whose votes settle
// them as illegal now; under the lock.
func (s *State) markSettledVotedBy(person string) {
	for item, votes := range s.hot.votes {
		vt, voted := votes[person]
		if !voted {
			continue
		}
		if c, voters := s.settlement(item, vt.Case); Illegal(c) {
			s.hot.settled[item] = settledMark{Case: vt.Case, Category: c, Voters: voters}
		}
	}
}

// dropUnsettled releases the marks of the items the decision unsettled:
// settled as illegal before it (marksSettled), not after. A custodian's
// decision sends back for review what it unsettles (counted by
// PolicyEffect), and nothing else: an item held by its mark alone (its
// votes disagree) stays held. A released mark stays, so that one
// person's not-illegal vote does not settle the item later (a policy
// lowered again); one whose votes settle it as illegal again (a policy
// lowered, a voter reinstated) holds again.
func (s *State) dropUnsettled(before map[string]bool) {
	for item, was := range before {
		mk := s.hot.settled[item]
		c, voters := s.settlement(item, mk.Case)
		switch {
		case Illegal(c) && mk.Released:
			s.hot.settled[item] = settledMark{Case: mk.Case, Category: c, Voters: voters}
		case was && !mk.Released && !Illegal(c):
			mk.Released = true
			s.hot.settled[item] = mk
		}
	}
}

// settledMarkOf is the illegal category an item's votes once settled
// (zero if none), with how many agreed; the mark stays when votes clear
// the item (Classification.clearedByVotes decides whether it holds now).
func (s *State) settledMarkOf(item string) settledMark {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.hot.settled[item]
}

// judge adds an item that can now carry a category to the PDQ hashes
// known-material checks compare with; under the lock.
func (h *hotlineState) judge(item string) {
	if h.judgedSet[item] {
		return
	}
	if p, ok := h.pdqOf[item]; ok {
		h.judgedSet[item] = true
		h.judged = append(h.judged, pdqItem{item: item, hash: p})
	}
}

func applyClassificationPolicy(s *State, ev *events.Event) error {
	d, err := data[ClassificationPolicySet](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	c.ClassificationPolicy = &StatusNote{By: ev.Actor.Person, At: ev.Timestamp(), Reason: d.Reason, RequestedBy: d.RequestedBy}
	marks := s.marksSettled(func(_ string, mk settledMark) bool { return mk.Case == ev.Case })
	s.hot.policy[ev.Case] = d.Votes
	s.dropUnsettled(marks)
	return nil
}

func applyHashSetImported(s *State, ev *events.Event) error {
	d, err := data[HashSetImported](ev)
	if err != nil {
		return err
	}
	if d.Name == "" || d.TableSHA256 == "" {
		return fmt.Errorf("a hash set import without a name or table digest")
	}
	s.hot.hashsets[d.Name] = &HashSet{HashSetImported: d, At: ev.Timestamp(), By: ev.Actor.Person}
	return nil
}

func applyHashSetRemoved(s *State, ev *events.Event) error {
	d, err := data[HashSetRemoved](ev)
	if err != nil {
		return err
	}
	delete(s.hot.hashsets, d.Name)
	return nil
}

// noteDeposit indexes a deposited item for known-material checks; under
// the lock, from applyItemDeposited.
func (h *hotlineState) noteDeposit(it *Item, m *MediaInfo) {
	h.bySHA256.add(it.Deposit.SHA256, it.ID)
	if m != nil && m.PDQ != "" && m.Quality >= pdqMinQuality {
		var p pdqItem
		if b, err := hex.DecodeString(m.PDQ); err == nil && len(b) == 32 {
			p.item = it.ID
			copy(p.hash[:], b)
			h.pdq = append(h.pdq, p)
			h.pdqOf[it.ID] = p.hash
		}
	}
	for _, m := range it.Deposit.Matches() {
		if severity(m.Category) > 0 {
			h.judge(it.ID)
		}
	}
	if it.Deposit.Report() != "" {
		if r := h.reports[it.Deposit.Report()]; r != nil {
			r.Items = append(r.Items, it.ID)
		}
	}
}

// noteAccess counts a reveal in its person's exposure of the day; under
// the lock, from applyItemAccessed.
func (h *hotlineState) noteAccess(ev *events.Event, it *Item, d ItemAccessed) {
	if !slices.Contains([]string{AccessView, AccessShown, AccessCopy}, d.Access) || ev.Actor.Person == "" {
		return
	}
	days := h.exposure[ev.Actor.Person]
	if days == nil {
		days = map[string]*Exposure{}
		h.exposure[ev.Actor.Person] = days
	}
	day := ev.Timestamp().UTC().Format(time.DateOnly)
	e := days[day]
	if e == nil {
		e = &Exposure{}
		days[day] = e
	}
	e.Items++
	if d.Override != "" {
		e.Overrides++
	}
	e.VideoMS += it.Deposit.VideoMS()
}

func (r *Report) notice(url string) *Notice {
	for _, n := range r.Notices {
		if n.URL == url {
			return n
		}
	}
	return nil
}

// clone copies a report deeply enough to hand out of the lock.
func (r *Report) clone() Report {
	c := *r
	c.URLs = slices.Clone(r.URLs)
	c.Items = slices.Clone(r.Items)
	c.Forwards = slices.Clone(r.Forwards)
	c.Closings = slices.Clone(r.Closings)
	c.Events = slices.Clone(r.Events)
	c.Notices = nil
	for _, n := range r.Notices {
		nn := *n
		c.Notices = append(c.Notices, &nn)
	}
	return c
}

func (s *State) getReport(id string) (Report, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.hot.reports[id]
	if r == nil {
		return Report{}, false
	}
	return r.clone(), true
}

func (s *State) allReports() []Report {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Report, 0, len(s.hot.reports))
	for _, id := range s.hot.reportOrder {
		out = append(out, s.hot.reports[id].clone())
	}
	return out
}

// reportsInCase are the reports assessed into caseID as it stands, in
// the order they were entered.
func (s *State) reportsInCase(caseID string) []Report {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Report
	for _, id := range s.hot.reportOrder {
		if r := s.hot.reports[id]; r.Case == caseID {
			out = append(out, r.clone())
		}
	}
	return out
}

func (s *State) votesOf(item string) []Vote {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := slices.Collect(maps.Values(s.hot.votes[item]))
	slices.SortFunc(out, func(a, b Vote) int { return int(a.Seq) - int(b.Seq) })
	return out
}

// voteOf is person's current vote on item, if they have one.
func (s *State) voteOf(item, person string) (Vote, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	vote, ok := s.hot.votes[item][person]
	return vote, ok
}

func (s *State) votesNeeded(caseID string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return votesOf(s.hot.policy[caseID])
}

func (s *State) hashSets() []HashSet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []HashSet
	for _, h := range s.hot.hashsets {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b HashSet) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *State) hashSet(name string) (HashSet, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := s.hot.hashsets[name]
	if h == nil {
		return HashSet{}, false
	}
	return *h, true
}

func (s *State) exposureOf(person string) map[string]Exposure {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]Exposure{}
	for day, e := range s.hot.exposure[person] {
		out[day] = *e
	}
	return out
}

// itemsBySHA256 returns the items of content SHA-256 sum, in deposit
// order. An error is ErrIntegrity (a page of the content index that
// failed its check).
func (s *State) itemsBySHA256(sum string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.contentItems(sum)
}

// pdqWithin returns the items whose PDQ hash is within maxDistance of
// one of qs (an image's eight dihedral variants, or just its own): all
// items, or (judgedOnly) those that can carry a category.
func (s *State) pdqWithin(qs [][32]byte, maxDistance int, judgedOnly bool) map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	list := s.hot.pdq
	if judgedOnly {
		list = s.hot.judged
	}
	for _, p := range list {
		for _, q := range qs {
			if d := hamming(p.hash, q); d <= maxDistance {
				if old, ok := out[p.item]; !ok || d < old {
					out[p.item] = d
				}
			}
		}
	}
	return out
}

// hamming is the number of bits in which two PDQ hashes differ.
func hamming(a, b [32]byte) int { return pdq.Distance(a, b) }

func init() { appliers[TypeContactsKeyCreated] = applyContactsKeyCreated }

func applyContactsKeyCreated(s *State, ev *events.Event) error {
	d, err := data[ContactsKeyCreated](ev)
	if err != nil {
		return err
	}
	if _, err := age.ParseX25519Recipient(d.Recipient); err != nil {
		return fmt.Errorf("reporter-contacts key: %w", err)
	}
	s.hot.contacts = d.Recipient
	return s.setKeyFiles(contactsKeyID, d.KeyFiles, true, ev.Seq)
}

func (s *State) contactsRecipient() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.hot.contacts
}

// pdqComparable reports whether an item has a PDQ hash of quality at
// least pdqMinQuality (hotlineState's pdqOf), and whether any item can
// carry a category (its judged): a PDQ comparison with the vault's items
// can find known material only when both hold.
func (s *State) pdqComparable(item string) (hashed, anyJudged bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, hashed = s.hot.pdqOf[item]
	return hashed, len(s.hot.judged) > 0
}

// contentIndex lists the items of each content SHA-256, in deposit
// order: the first item in first, any later ones (the same content
// deposited again) in more. Most content is deposited once, so an item
// costs one map entry and no slice of its own.
type contentIndex struct {
	first map[string]string
	more  map[string][]string
}

func newContentIndex(n int) contentIndex {
	return contentIndex{first: make(map[string]string, n), more: map[string][]string{}}
}

// add files item id under content SHA-256 sum, after those filed before.
func (x contentIndex) add(sum, id string) {
	if _, ok := x.first[sum]; !ok {
		x.first[sum] = id
		return
	}
	x.more[sum] = append(x.more[sum], id)
}

// items returns a new slice of the items filed under sum, in the order
// they were filed; nil if none.
func (x contentIndex) items(sum string) []string {
	f, ok := x.first[sum]
	if !ok {
		return nil
	}
	return append([]string{f}, x.more[sum]...)
}
