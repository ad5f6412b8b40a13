package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Principal is an authenticated person acting in their role.
type Principal struct {
	Name string
	Role string
}

func (p Principal) actor() events.Actor {
	return events.Actor{Person: p.Name, Role: p.Role, Auth: "token"}
}

// TokenPrefix marks Custos bearer tokens so that secret scanners find them.
const TokenPrefix = "cst_"

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate maps a bearer token to its person. Only the token's SHA-256
// is stored (in the person's enrolment event); the comparison of the
// found hash is constant-time.
func (v *Vault) Authenticate(token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return Principal{}, ErrUnauthenticated
	}
	h := tokenHash(token)
	p := v.state.person(h)
	if p == nil || subtle.ConstantTimeCompare([]byte(p.tokenSHA256), []byte(h)) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: p.Name, Role: p.Role}, nil
}

var roles = map[string]bool{RoleInvestigator: true, RoleProsecutor: true, RoleAuditor: true, RoleCustodian: true}

// Enroll creates (or re-issues the token of) a person and returns their
// new bearer token. It is an administrative action of the server's
// operator, recorded as a system event.
func (v *Vault) Enroll(ctx context.Context, name, role string) (string, error) {
	return v.enroll(ctx, System, name, role)
}

func (v *Vault) enroll(ctx context.Context, by events.Actor, name, role string) (string, error) {
	if err := checkPersonName(name); err != nil {
		return "", err
	}
	if !roles[role] {
		return "", badInput("unknown role %q", role)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	_, err := v.log.Append(ctx, sequencer.Draft{Type: TypePersonEnrolled, Actor: by,
		Data: PersonEnrolled{Name: name, Role: role, TokenSHA256: tokenHash(token)}})
	if err != nil {
		return "", err
	}
	return token, nil
}

// refuse records a refused request and returns the error for the caller.
// The refusal is a custody event even though nothing else happens.
func (v *Vault) refuse(ctx context.Context, who Principal, action, target, reason string, kind error) error {
	_, err := v.log.Append(ctx, sequencer.Draft{Type: TypeAccessRefused, Actor: who.actor(),
		Data: AccessRefused{Action: action, Target: target, Reason: reason}})
	if err != nil {
		return fmt.Errorf("recording a refusal: %w", err)
	}
	return fmt.Errorf("%w: %s", kind, reason)
}

// RefuseUnauthenticated records a request that named no valid person.
func (v *Vault) RefuseUnauthenticated(ctx context.Context, action string) {
	v.log.Append(ctx, sequencer.Draft{Type: TypeAccessRefused,
		Actor: events.Actor{Person: "", Role: "", Auth: "none"},
		Data:  AccessRefused{Action: action, Reason: "no valid credentials"}})
}

var (
	caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	personPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	itemIDPattern = regexp.MustCompile(`^it_[0-9a-f]{24}$`)
	pkgIDPattern  = regexp.MustCompile(`^pk_[0-9a-f]{24}$`)
)

func checkCaseID(id string) error {
	if !caseIDPattern.MatchString(id) {
		return badInput("case id %q: use 1-64 letters, digits, '.', '_' or '-'", truncate(id))
	}
	return nil
}

func checkPersonName(name string) error {
	if !personPattern.MatchString(name) {
		return badInput("person name %q: use 1-64 lowercase letters, digits, '.', '_' or '-'", truncate(name))
	}
	return nil
}

// checkText accepts free text of at most max bytes: valid UTF-8 with no
// control characters (newlines and tabs are allowed when multiline).
func checkText(field, s string, max int, required, multiline bool) error {
	if required && strings.TrimSpace(s) == "" {
		return badInput("%s is required", field)
	}
	if len(s) > max {
		return badInput("%s is %d bytes; the limit is %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return badInput("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return badInput("%s contains a control character", field)
		}
		// Format characters such as U+202E (right-to-left override) can
		// make a file name read as something it is not.
		if unicode.Is(unicode.Cf, r) {
			return badInput("%s contains an invisible formatting character (U+%04X)", field, r)
		}
	}
	return nil
}

// checkFileName accepts an evidence file's name as the depositor's machine
// called it, without any path: no separators, no "." or "..", no NUL or
// control characters, at most 255 bytes. The name is metadata only;
// nothing is ever written under it on the server.
func checkFileName(name string) error {
	if err := checkText("file name", name, 255, true, false); err != nil {
		return err
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return badInput("file name %q must be a plain name without a path", truncate(name))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
