package vault

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault/idtoken"
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
	ended  bool // signed out, refreshed, or ended by its person's standing
	// oidc are the identity sources an OpenID sign-in went through
	// (oidcSourcesOf), which a retirement ends it with.
	oidc []string
}

// session reads ev for its session: a session.opened opens one (by an
// active person, refreshing only one of their own), a session.ended or a
// refresh ends one; any other event that names a session of a local or
// OpenID sign-in must name one the log opened for its actor, not ended
// or expired more than sessionGrace before. A refusal (access.refused)
// records the credential presented, whatever it was, and is not read.
func (r *CustodyRules) session(ev *events.Event) error {
	if ev.Type != TypeAccessRefused {
		if why := r.signInClosed(ev.Actor); why != "" {
			return &RuleBroken{Seq: ev.Seq, Reason: fmt.Sprintf("%s %s", ev.Type, why), ofSession: true}
		}
	}
	switch ev.Type {
	case TypeSessionOpened:
		return r.sessionOpened(ev, ev.Timestamp())
	case TypeSessionEnded:
		if d, err := ruleData[SessionEnded](r, ev); err == nil {
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
	if a.Session == "" {
		// Every act of a local or OpenID sign-in is in a session (a
		// credential alone opens one, session.opened, and acts in it).
		return &RuleBroken{Seq: ev.Seq, Reason: fmt.Sprintf("%s acted by a %s sign-in without a session", a.Person, a.Auth), ofSession: true}
	}
	broken := func(format string, args ...any) error {
		return &RuleBroken{Seq: ev.Seq, Reason: fmt.Sprintf(format, args...), ofSession: true}
	}
	se := r.sessions[a.Session]
	switch {
	case se == nil:
		return broken("%s acted in session %s, which the log never opened, or which ended or expired more than %s before", a.Person, a.Session, sessionGrace)
	case se.person != a.Person:
		return broken("%s acted in session %s, which the log opened for %s", a.Person, a.Session, se.person)
	case ev.Time > se.until:
		return broken("%s acted in session %s more than %s after it ended or expired", a.Person, a.Session, sessionGrace)
	}
	return nil
}

// signInClosed says why a, an event's actor, could not have signed in as
// it says ("" if it could): by a local credential while the last start
// recorded local_accounts off, or by a client certificate while it
// recorded no client CA. Whoever holds the log's key would otherwise
// write a sign-in made up for a custodian as one of those, where no
// provider's signature is asked for (identity.md section 9.2).
func (r *CustodyRules) signInClosed(a events.Actor) string {
	switch {
	case a.Person == "":
		return ""
	case a.Auth == "local" && r.localOff:
		return fmt.Sprintf("by %s with a local credential, though the server's last start recorded local_accounts off", a.Person)
	case a.Auth == "certificate" && r.noClientCAs:
		return fmt.Sprintf("by %s with a client certificate, though the server's last start recorded no client CA", a.Person)
	}
	return ""
}

// sessionOpened reads a session.opened.
func (r *CustodyRules) sessionOpened(ev *events.Event, now time.Time) error {
	d, ok := sessionOpenedData(ev.Data)
	if !ok {
		var err error
		if d, err = ruleData[SessionOpened](r, ev); err != nil {
			return nil
		}
	}
	exp, err := time.Parse(time.RFC3339, d.Expires)
	if err != nil {
		return nil // the vault's replay refuses it
	}
	a := ev.Actor
	r.opens++
	if r.opens%4096 == 0 {
		for id, se := range r.sessions {
			if ev.Time > se.until {
				delete(r.sessions, id)
			}
		}
	}
	if r.sessionTTL > 0 && exp.After(now.Add(r.sessionTTL+expirySlack)) {
		// No longer than the session TTL the last start recorded: a
		// forged log of sessions without end would not make the rules
		// hold each for ever.
		exp = now.Add(r.sessionTTL)
	}
	if r.sessions[d.Session] != nil {
		return r.broken(ev, "session %s was opened again, for %s: the log opened a session of that id before", d.Session, a.Person)
	}
	se := &ruleSession{person: strings.Clone(a.Person), until: events.FormatTime(exp.Add(sessionGrace))}
	if a.Auth == "oidc" {
		se.oidc = oidcSourcesOf(a.Issuer, d.Key, d.ClientID, d.Claim)
	}
	r.sessions[d.Session] = se
	if src := r.oidcUnaccepted(a, d); src != "" {
		// (The session is kept: its acts are read as any session's.)
		if strings.HasPrefix(src, "oidc-key ") {
			return r.broken(ev, "%s signed in (session %s) through the identity provider %s with a key no two custodians accepted (%q): a provider's key signs no one in until a custodian asks and another approves (identity.source.accepted); another server answering at the provider's address would sign in this way", a.Person, d.Session, a.Issuer, d.Key)
		}
		if strings.HasPrefix(src, "oidc-client ") {
			return r.broken(ev, "%s signed in (session %s) through the identity provider %s as a client, or named by a claim, no two custodians accepted (%q): another client id takes sign-ins the provider made for another application, another claim names people otherwise", a.Person, d.Session, a.Issuer, src)
		}
		return r.broken(ev, "%s signed in (session %s) through the identity provider %s, which no two custodians accepted: a provider the server's operator configured signs no one in until a custodian asks and another approves (identity.source.accepted)", a.Person, d.Session, a.Issuer)
	}
	if err := r.signedByProvider(ev, d, now); err != nil {
		return err
	}
	if d.Refreshed != "" {
		old := r.sessions[d.Refreshed]
		if old == nil || old.person != a.Person || old.ended || ev.Time > old.until {
			return r.broken(ev, "a session of %s was opened as a refresh of session %s, which the log did not open for them (or which had ended)", a.Person, d.Refreshed)
		}
		r.endSession(d.Refreshed, now)
	}
	if !r.active(a.Person, a.Role) {
		return r.broken(ev, "a session was opened for %s as %s, whom the log did not enroll in that role, or had suspended or removed", a.Person, a.Role)
	}
	return nil
}

// signedByProvider reads the ID token an OpenID sign-in's session.opened
// d records (the vault refreshes local sessions alone, so one that
// names a session it refreshes is held to it too): the key it records
// verifies it and is the key the session names (its thumbprint), and
// the token says what the event says: issued by the actor's issuer, to
// the session's client, for the actor's subject, naming by the
// session's claim the value the log bound to the person (their name,
// unless enrolled with another), unexpired at the event's time, and
// never recorded by an earlier session. Without a token (and its key),
// once a start recorded that sign-ins record them (startedIDTokens),
// nothing shows the provider vouched for the sign-in: a session of
// rules (ofSession), which tests that open sessions without a provider
// do not meet.
func (r *CustodyRules) signedByProvider(ev *events.Event, d SessionOpened, now time.Time) error {
	a := ev.Actor
	if a.Auth != "oidc" {
		return nil
	}
	if d.IDToken == "" && len(d.KeyJWK) == 0 {
		if !r.idTokens {
			return nil
		}
		return &RuleBroken{Seq: ev.Seq, ofSession: true, Reason: fmt.Sprintf("%s signed in (session %s) through the identity provider %s, and the session records no ID token, which every start since %s records: nothing but the server's word shows the provider vouched for the sign-in", a.Person, d.Session, a.Issuer, startedIDTokens)}
	}
	c, thumb, err := r.idKeys.Verify(d.IDToken, d.KeyJWK)
	why := ""
	switch {
	case err != nil:
		why = err.Error()
	case thumb != d.Key:
		why = fmt.Sprintf("is verified by the key of thumbprint %s, and the session names the key %s", thumb, d.Key)
	case c.Issuer != a.Issuer:
		why = fmt.Sprintf("was issued by %q, and the session names %q", c.Issuer, a.Issuer)
	case c.Subject != a.Subject:
		why = fmt.Sprintf("is about the subject %q, and the session names %q", c.Subject, a.Subject)
	case !slices.Contains(c.Audience, d.ClientID):
		why = fmt.Sprintf("was not issued to the client %q the session names", d.ClientID)
	case c.Name(d.Claim) != r.oidcName(a.Person):
		why = fmt.Sprintf("names %q by its %s claim, and the log binds %s to %q", c.Name(d.Claim), d.Claim, a.Person, r.oidcName(a.Person))
	case c.Expiry.IsZero() || now.After(c.Expiry.Add(idTokenSkew)):
		why = fmt.Sprintf("had expired (exp %s)", c.Expiry.Format(time.RFC3339))
	}
	if why == "" {
		if r.idTokenSeen == nil {
			r.idTokenSeen = map[string]time.Time{}
		}
		if rememberToken(r.idTokenSeen, idtoken.Digest(d.IDToken), c.Expiry, now) {
			why = "opened a session before: the vault refuses a token a second time"
		}
	}
	if why != "" {
		return r.broken(ev, "%s signed in (session %s) through the identity provider %s, but the ID token the session records %s", a.Person, d.Session, a.Issuer, why)
	}
	return nil
}

// oidcName is the value of the configured claim that names person: the
// identity-provider value they were enrolled with, or their name.
func (r *CustodyRules) oidcName(person string) string {
	if p := r.persons[person]; p != nil && p.oidc != "" {
		return p.oidc
	}
	return person
}

// oidcUnaccepted is, for an OpenID sign-in by a, the identity source no
// two custodians had accepted then, as its session.opened d records the
// key, client and claim ("" if none, and for other sign-ins).
func (r *CustodyRules) oidcUnaccepted(a events.Actor, d SessionOpened) string {
	if a.Auth != "oidc" {
		return ""
	}
	return r.identity.unacceptedOIDC(a.Issuer, d.Key, d.ClientID, d.Claim)
}

// endSession ends the session id at now: events may name it for
// sessionGrace more.
func (r *CustodyRules) endSession(id string, now time.Time) {
	if se := r.sessions[id]; se != nil {
		se.until = min(se.until, events.FormatTime(now.Add(sessionGrace)))
		se.ended = true
	}
}

// askedThrough are the identity sources the asker of a request ev went
// through, as the vault's state reads them (State.requestSources): a
// client certificate's CAs the request records (cas), or the sources of
// the OpenID session it was asked in.
func (r *CustodyRules) askedThrough(ev *events.Event, cas []string) []string {
	if ev.Actor.Auth == "certificate" {
		return certificateSources(cas)
	}
	if se := r.sessions[ev.Actor.Session]; se != nil && ev.Actor.Session != "" {
		return se.oidc
	}
	return nil
}

// certificateAsk is what is wrong with the client CAs a request asked by
// ev records (cas), "" if nothing: once a start recorded that requests
// record them (startedRequestCAs), a request asked with a certificate
// names each as 64 lowercase hex digits, at least one, and, while
// identity sources are guarded, at least one accepted at its position
// (the certificate signed its asker in through it). One retired is the
// caller's to say (retiredOf).
func (r *CustodyRules) certificateAsk(ev *events.Event, cas []string, required bool, since string) string {
	if ev.Actor.Auth != "certificate" || !required {
		return ""
	}
	if len(cas) == 0 {
		return "records none of the client CAs its certificate's chains ran through, which every start since " + since + " records"
	}
	for _, ca := range cas {
		if !isDigest(ca) {
			return fmt.Sprintf("records a client CA %q that is not a SHA-256 in lowercase hex", ca)
		}
	}
	if r.identity.Guarded && !slices.ContainsFunc(cas, func(ca string) bool { _, ok := r.identity.Accepted[CASource(ca)]; return ok }) {
		return "was asked with a certificate through none of the client CAs accepted at that position"
	}
	return ""
}

// endSessionsThrough ends, at ev, every session opened through the
// identity source src (retired), and voids the requests asked in one.
func (r *CustodyRules) endSessionsThrough(src string, ev *events.Event) {
	now := ev.Timestamp()
	for id, se := range r.sessions {
		if slices.Contains(se.oidc, src) {
			r.endSession(id, now)
		}
	}
	for _, q := range r.requests {
		if q.retired == "" && slices.Contains(q.via, src) {
			q.retired = strings.Clone(src)
		}
	}
	for _, c := range r.cases {
		for _, dr := range c.requests {
			if dr.retired == "" && dr.heldAfter == 0 && slices.Contains(dr.via, src) && (dr.expires.IsZero() || !now.After(dr.expires.Add(expirySlack))) {
				dr.retired = strings.Clone(src)
			}
		}
	}
	for _, p := range r.persons {
		if inv := p.invitation; inv != nil && inv.void == "" && slices.Contains(inv.via, src) {
			inv.void = strings.Clone(src)
		}
	}
}

// redeemed reads a credential.issued: a person redeeming their
// invitation. The vault redeems one its person holds, while they are
// active, before it expires, and while none of the identity sources its
// custodians asked or approved through was retired since (the
// retirement voids it: one half went to whoever held that source's
// session or certificate).
func (r *CustodyRules) redeemed(ev *events.Event) error {
	d, err := ruleData[CredentialIssued](r, ev)
	if err != nil {
		return nil // the vault's replay refuses it
	}
	// Who redeems is the person, enrolled as the event says, active.
	if err := r.standing(ev); err != nil {
		return err
	}
	if ev.Actor.Person != d.Name {
		return r.broken(ev, "%s's invitation %s was recorded as redeemed by %s: a person redeems their own", d.Name, d.Invitation, ev.Actor.Person)
	}
	p := r.persons[d.Name]
	if p == nil || p.invitation == nil || p.invitation.id != d.Invitation {
		return nil // the vault's replay refuses it
	}
	inv := p.invitation
	p.invitation = nil
	switch {
	case inv.void != "":
		return r.broken(ev, "%s redeemed invitation %s, void since the identity source %s, through which a custodian asked for it or approved it, was retired", d.Name, d.Invitation, inv.void)
	case !inv.expires.IsZero() && ev.Timestamp().After(inv.expires.Add(expirySlack)):
		return r.broken(ev, "%s redeemed invitation %s after it expired at %s", d.Name, d.Invitation, inv.expires.Format(time.RFC3339))
	}
	return nil
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

// sessionOpenedData reads the members of a session.opened's data the
// rules use (session, expires, refreshed) the quick way: a compact
// object of at most eight string members without escapes, none repeated,
// as the vault writes it (a sign-in is about one event in 25, and the strict
// decoder, DecodeData, costs microseconds an event). Anything else is
// not ok, and is read by DecodeData.
func sessionOpenedData(b []byte) (d SessionOpened, ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' || !utf8.Valid(b) {
		return d, false
	}
	seen := 0
	var names [8][]byte // every member's name, to refuse a repeated one
	n := 0
	i := 1
	for i < len(b)-1 {
		name, next, ok := quoted(b, i)
		if !ok || next >= len(b) || b[next] != ':' || n == len(names) {
			return d, false
		}
		for _, other := range names[:n] {
			if string(other) == string(name) {
				return d, false
			}
		}
		names[n] = name
		n++
		value, end, ok := quoted(b, next+1)
		if !ok {
			return d, false
		}
		var field *string
		switch string(name) {
		case "session":
			field, seen = &d.Session, seen|1
		case "expires":
			field, seen = &d.Expires, seen|2
		case "refreshed":
			field = &d.Refreshed
		case "key":
			field = &d.Key
		case "client_id":
			field = &d.ClientID
		case "claim":
			field = &d.Claim
		case "id_token", "jwk":
			return d, false // read by DecodeData, with its key
		}
		if field != nil {
			*field = string(value)
		}
		switch {
		case end == len(b)-1:
			return d, seen&3 == 3
		case b[end] != ',':
			return d, false
		}
		i = end + 1
	}
	return d, false
}

// quoted reads the JSON string at b[i], which must have no escapes nor
// control characters: its contents and the index after its closing
// quote.
func quoted(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return b[i+1 : j], j + 1, true
		case '\\':
			return nil, 0, false
		}
		if b[j] < 0x20 {
			return nil, 0, false
		}
	}
	return nil, 0, false
}
