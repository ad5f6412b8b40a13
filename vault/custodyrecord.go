package vault

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/pkgformat"
)

// caseCustodyTypes are the case's own events that a package's report
// shows besides its items' events: how the case was opened, staffed,
// held, governed (its export and classification policies), what its
// deposits left out (deposit.skipped), its hotline reports' notice and
// takedown, and exported
// (hash lists, reports, CASE/UCO, and its reports' forwards to partner
// hotlines and the police, which carry its items' hashes). Requests are
// not among them (a pending request to seal for someone else is not this
// package's business) but the request of a sealing shown, nor other
// packages' events unless the sealer discloses them; a decision approved
// on a request names its requester and reason in its own event.
var caseCustodyTypes = map[string]bool{
	TypeCaseOpened: true, TypeCaseMemberAdded: true, TypeCaseMemberRemoved: true,
	TypeCaseHoldPlaced: true, TypeCaseHoldLifted: true, TypeCasePolicySet: true, TypeCaseKeyFailed: true,
	TypeClassificationPolicySet: true,
	TypeHashesExported:          true, TypeCustodyReport: true, TypeCaseUCOExported: true, TypeReportForwarded: true,
	// What a deposit of seized media found and did not store, as its
	// depositor stated it (since 2026-12-07).
	TypeDepositSkipped: true,
	// Its hotline reports' work while in the case: assessed into it,
	// notice and takedown of each URL (to whom, how, the provider's
	// acknowledgement, the removal), closed and reopened (since
	// 2026-12-07). Not report.received, which holds what the reporter
	// wrote and their sealed contact, nor report.contact.opened: a
	// reporter's words and identity are not for the package's reader.
	TypeReportAssessing: true, TypeNoticeSent: true, TypeNoticeAcknowledged: true, TypeContentRemoved: true,
	TypeReportClosed: true, TypeReportReopened: true,
	// Its destruction, asked for, decided and done (until 2026-12-04 a
	// destroyed case's report said "Destroyed: no", its destruction not
	// read).
	TypeDestructionRequested: true, TypeDestructionApproved: true, TypeDestructionRejected: true, TypeCaseDestroyed: true,
}

// othersRefused reports whether ev is a refusal that a package for
// person, whose sealer did not disclose other packages, leaves out:
//   - one of someone who receives packages (a prosecutor, defence
//     counsel) other than person: it would tell that the other side
//     holds the item;
//   - a refused attempt to seal a package of the case, for whomever it
//     was: a refused sealing is another package, one that was not made,
//     and its reason names whom it was for ("... has not registered an
//     age recipient"), which tells one side of the other's.
//
// A report made on demand shows them all.
func othersRefused(person string) func(*events.Event) bool {
	return func(ev *events.Event) bool {
		if ev.Type != TypeAccessRefused {
			return false
		}
		if receivesPackages(ev.Actor.Role) && ev.Actor.Person != person {
			return true
		}
		var d struct {
			Action string `json:"action"`
		}
		// An event the strict grammar cannot read is left out too: a
		// package carries what it can say of.
		return ev.DecodeData(&d) != nil || d.Action == "package.seal"
	}
}

// packageTypes are the events of one package's life.
var packageTypes = map[string]bool{
	TypePackageSealing: true, TypePackageSealed: true, TypePackageFetched: true, TypePackageFetchDone: true, TypePackageReceived: true,
}

// custodyCheckpoint is an anchored checkpoint as documents show it: the
// witnesses whose cosignatures verified under the vault's policy, and
// what each time-stamp token states (its signature checked, not its
// authority: a reader verifies that with custos-verify --tsa-cert).
func (v *Vault) custodyCheckpoint(a Anchored) custody.Checkpoint {
	cp := a.Checkpoint
	out := custody.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]),
		LogKey: v.vkey, LogKeyFingerprint: pkgformat.KeyFingerprint(v.vkey), Text: string(a.Note)}
	for _, name := range a.Verdict.Cosigned {
		out.Cosignatures = append(out.Cosignatures, custody.Cosignature{Witness: name, Time: a.Verdict.Times[name]})
	}
	for _, tok := range a.Tokens {
		att, err := tsa.Read(tok, cp.Note)
		if err != nil {
			v.logger.Warn("a time-stamp token over a checkpoint does not read; the report leaves it out", "size", cp.Size, "err", err)
			continue
		}
		serial := ""
		if att.SerialNumber != nil {
			serial = att.SerialNumber.String()
		}
		out.Timestamps = append(out.Timestamps, custody.Timestamp{Authority: att.Subject, Time: att.Time, Serial: serial})
	}
	return out
}

// custodyEvents reads, through the verified log, the events a custody
// record of items of a case shows, below size: the case's own events
// (caseCustodyTypes), every event of each item, and the events of the
// packages that carry any of the items for which shown says yes (by
// package id); keyed by seq. An item's event for which hidden says yes is
// left out. With allRequests (a report made on demand), every request to
// seal any of the items is shown too, with how it ended (rejected,
// withdrawn, approved) or that it is pending; a package shows only its
// own sealing's, as it must not tell one side the other's requests.
func (v *Vault) custodyEvents(ctx context.Context, caseID string, items []string, size uint64, shown func(pkg string) bool, hidden func(*events.Event) bool, allRequests bool) (map[uint64][]byte, error) {
	raw := map[uint64][]byte{}
	want := map[string]bool{}
	for _, id := range items {
		want[id] = true
	}
	carries := map[string]bool{} // packages sealing any of the items
	// The request.opened and request.approved of a sealing under export
	// approval, of a drop of the export approval, or of a lowering of the
	// classification policy, by request id: what its requester asked,
	// signed in their name, is shown with the sealing, the
	// case.policy.set or the case.classification.policy that names it.
	asked := map[string][]events.Record{}
	var requestsShown []string // the requests shown: of the sealings, policy drops and lowerings shown, and on demand every seal request of the items
	// The case's own events alone (byCaseOwn): its items' events, which
	// in a case of long standing are most of them, are read below for
	// the items the record shows, so that the record costs what its
	// items' histories and the case's own do, not the whole case's.
	if err := v.readNamed(ctx, caseID, byCaseOwn, func(r events.Record, ev *events.Event) error {
		if r.Seq >= size {
			return nil
		}
		switch {
		case caseCustodyTypes[ev.Type]:
			raw[r.Seq] = r.Bytes
			if ev.Type == TypeCasePolicySet || ev.Type == TypeClassificationPolicySet {
				// A drop of the export approval carries out a
				// case.policy request, a lowering of the classification
				// policy a case.classification.policy request: its
				// request.opened and request.approved are shown with
				// it, what its requester asked signed in their name
				// (for a drop, for a verifier to check it against:
				// docs/package-format.md section 9 step 7a).
				var d struct {
					Request string `json:"request"`
				}
				if err := ev.DecodeData(&d); err != nil {
					return err
				}
				if d.Request != "" {
					requestsShown = append(requestsShown, d.Request)
				}
			}
		case ev.Type == TypeAccessRefused:
			// Refused attempts on the case itself (to seal, to
			// destroy, to list it), as an item's refusals are in its
			// chain; hidden, as there, drops what a package must not
			// tell its reader.
			if hidden == nil || !hidden(ev) {
				raw[r.Seq] = r.Bytes
			}
		case ev.Type == TypeRequestOpened || ev.Type == TypeRequestApproved || ev.Type == TypeRequestRejected:
			var d struct {
				Request string `json:"request"`
				Kind    string `json:"kind"`
				Params  struct {
					Items []string `json:"items"`
				} `json:"params"`
			}
			if err := ev.DecodeData(&d); err != nil {
				return err
			}
			if d.Kind != KindSeal && d.Kind != KindPolicy && d.Kind != KindClassificationPolicy {
				return nil
			}
			asked[d.Request] = append(asked[d.Request], r)
			if ev.Type == TypeRequestOpened && allRequests && d.Kind == KindSeal && (len(d.Params.Items) == 0 || slices.ContainsFunc(d.Params.Items, func(id string) bool { return want[id] })) {
				requestsShown = append(requestsShown, d.Request)
			}
			if ev.Type == TypeRequestOpened && allRequests && (d.Kind == KindPolicy || d.Kind == KindClassificationPolicy) {
				// On demand, every request to drop the case's export
				// approval or lower its classification policy, with how
				// it ended: one rejected or withdrawn is part of the
				// case's story too.
				requestsShown = append(requestsShown, d.Request)
			}
		case packageTypes[ev.Type]:
			var d struct {
				Package string   `json:"package"`
				Items   []string `json:"items"`
				Request string   `json:"request"`
			}
			if err := ev.DecodeData(&d); err != nil {
				return err
			}
			if ev.Type == TypePackageSealing {
				for _, id := range d.Items {
					if want[id] {
						carries[d.Package] = true
					}
				}
			}
			if carries[d.Package] && shown(d.Package) {
				raw[r.Seq] = r.Bytes
				if ev.Type == TypePackageSealing && d.Request != "" {
					requestsShown = append(requestsShown, d.Request)
				}
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, id := range requestsShown {
		for _, r := range asked[id] {
			raw[r.Seq] = r.Bytes // (a request already shown is shown once)
		}
	}
	for _, id := range items {
		if err := v.readNamed(ctx, id, byItem, func(r events.Record, ev *events.Event) error {
			if ev.Case != caseID {
				return fmt.Errorf("%w: event %d names item %s of case %s, not %s", ErrIntegrity, ev.Seq, id, ev.Case, caseID)
			}
			if r.Seq < size && (hidden == nil || !hidden(ev)) {
				raw[r.Seq] = r.Bytes
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return raw, nil
}
