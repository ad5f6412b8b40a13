package vault

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/custos-vault/custos/events/sequencer"
)

// Refusals of signed-in persons at bounded cost.
//
// Every refusal is a custody event, and one of a signed-in person names
// who was refused and at what. A person who keeps asking for what they
// may not have must still not be able to grow the log without bound: per
// person, role, action and reason, the first RefusalBurst refusals of a
// RefusalWindow are recorded one by one, with their targets, and the rest
// of that window in one summary event (AccessRefused.Count, First, Last)
// when the window ends or the vault closes. A reason often repeats what
// the person sent (a wrong digest, a name that is not enrolled): past
// maxReasonsPerCredential reasons open at once for one credential, the
// refusals of further reasons share one key per action and grounds
// (variedReasons), so that varying the input costs the log, and the
// vault's memory, no more. Refusals of requests without
// valid credentials are aggregated by the API (vault/api), per client
// address.

// refusalKey is what summarised refusals have in common: one credential
// (a session, or a certificate) of one person in one role, one action and
// one reason on one grounds. Two credentials in one person's name (their own session and
// a certificate someone else was issued) are never merged.
type refusalKey struct{ person, role, credential, action, reason, grounds string }

func credentialKey(c Credential) string {
	return c.Auth + "|" + c.Session + "|" + c.Certificate + "|" + c.Issuer + "|" + c.Subject
}

type refusalWindow struct {
	who         Principal // the refused, with their credential
	until       time.Time
	recorded    int
	suppressed  int64
	first, last time.Time
}

type refusalBudget struct {
	window time.Duration
	burst  int
	mu     sync.Mutex
	open   map[refusalKey]*refusalWindow
	// reasons counts the open keys of each credential (its person, role
	// and credential; action and reason empty).
	reasons map[refusalKey]int
}

// maxReasonsPerCredential bounds the reasons one credential's refusals
// are summarised apart by at once.
const maxReasonsPerCredential = 16

// variedReasons is the reason that refusals of reasons past
// maxReasonsPerCredential are summarised under: the first of them are
// recorded one by one, with their own reasons, as any refusal is.
const variedReasons = "refusals for other reasons than the ones summarised apart (past 16 different reasons in one window; the first refusals of each action were recorded one by one with their own reasons)"

// admit reports whether a refusal is recorded by itself; if not, it is
// counted for the window's summary.
func (b *refusalBudget) admit(who Principal, k refusalKey, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cred := refusalKey{person: k.person, role: k.role, credential: k.credential}
	w := b.open[k]
	if w == nil && k.reason != variedReasons && b.reasons[cred] >= maxReasonsPerCredential {
		k.reason = variedReasons
		w = b.open[k]
	}
	if w == nil {
		if b.reasons == nil {
			b.reasons = map[refusalKey]int{}
		}
		b.reasons[cred]++
	}
	if w == nil || now.After(w.until) && w.suppressed == 0 {
		w = &refusalWindow{who: who, until: now.Add(b.window)}
		b.open[k] = w
	}
	if w.recorded < b.burst && !now.After(w.until) {
		w.recorded++
		return true
	}
	if w.suppressed == 0 {
		w.first = now
	}
	w.suppressed++
	w.last = now
	return false
}

// dueWindow is a window whose summary is due, with its key.
type dueWindow struct {
	k refusalKey
	w *refusalWindow
}

// due removes and returns the windows whose summaries are due (all of
// them when final), in the order they opened (then by what they hold): the log records the same summaries
// in the same order whatever the map's.
func (b *refusalBudget) due(now time.Time, final bool) []dueWindow {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []dueWindow
	for k, w := range b.open {
		if final || now.After(w.until) {
			if w.suppressed > 0 {
				out = append(out, dueWindow{k, w})
			}
			delete(b.open, k)
			cred := refusalKey{person: k.person, role: k.role, credential: k.credential}
			if b.reasons[cred]--; b.reasons[cred] <= 0 {
				delete(b.reasons, cred)
			}
		}
	}
	slices.SortFunc(out, func(a, b dueWindow) int {
		return cmp.Or(a.w.until.Compare(b.w.until),
			cmp.Compare(a.k.person, b.k.person), cmp.Compare(a.k.role, b.k.role), cmp.Compare(a.k.credential, b.k.credential),
			cmp.Compare(a.k.action, b.k.action), cmp.Compare(a.k.reason, b.k.reason), cmp.Compare(a.k.grounds, b.k.grounds))
	})
	return out
}

// summarise records the summaries that are due.
func (v *Vault) summariseRefusals(final bool) {
	for _, due := range v.refusals.due(v.cfg.Now(), final) {
		k, w := due.k, due.w
		d := AccessRefused{Action: k.action, Reason: k.reason, Grounds: k.grounds, Count: w.suppressed,
			First: w.first.UTC().Format(time.RFC3339Nano), Last: w.last.UTC().Format(time.RFC3339Nano)}
		who := w.who
		if _, err := v.append(context.Background(), sequencer.Draft{Type: TypeAccessRefused, Actor: who.actor(), Data: d}); err != nil {
			v.logger.Error("could not record a summary of refusals", "person", k.person, "count", w.suppressed, "err", err)
		}
	}
}

// runRefusalSummaries records due summaries until stop is closed, then
// the rest.
func (v *Vault) runRefusalSummaries(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(max(v.refusals.window/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			v.summariseRefusals(true)
			return
		case <-tick.C:
			v.summariseRefusals(false)
		}
	}
}
