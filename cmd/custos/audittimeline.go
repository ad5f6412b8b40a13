package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
)

// storeTimeline is the custody timeline of a log read without the server
// (audit log --store): the events of case caseID, of item (as the
// vault's timeline gives an item's, vault.Vault.Timeline), or all, in
// log order. They are gathered in the replay of audit verify --store
// (run with key, saved and the witness policy file, if not ""), so that what is shown is what that audit
// checked: a log that fails it is not shown, and its failure is the
// error; one whose only failures are custody-rule findings is shown,
// the findings said on stderr first.
//
// person and from filter as filterTimeline does, as the replay goes, so
// that what is held is what is shown, however long the log.
func storeTimeline(store, key string, saved []string, policy, caseID, item, person string, from time.Time, stderr io.Writer) ([]*events.Event, error) {
	if key == "" {
		return nil, usageErr("--store needs --key: the log's store is in the hands of whoever runs the server, and a log names its own key; give the key you saved while the vault ran (custos audit key > vault.key) or the fingerprint the operators published")
	}
	sel := &timelineSelection{caseID: caseID, item: item, person: person, from: from, packages: map[string]bool{}}
	hooks := &verifyHooks{tap: sel.add}
	args := []string{"--store", store, "--key", key, "--json"}
	for _, f := range saved {
		args = append(args, "--checkpoint", f)
	}
	if policy != "" {
		args = append(args, "--witness-policy", policy)
	}
	var answer bytes.Buffer
	if err := auditVerify(args, &answer, stderr, hooks); err != nil {
		if !hooks.findingsOnly {
			if !errors.Is(err, errAuditFailed) {
				return nil, err // a mistake in the flags, a store that cannot be read
			}
			return nil, fmt.Errorf("%w; the log did not pass its audit, so no timeline of it is shown (custos audit verify --store says the same)", err)
		}
		var res verifyFailure
		if json.Unmarshal(answer.Bytes(), &res) == nil && res.Events > 0 {
			fmt.Fprintf(stderr, "audited: %s, the log's integrity holds; its custody rules do not (the warning below; custos audit verify --store gives the whole answer)\n", eventRange(res.Events))
		}
		fmt.Fprintf(stderr, "warning: the log's integrity holds, but %v\n", err)
	} else {
		// What was audited, before the timeline: how far it reaches,
		// and what the audit warned of (a sticky head not compared).
		var res verifyOutput
		if json.Unmarshal(answer.Bytes(), &res) == nil {
			fmt.Fprintf(stderr, "audited: %s, the log's integrity and custody rules hold (custos audit verify --store gives the whole answer)\n", eventRange(res.Events))
			for _, w := range res.Warnings {
				fmt.Fprintf(stderr, "warning: %s\n", w)
			}
		}
	}
	switch {
	case item != "" && !sel.named:
		msg := fmt.Sprintf("no item %q: no event of the custody log names it as its item", cut(item, 80))
		if !itemID.MatchString(item) {
			msg += " (an item id is it_ and 24 digits 0-9 and a-f, as custos item list and the custody report give it)"
		}
		if len(sel.similar) > 0 {
			msg += "; items deposited under a name containing it, or with an id beginning with it: " + strings.Join(sel.similar, ", ")
			if sel.moreSimilar > 0 {
				msg += fmt.Sprintf(" and %d more", sel.moreSimilar)
			}
		} else {
			msg += "; the items of a case are in its timeline (--case CASE)"
		}
		return nil, errors.New(msg)
	case caseID != "" && !sel.named:
		return nil, fmt.Errorf("no case %q: no event of the custody log names it as its case (an attempt on a case that was never opened is recorded without one: find it with --person)", cut(caseID, 80))
	}
	slices.SortStableFunc(sel.events, func(a, b *events.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return sel.events, nil
}

// timelineSelection gathers, from a replay in log order, the events of a
// case (caseID), of an item (item), or all: an item's as the vault gives
// them (vault.Vault.Timeline), its own events, and among its case's own
// events (naming no item) the sealing of each package that carried it,
// those packages' later events, and the case's destruction.
type timelineSelection struct {
	caseID, item string
	// person and from keep, of those, the events filterTimeline keeps.
	person string
	from   time.Time
	// itemCase is the item's case, from its deposit.
	itemCase string
	// packages are those that carried the item.
	packages map[string]bool
	// destructions are, until the item's deposit names its case, each
	// case's own destruction events (a handful a case), by case.
	destructions map[string][]*events.Event
	named        bool
	events       []*events.Event
	// similar are, for an item nothing names, the items deposited under
	// a name containing it, or whose id begins with it (at most
	// maxSimilar, moreSimilar counting the others).
	similar     []string
	moreSimilar int
}

// maxSimilar bounds the items a "no item" answer suggests.
const maxSimilar = 5

// itemID is the form of an item's id.
var itemID = regexp.MustCompile(`^it_[0-9a-f]{24}$`)

// keep adds ev to the selection if person and from keep it.
func (s *timelineSelection) keep(ev *events.Event) {
	if timelineKeeps(ev, s.person, s.from) {
		s.events = append(s.events, ev)
	}
}

func (s *timelineSelection) add(ev *events.Event) {
	switch {
	case s.item != "":
		if ev.Type == vault.TypeItemDeposited && ev.Item != s.item && !s.named {
			s.suggest(ev)
		}
		if ev.Item == s.item {
			s.named = true
			if ev.Type == vault.TypeItemDeposited && s.itemCase == "" {
				s.itemCase = ev.Case
				// The case's destruction asked (and rejected) before
				// the item came is in its timeline too, in log order.
				for _, e := range s.destructions[ev.Case] {
					s.keep(e)
				}
				s.destructions = nil
			}
			s.keep(ev)
			return
		}
		if s.itemCase == "" && ev.Item == "" && ev.Case != "" && isDestruction(ev.Type) {
			if s.destructions == nil {
				s.destructions = map[string][]*events.Event{}
			}
			s.destructions[ev.Case] = append(s.destructions[ev.Case], ev)
			return
		}
		if s.itemCase == "" || ev.Case != s.itemCase || ev.Item != "" {
			return
		}
		switch ev.Type {
		case vault.TypePackageSealing:
			var d vault.PackageSealing
			if ev.DecodeData(&d) == nil && slices.Contains(d.Items, s.item) {
				s.packages[d.Package] = true
				s.keep(ev)
			}
		case vault.TypePackageSealed, vault.TypePackageFetched, vault.TypePackageFetchDone, vault.TypePackageReceived:
			var d struct {
				Package string `json:"package"`
			}
			if ev.DecodeData(&d) == nil && s.packages[d.Package] {
				s.keep(ev)
			}
		default:
			if isDestruction(ev.Type) {
				s.keep(ev)
			}
		}
	case s.caseID != "":
		if ev.Case == s.caseID {
			s.named = true
			s.keep(ev)
		}
	default:
		s.keep(ev)
	}
}

// suggest keeps a deposit's item among those suggested for an item id
// nothing names: one whose name contains the id asked for (a name typed
// for an id), or whose id begins with it (an id cut short), any case.
func (s *timelineSelection) suggest(ev *events.Event) {
	q := strings.ToLower(strings.TrimSpace(s.item))
	if q == "" {
		return
	}
	var d struct {
		Name string `json:"name"`
	}
	_ = ev.DecodeData(&d)
	if !strings.HasPrefix(ev.Item, q) && !strings.Contains(strings.ToLower(d.Name), q) {
		return
	}
	if len(s.similar) == maxSimilar {
		s.moreSimilar++
		return
	}
	s.similar = append(s.similar, fmt.Sprintf("%s %q (case %s)", ev.Item, cut(d.Name, 60), ev.Case))
}

// isDestruction reports whether an event of type typ is of a case's
// destruction (asked, approved, rejected, done), which an item's
// timeline includes.
func isDestruction(typ string) bool {
	switch typ {
	case vault.TypeDestructionRequested, vault.TypeDestructionApproved, vault.TypeDestructionRejected, vault.TypeCaseDestroyed:
		return true
	}
	return false
}
