package vault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custos-vault/custos/events/sequencer"
)

// MaxSkippedListed bounds the files one deposit.skipped event lists, and
// MaxSkippedBytes the size of their list as JSON (an event is at most
// events.MaxEventSize, 64 KiB); a deposit that skipped more says how
// many (DepositSkipped.Count) and lists the first ones.
const (
	MaxSkippedListed = 1000
	MaxSkippedBytes  = 48 << 10
)

// MaxSkippedStatements bounds a case's deposit.skipped events, which every
// package of the case carries with their proofs: a member who sent them
// without end would make the case's packages too large to verify
// offline. A thousand is a deposit with skips every working day for four
// years; MaxSkippedCount bounds the count one states.
const (
	MaxSkippedStatements = 1000
	MaxSkippedCount      = 100_000_000
)

// SkippedFile is one file or folder a deposit found and did not store,
// as its depositor's client shows it: Path escaped as the command line
// shows names (bytes that are not UTF-8, hidden characters as \xHH),
// Reason in words, LeftBehind for content the case does not hold (a
// folder that could not be read, a file listed in the acquisition list
// but not there) as opposed to a link, a device or a pipe.
type SkippedFile struct {
	Path       string `json:"path"`
	Reason     string `json:"reason"`
	LeftBehind bool   `json:"left_behind,omitempty"`
}

// DepositSkipped is the data of a deposit.skipped event: the depositor's
// statement, recorded with the deposit it follows, of what a deposit of
// seized media found there and did not store (docs/custody-log.md
// section 8). The vault cannot see the media; it records what the
// depositor's client reports, under the depositor's name, so that a
// court reads from the log that an exhibit went in incomplete, and why.
// Count is how many were reported, Files the first of them (content left
// behind listed before links and the like). It proves that the depositor
// stated it then, not that the list is complete or true: the vault never
// sees the media, and a deposit without such an event proves nothing
// either.
type DepositSkipped struct {
	Source string `json:"source,omitempty"`
	Count  int    `json:"count"`
	// Deposited and Already are how many files the same run stored and
	// found the case holding already (a run resumed), as its client
	// counted them.
	Deposited int           `json:"deposited"`
	Already   int           `json:"already"`
	Files     []SkippedFile `json:"files"`
}

// RecordSkipped records, for an investigator or analyst assigned to
// caseID, what a deposit they made left out (st: Files at least one,
// Count how many in all, at least len(Files)). It returns the
// event's sequence number. Errors: bad input (a path or reason that is
// not readable text, too many files listed or too many bytes of them, a
// count below them or over MaxSkippedCount), a case not seen or
// destroyed, a person not assigned to it (recorded as the deposit's
// refusals are), ErrConflict once the case holds MaxSkippedStatements.
func (v *Vault) RecordSkipped(ctx context.Context, who Principal, caseID string, st DepositSkipped) (uint64, error) {
	source, count, files := st.Source, st.Count, st.Files
	if err := v.refuseWhileHalted(); err != nil {
		return 0, err
	}
	if err := v.MayAsk(ctx, who, "deposit.skipped", caseID); err != nil {
		return 0, err
	}
	if err := checkCaseID(caseID); err != nil {
		return 0, err
	}
	c, ok := v.state.getCase(caseID)
	if ok && c.Destroyed && assigned(who, c) {
		return 0, v.refuse(ctx, who, "deposit.skipped", caseID, fmt.Sprintf("case %s was destroyed under a court order: nothing is recorded of deposits to it", caseID), ErrConflict)
	}
	if !ok || !v.memberOf(who, c) {
		return 0, v.refuseUnseen(ctx, who, "deposit.skipped", "case", caseID, ok, "only investigators and analysts assigned to the case deposit", "only investigators and analysts assigned to a case deposit to it; "+assignsPeople)
	}
	if err := checkText("source", source, 2048, false, false); err != nil {
		return 0, err
	}
	switch {
	case len(files) == 0:
		return 0, badInput("no file is named: a deposit that skipped nothing has nothing to record")
	case len(files) > MaxSkippedListed:
		return 0, badInput("%d files are named; at most %d are listed (count says how many in all)", len(files), MaxSkippedListed)
	case count < len(files):
		return 0, badInput("count %d is below the %d files named", count, len(files))
	case count > MaxSkippedCount || st.Deposited > MaxSkippedCount || st.Already > MaxSkippedCount:
		return 0, badInput("a count over %d is no deposit's", MaxSkippedCount)
	case st.Deposited < 0 || st.Already < 0:
		return 0, badInput("deposited and already are counts: not negative")
	}
	for i, f := range files {
		if err := checkText(fmt.Sprintf("file %d's path", i+1), f.Path, 4096, true, false); err != nil {
			return 0, err
		}
		if err := checkText(fmt.Sprintf("file %d's reason", i+1), f.Reason, 1024, true, false); err != nil {
			return 0, err
		}
	}
	if b, err := json.Marshal(files); err != nil || len(b) > MaxSkippedBytes {
		return 0, badInput("the files listed take %d bytes as JSON; at most %d: list fewer (count says how many in all)", len(b), MaxSkippedBytes)
	}
	pre := func(c Case, ok bool) error {
		if err := liveCase(caseID, c, ok); err != nil {
			return err
		}
		if !v.memberOf(who, c) {
			return refused(ErrForbidden, "only investigators and analysts assigned to the case deposit")
		}
		if c.Statements >= MaxSkippedStatements {
			return refused(ErrConflict, "case %s holds %d statements of what its deposits skipped, the most a case takes (every package of the case carries them): tell a custodian, and keep what this deposit skipped with the exhibit's own records", caseID, c.Statements)
		}
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return 0, v.refusedAs(ctx, who, "deposit.skipped", caseID, err)
	}
	evs, err := v.decide(ctx, who, "deposit.skipped", caseID, pre, sequencer.Draft{Type: TypeDepositSkipped, Actor: who.actor(), Case: caseID,
		Data: st})
	if err != nil {
		return 0, err
	}
	return evs[0].Seq, nil
}
