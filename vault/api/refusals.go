package api

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/custos-vault/custos/vault"
)

// refusalKey is what aggregated refusals have in common. The target
// (a path, an id) is not part of it: a caller chooses it freely.
type refusalKey struct {
	source, person, role, action, reason, grounds string
	// credential tells two credentials of one person apart (a session, a
	// certificate), so that a summary never blames one for the other's
	// refusals.
	credential string
}

// overflowReasons is the reason refusals are summarised under once the
// table of windows is full (each is recorded with its own reason when it
// is the first of its key's window).
const overflowReasons = "refusals for various reasons, from addresses beyond the ones tracked apart"

type refusalWindow struct {
	who         *vault.Principal
	until       time.Time
	count       int64
	first, last time.Time
}

// refusalLog records refusals so that a flood costs bounded log space:
// per key and window, the first refusal is recorded at once (with its
// target), and the later ones of the window in one summary event (Count,
// First, Last) when the window ends or at Close. At most max keys are
// tracked; beyond that, new source addresses share the overflow key.
type refusalLog struct {
	v      *vault.Vault
	log    *slog.Logger
	window time.Duration
	max    int
	now    func() time.Time

	mu      sync.Mutex
	windows map[refusalKey]*refusalWindow
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

func newRefusalLog(v *vault.Vault, logger *slog.Logger, window time.Duration, max int) *refusalLog {
	l := &refusalLog{v: v, log: logger, window: window, max: max, now: time.Now,
		windows: map[refusalKey]*refusalWindow{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *refusalLog) run() {
	defer close(l.done)
	tick := time.NewTicker(max(l.window/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			l.flush(false)
		}
	}
}

// note records one refusal by who (nil: no valid credentials), on
// grounds (vault.AccessRefused.Grounds). It returns the error of
// recording it when it is the first of its window.
func (l *refusalLog) note(ctx context.Context, who *vault.Principal, source, action, target, reason, grounds string) error {
	k := refusalKey{source: source, action: action, reason: reason, grounds: grounds}
	if who != nil {
		c := who.Credential
		k.person, k.role = who.Name, who.Role
		k.credential = c.Auth + "|" + c.Session + "|" + c.Certificate + "|" + c.Issuer + "|" + c.Subject
	}
	now := l.now().UTC()
	l.mu.Lock()
	w := l.windows[k]
	if w == nil && len(l.windows) >= l.max {
		// The table is full: new addresses share one key per person,
		// action and grounds, whatever the reason (which may repeat what
		// the request sent), so that the table stays bounded.
		k.source, k.reason = overflowKey, overflowReasons
		w = l.windows[k]
	}
	var expired *refusalWindow
	if w != nil && now.After(w.until) {
		expired, w = w, nil
		delete(l.windows, k)
	}
	if w != nil && !l.closed {
		if w.count == 0 {
			w.first = now
		}
		w.count++
		w.last = now
		l.mu.Unlock()
		return nil
	}
	if !l.closed {
		l.windows[k] = &refusalWindow{who: who, until: now.Add(l.window)}
	}
	l.mu.Unlock()
	if expired != nil {
		l.summarise(k, expired)
	}
	return l.v.RecordRefusal(ctx, who, vault.AccessRefused{Action: action, Target: target, Reason: reason, Grounds: grounds, Source: k.source})
}

// flush records the summaries of ended windows (all windows if all).
func (l *refusalLog) flush(all bool) {
	now := l.now().UTC()
	type ended struct {
		k refusalKey
		w *refusalWindow
	}
	var out []ended
	l.mu.Lock()
	for k, w := range l.windows {
		if all || now.After(w.until) {
			delete(l.windows, k)
			out = append(out, ended{k, w})
		}
	}
	l.mu.Unlock()
	// In the order the windows opened (then by what they hold), so that
	// the log reads the same summaries in the same order whatever the
	// map's.
	slices.SortFunc(out, func(a, b ended) int {
		return cmp.Or(a.w.until.Compare(b.w.until),
			cmp.Compare(a.k.source, b.k.source), cmp.Compare(a.k.person, b.k.person), cmp.Compare(a.k.role, b.k.role),
			cmp.Compare(a.k.action, b.k.action), cmp.Compare(a.k.reason, b.k.reason), cmp.Compare(a.k.grounds, b.k.grounds),
			cmp.Compare(a.k.credential, b.k.credential))
	})
	for _, e := range out {
		l.summarise(e.k, e.w)
	}
}

func (l *refusalLog) summarise(k refusalKey, w *refusalWindow) {
	if w.count == 0 {
		return
	}
	err := l.v.RecordRefusal(context.Background(), w.who, vault.AccessRefused{
		Action: k.action, Reason: k.reason, Grounds: k.grounds, Source: k.source, Count: w.count,
		First: w.first.Format(time.RFC3339Nano), Last: w.last.Format(time.RFC3339Nano)})
	if err != nil {
		l.log.Error("could not record a summary of refused requests", "action", k.action, "source", k.source, "count", w.count, "err", err)
	}
}

// close stops the timer and records the summaries of every open window.
// Refusals noted afterwards are recorded one by one.
func (l *refusalLog) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.flush(true)
}
