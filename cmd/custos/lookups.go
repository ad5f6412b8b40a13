package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault/api"
)

// maxLookupProblems bounds how many disagreeing events audit verify names
// one by one; the total is always given.
const maxLookupProblems = 1000

// lookupCheck compares, event by event, the lookup values the vault's log
// store keeps beside each event (case, item, id, position: what decides a
// timeline or a package) with the event's signed bytes. Nobody signs the
// lookup values, so a database administrator could edit them; every one
// that disagrees is reported, naming the event.
type lookupCheck struct {
	// queue holds the values of the events the engine replays next, in
	// order (from the records stream, a batch at a time).
	queue []api.Lookup
	// sc, when set, is GET /v1/log/lookups of a vault without the
	// records stream: one JSON line per event.
	sc       *bufio.Scanner
	problems []string
	count    int
	done     bool
	// off: the log was read without lookup values (an export folder),
	// so there is nothing to check.
	off bool
}

// newLineLookupCheck is a lookupCheck that reads the values from GET
// /v1/log/lookups.
func newLineLookupCheck(r io.Reader) *lookupCheck {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	return &lookupCheck{sc: sc}
}

func (l *lookupCheck) fault(format string, args ...any) {
	l.count++
	if len(l.problems) < maxLookupProblems {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

// next checks the lookup values of the next event, as the replay decoded
// it from its signed bytes.
func (l *lookupCheck) next(ev *events.Event) {
	if l.off {
		return
	}
	var got api.Lookup
	switch {
	case len(l.queue) > 0:
		got, l.queue = l.queue[0], l.queue[1:]
	case l.sc == nil || l.done || !l.sc.Scan():
		l.done = true
		l.fault("event %d: the store returned no lookup values for it", ev.Seq)
		return
	default:
		if err := json.Unmarshal(l.sc.Bytes(), &got); err != nil {
			l.fault("event %d: unreadable lookup line: %v", ev.Seq, err)
			return
		}
	}
	var bad []string
	if got.Seq != ev.Seq {
		bad = append(bad, fmt.Sprintf("position %d", got.Seq))
	}
	if got.ID != ev.ID {
		bad = append(bad, fmt.Sprintf("id %s", quoteValue(got.ID)))
	}
	if got.Case != ev.Case {
		bad = append(bad, fmt.Sprintf("case %s (signed: %q)", quoteValue(got.Case), ev.Case))
	}
	if got.Item != ev.Item {
		bad = append(bad, fmt.Sprintf("item %s (signed: %q)", quoteValue(got.Item), ev.Item))
	}
	if len(bad) > 0 {
		l.fault("event %d: the log store's lookup values say %s", ev.Seq, strings.Join(bad, ", "))
	}
}

// finish reports every disagreement, or nil.
func (l *lookupCheck) finish() error {
	// (A line stream may hold values of events appended since the newest
	// checkpoint, which the replay does not read: lines beyond are not
	// looked at.)
	if l.sc != nil {
		if err := l.sc.Err(); err != nil {
			l.fault("reading the lookup values: %v", err)
		}
	}
	if l.count == 0 {
		return nil
	}
	more := ""
	if l.count > len(l.problems) {
		more = fmt.Sprintf(" (and %d more)", l.count-len(l.problems))
	}
	return fmt.Errorf("%d event(s) have lookup values that disagree with their signed bytes (an edited log store): %s%s",
		l.count, strings.Join(l.problems, "; "), more)
}

// quoteValue quotes a stored lookup value for a report: Go-quoted (so no
// control byte reaches the terminal), its first 100 bytes only when it is
// longer, with its length.
func quoteValue(s string) string {
	if len(s) <= 100 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:100], len(s))
}
