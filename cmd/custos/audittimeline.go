package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
)

// storeTimeline is the custody timeline of a log read without the server
// (audit log --store): the events of case caseID, of item (as the
// vault's timeline gives an item's, vault.Vault.Timeline), or all, in
// log order. They are gathered in the replay of audit verify --store
// (run with key and saved), so that what is shown is what that audit
// checked: a log that fails it is not shown, and its failure is the
// error; one whose only failures are custody-rule findings is shown,
// the findings said on stderr first.
//
// person and from filter as filterTimeline does, as the replay goes, so
// that what is held is what is shown, however long the log.
func storeTimeline(store, key string, saved []string, caseID, item, person string, from time.Time, stderr io.Writer) ([]*events.Event, error) {
	if key == "" {
		return nil, usageErr("--store needs --key: the log's store is in the hands of whoever runs the server, and a log names its own key; give the key you saved while the vault ran (custos audit key > vault.key) or the fingerprint the operators published")
	}
	sel := &timelineSelection{caseID: caseID, item: item, person: person, from: from, packages: map[string]bool{}}
	hooks := &verifyHooks{tap: sel.add}
	args := []string{"--store", store, "--key", key, "--json"}
	for _, f := range saved {
		args = append(args, "--checkpoint", f)
	}
	var answer bytes.Buffer
	if err := auditVerify(args, &answer, stderr, hooks); err != nil {
		if !hooks.findingsOnly {
			if !errors.Is(err, errAuditFailed) {
				return nil, err // a mistake in the flags, a store that cannot be read
			}
			return nil, fmt.Errorf("%w; the log did not pass its audit, so no timeline of it is shown (custos audit verify --store says the same)", err)
		}
		fmt.Fprintf(stderr, "warning: the log's integrity holds, but %v\n", err)
	}
	switch {
	case item != "" && !sel.named:
		return nil, fmt.Errorf("no item %q: no event of the custody log names it as its item", cut(item, 80))
	case caseID != "" && !sel.named:
		return nil, fmt.Errorf("no case %q: no event of the custody log names it as its case (an attempt on a case that was never opened is recorded without one: find it with --person)", cut(caseID, 80))
	}
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
	named    bool
	events   []*events.Event
}

// keep adds ev to the selection if person and from keep it.
func (s *timelineSelection) keep(ev *events.Event) {
	if len(filterTimeline([]*events.Event{ev}, s.person, s.from)) == 1 {
		s.events = append(s.events, ev)
	}
}

func (s *timelineSelection) add(ev *events.Event) {
	switch {
	case s.item != "":
		if ev.Item == s.item {
			s.named = true
			if ev.Type == vault.TypeItemDeposited && s.itemCase == "" {
				s.itemCase = ev.Case
			}
			s.keep(ev)
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
		case vault.TypeDestructionRequested, vault.TypeDestructionApproved, vault.TypeDestructionRejected, vault.TypeCaseDestroyed:
			s.keep(ev)
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
