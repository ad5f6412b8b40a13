package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/internal/secret"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Roles are every role a person may have, in the order messages list
// them; every list of roles a person reads is made from it.
var Roles = []string{RoleInvestigator, RoleAnalyst, RoleProsecutor, RoleDefence, RoleAuditor, RoleCustodian}

var roles = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range Roles {
		m[r] = true
	}
	return m
}()

// unknownRole refuses a role no person may have, naming those they may.
func unknownRole(role string) error {
	return notOneOf("unknown role", role, Roles)
}

// Enroll enrols a person directly, as the vault itself (no request, no
// second custodian), and returns their local credential, shown this once.
// It is for the server's operator only: the development persons of --dev,
// and the first custodians of a new vault (custos admin enroll, with the
// server stopped). A name already enrolled is refused.
func (v *Vault) Enroll(ctx context.Context, name, role string) (secret.String, error) {
	if err := checkPersonName(name); err != nil {
		return secret.String{}, err
	}
	if !roles[role] {
		return secret.String{}, unknownRole(role)
	}
	token := newToken(TokenPrefix)
	notEnrolled := func(ahead []*events.Event) error {
		if touchesPersons(ahead) {
			return sequencer.ErrNotYet
		}
		if p, ok := v.state.personByName(name); ok {
			return fmt.Errorf("%w: %s is already enrolled as %s", ErrConflict, name, p.Role)
		}
		return nil
	}
	_, err := v.log.Append(ctx, sequencer.Draft{Type: TypePersonEnrolled, Actor: System, Check: notEnrolled,
		Data: PersonEnrolled{Name: name, Role: role, TokenSHA256: tokenHash(token)}})
	if err != nil {
		return secret.String{}, err
	}
	return secret.New(token), nil
}

// EnrolledOutside returns, sorted, the name of every person ever
// enrolled (suspended and removed ones included) who is not in set with
// the role set gives their name: a development start enrols its persons
// only in a vault that holds none but them, never beside people enrolled
// otherwise.
func (v *Vault) EnrolledOutside(set map[string]string) []string {
	v.state.mu.RLock()
	defer v.state.mu.RUnlock()
	var out []string
	for name, p := range v.state.persons {
		if set[name] != p.Role {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// CustodiansEver counts every custodian ever enrolled, suspended and
// removed ones included: `admin enroll` works only while it is below two,
// so that an operator can never add a custodian to a vault in use.
func (v *Vault) CustodiansEver() int { return v.state.custodiansEver() }

// recordedMark is joined to every error whose refusal is already in the
// custody log, so that the API records the others (see Recorded). Its
// message is empty: it changes nothing a client reads.
type recordedMark struct{}

func (recordedMark) Error() string { return "" }

// Recorded reports whether err is a refusal that is already recorded as an
// access.refused event.
func Recorded(err error) bool {
	return errors.As(err, new(recordedMark))
}

// integrityRecordedMark marks an integrity failure (ErrIntegrity) whose
// integrity.failed event was appended before the error was returned.
type integrityRecordedMark struct{}

func (integrityRecordedMark) Error() string { return "" }

// IntegrityRecorded reports whether err is an integrity failure already
// recorded as an integrity.failed event, so that an answer may say so;
// not every ErrIntegrity is (a finding recorded later, from a goroutine
// of its own, or one the log could not take).
func IntegrityRecorded(err error) bool {
	return errors.As(err, new(integrityRecordedMark))
}

// withIntegrityRecorded returns failure, marked as recorded if the
// append of its integrity.failed event (recordErr) succeeded, else
// joined with the append's error.
func withIntegrityRecorded(failure, recordErr error) error {
	if recordErr != nil {
		return errors.Join(failure, recordErr)
	}
	return fmt.Errorf("%w%w", failure, integrityRecordedMark{})
}

// refuse records a refused request and returns the error for the caller.
// The refusal is a custody event even though nothing else happens.
func (v *Vault) refuse(ctx context.Context, who Principal, action, target, reason string, kind error) error {
	return v.refuseHint(ctx, who, action, target, reason, "", kind)
}

// refuseHint is refuse with what the person can do next (hint): the
// answer says it after the reason; the custody log records the reason
// alone (refusal), and the grounds its kind gives (RefusalGrounds).
func (v *Vault) refuseHint(ctx context.Context, who Principal, action, target, reason, hint string, kind error) error {
	return v.refuseOn(ctx, who, action, target, reason, hint, kind, RefusalGrounds(kind))
}

// refuseOn is refuseHint on grounds its kind does not say.
func (v *Vault) refuseOn(ctx context.Context, who Principal, action, target, reason, hint string, kind error, grounds string) error {
	if err := v.recordRefusal(ctx, who, action, target, reason, grounds); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s%w", kind, withHint(reason, hint), recordedMark{})
}

// recordRefusal records one refusal of who, or counts it for its
// window's summary past the person's burst (refusals.go).
func (v *Vault) recordRefusal(ctx context.Context, who Principal, action, target, reason, grounds string) error {
	// The target is whatever the caller named, refused before it was
	// validated: recorded escaped and bounded, so that a refusal costs
	// the log a bounded size and carries nothing invisible.
	if v.refusals.admit(who, refusalKey{person: who.Name, role: who.Role, credential: credentialKey(who.Credential), action: action, reason: reason, grounds: grounds}, v.cfg.Now()) {
		caseID, itemID := v.refusalScope(action, target)
		_, err := v.append(ctx, sequencer.Draft{Type: TypeAccessRefused, Actor: who.actor(), Case: caseID, Item: itemID,
			Data: AccessRefused{Action: action, Target: recordedTarget(target), Reason: reason, Grounds: grounds}})
		if err != nil {
			return fmt.Errorf("recording a refusal: %w", err)
		}
	}
	return nil
}

// refuseUnseen refuses a request about a case, item or package (what) that
// does not exist or that who may not see, and answers both alike: the
// same ErrNotFound and the same message (no such WHAT TARGET for you,
// then rule),
// so that the answer does not tell whether the target exists. The custody
// log records the truth: "no such WHAT" (grounds unknown) if it does not
// exist, else reason (grounds permission).
func (v *Vault) refuseUnseen(ctx context.Context, who Principal, action, what, target string, exists bool, reason, rule string) error {
	err := unseen(what, target, exists, reason, rule)
	if what == "case" {
		if near := v.caseSpelledLike(who, target); near != "" {
			// Said alike whether target exists or not: it names a case
			// who may see, whatever target is.
			err.(*refusal).answer += fmt.Sprintf("; case ids are exact, letter case included: did you mean %s?", near)
		}
	}
	return v.refusedAs(ctx, who, action, target, err)
}

// caseSpelledLike is a case who may see (as ShowCase lets them: every
// case for custodians and auditors, their own for investigators and
// analysts, those they have packages of for prosecutors and defence)
// whose id is target's but for letter case, or "": none where target
// itself is a case they may see (refused for another reason). It looks
// at each case's id once, under the state's read lock, without copying.
func (v *Vault) caseSpelledLike(who Principal, target string) string {
	if target == "" || len(target) > 64 {
		return ""
	}
	sees := func(id string) bool {
		c, ok := v.state.getCase(id)
		return ok && (seesAllCases(who) || assigned(who, c) || v.packageFor(who, id))
	}
	if sees(target) {
		return ""
	}
	for _, id := range v.state.casesSpelledLike(target) {
		if sees(id) {
			return id
		}
	}
	return ""
}

// assignedItem returns an item whose case who is assigned to. An unknown
// item, or one of a case who is not assigned to, is refused alike
// (refuseUnseen, recorded): notAssigned is the recorded reason of the
// second, rule what the answer says of both.
func (v *Vault) assignedItem(ctx context.Context, who Principal, action, itemID, notAssigned, rule string) (Item, error) {
	it, ok, err := v.state.getItem(itemID)
	if err != nil {
		return Item{}, err
	}
	c, _ := v.state.getCase(it.Case)
	if !ok || !assigned(who, c) {
		return Item{}, v.refuseUnseen(ctx, who, action, "item", itemID, ok, notAssigned, rule)
	}
	return it, nil
}

// assigned reports whether who is an investigator assigned to the case,
// destroyed or not.
func assigned(who Principal, c Case) bool {
	return handlesEvidence(who.Role) && c.Members[who.Name]
}

// handlesEvidence reports whether a role works on the evidence of the
// cases it is assigned to: investigators, and hotline analysts.
func handlesEvidence(role string) bool { return role == RoleInvestigator || role == RoleAnalyst }

// RecordRefusal records a refusal decided outside the vault's commands: a
// request without valid credentials (who nil: actor auth "none"), an
// unknown route, or a summary of repeated refusals (AccessRefused.Count).
// It returns the error of the append.
func (v *Vault) RecordRefusal(ctx context.Context, who *Principal, d AccessRefused) error {
	actor := events.Actor{Auth: "none"}
	if who != nil && d.Count == 0 {
		// A signed-in person's refusals share the budget of the vault's
		// own: past the burst, the window's summary counts them. (A
		// summary made by the caller is recorded as it is.)
		k := refusalKey{person: who.Name, role: who.Role, credential: credentialKey(who.Credential), action: d.Action, reason: d.Reason, grounds: d.Grounds}
		if !v.refusals.admit(*who, k, v.cfg.Now()) {
			return nil
		}
	}
	if who != nil {
		actor = who.actor()
	}
	_, err := v.appendActs(ctx, true, sequencer.Draft{Type: TypeAccessRefused, Actor: actor, Data: d})
	return err
}

var (
	caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	personPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	itemIDPattern = regexp.MustCompile(`^it_[0-9a-f]{24}$`)
	pkgIDPattern  = regexp.MustCompile(`^pk_[0-9a-f]{24}$`)
)

func checkCaseID(id string) error {
	if !caseIDPattern.MatchString(id) {
		return badInput("case id %q: use 1-64 ASCII letters (A-Z, a-z), digits (0-9), '.', '_' or '-'; the title may be written in any script", truncate(id))
	}
	return nil
}

// checkItemID refuses an item id that is not one the vault gives (it_
// and 24 lowercase hex digits), in the same words wherever an item is
// named.
func checkItemID(id string) error {
	if !itemIDPattern.MatchString(id) {
		return badInput("item id %q is malformed: item ids are it_ and 24 hex digits (custos item list --case CASE lists them)", truncate(id))
	}
	return nil
}

// CheckPersonName refuses (ErrBadInput) a name no person can have (1-64
// of a-z, 0-9, '.', '_' and '-', starting with a letter or digit), for
// a page that takes one from its address: a link cannot put words of its
// own into the page as a person's name.
func CheckPersonName(name string) error { return checkPersonName(name) }

func checkPersonName(name string) error {
	if !personPattern.MatchString(name) {
		return badInput("person name %q: use 1-64 lowercase ASCII letters (a-z), digits (0-9), '.', '_' or '-'", truncate(name))
	}
	return nil
}

// checkText accepts free text of at most max bytes that a person will
// read: valid UTF-8 with no control characters (newlines and tabs are
// allowed when multiline), no line or paragraph separators (Unicode Zl,
// Zp), no invisible code points (printable.Invisible: default-ignorable
// and format characters, fillers, private-use, unassigned) except those
// writing needs where they stand (printable.Needed: U+200B after a Khmer
// word, U+200D in 👨‍👩‍👧, U+FE0F in ❤️); and, unless empty and not
// required, at least one visible character: a text that shows as blank
// on screen is refused. A refusal names the character and its position
// (from 1). The direction marks U+200E, U+200F and U+061C stay refused,
// though text copied from an Arabic chat carries them: placed between
// digits they reorder them on a page (16 shown as 61).
func checkText(field, s string, max int, required, multiline bool) error {
	if required && strings.TrimSpace(s) == "" {
		if field == "reason" {
			return badInput("a reason is required: say why (it is recorded, and read by whoever checks the decision)")
		}
		return badInput("%s is required", field)
	}
	if len(s) > max {
		return badInput("%s is %d bytes; the limit is %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return badInput("%s is not valid UTF-8", field)
	}
	at := 0
	for i, r := range s {
		at++
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r == '\r':
			return badInput("%s contains a carriage return (U+000D) at character %d: lines end with a line feed alone (a text saved on Windows ends them with both; convert it, with dos2unix for one)", field, at)
		case unicode.IsControl(r):
			return badInput("%s contains a control character (U+%04X) at character %d", field, r, at)
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return badInput("%s contains a line or paragraph separator (U+%04X) at character %d", field, r, at)
		case (printable.Joiner(r) || printable.Selector(r)) && !printable.Needed(s, i):
			// Writing needs these beside certain letters and symbols;
			// anywhere else they only hide that two texts differ.
			return badInput("%s contains an invisible character (U+%04X) at character %d where no writing needs it: a zero-width space stands after a word of a script written without spaces (Khmer, Thai, Lao, Burmese), a non-joiner or joiner between two letters of a script it joins (the Indic scripts, Arabic), a joiner between two emoji; a variation selector after an emoji or a Han character", field, r, at)
		case printable.Invisible(r) && !printable.Needed(s, i):
			// Format characters such as U+202E (right-to-left override)
			// can make a file name read as something it is not; fillers
			// such as U+3164 show as nothing at all.
			return badInput("%s contains an invisible character (U+%04X) at character %d: remove it (text copied from elsewhere may carry one)", field, r, at)
		}
	}
	if s != "" && printable.Blank(s) {
		return badInput("%s shows as blank: it has no visible character", field)
	}
	return nil
}

// The limits of an item's name, as the file system named it (its
// escapes read as their bytes): a component of at most maxNameComponent
// bytes (NAME_MAX of ext4 and most Unix file systems) or, UTF-8, of at
// most maxNameComponent UTF-16 code units (NTFS, exFAT, FAT long names
// and HFS+ count so: a Khmer name of 255 letters is 765 bytes), a whole
// name of at most maxItemName bytes (Linux's PATH_MAX); as recorded,
// each escaped byte takes four.
const (
	maxNameComponent = 255
	maxItemName      = 4096
)

// checkFileName accepts an evidence item's name as the depositor's
// machine called it, in its recorded form (EscapeName): a file name, or
// a path relative to a deposited folder (components separated by '/'),
// at most maxItemName bytes once its escapes are read. Each component is visible text (checkText)
// of at most maxNameComponent bytes once its escapes are read, not "."
// or "..", without '\\' except in the escapes
// \xHH (two lowercase hex digits) that stand for the bytes a name cannot
// show as they are: bytes that are not UTF-8 (old Windows media in
// Latin-1), '\\' itself, and characters that would not be seen (a
// newline, a right-to-left override, a zero-width space out of place, a
// component that is all blank), so that the exact bytes can be restored
// (UnescapeName). A name is accepted only in the one form EscapeName
// gives its bytes. The name is metadata only; nothing is ever written
// under it on the server.
func checkFileName(name string) error {
	if len(name) > 4*maxItemName {
		return badInput("file name of %d bytes; the limit is %d as the file system named it, %d as recorded", len(name), maxItemName, 4*maxItemName)
	}
	if n := len(UnescapeName(name)); n > maxItemName {
		return badInput("file name of %d bytes; the limit is %d, as file systems have for a path", n, maxItemName)
	}
	if name == "" {
		return badInput("file name is required")
	}
	for _, part := range strings.Split(name, "/") {
		if err := checkText("file name", part, 12*maxNameComponent, true, false); err != nil {
			if part == "" {
				return badInput("file name %q has an empty path component (a leading, trailing or doubled '/')", truncate(name))
			}
			return fmt.Errorf("%w (a name holds such a character as the \\xHH escapes of its bytes, as custos deposit writes it)", err)
		}
		if part == "." || part == ".." {
			return badInput("file name %q must not contain . or .. components", truncate(name))
		}
		if err := checkEscapes(part); err != nil {
			return badInput("file name %q: %v", truncate(name), err)
		}
		raw := UnescapeName(part)
		if bytes.IndexByte(raw, 0) >= 0 {
			return badInput("file name %q: holds a NUL byte (\\x00), which no file system allows in a name", truncate(name))
		}
		if len(raw) > maxNameComponent && (!utf8.Valid(raw) || utf16Len(raw) > maxNameComponent) {
			return badInput("file name %q: a component of %d bytes; the limit is %d bytes, or %d UTF-16 units for UTF-8, as file systems have", truncate(name), len(raw), maxNameComponent, maxNameComponent)
		}
		if EscapeName(raw) != part {
			// One name, one recorded form: escapes that spell characters
			// shown as they are would make two names of one.
			return badInput("file name %q: an escape \\xHH stands only for a byte a name cannot show as it is (not UTF-8, '\\', or part of a control or invisible character); write other characters as they are", truncate(name))
		}
	}
	return nil
}

// CheckItemName reports whether the vault accepts name as an item's name
// (checkFileName), so that a client can tell before it uploads.
func CheckItemName(name string) error { return checkFileName(name) }

// checkEscapes allows '\\' only in escapes \xHH (lowercase hex);
// checkFileName then checks that each stands for a byte that must be
// escaped.
func checkEscapes(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+4 > len(s) || s[i+1] != 'x' || !isLowerHex(s[i+2]) || !isLowerHex(s[i+3]) {
			return errors.New(`'\\' is allowed only in \xHH escapes (two lowercase hex digits), and written \x5c itself`)
		}
		i += 3
	}
	return nil
}

// utf16Len is how many UTF-16 code units the UTF-8 text b takes: one
// for a character of the Basic Multilingual Plane, two above it.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		n += utf16.RuneLen(r)
		b = b[size:]
	}
	return n
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// EscapeName turns a file name's bytes into an item name
// (printable.Escape): bytes that are not UTF-8, '\\', and the bytes of
// characters that would not be seen as themselves, as \xHH.
func EscapeName(b []byte) string { return printable.Escape(b) }

// UnescapeName returns the bytes an item name stands for (see
// EscapeName); checkFileName has accepted the name.
func UnescapeName(name string) []byte {
	b, _ := printable.Unescape(name)
	return b
}

// shown is user text echoed in an error message: at most 40 bytes (cut at
// a character boundary, then "..."), and printed only in ASCII, with every
// other character escaped as Go does (strconv.QuoteToASCII), so that an
// answer never carries a control character, a separator or an invisible
// character to the reader's screen. %q quotes it; %s and %v print the
// same escapes without the quotes.
type shown string

func (s shown) Format(f fmt.State, verb rune) {
	q := strconv.QuoteToASCII(string(s))
	if verb != 'q' {
		q = q[1 : len(q)-1]
	}
	io.WriteString(f, q)
}

// refusalScope names the case (and item) a refused request was about, if
// its target is one the vault knows, so that the refusal is part of that
// case's and item's custody timeline.
func (v *Vault) refusalScope(action, target string) (caseID, itemID string) {
	// A case's id may look like an item's or a package's: a request
	// about a case is the case's, whatever its id looks like.
	if strings.HasPrefix(action, "case.") || action == "report.list" {
		if _, ok := v.state.getCase(target); ok {
			return target, ""
		}
	}
	switch {
	case itemIDPattern.MatchString(target):
		// A page of the state that failed its check (halting the
		// vault) leaves the refusal unscoped.
		if it, ok, _ := v.state.getItem(target); ok {
			return it.Case, it.ID
		}
	case pkgIDPattern.MatchString(target):
		if p, ok := v.state.getPackage(target); ok {
			return p.Case, ""
		}
	case strings.HasPrefix(action, "case.") || strings.HasPrefix(action, "item.") || strings.HasPrefix(action, "package.") || action == "report.list":
		// report.list: a case's reports asked for (ListReports), by
		// someone who may not list them, is the case's to know of.
		if _, ok := v.state.getCase(target); ok {
			return target, ""
		}
	}
	return "", ""
}

// maxRecordedTarget bounds the target of a recorded refusal, in bytes
// before escaping.
const maxRecordedTarget = 128

// recordedTarget is a refused request's target as the custody log keeps
// it: cut to maxRecordedTarget bytes at a character boundary (then
// "..."), with every non-ASCII or invisible character escaped as
// strconv.QuoteToASCII does.
func recordedTarget(s string) string {
	return fmt.Sprintf("%s", shown(cut(s, maxRecordedTarget)))
}

// cut returns s cut to at most n bytes at a character boundary, with
// "..." when it was cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// truncate returns s as echoed in an error message (see shown).
func truncate(s string) shown {
	return shown(cut(s, 40))
}
