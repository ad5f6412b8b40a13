package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Decisions and their preconditions.
//
// A request is decided twice on the same rule: once when it arrives, so
// that an obviously refused request costs nothing (no upload streamed, no
// key unsealed), and again by the sequencer at the position its event
// takes in the log, against the state of every event before it. Only the
// second answer counts: whatever happened between the two (a legal hold, a
// destruction, a member removed) is either before the event, and refuses
// it, or after it, and the log order explains the outcome.

// refusal is a decision's "no": a reason for the custody log, the error
// class the API maps to a status, and what the person refused can do
// next (hint), which the answer carries and the log does not: the log
// records why, in words that stay true when read in court years later,
// not the commands or pages of the program that refused.
type refusal struct {
	reason string
	hint   string
	// webHint, if set, is the hint for a person using the web
	// application, where hint names a command (WebAnswer).
	webHint string
	kind    error
	// grounds, if set, are the refusal's grounds where its kind (the
	// answer) does not say them (RefusalGrounds): an item of a destroyed
	// case is answered as not found, but refused on the record's state.
	grounds string
	// answer, if set, is what the person is told instead of reason (and
	// hint): a target they may not see is answered as one that does not
	// exist (unseen), while the log records why.
	answer string
}

func (r *refusal) Error() string { return fmt.Sprintf("%v: %s", r.kind, r.told()) }

// told is what the refused person reads after the refusal's class.
func (r *refusal) told() string {
	if r.answer != "" {
		return r.answer
	}
	return withHint(r.reason, r.hint)
}
func (r *refusal) Unwrap() error { return r.kind }

func refused(kind error, format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...), kind: kind}
}

// refusedHints is refusedHint with a hint of its own for the web
// application (webHint: the page and form to use), where hint names a
// command of the CLI.
func refusedHints(kind error, hint, webHint, format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...), hint: hint, webHint: webHint, kind: kind}
}

// webAnswer carries, beside a recorded refusal's answer, the answer a
// person using the web application is given instead (WebAnswer). Its own
// text is empty.
type webAnswer struct{ text string }

func (webAnswer) Error() string { return "" }

// WebAnswer is the answer to err for a person using the web application,
// where it differs from err's own: a refusal whose hint names a command
// of the CLI, answered with how to do it on the pages instead. Its class
// and sentence read as err.Error()'s do; ok is false where there is no
// other answer.
func WebAnswer(err error) (text string, ok bool) {
	var w webAnswer
	if errors.As(err, &w) {
		return w.text, true
	}
	var r *refusal
	if errors.As(err, &r) {
		return r.webText()
	}
	return "", false
}

// webText is r's answer to a person using the web application, where its
// web hint gives one (ok false where r has none, or an answer of its own).
func (r *refusal) webText() (text string, ok bool) {
	if r.webHint == "" || r.answer != "" {
		return "", false
	}
	return fmt.Sprintf("%v: %s", r.kind, withHint(r.reason, r.webHint)), true
}

// refusedOn is refused on grounds its kind does not say.
func refusedOn(kind error, grounds, format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...), kind: kind, grounds: grounds}
}

// refusedHint is refused with what the person can do next: shown in the
// answer after the reason, never recorded.
func refusedHint(kind error, hint, format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...), hint: hint, kind: kind}
}

// unseen is a refusal of a request about a target (what: case, item,
// report) that does not exist or that the person may not see, answered
// alike as refuseUnseen answers (ErrNotFound, "no such WHAT TARGET for
// you (rule)"), and recorded with the truth: "no such WHAT" (grounds
// unknown) where it does not exist, else reason (grounds permission).
// It is what a precondition returns where refuseUnseen cannot be called
// (at the event's position, under refusedAs).
func unseen(what, target string, exists bool, reason, rule string) error {
	grounds := GroundsPermission
	if !exists {
		reason, grounds = "no such "+what, GroundsUnknown
	}
	// "for you": the same words whether the target exists or not, and
	// not a claim that it does not.
	return &refusal{reason: reason, kind: ErrNotFound, grounds: grounds,
		answer: fmt.Sprintf("no such %s %s for you (%s)", what, shown(target), rule)}
}

// assignsPeople ends the answer to someone refused a case they are not
// assigned to: who can change that.
const assignsPeople = "a custodian assigns investigators and analysts to cases"

// withHint is a refusal's answer: its reason, then the hint if any.
func withHint(reason, hint string) string {
	if hint == "" {
		return reason
	}
	return reason + "; " + hint
}

// errUnchanged is a precondition's answer when the decision asks for the
// state the case is already in: nothing is recorded.
var errUnchanged = errors.New("already in that state")

// dependsOn reports whether a decision about caseID could be changed by
// one of the events ahead of it in a batch: any decision about the same
// case ("case.*"), any change to a person ("person.*", and the
// recipient packages are sealed to), and any change to a hotline report
// ("report.*": a deposit captured for a report reads the report's case
// and status, which its reassessment or closing changes).
func dependsOn(ahead []*events.Event, caseID string) bool {
	for _, ev := range ahead {
		if strings.HasPrefix(ev.Type, "person.") || strings.HasPrefix(ev.Type, "report.") || ev.Type == TypeRecipientSet ||
			(ev.Case == caseID && strings.HasPrefix(ev.Type, "case.")) {
			return true
		}
	}
	return false
}

// casePrecondition is a decision's rule about one case, given the case's
// state (ok is false if there is no such case).
type casePrecondition func(c Case, ok bool) error

// liveCase is the rule most decisions about a case start with: the case
// exists and was not destroyed.
func liveCase(caseID string, c Case, ok bool) error {
	switch {
	case !ok:
		return refused(ErrNotFound, "no case %s", caseID)
	case c.Destroyed:
		return refused(ErrConflict, "case %s was destroyed", caseID)
	}
	return nil
}

// checkNow evaluates pre against the current state (atPosition checks
// it again where the event lands in the log).
func (v *Vault) checkNow(caseID string, pre casePrecondition) error {
	c, ok := v.state.getCase(caseID)
	return pre(c, ok)
}

// atPosition turns pre into the sequencer check of an event about caseID.
func (v *Vault) atPosition(caseID string, pre casePrecondition) func([]*events.Event) error {
	return func(ahead []*events.Event) error {
		if dependsOn(ahead, caseID) {
			return sequencer.ErrNotYet
		}
		return v.checkNow(caseID, pre)
	}
}

// atPositionAfter is atPosition for a decision that also depends on
// events waits names (votes on an item, changes of categories): while one
// is ahead of it in the batch, not yet applied, it waits (ErrNotYet).
func (v *Vault) atPositionAfter(caseID string, pre casePrecondition, waits func(*events.Event) bool) func([]*events.Event) error {
	at := v.atPosition(caseID, pre)
	return func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if waits(ev) {
				return sequencer.ErrNotYet
			}
		}
		return at(ahead)
	}
}

// decide appends a decision's event with its precondition checked at the
// event's position. A refusal is itself recorded, as every refusal is;
// errUnchanged is answered with no event and no error.
func (v *Vault) decide(ctx context.Context, who Principal, action, target string, pre casePrecondition, d sequencer.Draft) ([]*events.Event, error) {
	d.Check = v.atPosition(d.Case, pre)
	evs, err := v.append(ctx, d)
	return evs, v.refusedAs(ctx, who, action, target, err)
}

// decidePublished is decide for an event that releases what it records:
// it returns once a checkpoint covering the event is published
// (appendPublished).
func (v *Vault) decidePublished(ctx context.Context, who Principal, action, target string, pre casePrecondition, d sequencer.Draft) ([]*events.Event, error) {
	d.Check = v.atPosition(d.Case, pre)
	evs, err := v.appendPublished(ctx, d)
	return evs, v.refusedAs(ctx, who, action, target, err)
}

// refusedAs records err if it is a refusal and returns the error for the
// caller; other errors pass through.
func (v *Vault) refusedAs(ctx context.Context, who Principal, action, target string, err error) error {
	var r *refusal
	switch {
	case errors.Is(err, errUnchanged):
		return nil
	case errors.As(err, &r):
		grounds := r.grounds
		if grounds == "" {
			grounds = RefusalGrounds(r.kind)
		}
		if err := v.recordRefusal(ctx, who, action, target, r.reason, grounds); err != nil {
			return err
		}
		if web, ok := r.webText(); ok {
			return fmt.Errorf("%w: %s%w%w", r.kind, r.told(), recordedMark{}, webAnswer{web})
		}
		return fmt.Errorf("%w: %s%w", r.kind, r.told(), recordedMark{})
	}
	return err
}
