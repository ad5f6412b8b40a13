package main

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault/api"
)

// printRequest prints the answer of a decision that waits for a second
// custodian: its id, and this custodian's invitation half where there is
// one (shown once).
func printRequest(w io.Writer, asJSON bool, r api.RequestResponse, what string) error {
	text := fmt.Sprintf("%s needs a second custodian: request %s (%s), open until %s.\nAnother custodian approves it with: custos approve %s",
		what, r.Request, r.Kind, r.Expires.Local().Format(time.DateTime), r.Request)
	if r.InvitationPart != "" {
		text += fmt.Sprintf("\nYour half of %s's invitation (shown once; hand it to them yourself, never through the other custodian):\n%s", r.Person, r.InvitationPart)
	}
	return printResult(w, asJSON, r, text)
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
		text += ", session until " + out.Expires.Local().Format(time.DateTime)
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

func runLogin(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("login")
	name := fs.String("name", "", "your name in the vault (with --invitation)")
	var halves stringList
	fs.Var(&halves, "invitation", "one half of your invitation (give it twice: one from each custodian)")
	browser := fs.Bool("browser", false, "sign in through a browser on this machine (authorization code with PKCE) instead of a code typed on another device")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("login takes no arguments")
	}
	c, err := newAnonymousClient()
	if err != nil {
		return err
	}
	path, err := loginPath(c.base.String(), "login")
	if err != nil {
		return fmt.Errorf("no folder to keep the login in: %w (set CUSTOS_CONFIG_DIR)", err)
	}
	var auth api.AuthResponse
	if err := c.call("GET", "/v1/auth", nil, nil, &auth); err != nil {
		return err
	}
	var l *storedLogin
	switch {
	case len(halves) > 0:
		if len(halves) != 2 || *name == "" {
			return usageErr("login --invitation takes both halves (--invitation A --invitation B) and --name NAME")
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
		return errors.New("this vault has no identity provider: sign in with your invitation (custos login --name NAME --invitation A --invitation B) or a credential in CUSTOS_TOKEN")
	}
	if err := writeLogin(path, l); err != nil {
		return err
	}
	c.token = secret.New(l.Session)
	var who api.WhoAmIResponse
	if err := c.call("GET", "/v1/whoami", nil, nil, &who); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, who, fmt.Sprintf("signed in to %s as %s (%s) until %s", c.base, who.Name, who.Role, who.Expires.Local().Format(time.DateTime)))
}

func runLogout(args []string, stdout io.Writer) error {
	fs := newFlags("logout")
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
	path, err := loginPath(c.base.String(), "login")
	if err != nil {
		return err
	}
	l, err := readLogin(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return printResult(stdout, *asJSON, api.EndSessionResponse{}, "not signed in to "+c.base.String())
	}
	var out api.EndSessionResponse
	if err == nil && l.Session != "" && time.Now().Before(l.Expires) {
		c.token = secret.New(l.Session)
		if err := c.call("POST", "/v1/sessions/end", nil, nil, &out); err != nil {
			fmt.Fprintf(os.Stderr, "custos: the vault did not end the session (%v); the login is removed here anyway\n", err)
		}
	}
	forgetOIDC(c.base.String())
	if err := os.Remove(path); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, "signed out of "+c.base.String())
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runPerson(sub string, args []string, stdout io.Writer) error {
	fs := newFlags("person " + sub)
	asJSON := fs.Bool("json", false, "print JSON")
	var role, oidc, cert, reason *string
	switch sub {
	case "add":
		role = fs.String("role", "", "investigator, prosecutor, auditor or custodian")
		oidc = fs.String("oidc", "", "the identity provider's value of the configured claim for this person (default: the name)")
		cert = fs.String("certificate", "", "the name mapped from this person's client certificate (default: the name)")
	case "suspend", "remove":
		reason = fs.String("reason", "", "why (recorded)")
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
	case reason != nil && *reason == "":
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
		var b strings.Builder
		for _, p := range out.Persons {
			fmt.Fprintf(&b, "%-24s %-13s %s\n", p.Name, p.Role, p.Status)
		}
		return printResult(stdout, *asJSON, out, strings.TrimSuffix(b.String(), "\n"))
	case "add":
		var out api.RequestResponse
		if err := c.call("POST", "/v1/persons", nil, api.PersonRequest{Name: pos[0], Role: *role, OIDC: *oidc, Certificate: *cert}, &out); err != nil {
			return err
		}
		return printRequest(stdout, *asJSON, out, fmt.Sprintf("enrolling %s as %s", pos[0], *role))
	case "reissue", "reinstate":
		var out api.RequestResponse
		if err := c.call("POST", "/v1/persons/"+url.PathEscape(pos[0])+"/"+sub, nil, nil, &out); err != nil {
			return err
		}
		return printRequest(stdout, *asJSON, out, map[string]string{"reissue": "re-issuing the credential of ", "reinstate": "reinstating "}[sub]+pos[0])
	default:
		var out api.PersonStatusResponse
		if err := c.call("POST", "/v1/persons/"+url.PathEscape(pos[0])+"/"+sub, nil, api.PersonStatusRequest{Reason: *reason}, &out); err != nil {
			return err
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
	if len(out.Requests) == 0 {
		return printResult(stdout, *asJSON, out, "no pending requests")
	}
	var b strings.Builder
	for _, r := range out.Requests {
		what := r.Person
		if r.Case != "" {
			what = strings.TrimSpace(r.Case + " " + r.Person)
		}
		fmt.Fprintf(&b, "%s  %-18s %-24s by %-16s until %s\n", r.ID, r.Kind, what, r.By, r.Expires.Local().Format(time.DateTime))
	}
	return printResult(stdout, *asJSON, out, strings.TrimSuffix(b.String(), "\n"))
}

func runDecide(verb string, args []string, stdout io.Writer) error {
	fs := newFlags(verb)
	asJSON := fs.Bool("json", false, "print JSON")
	var reason *string
	if verb == "reject" {
		reason = fs.String("reason", "", "why (recorded)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("%s takes one REQUEST", verb)
	}
	if reason != nil && *reason == "" {
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
		return printResult(stdout, *asJSON, out, fmt.Sprintf("rejected request %s (%s by %s)", out.Request, out.Kind, out.By))
	}
	if err := c.call("POST", "/v1/requests/"+url.PathEscape(pos[0])+"/approve", nil, nil, &out); err != nil {
		return err
	}
	text := fmt.Sprintf("approved request %s (%s by %s): done", out.Request, out.Kind, out.By)
	if out.Package != nil {
		text += fmt.Sprintf("; sealed package %s (%d items, sha256 %s)", out.Package.ID, out.Package.Items, out.Package.SHA256)
	}
	if out.InvitationPart != "" {
		text += fmt.Sprintf("\nYour half of %s's invitation (shown once; hand it to them yourself):\n%s\n%s redeems both halves with: custos login --name %s --invitation HALF1 --invitation HALF2",
			out.Person, out.InvitationPart, out.Person, out.Person)
	}
	return printResult(stdout, *asJSON, out, text)
}

func runCasePolicy(args []string, stdout io.Writer) error {
	fs := newFlags("case policy")
	export := fs.String("export-approval", "", "required (every package of the case needs a second custodian) or none")
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
	req, err := c.callOrRequest("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/policy", api.PolicyRequest{ExportApproval: *export}, &out)
	if err != nil {
		return err
	}
	if req != nil {
		return printRequest(stdout, *asJSON, *req, "dropping the export approval of "+pos[0])
	}
	return printResult(stdout, *asJSON, out, fmt.Sprintf("exports of %s now need a second custodian's approval", pos[0]))
}
