package vault

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Classification (docs/hotline.md): each vote is an item.classified
// event; a case's policy says how many agreeing votes settle a category
// (default 1; CAID-style 3). A person's later vote replaces their
// earlier one. Where no vote settles it, a category inherited from a
// known-illegal hash set the deposit matched stands.

// MaxClassificationVotes bounds a case's classification policy.
const MaxClassificationVotes = 9

// Classification is an item's classification as the votes and hash-set
// matches have it.
type Classification struct {
	// Category is the settled category ("" while unsettled or disputed).
	Category string `json:"category,omitempty"`
	// Source says what settled it: "votes", "hashset", or "once-settled"
	// (votes settled it in an illegal category, and one person's vote
	// since does not clear it: NotSettledBecause).
	Source string `json:"source,omitempty"`
	// NotSettledBecause says why votes that reach the case's policy for
	// not illegal do not settle the item: it is known material (a
	// known-illegal hash set lists it, votes once settled it illegal, it
	// copies an item held illegal), which only two people assigned to
	// the case agreeing clear (minNotIllegalVoters). Category is then
	// what holds it, or "" for a copy. "" otherwise.
	NotSettledBecause string `json:"not_settled_because,omitempty"`
	// Needed is the agreeing votes that settle a category in the case.
	Needed int `json:"needed"`
	// Tally counts the current votes by category.
	Tally map[string]int `json:"tally"`
	// Disputed: the votes disagree (more than one category has votes).
	Disputed bool         `json:"disputed"`
	Votes    []VoteView   `json:"votes"`
	Inherit  *InheritView `json:"inherited,omitempty"`
	// KnownGood: the deposit matched a known-good (NSRL-style) set.
	KnownGood bool `json:"known_good,omitempty"`
	// onceSettled is the illegal category votes settled the item in
	// before later votes unsettled it, and who agreed then
	// (State.settledMarkOf).
	onceSettled       string
	onceSettledVoters []string
	// released is the illegal category votes once settled the item in
	// before a custodian's decision sent it back for review (a released
	// mark, settledMark.Released): it holds nothing, but one person's
	// not-illegal vote does not settle the item.
	released string
	// known is why the item is known material (knownBecause), where the
	// classification was made for an answer that says so (Classify).
	known string
	// clearers counts the counted not-illegal votes whose voters are
	// assigned to the item's case now (clearedByVotes).
	clearers int
	// unchanged: Classify was asked for the vote its voter's current
	// vote is already, and recorded nothing.
	unchanged bool
}

// Known is why the item is known material after the vote Classify
// recorded, and so hidden from review ("" when it is not, or when the
// classification was not made by Classify).
func (cl Classification) Known() string { return cl.known }

// Undecided is, for an item whose category is neither settled nor
// disputed, the one category its counted votes are for and how many
// there are (the tally: the votes of people suspended or removed do not
// count; those of people no longer on the case do, but do not clear
// known material); "" and 0 when there is none.
func (cl Classification) Undecided() (category string, votes int) {
	// A hash set's category holds while votes are short of settling
	// one: they are pending beside it.
	if cl.Category != "" && cl.Source != "hashset" || cl.Disputed {
		return "", 0
	}
	for cat, n := range cl.Tally {
		if n > 0 {
			category, votes = cat, n
		}
	}
	return category, votes
}

// UndecidedVotes is Undecided's count, for templates.
func (cl Classification) UndecidedVotes() int { _, n := cl.Undecided(); return n }

// UndecidedNeeded is how many agreeing votes settle an undecided item:
// the case's policy, or, for known material whose not-illegal votes do
// not clear it (NotSettledBecause), the two people of the case it takes.
func (cl Classification) UndecidedNeeded() int {
	if cl.NotSettledBecause != "" && cl.Category == "" {
		return minNotIllegalVoters
	}
	return cl.Needed
}

// UndecidedCategory is Undecided's category, for templates.
func (cl Classification) UndecidedCategory() string { c, _ := cl.Undecided(); return c }

// Unchanged reports whether Classify was asked for the very vote (every
// field) its voter's current vote on the item is, and so recorded
// nothing: a vote repeated is no second vote.
func (cl Classification) Unchanged() bool { return cl.unchanged }

// VoteView is one vote as shown.
type VoteView struct {
	By       string `json:"by"`
	Category string `json:"category"`
	AgeGroup string `json:"age_group,omitempty"`
	Sex      string `json:"sex,omitempty"`
	Series   string `json:"series,omitempty"`
	Note     string `json:"note,omitempty"`
	At       string `json:"at"`
	Event    uint64 `json:"event"`
	// NotCounted says why the vote does not count toward the item's
	// category: its voter was removed, or is suspended ("" when it
	// counts).
	NotCounted string `json:"not_counted,omitempty"`
	// NotClearing says why a counted not-illegal vote does not count
	// toward clearing known material (Classification.clearedByVotes):
	// its voter is no longer assigned to the item's case.
	NotClearing string `json:"not_clearing,omitempty"`
}

// InheritView is a category inherited from a hash-set match.
type InheritView struct {
	Category string `json:"category"`
	Set      string `json:"set"`
	Entry    uint64 `json:"entry"`
	Series   string `json:"series,omitempty"`
	// table is the digest of the set's tables the deposit matched
	// (HashSetMatch.Table; "" in deposits that recorded none).
	table string
}

// severity orders categories: an item that matches two sets inherits the
// graver category.
func severity(c string) int {
	switch c {
	case CategoryBaseline:
		return 3
	case CategoryNational:
		return 2
	case CategoryNotIllegal:
		return 1
	}
	return 0
}

// minNotIllegalVoters is how many agreeing people a not-illegal
// settlement takes to unhide an item that is known otherwise (a
// known-illegal hash set lists it, or it copies an item held illegal):
// one person's vote never takes known material out of hiding.
const minNotIllegalVoters = 2

// clearedByVotes reports whether votes settle the item as not illegal by
// enough people (at least minNotIllegalVoters) to unhide it even where it
// is known otherwise: people who are assigned to its case now. A voter
// removed from the case (for cause, or moved on) no longer vouches for
// unhiding its known material; their vote still counts toward its
// category, and hiding it again sends nothing back for review.
func (cl Classification) clearedByVotes() bool {
	return cl.Source == "votes" && cl.Category == CategoryNotIllegal && cl.clearers >= minNotIllegalVoters
}

// heldIllegal is the illegal category an item is held in for reviewer
// welfare, and what holds it there ("" when nothing does):
//   - "settled": votes settle it as baseline or national;
//   - "once settled": votes settled it so, and later votes (a dissent, a
//     vote changed) left it unsettled: one person's vote never unhides
//     what the case's policy settled (a custodian's decision that
//     unsettles it, a policy changed or a voter suspended, sends it back
//     for review instead: State.settled);
//   - "hashset": it matched a known-illegal hash-set entry at deposit;
//
// unless votes clear it (clearedByVotes). Votes still out on new material
// hold nothing: the analysts voting need to see it.
func (cl Classification) heldIllegal() (category, by string) {
	switch {
	case cl.Source == "votes" && Illegal(cl.Category):
		return cl.Category, "settled"
	case cl.clearedByVotes():
		return "", ""
	case cl.onceSettled != "":
		return cl.onceSettled, "once settled"
	case cl.Inherit != nil && Illegal(cl.Inherit.Category):
		return cl.Inherit.Category, "hashset"
	}
	return "", ""
}

// classification computes an item's classification from the state.
func (v *Vault) classification(it Item) Classification {
	return v.classificationUnder(it, v.state.votesNeeded(it.Case))
}

// classificationUnder is classification as it would be if needed
// agreeing votes settled a category in the item's case.
func (v *Vault) classificationUnder(it Item, needed int) Classification {
	mark := v.state.settledMarkOf(it.ID)
	cl := Classification{Needed: needed, Tally: map[string]int{}, Votes: []VoteView{}}
	if mark.Released {
		cl.released = mark.Category
	} else {
		cl.onceSettled, cl.onceSettledVoters = mark.Category, mark.Voters
	}
	c, _ := v.state.getCase(it.Case)
	for _, vt := range v.state.votesOf(it.ID) {
		view := VoteView{By: vt.By, Category: vt.Category, AgeGroup: vt.AgeGroup, Sex: vt.Sex, Series: vt.Series,
			Note: vt.Note, At: vt.At.UTC().Format("2006-01-02T15:04:05Z"), Event: vt.Seq}
		// A vote counts while its voter is trusted to vote: not once
		// they are removed (for good) or while they are suspended, as a
		// suspension takes every other power away.
		switch p, ok := v.state.personByName(vt.By); {
		case !ok || p.Removed:
			view.NotCounted = "the voter was removed"
		case p.Suspended:
			view.NotCounted = "the voter is suspended"
		default:
			cl.Tally[vt.Category]++
			switch {
			case vt.Category != CategoryNotIllegal:
			case c.Members[vt.By]:
				cl.clearers++
			default:
				view.NotClearing = "the voter is no longer assigned to the case"
			}
		}
		cl.Votes = append(cl.Votes, view)
	}
	cl.Disputed = len(cl.Tally) > 1
	var reached []string
	for c, n := range cl.Tally {
		if n >= cl.Needed {
			reached = append(reached, c)
		}
	}
	if len(reached) == 1 && !cl.Disputed {
		cl.Category, cl.Source = reached[0], "votes"
	}
	for _, m := range it.Deposit.Matches() {
		if m.Category == CategoryKnownGood {
			cl.KnownGood = true
			continue
		}
		if severity(m.Category) > 0 && (cl.Inherit == nil || severity(m.Category) > severity(cl.Inherit.Category)) {
			cl.Inherit = &InheritView{Category: m.Category, Set: m.Set, Entry: m.Entry, Series: m.Series, table: m.Table}
		}
	}
	if cl.Category == "" && cl.Inherit != nil {
		// Votes short of the case's policy, or disagreeing, settle
		// nothing: the set's category holds until they do, so that no
		// single vote in a case asking several takes a listed item's
		// category out of exports and figures (the vote is pending
		// beside it, in Tally and Votes).
		cl.Category, cl.Source = cl.Inherit.Category, "hashset"
	}
	// One person's not-illegal vote settles new material where the case
	// asks one vote, but never what is known illegal: exports, lists and
	// figures say the category that holds the item, as hiding does.
	if cl.notIllegalUncleared() {
		switch c, by := cl.heldIllegal(); by {
		case "hashset":
			cl.Category, cl.Source = c, "hashset"
			cl.NotSettledBecause = cl.notClearing(fmt.Sprintf("it matches entry %d of hash set %s (%s)", cl.Inherit.Entry, cl.Inherit.Set, c))
		case "once settled":
			cl.Category, cl.Source = c, "once-settled"
			cl.NotSettledBecause = cl.notClearing(fmt.Sprintf("votes settled it as %s", c))
		default:
			if cl.released != "" {
				// Sent back for review: visible, and unsettled.
				cl.Category, cl.Source = "", ""
				cl.NotSettledBecause = cl.notClearing(fmt.Sprintf("votes settled it as %s before a custodian's decision sent it back for review", cl.released))
			}
		}
	}
	return cl
}

// knownChecks holds the known-material checks (knownBecause) of the
// items an export states (statedClassification), by item id, so that the
// check at its event's position compares what the export says without
// reading the log: there, an item not checked before (a vote since made
// it need one) is a change (atPosition).
type knownChecks struct {
	m          map[string]string
	atPosition bool
	// sets is the generation of the hash sets in use when the first
	// check was made: at the position, another generation (a set
	// imported or removed in between) makes every check stale.
	sets uint64
}

func newKnownChecks() *knownChecks { return &knownChecks{m: map[string]string{}} }

// statedClassification is an item's classification as exports and
// figures state it (AgainstKnown): the known-material check is made only
// for an item whose votes settle it as not illegal without clearing
// known material. Errors: knownBecause's, or ErrConflict at a position
// where an item needs a check not made before.
func (v *Vault) statedClassification(ctx context.Context, it Item, k *knownChecks) (Classification, error) {
	cl := v.classification(it)
	if !cl.notIllegalUncleared() {
		return cl, nil
	}
	known, ok := k.m[it.ID]
	switch {
	case !ok && k.atPosition:
		return Classification{}, refused(ErrConflict, "item %s was classified while its export was built; repeat", it.ID)
	case k.atPosition && v.hashsets.generation() != k.sets:
		return Classification{}, refused(ErrConflict, "a hash set was imported or removed while the export was built; repeat")
	case !ok:
		if len(k.m) == 0 {
			k.sets = v.hashsets.generation()
		}
		var err error
		if known, err = v.statedBecause(ctx, it); err != nil {
			return Classification{}, err
		}
		k.m[it.ID] = known
	}
	return cl.AgainstKnown(known), nil
}

// notIllegalUncleared reports whether votes settle the item as not
// illegal under the case's policy without clearing known material
// (clearedByVotes): a settlement that stands for new material only.
func (cl Classification) notIllegalUncleared() bool {
	return cl.Source == "votes" && cl.Category == CategoryNotIllegal && !cl.clearedByVotes()
}

// notClearing says why not-illegal votes do not settle known material
// (NotSettledBecause): why it is known, and how many of the people it
// takes agree.
func (cl Classification) notClearing(known string) string {
	verb := "do"
	if cl.clearers == 1 {
		verb = "does"
	}
	return fmt.Sprintf("%s, and known material is settled as not illegal only when %d people assigned to the case agree (%d %s)",
		known, minNotIllegalVoters, cl.clearers, verb)
}

// AgainstKnown is cl as lists, exports and figures state it for an item
// known as material for the reason known (knownBecause; "" when it is
// not): a not-illegal settlement by votes that do not clear known
// material (clearedByVotes) is not stated as settled, whatever made the
// item known (a copy of an item held illegal, a near-copy of a listed
// image), and NotSettledBecause says why.
func (cl Classification) AgainstKnown(known string) Classification {
	if known == "" || !cl.notIllegalUncleared() {
		return cl
	}
	cl.Category, cl.Source = "", ""
	cl.NotSettledBecause = cl.notClearing(known)
	return cl
}

// ClassifyRequest is one vote.
type ClassifyRequest = ItemClassified

// Classify records a vote on an item (an analyst or investigator assigned
// to its case) and returns the item's classification after it.
func (v *Vault) Classify(ctx context.Context, who Principal, itemID string, req ClassifyRequest) (Classification, error) {
	it, err := v.gatedItem(ctx, who, "item.classify", itemID)
	if err != nil {
		return Classification{}, err
	}
	if !slices.Contains(Categories, req.Category) {
		return Classification{}, notOneOf("category", req.Category, Categories)
	}
	if req.AgeGroup != "" && !slices.Contains(AgeGroups, req.AgeGroup) {
		return Classification{}, notOneOf("age group", req.AgeGroup, AgeGroups)
	}
	if req.Sex != "" && !slices.Contains(Sexes, req.Sex) {
		return Classification{}, notOneOf("sex", req.Sex, Sexes)
	}
	if err := checkText("series", req.Series, 128, false, false); err != nil {
		return Classification{}, err
	}
	if err := checkText("note", req.Note, 4096, false, true); err != nil {
		return Classification{}, err
	}
	pre := func(c Case, _ bool) error {
		switch {
		case c.Destroyed:
			return refusedOn(ErrNotFound, GroundsState, "the item's case was destroyed under a court order")
		case !v.memberOf(who, c):
			return refused(ErrForbidden, "only analysts and investigators assigned to the case classify its items")
		}
		return nil
	}
	// The same vote again, every field as the voter's current one, is
	// not recorded a second time, decided at the event's position: after
	// any vote on the item ahead of it in the batch is applied (a vote
	// changed and changed back in one batch is two votes, and two equal
	// new votes are one).
	unchanged := false
	decided := func(c Case, ok bool) error {
		if err := pre(c, ok); err != nil {
			return err
		}
		if cur, ok := v.state.voteOf(itemID, who.Name); ok && cur.ItemClassified == req {
			unchanged = true
			return errUnchanged
		}
		unchanged = false
		return nil
	}
	if err := v.checkNow(it.Case, pre); err != nil {
		return Classification{}, v.refusedAs(ctx, who, "item.classify", itemID, err)
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeItemClassified, Actor: who.actor(), Case: it.Case, Item: itemID, Data: req,
		Check: v.atPositionAfter(it.Case, decided, func(ev *events.Event) bool { return ev.Type == TypeItemClassified && ev.Item == itemID })})
	if err := v.refusedAs(ctx, who, "item.classify", itemID, err); err != nil {
		return Classification{}, err
	}
	// The item was read a moment ago, and is now among the changed.
	it, _, err = v.state.getItem(itemID)
	if err != nil {
		return Classification{}, err
	}
	cl, err := v.statedClassification(ctx, it, newKnownChecks())
	if err != nil {
		return Classification{}, err
	}
	cl.unchanged = unchanged
	// What the vote left hidden, said with it: a settlement as not
	// illegal does not unhide what one person's vote cannot (a set's
	// listing, a copy of known material).
	if k, err := v.hiddenBecause(ctx, it, nil); err == nil {
		cl.known = k
	} else {
		cl.known = "treated as known until it can be checked: " + err.Error()
	}
	return cl, nil
}

// PolicyEffect is what a change of a case's classification policy did to
// its items' categories: how many were settled by votes and no longer
// are (an item known material by its own category, or a copy of one, may
// come back for review), and how many became settled.
type PolicyEffect struct {
	Unsettled int `json:"unsettled"`
	Settled   int `json:"settled"`
	// SettledAs counts the items settled by category (absent when none
	// was).
	SettledAs map[string]int `json:"settled_as,omitempty"`
}

// ClassificationPolicyChange is the outcome of SetClassificationPolicy:
// what a raising did to the case's items (Effect), or the request opened
// to lower the policy (Request; its approval, by another custodian,
// carries it out: Approval.ClassificationPolicy). Recorded is false when
// the policy asked for was in force already: nothing was recorded, and
// the reason was not kept.
type ClassificationPolicyChange struct {
	Effect   PolicyEffect
	Request  *RequestInfo
	Recorded bool
}

// SetClassificationPolicy sets how many agreeing votes settle a category
// in a case (custodian, 1 to MaxClassificationVotes), with the
// custodian's reason (optional, at most 1,024 bytes). Raising it takes
// effect at once, and says what it did to the case's items; lowering it
// (fewer people settle a category, and one analyst could settle what two
// had to) is a request another custodian approves
// (KindClassificationPolicy; docs/identity.md).
func (v *Vault) SetClassificationPolicy(ctx context.Context, who Principal, caseID string, votes int, reason string) (ClassificationPolicyChange, error) {
	if err := v.MaySetClassificationPolicy(ctx, who, caseID); err != nil {
		return ClassificationPolicyChange{}, err
	}
	if err := checkCaseID(caseID); err != nil {
		return ClassificationPolicyChange{}, err
	}
	if votes < 1 || votes > MaxClassificationVotes {
		return ClassificationPolicyChange{}, badInput("votes %d: between 1 and %d agreeing analysts settle a category", votes, MaxClassificationVotes)
	}
	if err := checkText("reason", reason, 1024, false, false); err != nil {
		return ClassificationPolicyChange{}, err
	}
	var lowering bool
	pre := func(c Case, ok bool) error {
		if err := liveCase(caseID, c, ok); err != nil {
			return err
		}
		switch now := v.state.votesNeeded(caseID); {
		case now == votes:
			return errUnchanged
		case votes < now && !lowering:
			// Asked as a raising, it became a lowering while it waited
			// to be appended (someone raised it further): asked again,
			// it is a request.
			return refused(ErrConflict, "%s's classification policy was raised to %s meanwhile: asking for %d lowers it now, which another custodian approves; ask again", caseID, agreeingVotes(now), votes)
		}
		return nil
	}
	from := v.state.votesNeeded(caseID)
	lowering = votes < from
	if err := v.checkNow(caseID, pre); err != nil {
		return ClassificationPolicyChange{}, v.refusedAs(ctx, who, "case.classification.policy", caseID, err)
	}
	if lowering {
		info, err := v.openRequest(ctx, who, Request{Kind: KindClassificationPolicy, Case: caseID, Reason: reason}, classificationPolicyParams{Votes: votes, From: from})
		return ClassificationPolicyChange{Request: info, Recorded: err == nil}, err
	}
	var evs []*events.Event
	effect, err := v.policyEffect(caseID, func() (err error) {
		evs, err = v.decide(ctx, who, "case.classification.policy", caseID, pre, sequencer.Draft{Type: TypeClassificationPolicySet, Actor: who.actor(), Case: caseID,
			Data: ClassificationPolicySet{Votes: votes, Reason: reason}})
		return err
	})
	return ClassificationPolicyChange{Effect: effect, Recorded: len(evs) > 0}, err
}

// agreeingVotes words a classification policy: "1 agreeing vote", "3
// agreeing votes".
func agreeingVotes(n int) string {
	if n == 1 {
		return "1 agreeing vote"
	}
	return strconv.Itoa(n) + " agreeing votes"
}

// policyEffect runs change, a change of caseID's classification policy,
// and says what it did to the case's items.
func (v *Vault) policyEffect(caseID string, change func() error) (PolicyEffect, error) {
	before, err := v.settledByVotes(caseID)
	if err != nil {
		return PolicyEffect{}, err
	}
	if err := change(); err != nil {
		return PolicyEffect{}, err
	}
	var effect PolicyEffect
	after, err := v.settledByVotes(caseID)
	if err != nil {
		return PolicyEffect{}, err
	}
	for id := range before {
		if after[id] == "" {
			effect.Unsettled++
		}
	}
	for id, c := range after {
		if before[id] == "" {
			effect.Settled++
			if effect.SettledAs == nil {
				effect.SettledAs = map[string]int{}
			}
			effect.SettledAs[c]++
		}
	}
	return effect, nil
}

// settledAsStated is the category cl, a classification of it, settles
// by votes as the vault states it: "" where votes settle none, or settle
// it as not illegal without clearing known material (AgainstKnown), or
// where that cannot be checked now.
func (v *Vault) settledAsStated(it Item, cl Classification) string {
	if cl.Source != "votes" || cl.Category == "" {
		return ""
	}
	if cl.notIllegalUncleared() {
		if known, err := v.statedBecause(context.Background(), it); err != nil || known != "" {
			return ""
		}
	}
	return cl.Category
}

// settledByVotes returns the items of a case whose category votes
// settle, with the category, as the vault states it (a not-illegal
// settlement that does not clear known material is none).
func (v *Vault) settledByVotes(caseID string) (map[string]string, error) {
	out := map[string]string{}
	ids, err := v.state.caseItems(caseID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		it, ok, err := v.state.getItem(id)
		if err != nil {
			return nil, err
		}
		if ok {
			if c := v.settledAsStated(it, v.classification(it)); c != "" {
				out[id] = c
			}
		}
	}
	return out, nil
}
