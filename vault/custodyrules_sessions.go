package vault

import (
	"time"

	"github.com/custos-vault/custos/events"
)

// The custody rules of sessions (docs/custody-log.md, section 7, step
// 8): whoever acts in a session (actor.session) acts in one the log
// opened for them. A vault decides who a session token signs in from its
// state; a state forged by whoever can use the log's key could hold a
// session the log never opened, and every act in it would be signed and
// chained like any other.

// sessionGrace is how long after a session ended or expired an event
// may still name it: what a view, a deposit or a package's fetch records
// once it is complete is recorded with the session it began in.
const sessionGrace = 7 * 24 * time.Hour

// ruleSession is a session the log opened: whose it is, and until when
// an event may name it (its end or expiry plus sessionGrace), in the
// events' time layout, whose fixed width orders times as strings: an
// event's time is compared with it unparsed.
type ruleSession struct {
	person string
	until  string
}

// session reads ev for its session: a session.opened opens one (by an
// active person, refreshing only one of their own), a session.ended or a
// refresh ends one; any other event that names a session of a local or
// OpenID sign-in must name one the log opened for its actor, not ended
// or expired more than sessionGrace before. A refusal (access.refused)
// records the credential presented, whatever it was, and is not read.
func (r *CustodyRules) session(ev *events.Event) error {
	switch ev.Type {
	case TypeSessionOpened:
		return r.sessionOpened(ev, ev.Timestamp())
	case TypeSessionEnded:
		if d, err := data[SessionEnded](ev); err == nil {
			r.endSession(d.Session, ev.Timestamp())
		}
		return nil
	case TypeAccessRefused:
		return nil
	}
	a := ev.Actor
	if a.Person == "" || (a.Auth != "local" && a.Auth != "oidc") {
		return nil
	}
	broken := func(format string, args ...any) error {
		err := r.broken(ev, format, args...)
		err.(*RuleBroken).ofSession = true
		return err
	}
	se := r.sessions[a.Session]
	switch {
	case se == nil:
		return broken("%s acted in session %s, which the log never opened, or which ended or expired more than %s before", a.Person, a.Session, sessionGrace)
	case se.person != a.Person:
		return broken("%s acted in session %s, which the log opened for %s", a.Person, a.Session, se.person)
	case r.latest > se.until:
		return broken("%s acted in session %s more than %s after it ended or expired", a.Person, a.Session, sessionGrace)
	}
	return nil
}

// sessionOpened reads a session.opened.
func (r *CustodyRules) sessionOpened(ev *events.Event, now time.Time) error {
	d, err := data[SessionOpened](ev)
	if err != nil {
		return nil
	}
	exp, err := time.Parse(time.RFC3339, d.Expires)
	if err != nil {
		return nil // the vault's replay refuses it
	}
	a := ev.Actor
	r.opens++
	if r.opens%4096 == 0 {
		for id, se := range r.sessions {
			if r.latest > se.until {
				delete(r.sessions, id)
			}
		}
	}
	r.sessions[d.Session] = &ruleSession{person: a.Person, until: events.FormatTime(exp.Add(sessionGrace))}
	if d.Refreshed != "" {
		old := r.sessions[d.Refreshed]
		if old == nil || old.person != a.Person || r.latest > old.until {
			return r.broken(ev, "a session of %s was opened as a refresh of session %s, which the log did not open for them (or which had ended)", a.Person, d.Refreshed)
		}
		r.endSession(d.Refreshed, now)
	}
	if p := r.persons[a.Person]; p == nil || p.role != a.Role || p.suspended || p.removed {
		return r.broken(ev, "a session was opened for %s as %s, whom the log did not enroll in that role, or had suspended or removed", a.Person, a.Role)
	}
	return nil
}

// endSession ends the session id at now: events may name it for
// sessionGrace more.
func (r *CustodyRules) endSession(id string, now time.Time) {
	if se := r.sessions[id]; se != nil {
		se.until = min(se.until, events.FormatTime(now.Add(sessionGrace)))
	}
}

// endSessionsOf ends every session of name at ev (suspended, removed, or
// a credential re-issued).
func (r *CustodyRules) endSessionsOf(name string, ev *events.Event) {
	now := ev.Timestamp()
	for id, se := range r.sessions {
		if se.person == name {
			r.endSession(id, now)
		}
	}
}
