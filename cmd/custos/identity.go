package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/printable"
	"io"
	iofs "io/fs"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"golang.org/x/term"
)

// askReasonHelp is the help of --reason on a command that opens a
// request: optional, unlike the reasons of decisions that take power
// away.
const askReasonHelp = "why you ask (optional; recorded with the request, and shown to the custodian who approves it)"

// caseReasonHelp is the help of --reason on a case's decision: it is in
// the case's custody reports and in every package sealed of it after.
const caseReasonHelp = "why (optional; recorded, and shown in the case's custody reports and in the packages sealed of it, which prosecution and defence read)"

// printRequest prints the answer of a decision that waits for a
// custodian other than the requester: its id, and this custodian's
// invitation half where there is one (shown once).
func printRequest(w io.Writer, asJSON bool, r api.RequestResponse, what string) error {
	approver, who := "a second custodian", "A custodian other than you"
	switch r.Kind {
	case vault.KindRecipient, vault.KindReceiptKey:
		// Asked by a prosecutor or defence counsel.
		approver, who = "a custodian's approval", "A custodian"
	case vault.KindSeal:
		// Asked by an investigator, or by a custodian, whom another
		// approves.
		approver = "a custodian's approval"
	}
	text := fmt.Sprintf("%s needs %s: request %s (%s), open until %s.\n%s approves it with: custos approve %s (or rejects it; you may withdraw it with custos reject %s --reason ...).\nFollow it, and see how it ended, with: custos requests",
		what, approver, r.Request, r.Kind, when(r.Expires), who, r.Request, r.Request)
	if r.InvitationPart != "" {
		text += fmt.Sprintf("\nYour half of %s's invitation (shown once; hand it to them yourself, never through the other custodian):\n%s", r.Person, r.InvitationPart)
	}
	return printResult(w, asJSON, r, text)
}

// runVersion prints the build (custody.Generator), as the reports and
// certificates this program makes name it.
func runVersion(args []string, stdout io.Writer) error {
	fs := newFlags("version")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("version takes no arguments")
	}
	v := custody.Generator()
	return printResult(stdout, *asJSON, struct {
		Version string `json:"version"`
	}{v}, v)
}

func runWhoami(args []string, stdout io.Writer) error {
	fs := newFlags("whoami")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("whoami takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.WhoAmIResponse
	if err := c.call("GET", "/v1/whoami", nil, nil, &out); err != nil {
		return err
	}
	text := fmt.Sprintf("%s (%s), signed in with %s", out.Name, out.Role, describeAuth(out))
	if !out.Expires.IsZero() {
		text += ", session until " + when(out.Expires)
	}
	if out.Recipient != "" {
		text += "\npackages for you are sealed to " + out.Recipient
	}
	if out.ReceiptKey != "" {
		text += "\nyour receipts are checked with " + out.ReceiptKey
	}
	return printResult(stdout, *asJSON, out, text)
}

func describeAuth(w api.WhoAmIResponse) string {
	switch w.Auth {
	case "local":
		return "a local credential"
	case "oidc":
		s := "the identity provider " + w.Issuer
		if len(w.AMR) > 0 {
			s += " (" + strings.Join(w.AMR, ", ") + ")"
		}
		return s
	case "certificate":
		return "the client certificate " + w.Certificate[:min(16, len(w.Certificate))] + "... of " + w.Issuer
	}
	return w.Auth
}

// readHalves reads the two halves of an invitation: typed at a prompt
// that does not echo them on a terminal, or two words from standard input
// otherwise (`custos login --name N --invitation < halves.txt`). Never
// from the command line, which every local user can read.
func readHalves(stdin io.Reader, stderr io.Writer) ([]string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var halves []string
		for _, which := range []string{"first", "second"} {
			fmt.Fprintf(stderr, "The %s half of your invitation (csi_..., not shown as you type or paste): ", which)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return nil, err
			}
			halves = append(halves, strings.TrimSpace(string(b)))
		}
		return halves, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return nil, err
	}
	halves := strings.Fields(string(b))
	if len(halves) != 2 {
		return nil, usageErr("login --invitation needs both halves of the invitation, one from each custodian, separated by a space or a line, on standard input (or asks for them on a terminal); it read %d of the 2", len(halves))
	}
	return halves, nil
}

// mayReceiveCredential refuses to send a kept credential to c's address
// where no vault can answer: plain HTTP off loopback (a vault serves
// plain HTTP on loopback only), across which it would go in the clear.
func (c *client) mayReceiveCredential() error {
	if c.base.Scheme != "https" && !isLoopback(c.base.Hostname()) {
		return usageErr("CUSTOS_SERVER %s is plain HTTP off this machine, where no vault answers (a vault off loopback speaks HTTPS): your credential is not sent there; set CUSTOS_SERVER to the vault's https:// address", c.base)
	}
	return nil
}

// moveLogin takes the login kept for the vault's former address (a
// redeemed local credential, never printed, so that it cannot be given
// again otherwise) to c's, once it opens a session there; the former
// address's file is then removed. An OpenID login is not moved: the
// provider signs the person in at the new address (custos login).
func (c *client) moveLogin(from string) (*storedLogin, error) {
	u, err := url.Parse(from)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("--moved-from %q is not an http(s) URL: give the address the vault had (as CUSTOS_SERVER was set before)", from)
	}
	if u.String() == c.base.String() {
		return nil, usageErr("--moved-from %s is CUSTOS_SERVER itself: set CUSTOS_SERVER to the vault's new address", from)
	}
	if err := c.mayReceiveCredential(); err != nil {
		return nil, err
	}
	oldPath, err := loginPath(u.String(), "login")
	if err != nil {
		return nil, err
	}
	old, err := readLogin(oldPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no login is kept for %s in this account's config folder: give the address exactly as CUSTOS_SERVER was set when you signed in (https:// or http://, the port), or ask the custodians for a new invitation (custos person reissue)", from)
	}
	if err != nil {
		return nil, err
	}
	if old.Kind != "local" || old.Credential == "" {
		return nil, fmt.Errorf("the login kept for %s is through the identity provider: sign in at the new address with custos login", from)
	}
	s, err := c.openSession(api.SessionRequest{Credential: old.Credential})
	if err != nil {
		return nil, fmt.Errorf("the credential kept for %s does not sign you in at %s (%w): check CUSTOS_SERVER, or ask the custodians for a new invitation", from, c.base, err)
	}
	l := &storedLogin{Server: c.base.String(), Kind: "local", Credential: old.Credential, Session: s.Token, Expires: s.Expires}
	path, err := loginPath(c.base.String(), "login")
	if err != nil {
		return nil, err
	}
	if err := writeLogin(path, l); err != nil {
		return nil, err
	}
	os.Remove(oldPath) // moved: the credential is kept once
	return l, nil
}

func runLogin(args []string, stdout, stderr io.Writer) error {
	return runLoginFrom(args, os.Stdin, stdout, stderr)
}

func runLoginFrom(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("login")
	name := fs.String("name", "", "your name in the vault (with --invitation)")
	invited := fs.Bool("invitation", false, "redeem your invitation: asks for its two halves (one from each custodian), never taken on the command line")
	browser := fs.Bool("browser", false, "sign in through a browser on this machine (authorization code with PKCE) instead of a code typed on another device")
	movedFrom := fs.String("moved-from", "", "the vault's former address (`URL`), whose kept login (a redeemed credential) this moves to CUSTOS_SERVER, once it signs you in there: after the vault moved or took TLS")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 && *invited {
		return usageErr("login --invitation asks for the halves: never put them on the command line, where other users of this machine can read them")
	} else if len(pos) != 0 {
		return usageErr("login takes no arguments")
	}
	if *invited && *name == "" {
		return usageErr("login --invitation needs --name NAME")
	}
	if *movedFrom != "" && *invited {
		return usageErr("login --moved-from moves a login kept for the vault's former address; --invitation redeems a new one: give one of them")
	}
	c, err := newAnonymousClient()
	if err != nil {
		return err
	}
	path, err := loginPath(c.base.String(), "login")
	if err != nil {
		return fmt.Errorf("no folder to keep the login in: %w (set CUSTOS_CONFIG_DIR)", err)
	}
	if *movedFrom != "" {
		if err := c.mayReceiveCredential(); err != nil {
			return err
		}
	}
	var auth api.AuthResponse
	if err := c.call("GET", "/v1/auth", nil, nil, &auth); err != nil {
		return err
	}
	var l *storedLogin
	switch {
	case *movedFrom != "":
		if l, err = c.moveLogin(*movedFrom); err != nil {
			return err
		}
	case *invited:
		halves, err := readHalves(stdin, stderr)
		if err != nil {
			return err
		}
		var red api.RedeemResponse
		if err := c.callAnonymous("POST", "/v1/invitations/redeem", api.RedeemRequest{Name: *name, Halves: halves}, &red); err != nil {
			return fmt.Errorf("the invitation was refused: %w", err)
		}
		l = &storedLogin{Server: c.base.String(), Kind: "local", Credential: red.Credential}
		// The credential is the person's own: kept in their config
		// folder (0600) and used from there; never printed.
		if err := writeLogin(path, l); err != nil {
			return fmt.Errorf("your credential could not be saved (%w); the invitation is used up: ask the custodians for a new one", err)
		}
		s, err := c.openSession(api.SessionRequest{Credential: red.Credential})
		if err != nil {
			return err
		}
		l.Session, l.Expires = s.Token, s.Expires
	case auth.OIDC != nil:
		if l, err = c.loginOIDC(*auth.OIDC, *browser, stderr); err != nil {
			return err
		}
	case os.Getenv("CUSTOS_TOKEN") != "":
		tok := os.Getenv("CUSTOS_TOKEN")
		s, err := c.openSession(api.SessionRequest{Credential: tok})
		if err != nil {
			return err
		}
		l = &storedLogin{Server: c.base.String(), Kind: "local", Credential: tok, Session: s.Token, Expires: s.Expires}
	default:
		// Say only the ways this vault offers.
		var ways []string
		if auth.Local {
			ways = append(ways, "with your invitation (custos login --name NAME --invitation) or a credential in CUSTOS_TOKEN")
		}
		if auth.ClientCertificates {
			ways = append(ways, "with a client certificate of the organisation's CA (set CUSTOS_CLIENT_CERT and CUSTOS_CLIENT_KEY: each command then signs in by itself, without custos login)")
		}
		if len(ways) == 0 {
			return errors.New("this vault offers no way of signing in that custos login knows: ask its administrator")
		}
		return errors.New("this vault has no identity provider: sign in " + strings.Join(ways, ", or "))
	}
	if err := writeLogin(path, l); err != nil {
		return err
	}
	c.token = secret.New(l.Session)
	var who api.WhoAmIResponse
	if err := c.call("GET", "/v1/whoami", nil, nil, &who); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, who, fmt.Sprintf("signed in to %s as %s (%s) until %s", c.base, who.Name, who.Role, when(who.Expires)))
}

func runLogout(args []string, stdout io.Writer) error {
	fs := newFlags("logout")
	forget := fs.Bool("forget", false, "also remove the credential kept from your invitation (afterwards only a re-issue, approved by two custodians, signs you in again)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("logout takes no arguments")
	}
	c, err := newAnonymousClient()
	if err != nil {
		return err
	}
	server := c.base.String()
	var out api.EndSessionResponse
	end := func(token string) {
		c.token = secret.New(token)
		if err := c.call("POST", "/v1/sessions/end", nil, nil, &out); err != nil {
			fmt.Fprintf(os.Stderr, "custos: the vault did not end the session (%v)\n", err)
		}
	}
	// A sign-in through CUSTOS_TOKEN: end the session in use.
	if token := os.Getenv("CUSTOS_TOKEN"); token != "" {
		if strings.HasPrefix(token, vault.SessionPrefix) {
			end(token)
			return printResult(stdout, *asJSON, out, "session ended; unset CUSTOS_TOKEN")
		}
		sum := sha256.Sum256([]byte(token))
		path, err := loginPath(server, hex.EncodeToString(sum[:]))
		if err != nil {
			return err
		}
		if l, err := readLogin(path); err == nil && l.Session != "" && time.Now().Before(l.Expires) {
			end(l.Session)
		}
		os.Remove(path)
		return printResult(stdout, *asJSON, out, "session ended; CUSTOS_TOKEN still holds your credential and signs you in at the next command: unset it to stay signed out")
	}
	path, err := loginPath(server, "login")
	if err != nil {
		return err
	}
	l, err := readLogin(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return printResult(stdout, *asJSON, out, "not signed in to "+server)
	}
	if err == nil && l.Session != "" && time.Now().Before(l.Expires) {
		end(l.Session)
	}
	if err == nil && l.Kind == "local" && !*forget {
		// The credential is the person's only way in: keep it, drop the
		// session.
		l.Session, l.Expires = "", time.Time{}
		if err := writeLogin(path, l); err != nil {
			return err
		}
		return printResult(stdout, *asJSON, out, "session ended at "+server+"; your credential stays in "+path+
			" and signs you in again at your next command: to stay signed out on this computer, custos logout --forget")
	}
	forgetOIDC(server)
	if err := os.Remove(path); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, "signed out of "+server)
}

// recipientText names whom a package is for, with their role in words
// where it is known: "vanna (prosecutor)", "dara (defence counsel)",
// "dara".
func recipientText(name, role string) string {
	switch role {
	case "":
		return name
	case vault.RoleDefence:
		role = "defence counsel"
	}
	return name + " (" + role + ")"
}

// plural is "1 item", "2 items".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
func (s *stringList) Values() []string   { return *s } // cliflags.Lister

// positionList is a flag given once for each event position (a
// uint64 in canonical decimal).
type positionList []uint64

func (p *positionList) String() string { return strings.Join(p.Values(), ",") }

func (p *positionList) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != v {
		return fmt.Errorf("%q is not an event position (a whole number, as the audit names it)", v)
	}
	*p = append(*p, n)
	return nil
}

func (p *positionList) Values() []string { // cliflags.Lister
	var out []string
	for _, n := range *p {
		out = append(out, strconv.FormatUint(n, 10))
	}
	return out
}

func runPerson(sub string, args []string, stdout io.Writer) error {
	fs := newFlags("person " + sub)
	asJSON := fs.Bool("json", false, "print JSON")
	var role, oidc, cert, reason *string
	var fewer *bool
	switch sub {
	case "add":
		role = fs.String("role", "", "one of "+strings.Join(vault.Roles, ", "))
		oidc = fs.String("oidc", "", "the identity provider's value of the configured claim for this person (default: the name)")
		cert = fs.String("certificate", "", "the name mapped from this person's client certificate (default: the name)")
		reason = fs.String("reason", "", askReasonHelp)
	case "reissue", "reinstate":
		reason = fs.String("reason", "", askReasonHelp)
	case "suspend", "remove":
		reason = fs.String("reason", "", "why (recorded)")
		fewer = fs.Bool("leaving-fewer-custodians", false, "confirm suspending or removing a custodian although it leaves fewer than two active custodians (no two-person decision can be approved again)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(pos) != 0:
		return usageErr("person list takes no arguments")
	case sub != "list" && len(pos) != 1:
		return usageErr("person %s takes one NAME", sub)
	case role != nil && *role == "":
		return usageErr("person add needs --role ROLE")
	case (sub == "suspend" || sub == "remove") && *reason == "":
		return usageErr("person %s needs --reason TEXT", sub)
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		var out api.PersonsResponse
		if err := c.call("GET", "/v1/persons", nil, nil, &out); err != nil {
			return err
		}
		var rows [][]string
		for _, p := range out.Persons {
			status := p.Status
			if n := p.Suspension; n != nil && p.Status == "suspended" {
				status += " " + suspensionText(*n)
			}
			switch {
			case p.InvitationVoid != "":
				status += " (the invitation is void: " + p.InvitationVoid + " was retired; a re-issue gives a new one)"
			case p.InvitationExpires != nil && !p.InvitationExpires.After(time.Now()):
				status += " (the invitation expired at " + p.InvitationExpires.UTC().Format("2006-01-02 15:04 UTC") + "; a re-issue gives a new one)"
			case p.InvitationExpires != nil:
				status += " (the invitation may be redeemed until " + p.InvitationExpires.UTC().Format("2006-01-02 15:04 UTC") + ")"
			}
			rows = append(rows, []string{p.Name, p.Role, status, enrolmentText(p.Enrolment)})
		}
		text := table([]string{"NAME", "ROLE", "STATUS", "ENROLLED"}, rows)
		if len(out.Pending) > 0 {
			text += "\n\nAsked for, awaiting a second custodian (custos requests; custos approve REQUEST or custos reject REQUEST):"
			for _, e := range out.Pending {
				text += fmt.Sprintf("\n  %s as %s, asked by %s at %s (request %s, may be approved until %s)", e.Name, e.Role, e.RequestedBy, when(e.Opened), e.Request, when(e.Expires))
				if e.Reason != "" {
					text += ", because: " + strconv.Quote(e.Reason)
				}
			}
		}
		return printResult(stdout, *asJSON, out, text)
	case "add":
		var out api.RequestResponse
		if err := c.call("POST", "/v1/persons", nil, api.PersonRequest{Name: pos[0], Role: *role, OIDC: *oidc, Certificate: *cert, Reason: *reason}, &out); err != nil {
			return err
		}
		return printRequest(stdout, *asJSON, out, fmt.Sprintf("enrolling %s as %s", pos[0], *role))
	case "reissue", "reinstate":
		var out api.RequestResponse
		if err := c.call("POST", "/v1/persons/"+url.PathEscape(pos[0])+"/"+sub, nil, api.ReasonRequest{Reason: *reason}, &out); err != nil {
			return err
		}
		return printRequest(stdout, *asJSON, out, map[string]string{"reissue": "re-issuing the credential of ", "reinstate": "reinstating "}[sub]+pos[0])
	default:
		var out api.PersonStatusResponse
		if err := c.call("POST", "/v1/persons/"+url.PathEscape(pos[0])+"/"+sub, nil, api.PersonStatusRequest{Reason: *reason, LeavingFewerCustodians: *fewer}, &out); err != nil {
			return err
		}
		if !out.Recorded {
			return printResult(stdout, *asJSON, out, fmt.Sprintf("%s was already %s: nothing recorded, and --reason was not kept", out.Person, out.Status))
		}
		return printResult(stdout, *asJSON, out, fmt.Sprintf("%s is %s; their sessions have ended", out.Person, out.Status))
	}
}

func runRequests(args []string, stdout io.Writer) error {
	fs := newFlags("requests")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("requests takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.RequestsResponse
	if err := c.call("GET", "/v1/requests", nil, nil, &out); err != nil {
		return err
	}
	var text string
	if len(out.Requests) == 0 && len(out.Destructions) == 0 {
		text = "no pending requests (custodians see every pending request; anyone else, the ones they asked for)"
	}
	if len(out.Requests) > 0 {
		var rows [][]string
		// The items a sealing asks are named below the table, one
		// request a line, so that its columns stay readable.
		var items, warnings []string
		for _, r := range out.Requests {
			asks := describeRequest(r.Request, r.ForRole)
			if n := r.Suspension; n != nil {
				asks += " (suspended " + suspensionText(*n) + ")"
			}
			if w := conflictWarnings(r.Conflicts); w != "" {
				warnings = append(warnings, "Before deciding "+r.ID+":"+strings.ReplaceAll(w, "\n", "\n  "))
			}
			if l := r.Lowering; l != nil {
				asks += "; " + loweringText(*l)
			}
			if a := r.Items; a != nil {
				asks += "; " + askedItemsSummary(*a) + " (named below)"
				items = append(items, fmt.Sprintf("Items asked in %s: %s", r.ID, askedItemsNames(*a)))
			}
			if r.Reason != "" {
				asks += "; because: " + strconv.Quote(r.Reason)
			}
			rows = append(rows, []string{r.ID, r.Kind, asks, r.By, when(r.Opened), when(r.Expires)})
		}
		text = table([]string{"REQUEST", "KIND", "ASKS", "BY", "ASKED", "OPEN UNTIL"}, rows)
		if len(items) > 0 {
			text += "\n" + strings.Join(items, "\n")
		}
		if len(warnings) > 0 {
			text += "\n" + strings.Join(warnings, "\n")
		}
	}
	if len(out.Destructions) > 0 {
		// Decided on their own, each until it expires.
		var rows [][]string
		for _, d := range out.Destructions {
			rows = append(rows, []string{d.Request, d.Case, d.Order, strconv.Quote(d.Reason), d.By, when(d.At), when(d.Expires)})
		}
		if text != "" {
			text += "\n\n"
		}
		text += "Case destructions, each decided by a second custodian with: custos case approve-destruction CASE REQUEST\n" +
			table([]string{"REQUEST", "CASE", "ORDER", "REASON", "BY", "ASKED", "OPEN UNTIL"}, rows)
	}
	if len(out.Ended) > 0 {
		var rows [][]string
		for _, e := range out.Ended {
			// Described as it was while pending.
			asks := describeRequest(vault.Request{Kind: e.Kind, Case: e.Case, Person: e.Person, Params: e.Params}, "")
			rows = append(rows, []string{e.Request, e.Kind, asks, when(e.Asked), endedText(e)})
		}
		if text != "" {
			text += "\n\n"
		}
		text += "Your requests that ended in the last 30 days, newest first\n" +
			table([]string{"REQUEST", "KIND", "ASKS", "ASKED", "ENDED"}, rows)
	}
	return printResult(stdout, *asJSON, out, strings.TrimSuffix(text, "\n"))
}

// endedText says how a request ended, as its requester reads it.
func endedText(e vault.EndedRequest) string {
	var s string
	switch e.Outcome {
	case vault.OutcomeApproved:
		s = fmt.Sprintf("approved by %s at %s", e.By, when(e.At))
		if e.Package != "" {
			s += "; sealed package " + e.Package
		}
	case vault.OutcomeRejected:
		s = fmt.Sprintf("rejected by %s at %s", e.By, when(e.At))
	case vault.OutcomeWithdrawn:
		s = fmt.Sprintf("withdrawn by you at %s", when(e.At))
	case vault.OutcomeExpired:
		s = fmt.Sprintf("expired unanswered at %s; ask again if it is still needed", when(e.At))
	case vault.OutcomeVoid:
		s = fmt.Sprintf("void from %s, when you were suspended or removed, or the identity source you signed in through to ask was retired, while it waited; ask again if it is still needed", when(e.At))
	case vault.OutcomeHeld:
		s = fmt.Sprintf("void from %s, when a legal hold was placed on the case while it waited; ask again once the hold is lifted", when(e.At))
	case vault.OutcomeSuperseded:
		s = fmt.Sprintf("ended at %s, when %s approved another request to destroy the case", when(e.At), e.By)
	default:
		s = fmt.Sprintf("%s at %s", e.Outcome, when(e.At))
	}
	if e.Reason != "" {
		s += "; because: " + strconv.Quote(e.Reason)
	}
	if e.Withheld {
		s += "; you are no longer assigned to the case: its reason and package are not shown"
	}
	return s
}

// askedItemsText names the items a package.seal request asks to seal,
// as its approver must check them: how many, their size, and the first
// of them by name, size, SHA-256 and id.
func askedItemsText(a vault.AskedItems) string {
	return askedItemsSummary(a) + ": " + askedItemsNames(a)
}

// askedItemsNames names the first of the items asked, by name, size,
// category, SHA-256 and id, and says how many more there are.
func askedItemsNames(a vault.AskedItems) string {
	var names []string
	for _, it := range a.First {
		names = append(names, fmt.Sprintf("%s (%s, %s, sha256 %s, %s)", strconv.Quote(it.Name), custody.Bytes(it.Size), categoryText(it), it.SHA256, it.ID))
	}
	s := strings.Join(names, ", ")
	if a.Unknown > 0 {
		s += fmt.Sprintf("; %d of them name no item the vault can read now (an approval is refused)", a.Unknown)
	}
	if more := a.Count - a.Unknown - len(a.First); more > 0 {
		s += fmt.Sprintf(" and %d more (custos requests --json lists every id; the case's custody report names them all)", more)
	}
	return s
}

// askedItemsSummary says how many items are asked, their size in all and
// how many of each category.
func askedItemsSummary(a vault.AskedItems) string {
	s := fmt.Sprintf("%s, %s in all", plural(a.Count, "item"), custody.Bytes(a.Size))
	var counts []string
	for _, c := range slices.Sorted(maps.Keys(a.Classified)) {
		counts = append(counts, fmt.Sprintf("%s %d", c, a.Classified[c]))
	}
	if a.Unclassified > 0 {
		counts = append(counts, fmt.Sprintf("not classified %d", a.Unclassified))
	}
	if len(counts) > 0 {
		s += " (" + strings.Join(counts, ", ") + ")"
	}
	if a.Known > 0 {
		s += fmt.Sprintf("; known material, hidden from review: %d", a.Known)
	}
	if a.KnownUnchecked > 0 {
		s += fmt.Sprintf(" (%d after the first %d not checked for known material)", a.KnownUnchecked, vault.MaxKnownChecked)
	}
	if a.Unknown > 0 {
		s += fmt.Sprintf(", %d unreadable", a.Unknown)
	}
	return s
}

// categoryText is an item's settled category as a request names it.
func categoryText(it vault.ItemSummary) string {
	switch {
	case it.Category != "":
		return it.Category
	case it.Disputed:
		return "not classified: the votes disagree"
	}
	return "not classified"
}

// describeRequest says what a request asks, as its approver must check
// it. forRole is the role of whom a sealing is for, where the vault says
// it (to custodians), "" otherwise.
func describeRequest(r vault.Request, forRole string) string {
	p := r.Parameters()
	switch r.Kind {
	case vault.KindIdentitySource:
		return fmt.Sprintf("accept the identity source %s: from then on it signs in whoever it vouches for as the vault's person of that name or identity, custodians included; before approving, make sure it is your organisation's own provider or CA, as its administrators give it to you (custos approve first checks a provider's key from this computer)", p.Source)
	case vault.KindIdentitySourceRetire:
		return fmt.Sprintf("retire the identity source %s: from then on it signs no one in, and sessions opened through it end; make sure people who sign in through it have another way (a provider's new key accepted, another CA)", p.Source)
	case vault.KindHashSetRemove:
		return fmt.Sprintf("remove hash set %s (a match means %s; %s): what it lists is no longer known material by it, and may come back for review", p.Name, orDash(p.Category), entries(p.Imported))
	case vault.KindHashSetImport:
		meaning := func(c string) string {
			if c == "" {
				return "the category each entry names"
			}
			return c
		}
		s := fmt.Sprintf("import hash set %s (%s, a match means %s): %s from a file of sha256 %s",
			p.Name, p.Format, meaning(p.Category), entries(p.Imported), p.SourceSHA256)
		if other := vault.OtherMeanings(p.Categories, p.Category); other != "" {
			s += "; BEWARE, entries that name their own category keep it, so its entries mean: " + other
			if n := p.Categories[vault.CategoryNotIllegal]; n > 0 && p.Category != vault.CategoryNotIllegal {
				s += fmt.Sprintf(" (a file matching one of the %d not-illegal entries is settled not illegal with no vote)", n)
			}
		}
		if p.Replaces != nil {
			s += fmt.Sprintf("; it replaces set %s in use (%s, a match means %s)", p.Name, entries(p.Replaces.Imported), meaning(p.Replaces.Category))
		} else {
			s += "; no set of that name is in use"
		}
		return s + "; before approving, compare the file's sha256 with one you obtain yourself from the list's provider"
	case vault.KindEnroll:
		s := r.Person + " as " + p.Role
		if p.OIDC != "" {
			s += ", identity-provider name " + strconv.Quote(p.OIDC)
		}
		if p.Certificate != "" {
			s += ", certificate name " + strconv.Quote(p.Certificate)
		}
		return s
	case vault.KindMember:
		return r.Person + " to case " + r.Case
	case vault.KindRecipient:
		return r.Person + "'s recipient becomes " + custody.RecipientText(p.Recipient)
	case vault.KindReceiptKey:
		return r.Person + "'s receipt key becomes " + p.Fingerprint
	case vault.KindSeal:
		// The items are named beside it (askedItemsText).
		s := fmt.Sprintf("a package of %s for %s: %q", r.Case, recipientText(p.For, forRole), p.Purpose)
		if p.DiscloseOthers {
			s += "; its report states the other packages of these items"
		}
		return s
	case vault.KindPolicy:
		return "case " + r.Case + ": export approval " + p.ExportApproval
	case vault.KindClassificationPolicy:
		return fmt.Sprintf("case %s: lower the agreeing votes that settle an item's category from %d to %d", r.Case, p.From, p.Votes)
	case vault.KindDestroy:
		return "destroy case " + r.Case + " (court order " + strconv.Quote(p.Order) + "): " + strconv.Quote(p.Reason)
	case vault.KindReissue:
		return "a new credential for " + r.Person
	case vault.KindReinstate:
		return "reinstate " + r.Person
	}
	return r.Person
}

// loweringText says what lowering a case's classification policy would
// do now: "now 3; approved now, the votes already cast would settle 2
// items: baseline 1, not-illegal 1".
func loweringText(l vault.LoweringPreview) string {
	n := 0
	for _, k := range l.Settle {
		n += k
	}
	s := fmt.Sprintf("now %d; approved now, the votes already cast would settle ", l.Now)
	if n == 0 {
		return s + "no item"
	}
	return s + plural(n, "item") + ": " + tally(l.Settle)
}

// enrolmentText says how a person was enrolled: when, the custodian who
// approved and the one who asked, or that the vault started with them.
func enrolmentText(n *vault.StatusNote) string {
	switch {
	case n == nil:
		return "-"
	case n.By == vault.System.Person:
		return when(n.At) + " when the vault was set up"
	case n.RequestedBy == "":
		return when(n.At) + " by " + n.By
	}
	return when(n.At) + " by " + n.By + ", asked by " + n.RequestedBy
}

// suspensionText says who suspended a person, when and why.
func suspensionText(n vault.StatusNote) string {
	s := fmt.Sprintf("by %s at %s", n.By, when(n.At))
	if n.Reason != "" {
		s += ", because: " + strconv.Quote(n.Reason)
	}
	return s
}

func runDecide(verb string, args []string, stdout io.Writer) error {
	fs := newFlags(verb)
	asJSON := fs.Bool("json", false, "print JSON")
	var reason *string
	if verb == "reject" {
		reason = fs.String("reason", "", "why (recorded)")
	} else {
		reason = fs.String("reason", "", "why you approve (optional; recorded beside the requester's reason, and shown in custody reports)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("%s takes one REQUEST", verb)
	}
	if verb == "reject" && *reason == "" {
		return usageErr("reject needs --reason TEXT")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.RequestResponse
	if verb == "reject" {
		if err := c.call("POST", "/v1/requests/"+url.PathEscape(pos[0])+"/reject", nil, api.RejectRequest{Reason: *reason}, &out); err != nil {
			return err
		}
		if out.Withdrawn {
			return printResult(stdout, *asJSON, out, fmt.Sprintf("withdrew your request %s (%s)", out.Request, out.Kind))
		}
		return printResult(stdout, *asJSON, out, fmt.Sprintf("rejected request %s (%s by %s)", out.Request, out.Kind, out.By))
	}
	if err := checkSourceHere(c, pos[0]); err != nil {
		return err
	}
	var body any // none without a reason, as before reasons were asked
	if *reason != "" {
		body = api.ReasonRequest{Reason: *reason}
	}
	if err := c.call("POST", "/v1/requests/"+url.PathEscape(pos[0])+"/approve", nil, body, &out); err != nil {
		return err
	}
	text := fmt.Sprintf("approved request %s (%s by %s); it is carried out", out.Request, out.Kind, out.By)
	if out.Package != nil {
		pk := out.Package
		text += fmt.Sprintf(": sealed package %s (%s, sha256 %s) for %s, who finds it with custos package list", pk.ID, plural(pk.Items, "item"), pk.SHA256, recipientText(pk.For, pk.ForRole))
	}
	if hs := out.HashSet; hs != nil {
		text += fmt.Sprintf(": hash set %s is in use (%s, tables sha256 %s; event %d); custos hashset list shows it", hs.HashSet, entries(hs.Imported), hs.TableSHA256, hs.Event)
		text += conflictWarnings(hs.Conflicts)
	}
	if e := out.ClassificationPolicy; e != nil {
		text += ": case " + out.Case + "'s classification policy is lowered" + policyEffectText(out.Case, *e)
	}
	if out.InvitationPart != "" {
		text += fmt.Sprintf("\nYour half of %s's invitation (shown once; hand it to them yourself):\n%s\n%s redeems both halves with: custos login --name %s --invitation (it asks for them)",
			out.Person, out.InvitationPart, out.Person, out.Person)
	}
	return printResult(stdout, *asJSON, out, text)
}

func runCasePolicy(args []string, stdout io.Writer) error {
	fs := newFlags("case policy")
	export := fs.String("export-approval", "", "required (every package of the case needs a custodian's approval, never its requester's own) or none")
	reason := fs.String("reason", "", caseReasonHelp)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *export == "" {
		return usageErr("case policy takes CASE and --export-approval required|none")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.PolicyResponse
	req, err := c.callOrRequest("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/policy", api.PolicyRequest{ExportApproval: *export, Reason: *reason}, &out)
	if err != nil {
		return err
	}
	if req != nil {
		return printRequest(stdout, *asJSON, *req, "dropping the export approval of "+pos[0])
	}
	if out.ExportApproval == vault.ExportApprovalNone {
		// Only an unchanged policy answers at once when the approval is
		// dropped: dropping it is otherwise a request.
		return printResult(stdout, *asJSON, out, fmt.Sprintf("packages of %s already need no approval; nothing changed (nothing recorded, and --reason was not kept)", pos[0]))
	}
	if !out.Recorded {
		return printResult(stdout, *asJSON, out, fmt.Sprintf("packages of %s already needed a custodian's approval (never the requester's own); nothing changed (nothing recorded, and --reason was not kept)", pos[0]))
	}
	return printResult(stdout, *asJSON, out, fmt.Sprintf("packages of %s now need a custodian's approval to be sealed, never the requester's own: an investigator's sealing is a request a custodian approves, a custodian's one another custodian approves (hash lists and CASE/UCO exports do not: they are recorded, and carry no evidence)", pos[0]))
}

func runIdentitySourceList(args []string, stdout io.Writer) error {
	fs := newFlags("identity-source list")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("identity-source list takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.IdentitySourcesResponse
	if err := c.call("GET", "/v1/identity-sources", nil, nil, &out); err != nil {
		return err
	}
	if *asJSON {
		// The provider is read from here only for the words of the
		// text, which JSON does not carry.
		return printResult(stdout, true, out, "")
	}
	var srcs []string
	for _, s := range out.Sources {
		srcs = append(srcs, s.Source)
	}
	here := readKeysHere(srcs)
	var lines []string
	if !out.Guarded {
		lines = append(lines, "identity sources are not guarded yet: every source the server is configured with signs people in (the next start of this release accepts those and guards them)")
	}
	for _, s := range out.Sources {
		state := "accepted"
		switch {
		case !s.Accepted && s.RetiredAt != 0:
			state = fmt.Sprintf("retired (event %d): signs no one in", s.RetiredAt)
		case !s.Accepted:
			state = "NOT accepted: signs no one in until two custodians accept it (custos identity-source accept)"
		case s.AcceptedAt != 0:
			state = fmt.Sprintf("accepted (event %d)", s.AcceptedAt)
		}
		configured := "configured"
		if !s.Configured {
			configured = "not configured on this server"
		}
		lines = append(lines, fmt.Sprintf("%s  %s; %s%s", printable.Terminal(s.Source), configured, state, here.note(s.Source, s.Accepted)))
	}
	if len(out.Sources) == 0 {
		lines = append(lines, "no identity provider or client CA: people sign in with the vault's own credentials")
	}
	return printResult(stdout, *asJSON, out, strings.Join(lines, "\n"))
}

func runIdentitySourceAccept(args []string, stdout io.Writer) error {
	return runIdentitySourceAsk("accept", args, stdout)
}

func runIdentitySourceRetire(args []string, stdout io.Writer) error {
	return runIdentitySourceAsk("retire", args, stdout)
}

// runIdentitySourceAsk runs identity-source accept or retire: a request
// a second custodian approves. A provider's key to accept is first read
// from the provider as this computer reaches it (refuseUnseen).
func runIdentitySourceAsk(verb string, args []string, stdout io.Writer) error {
	fs := newFlags("identity-source " + verb)
	reason := fs.String("reason", "", "why the source is "+map[string]string{"accept": "accepted", "retire": "retired"}[verb]+" (recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	path, doing, until := "/v1/identity-sources", "accepting", "it signs no one in until then"
	if verb == "retire" {
		path, doing, until = "/v1/identity-sources/retire", "retiring", "it signs people in until then"
	}
	if len(pos) != 1 || *reason == "" {
		if verb == "retire" {
			return usageErr("identity-source retire needs SOURCE (an accepted source, quoted, as identity-source list shows it) and --reason TEXT")
		}
		return usageErr("identity-source accept needs SOURCE (\"oidc-key ISSUER THUMBPRINT\", \"oidc-client ISSUER CLIENT_ID CLAIM\" or \"ca SHA256\", quoted, as identity-source list shows it) and --reason TEXT")
	}
	if verb == "accept" {
		if err := refuseUnseen(pos[0], "asking to accept"); err != nil {
			return err
		}
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.RequestResponse
	req, err := c.callOrRequest("POST", path, api.AcceptIdentitySourceRequest{Source: pos[0], Reason: *reason}, &out)
	if err != nil {
		return err
	}
	if req == nil {
		req = &out
	}
	return printRequest(stdout, *asJSON, *req, doing+" the identity source "+pos[0]+" ("+until+")")
}
