package pkgformat

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/keyfile"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/internal/strictjson"
	"golang.org/x/mod/sumdb/note"
)

// VerifyOptions say what to trust and what to check beyond what needs no
// keys.
//
// A package's authenticity (which vault sealed it) is established only
// by a key the user trusts, given in one of three ways: TrustedKey,
// TrustedKeys, or TrustedCheckpoint. Without any of them Verify checks
// everything else and then returns ErrNotAuthenticated.
type VerifyOptions struct {
	// TrustedKey, if set, is the log's note verifier key (or its
	// KeyFingerprint) that must have signed the package; surrounding white
	// space is ignored. Any other key fails the check.
	TrustedKey string
	// TrustedKeys, if not empty, lists note verifier keys (or their
	// fingerprints), one of which must have signed the package
	// (ParseTrustedKeys reads a file of them). Any other key fails.
	TrustedKeys []string
	// TrustedCheckpoint, if set, is a signed checkpoint note the user saved
	// earlier (custos audit verify --save-checkpoint). Its origin must be
	// the package's, and the package's log key must verify its signature;
	// otherwise the check fails.
	TrustedCheckpoint []byte
	// Identities, if set, decrypt every item and re-hash its plaintext.
	// When none is the package's recipient (an *age.X25519Identity or
	// *age.HybridIdentity tells its recipient; another type is tried on
	// the first item), Verify checks the rest and returns a
	// *KeyMismatchError.
	Identities []age.Identity
	// ExtractDir, with Identities, receives each item's plaintext. The
	// plaintexts are written into a private (0700) temporary folder inside
	// ExtractDir and moved into ExtractDir only once every check has
	// passed, including authenticity; on any failure the temporary folder
	// is removed and ExtractDir is left as it was. Files are never
	// overwritten.
	ExtractDir string
	// TSACerts, if set, are the certificates of the time-stamping
	// authorities the user trusts (the TSA's own or its CA): at least one
	// of the package's RFC 3161 tokens must verify against them, and the
	// attested time is reported (docs/timestamps.md).
	TSACerts []*x509.Certificate
	// WitnessPolicy, if set, names the witnesses the user trusts and
	// their quorum (docs/witnesses.md): the package's checkpoint must
	// carry the quorum's cosignatures, or the check fails.
	WitnessPolicy *witness.Policy
	// Now, if set, is the clock of the check (time.Now otherwise): a
	// witness's cosignature stating a time more than a day after it
	// fails (witness.MaxCosignatureAhead).
	Now func() time.Time
}

// ErrIncomplete is a package file that ends before the package does: cut
// short while it was downloaded or copied. An error that wraps it also
// wraps io.ErrUnexpectedEOF.
var ErrIncomplete = errors.New("the file ends before the package does: it is incomplete (cut short while it was downloaded or copied)")

// cutShort is err, a failure met before the archive's end, said to be the
// file's end where the file had ended by then: whatever the check that
// met it (a tar header, an item's last chunk that age cannot
// authenticate), a complete package is never read to its file's end
// before its end blocks.
func cutShort(raw *tailReader, err error) error {
	if !raw.eof || errors.Is(err, ErrIncomplete) {
		return err
	}
	return &incompleteError{err}
}

type incompleteError struct{ err error }

func (e *incompleteError) Error() string {
	return fmt.Sprintf("%v (%v)", ErrIncomplete, e.err)
}

func (e *incompleteError) Unwrap() []error { return []error{ErrIncomplete, io.ErrUnexpectedEOF, e.err} }

// ErrForkedFromSaved is the finding that the package's checkpoint and
// the checkpoint the user saved (TrustedCheckpoint) are of the same size
// with two different roots, both signed by the log's key: two histories
// of one append-only log.
var ErrForkedFromSaved = errors.New("the package and your saved checkpoint show two different histories of the vault's custody log")

// ErrOtherKey is a package signed by another log key than the one the
// reader pinned (--key, --trusted-keys, --checkpoint): a fresh copy of
// the same package fails alike; the key is what to check.
var ErrOtherKey = errors.New("the package is not signed by the key you trust")

// ErrNotAuthenticated is returned, after every other check has passed,
// when no trusted key was given: the package is intact and consistent
// with the key it names, but nothing shows that key is the vault's.
var ErrNotAuthenticated = errors.New("authenticity not established: the package is intact and consistent, " +
	"but its log key was not pinned (give the vault's key with --key, a trusted-keys file, or a saved checkpoint)")

// KeyMismatchError is returned by Verify when identities were given and
// none of them is the package's recipient: the package is sealed to
// another key. It is returned only once every other check has passed (a
// failed check wins), and then nothing was decrypted. It is not a sign of
// tampering: the recipient is the one the signed manifest and the sealing
// event name.
type KeyMismatchError struct {
	// Recipient is the package's recipient (the manifest's), age1... or
	// age1pq1....
	Recipient string
	// IdentityRecipients are the recipients of the identities given, in
	// their order; empty when their type does not tell (the identities
	// were then tried on the first item and failed).
	IdentityRecipients []string
}

func (e *KeyMismatchError) Error() string {
	if len(e.IdentityRecipients) == 0 {
		return fmt.Sprintf("key mismatch: the package is sealed to %s, and the identity given does not open it", e.Recipient)
	}
	return fmt.Sprintf("key mismatch: the package is sealed to %s, and the identity given is for %s", e.Recipient, strings.Join(e.IdentityRecipients, ", "))
}

// Report is what Verify established.
type Report struct {
	Manifest *Manifest
	// KeyPinned is true when the package's log key was matched against a
	// key the caller trusts; PinnedBy says how.
	KeyPinned bool
	PinnedBy  string
	Checks    []string
	Decrypted int
	// Extracted lists the plaintexts written under ExtractDir, in
	// manifest order; it is empty unless Verify returned nil.
	Extracted  []Extracted
	Checkpoint *events.Checkpoint
	// Proofs are the inclusion proofs of the events, as proofs.json
	// holds them, each verified against Checkpoint (SameHistory compares
	// the subtrees they show).
	Proofs Proofs
	// SealedForRole is the role of the person the package is for, as
	// its signed sealing event states it: "prosecutor" or "defence"
	// (the manifest names the person, not the role).
	SealedForRole string
	// Notes are what was present but not checked (no certificate given),
	// said so that nobody takes it for checked.
	Notes []string
	// Timestamps are the verified time-stamp tokens' attested times.
	Timestamps []TimestampReport
	// Cosignatures are, with a witness policy, the cosignatures counted,
	// in the policy's order.
	Cosignatures []CosignatureReport
}

// CosignatureReport is one witness's counted cosignature of the
// checkpoint: the policy's name for the witness and the time its
// cosignature states (RFC 3339, UTC, whole seconds), when the witness saw
// the checkpoint.
type CosignatureReport struct {
	Witness string `json:"witness"`
	Time    string `json:"time"`
}

// TimestampReport is one verified RFC 3161 token: the attested time
// (RFC 3339, UTC), the TSA's stated accuracy of it ("1s", "" if none:
// the checkpoint existed no later than Time plus Accuracy), and the
// subject of the TSA's certificate.
type TimestampReport struct {
	Time     string `json:"time"`
	Accuracy string `json:"accuracy,omitempty"`
	TSA      string `json:"tsa"`
}

func accuracy(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// withAccuracy is " (±1s)" for a stated accuracy, "" without one.
func withAccuracy(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " (\u00b1" + d.String() + ")"
}

// WithAccuracy formats an attested time with its accuracy, as Verify
// reports it: "2026-11-30T19:40:12Z (±1s)".
func WithAccuracy(t time.Time, d time.Duration) string {
	return t.UTC().Format(time.RFC3339Nano) + withAccuracy(d)
}

// Extracted is one plaintext written by an extraction.
type Extracted struct {
	// ID is the item's id (the manifest's), Name its deposited name;
	// Path is the file written.
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
	// Fallback, if not empty, says why Path is the item's archive name
	// (without .age) instead of the base of its deposited name.
	Fallback string `json:"fallback,omitempty"`
}

func (r *Report) passed(format string, args ...any) {
	r.Checks = append(r.Checks, fmt.Sprintf(format, args...))
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// depositData and sealingData are the fields of those custody events that
// a package's manifest must agree with.
type depositData struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5"`
	SHA1   string `json:"sha1"`
}

type sealingData struct {
	Package   string   `json:"package"`
	For       string   `json:"for"`
	Recipient string   `json:"recipient"`
	Purpose   string   `json:"purpose"`
	Items     []string `json:"items"`
	// ForRole is absent (events before defence counsel: a prosecutor),
	// "prosecutor" or "defence".
	ForRole string `json:"for_role"`
	// Request and RequestedBy name the approved package.seal request
	// the sealing carries out, and who asked (absent without one);
	// DisclosesOthers is what the request asked of the report.
	Request         string `json:"request"`
	RequestedBy     string `json:"requested_by"`
	DisclosesOthers bool   `json:"discloses_others"`
}

// forRole is the role a sealing event's for_role states: absent means
// prosecutor (custody-log.md section 8, "Event types").
func (d sealingData) forRole() string {
	if d.ForRole == "" {
		return "prosecutor"
	}
	return d.ForRole
}

// Verify reads a package from r, front to back, and checks everything it
// can (docs/package-format.md, section 9): the manifest's signature, the
// checkpoint's signature, every custody event's bytes and inclusion proof,
// that each item's deposit event and the sealing event agree with the
// manifest, that every member's bytes are the ones the signed manifest
// commits to, and that no member is missing or extra; with identities, it
// decrypts every item and compares size and SHA-256 with the deposit.
//
// It returns the first failure. If everything passed but none of the
// identities is the package's recipient, it returns a *KeyMismatchError
// (nothing is decrypted, nothing extracted); if everything passed but no
// trusted key was given (see VerifyOptions), it returns
// ErrNotAuthenticated; both with a complete Report. Only a nil error
// means the package is verified.
func Verify(r io.Reader, opts VerifyOptions) (rep *Report, err error) {
	raw := &tailReader{r: r}
	v := &verification{tr: tar.NewReader(raw), raw: raw, opts: opts, rep: &Report{}, decoded: map[uint64]*events.Event{}, leaves: map[uint64]events.Hash{}}
	rep = v.rep
	if opts.ExtractDir != "" && len(opts.Identities) > 0 {
		if v.ex, err = newExtraction(opts.ExtractDir); err != nil {
			return rep, err
		}
		// Nothing is left behind unless every check passed.
		defer func() {
			if err == nil {
				err = v.ex.commit(rep)
			}
			if cerr := v.ex.cleanup(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}()
	}

	// The manifest first: the rest of the layout is read from it.
	if err := v.manifest(); err != nil {
		return rep, cutShort(raw, err)
	}
	for _, s := range layout(v.m)[1:] {
		for i, name := range s.names {
			if err := v.member(s.kind, i, name); err != nil {
				return rep, cutShort(raw, err)
			}
		}
		if err := v.end(s.kind); err != nil {
			return rep, cutShort(raw, err)
		}
	}
	if err := v.endOfArchive(v.lastEnd, v.lastSize); err != nil {
		return rep, err
	}
	if rep.KeyPinned {
		rep.passed("log key pinned by %s", rep.PinnedBy)
	}
	if v.mismatch != nil {
		return rep, v.mismatch
	}
	if !rep.KeyPinned {
		return rep, ErrNotAuthenticated
	}
	return rep, nil
}

// A verification is the state of one Verify: what has been read and
// established so far.
type verification struct {
	tr   *tar.Reader
	opts VerifyOptions
	rep  *Report
	ex   *extraction

	m        *Manifest
	mb       []byte // manifest.json as read
	verifier note.Verifier
	cp       *events.Checkpoint
	cpNote   []byte // the checkpoint member
	// saved is the checkpoint the user saved (TrustedCheckpoint), parsed.
	saved   *events.Checkpoint
	tokens  []tsa.Token
	proofs  Proofs
	decoded map[uint64]*events.Event
	// leaves are the leaf hashes of the events read, by seq.
	leaves map[uint64]events.Hash
	// mismatch is set when no identity given is the package's recipient;
	// recipientKnown when every identity's type tells its recipient.
	mismatch       *KeyMismatchError
	recipientKnown bool
	// raw is what the tar reader reads from; lastEnd and lastSize are
	// raw's count when the last member read so far was read to its end,
	// and that member's size.
	raw               *tailReader
	lastEnd, lastSize int64
	// prevSize is the size of the member read before (its padding comes
	// before the next header).
	prevSize int64
}

// next reads the next member, which must be the small member want.
func (v *verification) next(want string) (*tar.Header, []byte, error) {
	h, err := v.header(want)
	if err != nil {
		return nil, nil, err
	}
	b, err := readSmall(v.tr, h)
	v.lastEnd, v.lastSize = v.raw.n, h.Size
	return h, b, err
}

// member reads and checks the i-th member of a section, named name.
func (v *verification) member(k kind, i int, name string) error {
	switch k {
	case kindSignature:
		return v.signature(name)
	case kindCheckpoint:
		return v.checkpoint(name)
	case kindTimestamp:
		return v.timestamp(i, name)
	case kindProofs:
		return v.proofsMember(name)
	case kindEvent:
		return v.event(v.m.Events[i])
	case kindItem:
		return v.item(i, v.m.Items[i])
	case kindReport:
		return v.report(name)
	case kindReportPDF:
		return v.reportPDF(name)
	}
	return fmt.Errorf("package: no reader for member %s", name)
}

// end checks what a whole section establishes, once all its members
// were read.
func (v *verification) end(k kind) error {
	switch k {
	case kindTimestamp:
		return v.checkTimestamps()
	case kindEvent:
		v.rep.passed("%d custody events of case %s, each proven included in the checkpoint", len(v.m.Events), v.m.Case)
		if err := checkOpened(v.m, v.decoded); err != nil {
			return err
		}
		role, err := checkSealing(v.m, v.decoded)
		if err != nil {
			return err
		}
		v.rep.SealedForRole = role
		v.rep.passed("sealing event %d names this package, who it is for (%s, %s), its recipient, purpose and items", v.m.SealingEvent, printable.Terminal(v.m.SealedFor), role)
		approval, err := checkSealingRequest(v.m, v.decoded)
		if err != nil {
			return err
		}
		v.rep.passed("%s", approval)
		lowered, err := checkLowerings(v.m, v.decoded)
		if err != nil {
			return err
		}
		if lowered != "" {
			v.rep.passed("%s", lowered)
		}
	case kindItem:
		if len(v.opts.Identities) > 0 {
			v.rep.passed("%s the bytes the signed manifest names, and the items' recorded hashes match their deposit events (name, size, SHA-256, MD5, SHA-1)", Count(len(v.m.Items), "encrypted item file is", "encrypted item files are"))
		} else {
			v.rep.passed("%s the bytes the signed manifest names, and the items' recorded hashes match their deposit events (name, size, SHA-256, MD5, SHA-1); the items' decrypted contents were not checked (that needs the recipient's key, --identity)", Count(len(v.m.Items), "encrypted item file is", "encrypted item files are"))
		}
		if len(v.opts.Identities) > 0 {
			v.rep.passed("%s decrypted; every plaintext SHA-256 matches its deposit", Count(v.rep.Decrypted, "item", "items"))
		}
	case kindReport:
		if v.m.Format == FormatV2 {
			v.rep.passed("report.txt is the one the signed manifest names")
		} else {
			v.rep.passed("report.txt is the one the signed manifest names; its Log key lines and numbered steps name the key that signed (the key to compare is the one above, not the report's)")
		}
	case kindReportPDF:
		if v.m.Format != FormatV2 {
			v.rep.passed("report.pdf is the one the signed manifest names")
		}
	}
	return nil
}

func (v *verification) manifest() error {
	_, mb, err := v.next(ManifestName)
	if err != nil {
		return err
	}
	m, err := ParseManifest(mb)
	if err != nil {
		return err
	}
	v.m, v.mb, v.rep.Manifest = m, mb, m

	verifier, err := note.NewVerifier(m.LogKey)
	if err != nil {
		return fmt.Errorf("manifest log_key: %w", err)
	}
	if err := canonicalKey(m.LogKey); err != nil {
		return fmt.Errorf("manifest log_key: %w", err)
	}
	if verifier.Name() != m.Origin {
		return fmt.Errorf("manifest origin %q does not match its log key %q", m.Origin, verifier.Name())
	}
	if m.LogKeyFingerprint != KeyFingerprint(m.LogKey) {
		return errors.New("manifest log_key_fingerprint is not the fingerprint of its log_key")
	}
	v.verifier = verifier
	if v.saved, err = pinKey(m, verifier, v.opts, v.rep); err != nil {
		return err
	}
	// Identities for another recipient: check the rest without them, and
	// say so at the end, instead of failing on the first item.
	if len(v.opts.Identities) > 0 {
		var recs []string
		for _, id := range v.opts.Identities {
			if r := keyfile.Recipient(id); r != "" {
				recs = append(recs, r)
			}
		}
		v.recipientKnown = len(recs) == len(v.opts.Identities)
		if v.recipientKnown && !slices.Contains(recs, m.Recipient) {
			v.mismatch = &KeyMismatchError{Recipient: m.Recipient, IdentityRecipients: recs}
			v.opts.Identities = nil
		}
	}
	return nil
}

// timestamp reads the i-th time-stamp token member.
func (v *verification) timestamp(i int, name string) error {
	_, b, err := v.next(name)
	if err != nil {
		return err
	}
	if len(b) > MaxTimestampToken {
		return fmt.Errorf("%s is %d bytes; a time-stamp token is at most %d (section 4.1)", name, len(b), MaxTimestampToken)
	}
	if sha256Hex(b) != v.m.Timestamps[i].SHA256 {
		return fmt.Errorf("%s is not the time-stamp token the signed manifest names", name)
	}
	v.tokens = append(v.tokens, b)
	return nil
}

// clockSkew is how much later than a token's time (plus its accuracy)
// the sealing event's time may be before a verifier notes the vault's
// clock as ahead.
const clockSkew = 5 * time.Minute

// clockAhead reports by how much the sealing event's time (the vault's
// clock) is later than a time-stamp over a checkpoint covering it allows
// (its time plus accuracy), if by more than clockSkew.
func clockAhead(sealedAt string, at time.Time, accuracy time.Duration) (time.Duration, bool) {
	sealed, err := time.Parse(time.RFC3339Nano, sealedAt)
	if err != nil {
		return 0, false
	}
	ahead := sealed.Sub(at.Add(accuracy))
	return ahead.Round(time.Second), ahead > clockSkew
}

// checkTimestamps checks the tokens against the user's TSA certificates:
// at least one must verify; a token of a TSA the user did not name is
// reported, any other failure fails the package.
func (v *verification) checkTimestamps() error {
	if len(v.opts.TSACerts) == 0 {
		if len(v.tokens) > 0 {
			v.rep.note("%d RFC 3161 time-stamp token(s) over the checkpoint, not checked: give the time-stamping authority's certificate (--tsa-cert)", len(v.tokens))
		}
		return nil
	}
	if len(v.tokens) == 0 {
		return errors.New("the package carries no time-stamp token, and a time-stamping authority's certificate was given")
	}
	msg, err := events.LogSigned(v.cpNote, v.verifier)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	verified := 0
	for i, tok := range v.tokens {
		a, err := tsa.Verify(tok, msg, v.opts.TSACerts)
		switch {
		case errors.Is(err, tsa.ErrUntrustedSigner):
			v.rep.note("%s: not counted: %s", TimestampPath(i), printable.Terminal(err.Error()))
		case err != nil:
			return fmt.Errorf("%s: %w", TimestampPath(i), err)
		default:
			verified++
			if ahead, ok := clockAhead(v.m.SealedAt, a.Time, a.Accuracy); ok {
				v.rep.note("the sealing event's time %s is %s after the time-stamping authority's %s: the vault's clock was ahead",
					v.m.SealedAt, ahead, a.Time.UTC().Format(time.RFC3339))
			}
			v.rep.Timestamps = append(v.rep.Timestamps, TimestampReport{Time: a.Time.UTC().Format(time.RFC3339Nano), Accuracy: accuracy(a.Accuracy), TSA: a.Subject})
			v.rep.passed("checkpoint time-stamped at %s%s by %s (RFC 3161, %s): it existed no later than that", a.Time.UTC().Format(time.RFC3339Nano), withAccuracy(a.Accuracy), printable.Terminal(a.Subject), TimestampPath(i))
		}
	}
	if verified == 0 {
		return errors.New("no time-stamp token is signed by a time-stamping authority whose certificate was given")
	}
	return nil
}

func (v *verification) signature(name string) error {
	_, sig, err := v.next(name)
	if err != nil {
		return err
	}
	n, err := note.Open(sig, note.VerifierList(v.verifier))
	if err != nil {
		return fmt.Errorf("manifest.sig: %w", err)
	}
	if n.Text != signatureText(v.m.Format, v.m.Package, v.mb) {
		return errors.New("manifest.sig: the signed text is not the three lines of this manifest (format, package id, SHA-256 of manifest.json)")
	}
	// The signature is the one member the manifest cannot commit to:
	// demand that it holds exactly the log key's signature and nothing else.
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 0 || !bytes.Equal(sig, signedBytes(n)) {
		return errors.New("manifest.sig holds more than the log key's one signature")
	}
	// And in its one encoding: base64 whose unused bits are not zero
	// decodes to the same signature, so the file (and the package's
	// SHA-256) could otherwise change without the key.
	if _, err := base64.StdEncoding.Strict().DecodeString(n.Sigs[0].Base64); err != nil {
		return errors.New("manifest.sig's signature is not in canonical base64")
	}
	v.rep.passed("manifest signed by the log key %s (fingerprint %s)", printable.Terminal(v.verifier.Name()), printable.Terminal(v.m.LogKeyFingerprint))
	return nil
}

func (v *verification) checkpoint(name string) error {
	_, cpb, err := v.next(name)
	if err != nil {
		return err
	}
	if sha256Hex(cpb) != v.m.CheckpointSHA256 {
		return errors.New("checkpoint is not the one the signed manifest names")
	}
	cp, err := events.ParseCheckpoint(cpb, v.m.Origin, v.verifier)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if cp.Size != v.m.CheckpointSize {
		return fmt.Errorf("checkpoint is for %d events, manifest says %d", cp.Size, v.m.CheckpointSize)
	}
	v.cp, v.rep.Checkpoint, v.cpNote = cp, cp, cpb
	v.rep.passed("checkpoint signed for the first %d custody events", cp.Size)
	if s := v.saved; s != nil && s.Size == cp.Size {
		// One append-only log has one tree of each size: two roots of one
		// size, both signed by its key, are two histories.
		if s.Root != cp.Root {
			return fmt.Errorf("%w: your saved checkpoint and the package's are both of %d events and signed by the log's key, with two different roots (%s and %s): the vault's log was rewritten, so the package's custody record is not the history you saved",
				ErrForkedFromSaved, cp.Size, hex.EncodeToString(s.Root[:8]), hex.EncodeToString(cp.Root[:8]))
		}
		v.rep.passed("the package's checkpoint is your saved checkpoint's tree (%d events, the same root)", cp.Size)
	} else if s != nil {
		v.rep.note("your saved checkpoint is of %d events, the package's of %d: that the log between them was only appended to is not shown here (custos audit verify --checkpoint proves it)", s.Size, cp.Size)
	}
	if p := v.opts.WitnessPolicy; p != nil {
		now := time.Now
		if v.opts.Now != nil {
			now = v.opts.Now
		}
		verdict := p.CheckAt(cpb, now())
		// A refused witness is not counted; it is said whatever the
		// verdict, so that nobody takes it for one that cosigned.
		for _, f := range verdict.Faults {
			v.rep.note("witness cosignature not counted: %s", printable.Terminal(f))
		}
		if !verdict.Satisfied {
			return fmt.Errorf("checkpoint lacks the witness quorum: %s", p.Describe(verdict))
		}
		var times []string
		for _, name := range verdict.Cosigned {
			t := verdict.Times[name].UTC().Format(time.RFC3339)
			v.rep.Cosignatures = append(v.rep.Cosignatures, CosignatureReport{Witness: name, Time: t})
			times = append(times, printable.Terminal(name)+" at "+t)
		}
		v.rep.passed("checkpoint %s; cosigned %s", p.Describe(verdict), strings.Join(times, ", "))
	} else {
		// Only witnesses the reader trusts show that this history is the
		// one everyone else was shown: whoever holds the log's key can
		// sign another.
		if n := cosignatures(cpb); n > 0 {
			v.rep.note("the checkpoint carries %d witness cosignature(s), not checked: give the witnesses you trust (--witness-policy) to know that they saw this history too", n)
		} else {
			v.rep.note("no witness cosigned the checkpoint: only the vault's own key vouches for this history (docs/witnesses.md)")
		}
	}
	return nil
}

// cosignatures counts a checkpoint note's signature lines beyond the
// first (the log's own): its witnesses' cosignatures, checked or not.
func cosignatures(note []byte) int {
	_, sigs, ok := strings.Cut(string(note), "\n\n")
	if !ok {
		return 0
	}
	n := strings.Count("\n"+sigs, "\n— ")
	return max(n-1, 0)
}

func (v *verification) proofsMember(name string) error {
	_, pb, err := v.next(name)
	if err != nil {
		return err
	}
	if sha256Hex(pb) != v.m.ProofsSHA256 {
		return errors.New("proofs.json is not the one the signed manifest names")
	}
	if err := strictjson.Decode(pb, &v.proofs, strictjson.Manifest); err != nil {
		return fmt.Errorf("proofs.json: %w", err)
	}
	if v.proofs.TreeSize != v.cp.Size {
		return fmt.Errorf("proofs are for tree size %d, checkpoint for %d", v.proofs.TreeSize, v.cp.Size)
	}
	// Each key is a seq in canonical decimal ("3", never "03" or "+3"),
	// each hash 64 lowercase hex digits: one spelling for each proof.
	//
	// Keys are taken in sorted order here and below, so that a package
	// with more than one fault is always refused for the same one.
	keys := slices.Sorted(maps.Keys(v.proofs.Proofs))
	for _, k := range keys {
		hs := v.proofs.Proofs[k]
		if n, err := strconv.ParseUint(k, 10, 64); err != nil || strconv.FormatUint(n, 10) != k {
			return fmt.Errorf("proofs.json: key %q is not a seq in canonical decimal", truncate(k))
		}
		for _, h := range hs {
			if !events.IsHex(h, 64) {
				return fmt.Errorf("proofs.json: proof of event %s holds %q, not 64 lowercase hex digits", k, truncate(h))
			}
		}
	}
	// Exactly one proof per event the manifest lists, and no other: the
	// member holds nothing the events do not use.
	listed := make(map[string]bool, len(v.m.Events))
	for _, e := range v.m.Events {
		listed[strconv.FormatUint(e.Seq, 10)] = true
	}
	for _, k := range keys {
		if !listed[k] {
			return fmt.Errorf("proofs.json: a proof for event %s, which the manifest does not list", k)
		}
	}
	if len(v.proofs.Proofs) != len(listed) {
		return fmt.Errorf("proofs.json holds %d proofs for the manifest's %d events", len(v.proofs.Proofs), len(listed))
	}
	return nil
}

// event checks one custody event: its bytes, the manifest's leaf hash,
// and its inclusion proof.
func (v *verification) event(me Event) error {
	_, b, err := v.next(me.Path)
	if err != nil {
		return err
	}
	ev, err := events.Decode(b)
	if err != nil {
		return fmt.Errorf("%s: %w", me.Path, err)
	}
	if ev.Seq != me.Seq || me.Path != EventPath(me.Seq) {
		return fmt.Errorf("%s holds event %d, manifest says %d", me.Path, ev.Seq, me.Seq)
	}
	if ev.Case != v.m.Case {
		return fmt.Errorf("%s is an event of case %q, not of the package's case %q", me.Path, ev.Case, v.m.Case)
	}
	leaf := events.LeafHash(b)
	if leaf.String() != me.LeafHash {
		return fmt.Errorf("%s: bytes do not hash to the manifest's leaf hash", me.Path)
	}
	p, err := decodeProof(v.proofs.Proofs[strconv.FormatUint(me.Seq, 10)])
	if err != nil {
		return fmt.Errorf("proof of event %d: %w", me.Seq, err)
	}
	if err := events.VerifyInclusion(me.Seq, v.cp.Size, leaf, p, v.cp.Root); err != nil {
		return fmt.Errorf("event %d is not in the checkpointed log: %w", me.Seq, err)
	}
	if err := v.chainLink(ev, p); err != nil {
		return err
	}
	v.rep.Proofs = v.proofs
	v.decoded[me.Seq] = ev
	v.leaves[me.Seq] = leaf
	return nil
}

// chainLink checks an event's prev where the package shows the leaf
// before it (section 9 step 6): the previous event, when the package
// holds it; and for an odd seq, the first hash of its inclusion proof,
// which is the leaf hash of the event before it (RFC 9162 section
// 2.1.3: an odd leaf's first sibling is the even one before it). A log
// whose chain disagrees with its own tree was not written by the vault.
func (v *verification) chainLink(ev *events.Event, proof [][]byte) error {
	if ev.Seq == 0 {
		if ev.Prev != events.ZeroHash.String() {
			return fmt.Errorf("event 0's prev is %s: the log's first event has none (64 zeros, custody-log.md section 3)", truncate(ev.Prev))
		}
		return nil
	}
	var want string
	switch before, ok := v.leaves[ev.Seq-1]; {
	case ok:
		want = before.String()
	case ev.Seq%2 == 1 && len(proof) > 0:
		want = hex.EncodeToString(proof[0])
	default:
		return nil
	}
	if ev.Prev != want {
		return fmt.Errorf("event %d's prev is %s, but the leaf before it in the signed tree is %s: the custody log's hash chain disagrees with its own tree", ev.Seq, truncate(ev.Prev), want)
	}
	return nil
}

// item checks the i-th item: its deposit event, then its file (checkItem).
func (v *verification) item(i int, it Item) error {
	if err := checkDeposit(v.m, it, v.decoded); err != nil {
		return err
	}
	h, err := v.header(it.Path)
	if err != nil {
		return err
	}
	if h.Size != it.FileSize {
		return fmt.Errorf("%s is %d bytes, the signed manifest says %d", it.Path, h.Size, it.FileSize)
	}
	err = checkItem(v.tr, i, it, v.m.Recipient, v.opts, v.ex, v.rep)
	var nm *age.NoIdentityMatchError
	switch {
	case !errors.As(err, &nm):
		return err
	case v.recipientKnown:
		// The identity is the recipient's, and the file does not open
		// with it: the file is not the one sealed.
		return fmt.Errorf("%s does not open with the identity of the package's recipient: it is not a file sealed to that recipient (altered?)", it.Path)
	}
	return &KeyMismatchError{Recipient: v.m.Recipient}
}

func (v *verification) report(name string) error {
	var text reportText
	key := keyLines{m: v.m}
	sum, err := v.hashNextTee(name, MaxReportMember, io.MultiWriter(&text, &key))
	if err != nil {
		return err
	}
	if sum != v.m.ReportSHA256 {
		return errors.New("report.txt is not the report the manifest names")
	}
	if err := text.finish(); err != nil {
		return err
	}
	return key.finish()
}

// reportText checks, as report.txt streams by, that it is text a
// terminal shows as it is: UTF-8 with no hidden character
// (printable.Hidden: controls, bidirectional and other format
// characters, line separators) but the line feed, so that nothing hides
// or rewrites what a person reads in it, such as its Log key lines. The
// vault's reports are made so: every value in them is shown escaped
// (printable.Terminal).
type reportText struct {
	carry []byte // the start of a rune cut by the end of a write
	at    int64
	err   error
}

func (r *reportText) Write(b []byte) (int, error) {
	if r.err == nil {
		eachRune(&r.carry, b, func(c rune, enc []byte) bool {
			switch {
			case c == utf8.RuneError && len(enc) == 1:
				r.err = fmt.Errorf("report.txt is not UTF-8 at byte %d", r.at)
			case c != '\n' && printable.Hidden(c):
				r.err = fmt.Errorf("report.txt holds the hidden character %U at byte %d: a report holds none (it could hide or rewrite what a terminal shows of it)", c, r.at)
			}
			r.at += int64(len(enc))
			return r.err == nil
		})
	}
	return len(b), nil
}

// eachRune calls f with each character of *carry and b, in order (its
// rune and bytes; utf8.RuneError and the one byte for a byte that is not
// UTF-8), until f returns false. A character that b cuts short is kept in *carry,
// for the next call to complete; the report's streaming checks read it
// so, whatever the writes' sizes.
func eachRune(carry *[]byte, b []byte, f func(r rune, enc []byte) bool) {
	if len(*carry) > 0 {
		b = append(*carry, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 && !utf8.FullRune(b) {
			*carry = append((*carry)[:0], b...)
			return
		}
		if !f(r, b[:size]) {
			break
		}
		b = b[size:]
	}
	*carry = (*carry)[:0]
}

func (r *reportText) finish() error {
	if r.err == nil && len(r.carry) > 0 {
		r.err = fmt.Errorf("report.txt is not UTF-8 at byte %d", r.at)
	}
	return r.err
}

func (v *verification) reportPDF(name string) error {
	sum, err := v.hashNext(name, MaxReportMember)
	if err != nil {
		return err
	}
	if sum != v.m.ReportPDFSHA256 {
		return errors.New("report.pdf is not the report the manifest names")
	}
	return nil
}

// hashNext reads the next member, which must be the regular file want of
// at most limit bytes, and returns its SHA-256 (lowercase hex), without
// holding it in memory: the reports are only hashed.
func (v *verification) hashNext(want string, limit int64) (string, error) {
	return v.hashNextTee(want, limit, io.Discard)
}

// hashNextTee is hashNext that also writes the member's bytes to w.
func (v *verification) hashNextTee(want string, limit int64, w io.Writer) (string, error) {
	h, err := v.header(want)
	if err != nil {
		return "", err
	}
	if h.Size > limit {
		return "", fmt.Errorf("%s is %d bytes; the limit is %d", h.Name, h.Size, limit)
	}
	d := sha256.New()
	if _, err := io.Copy(io.MultiWriter(d, w), v.tr); err != nil {
		return "", fmt.Errorf("reading %s: %w", want, err)
	}
	v.lastEnd, v.lastSize = v.raw.n, h.Size
	return hex.EncodeToString(d.Sum(nil)), nil
}

// pinKey checks the manifest's log key against what the caller trusts.
// A key that contradicts the caller's trust is a failure; no trust at all
// leaves KeyPinned false.
// It returns the saved checkpoint (TrustedCheckpoint), parsed, if one
// was given.
func pinKey(m *Manifest, verifier note.Verifier, opts VerifyOptions, rep *Report) (*events.Checkpoint, error) {
	if k := strings.TrimSpace(opts.TrustedKey); k != "" {
		if !KeyMatches(k, m.LogKey) {
			return nil, fmt.Errorf("%w: it is signed by log key %q (fingerprint %s), not the key you gave (fingerprint %s): the key you were given was mistyped or is another vault's, or the package is not from the vault you trust", ErrOtherKey, m.LogKey, m.LogKeyFingerprint, TrustedFingerprint(k))
		}
		rep.KeyPinned, rep.PinnedBy = true, "the trusted key given"
	}
	if len(opts.TrustedKeys) > 0 {
		if !slices.ContainsFunc(opts.TrustedKeys, func(k string) bool { return KeyMatches(strings.TrimSpace(k), m.LogKey) }) {
			return nil, fmt.Errorf("%w: it is signed by log key %q (fingerprint %s), which is not among the trusted keys", ErrOtherKey, m.LogKey, m.LogKeyFingerprint)
		}
		rep.KeyPinned, rep.PinnedBy = true, "the trusted-keys list"
	}
	if len(opts.TrustedCheckpoint) > 0 {
		origin, _, _ := strings.Cut(string(opts.TrustedCheckpoint), "\n")
		if origin != m.Origin {
			return nil, fmt.Errorf("%w: the saved checkpoint is of log %q, the package of %q", ErrOtherKey, origin, m.Origin)
		}
		saved, err := events.ParseCheckpoint(opts.TrustedCheckpoint, m.Origin, verifier)
		if err != nil {
			return nil, fmt.Errorf("%w: the package's log key %q (fingerprint %s) does not verify the saved checkpoint: %w", ErrOtherKey, m.LogKey, m.LogKeyFingerprint, err)
		}
		rep.KeyPinned, rep.PinnedBy = true, "the saved checkpoint"
		return saved, nil
	}
	return nil, nil
}

// TrustedFingerprint is the fingerprint of a trusted key as given (a
// note verifier key, or a fingerprint itself), in lowercase hex, to name
// it in a message.
func TrustedFingerprint(trusted string) string {
	if strings.Contains(trusted, "+") {
		return KeyFingerprint(trusted)
	}
	return strings.ToLower(trusted)
}

// KeyMatches reports whether trusted names key: the key itself, or its
// fingerprint (KeyFingerprint, any case).
func KeyMatches(trusted, key string) bool {
	return trusted == key || strings.EqualFold(trusted, KeyFingerprint(key))
}

// CheckTrustedKey returns an error unless k is a note verifier key in
// its one spelling (custody-log.md 5.1: HASH in lowercase hex, BASE64 as
// encoded) or a KeyFingerprint (64 hex digits, any case), so that a
// mistyped key is reported as such and not as a package signed by
// another key. A key that note.NewVerifier reads but that is not so
// spelled (HASH in upper case) is refused with that reason: the one
// spelling is what a package's log_key is compared with.
func CheckTrustedKey(k string) error {
	if _, err := note.NewVerifier(k); err == nil {
		if canonicalKey(k) != nil {
			return errors.New("a log key, but not written in its one form: the 8 hex digits between its first two '+' must be in lower case, as custos audit key prints them")
		}
		return nil
	}
	if d, err := hex.DecodeString(k); err == nil && len(d) == sha256.Size {
		return nil
	}
	return errors.New("neither the vault's log key as custos audit key prints it (one line like custos-NAME+1a2b3c4d+BASE64) nor its fingerprint (64 characters, 0-9 and a-f)")
}

// groupedFingerprint returns a KeyFingerprint written in groups, as one
// is read aloud or printed on paper ("9f86 d081 ...", "9f:86:d0:...",
// "9F86-D081-..."), as the one word CheckTrustedKey takes, in lower
// case. ok is false unless s is hex digits and those separators (a
// space, tab, colon or hyphen) only, with exactly 64 digits, beginning
// and ending with a digit: a fingerprint cut short or run together with
// something else is not guessed at.
func groupedFingerprint(s string) (fp string, ok bool) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case '0' <= r && r <= '9', 'a' <= r && r <= 'f', 'A' <= r && r <= 'F':
			b.WriteRune(unicode.ToLower(r))
		case (r == ' ' || r == '\t' || r == ':' || r == '-') && i > 0 && i < len(s)-1:
		default:
			return "", false
		}
	}
	if b.Len() != 2*sha256.Size {
		return "", false
	}
	return b.String(), true
}

// trustedKeyLine is one key of a trusted-keys file or --key as given,
// with a fingerprint written in groups made one word (groupedFingerprint).
func trustedKeyLine(k string) string {
	if fp, ok := groupedFingerprint(k); ok {
		return fp
	}
	return k
}

// ParseTrustedKeys reads a trusted-keys file: one note verifier key (or
// KeyFingerprint) per line; blank lines and lines starting with # are
// ignored, and white space around a line (CR included) is. Every other
// line must pass CheckTrustedKey, and at least one key must be given.
func ParseTrustedKeys(b []byte) ([]string, error) {
	if strings.HasPrefix(keyfile.Kind(b), "JSON") {
		// custos audit key --json: {"key","origin","fingerprint"}. Its
		// members must agree: a file whose fingerprint names another key
		// than its key was edited, and which one the user meant is not
		// for this program to guess.
		var printed struct {
			Key         string `json:"key"`
			Origin      string `json:"origin"`
			Fingerprint string `json:"fingerprint"`
		}
		err := json.Unmarshal(b, &printed)
		if _, verr := note.NewVerifier(printed.Key); err == nil && verr == nil {
			if err := CheckTrustedKey(printed.Key); err != nil {
				return nil, fmt.Errorf("its key is %v", err)
			}
			if printed.Fingerprint != "" && !strings.EqualFold(printed.Fingerprint, KeyFingerprint(printed.Key)) {
				return nil, fmt.Errorf("its fingerprint %s is not the fingerprint of its key (%s): the two contradict each other; ask for the key again", truncate(printed.Fingerprint), KeyFingerprint(printed.Key))
			}
			if name, _, _ := strings.Cut(printed.Key, "+"); printed.Origin != "" && printed.Origin != name {
				return nil, fmt.Errorf("its origin %q is not the name of its key (%q): the two contradict each other; ask for the key again", truncate(printed.Origin), name)
			}
			return []string{printed.Key}, nil
		}
	}
	if reason := keyfile.WrongKind(b, "log key"); reason != "" {
		return nil, errors.New(reason + " (a file of log keys holds keys or their fingerprints, one per line, as custos audit key writes it)")
	}
	var keys []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = trustedKeyLine(line)
		if err := CheckTrustedKey(line); err != nil {
			return nil, fmt.Errorf("line %d is %v", i+1, err)
		}
		keys = append(keys, line)
	}
	if len(keys) == 0 {
		return nil, errors.New("no trusted keys in the file")
	}
	return keys, nil
}

// signedBytes re-creates a signed note's bytes from its text and verified
// signatures, to check that a note holds nothing else.
func signedBytes(n *note.Note) []byte {
	var b bytes.Buffer
	b.WriteString(n.Text)
	b.WriteString("\n")
	for _, s := range n.Sigs {
		fmt.Fprintf(&b, "— %s %s\n", s.Name, s.Base64)
	}
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ParseManifest parses manifest.json strictly.
func ParseManifest(b []byte) (*Manifest, error) {
	// The format first, so that another version is named as such.
	var f struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("manifest.json: damaged or altered: it is not JSON (%w)", err)
	}
	switch f.Format {
	case Format, FormatV2:
	case FormatV1:
		return nil, fmt.Errorf("manifest.json: format %q is no longer read: it does not commit to the bytes of the item files; "+
			"ask the vault to seal the package again (this verifier reads %q)", f.Format, Format)
	default:
		return nil, fmt.Errorf("manifest.json: unknown format %q, this verifier reads %q", truncate(f.Format), Format)
	}
	// json.MarshalIndent's bytes: "{" first, "}" last, no final newline
	// (section 2); a reader takes no other spelling of the same manifest.
	if b[0] != '{' || b[len(b)-1] != '}' {
		return nil, errors.New("manifest.json: white space before its opening or after its closing brace (section 2: no final newline)")
	}
	var m Manifest
	if err := strictjson.Decode(b, &m, strictjson.Manifest); err != nil {
		return nil, fmt.Errorf("manifest.json: damaged or altered: it is not written as the format writes it (%w)", err)
	}
	if len(m.Events) > MaxMembers || len(m.Items) > MaxMembers {
		return nil, errors.New("manifest.json: too many members")
	}
	// The vault refuses to seal a case without items: a package of none
	// is no package it wrote.
	if len(m.Items) == 0 {
		return nil, errors.New("manifest.json: items is empty; a package holds at least one item (section 2)")
	}
	// An empty md5 or sha1 decodes as an absent one; section 2 has them
	// absent when the deposit computed none, never empty. Read again for
	// that alone, with member names unescaped as the grammar reads them
	// ("md\u0035" is md5); the grammar has refused repeats and names
	// differing in case already.
	var present struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &present); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	for i, it := range present.Items {
		for _, k := range []string{"md5", "sha1"} {
			if v, ok := it[k]; ok && string(v) == `""` {
				return nil, fmt.Errorf("manifest.json: item %d's %s is empty; section 2 omits it when the deposit computed none", i, k)
			}
		}
	}
	if !idOf("pk_", m.Package) {
		return nil, fmt.Errorf("manifest.json: package %q is not pk_ and 24 lowercase hex digits (section 2)", truncate(m.Package))
	}
	paths, ids := map[string]bool{}, map[string]bool{}
	for i, it := range m.Items {
		if it.Path != ItemPath(i, it.Name) || paths[it.Path] {
			return nil, fmt.Errorf("manifest.json: item %d has path %q", i, it.Path)
		}
		if err := itemGrammar(it); err != nil {
			return nil, fmt.Errorf("manifest.json: item %d: %w (section 2)", i, err)
		}
		if ids[it.ID] {
			return nil, fmt.Errorf("manifest.json: item %d is %s again: a package holds each item once", i, truncate(it.ID))
		}
		paths[it.Path], ids[it.ID] = true, true
	}
	// The recipient in its one spelling: age's Bech32 is read in either
	// case, and an upper-case spelling of the recipient would name one
	// key in two ways.
	if m.Recipient != strings.ToLower(m.Recipient) {
		return nil, errors.New("manifest.json: recipient is not in canonical lower case (section 2)")
	}
	if !recipientGrammar(m.Recipient) {
		return nil, fmt.Errorf("manifest.json: recipient %q is neither an X25519 age recipient (age1, 62 characters) nor a hybrid one (age1pq1, 1,959 characters) whose Bech32 checksum holds (section 2)", truncate(m.Recipient))
	}
	for i, e := range m.Events {
		if i > 0 && e.Seq <= m.Events[i-1].Seq {
			return nil, errors.New("manifest.json: events out of order")
		}
	}
	if m.Timestamps != nil && len(m.Timestamps) == 0 {
		return nil, errors.New("manifest.json: timestamps is present but empty")
	}
	if len(m.Timestamps) > MaxTimestamps {
		return nil, errors.New("manifest.json: too many time-stamp tokens")
	}
	for i, ts := range m.Timestamps {
		if ts.Path != TimestampPath(i) || !events.IsHex(ts.SHA256, 64) {
			return nil, fmt.Errorf("manifest.json: time-stamp token %d has path %q or a malformed sha256", i, ts.Path)
		}
	}
	// Format 3 commits to report.pdf; format 2 has none.
	switch pdf := m.ReportPDFSHA256; {
	case m.Format == FormatV2 && pdf != "":
		return nil, fmt.Errorf("manifest.json: format %s has no report.pdf, yet report_pdf_sha256 is set", FormatV2)
	case m.Format == Format && !events.IsHex(pdf, 64):
		return nil, errors.New("manifest.json: report_pdf_sha256 is missing or malformed")
	}
	return &m, nil
}

// idOf reports whether id is prefix and 24 lowercase hex digits, as
// package and item ids are (section 2).
func idOf(prefix, id string) bool {
	return len(id) == len(prefix)+24 && strings.HasPrefix(id, prefix) && events.IsHex(id[len(prefix):], 24)
}

// itemGrammar checks an item's id and hashes against section 2: ids of
// their form, hashes in lowercase hex of their length, MD5 and SHA-1
// absent rather than empty. A value of another form is refused even
// where it equals the deposit event's, so that the two cannot agree on
// something that is not a hash.
func itemGrammar(it Item) error {
	switch {
	case !idOf("it_", it.ID):
		return fmt.Errorf("id %q is not it_ and 24 lowercase hex digits", truncate(it.ID))
	case !events.IsHex(it.SHA256, 64):
		return errors.New("sha256 is not 64 lowercase hex digits")
	case !events.IsHex(it.FileSHA256, 64):
		return errors.New("file_sha256 is not 64 lowercase hex digits")
	case it.MD5 != "" && !events.IsHex(it.MD5, 32):
		return errors.New("md5 is not 32 lowercase hex digits (absent when the deposit computed none)")
	case it.SHA1 != "" && !events.IsHex(it.SHA1, 40):
		return errors.New("sha1 is not 40 lowercase hex digits (absent when the deposit computed none)")
	}
	return nil
}

// bech32 are the characters of an age recipient's data part.
const bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// recipientGrammar reports whether r is an age recipient of the two
// kinds a package is sealed to: X25519 (age1 and 58 characters) or
// hybrid post-quantum (age1pq1 and 1,952), in lower case.
func recipientGrammar(r string) bool {
	var data string
	switch {
	case strings.HasPrefix(r, "age1pq1") && len(r) == 1959:
		data = r[len("age1pq1"):]
	case strings.HasPrefix(r, "age1") && len(r) == 62:
		data = r[len("age1"):]
	default:
		return false
	}
	if strings.Trim(data, bech32) != "" {
		return false
	}
	// The Bech32 checksum, and a key of the type's size: a recipient
	// that holds neither is no key anyone has, and a package sealed to
	// it fails here, not as a key mismatch.
	var err error
	if strings.HasPrefix(r, "age1pq1") {
		_, err = age.ParseHybridRecipient(r)
	} else {
		_, err = age.ParseX25519Recipient(r)
	}
	return err == nil
}

// canonicalKey refuses a verifier key string that note.NewVerifier
// accepts but that is not the one spelling of its key (custody-log.md
// section 5.1): HASH in upper-case hex digits (BASE64 is compared with
// its re-encoding too). Its fingerprint, the SHA-256 of the exact
// string, would otherwise name one key in two ways.
func canonicalKey(key string) error {
	name, rest, _ := strings.Cut(key, "+")
	hash, b64, _ := strings.Cut(rest, "+")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	if want := name + "+" + strings.ToLower(hash) + "+" + base64.StdEncoding.EncodeToString(raw); key != want || !events.IsHex(hash, 8) {
		return errors.New("not the key's canonical spelling (HASH in lowercase hex digits, BASE64 as encoded)")
	}
	return nil
}

// truncate is s, or its first 64 bytes and "..." (cut at the start of a
// character) if it is longer.
func truncate(s string) string {
	if len(s) > 64 {
		i := 64
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return s[:i] + "..."
	}
	return s
}

func readSmall(tr *tar.Reader, h *tar.Header) ([]byte, error) {
	if h.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%s is not a regular file", h.Name)
	}
	if h.Size > MaxSmallMember {
		return nil, fmt.Errorf("%s is %d bytes; the limit is %d", h.Name, h.Size, MaxSmallMember)
	}
	return io.ReadAll(io.LimitReader(tr, MaxSmallMember))
}

func decodeProof(hexes []string) ([][]byte, error) {
	if len(hexes) > 64 {
		return nil, errors.New("proof too long")
	}
	out := make([][]byte, len(hexes))
	for i, h := range hexes {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("bad proof hash %q", h)
		}
		out[i] = b
	}
	return out, nil
}

// checkSealing checks the sealing event against the manifest (section 9
// step 7) and returns the role of the person the package is for, as the
// event states it ("prosecutor" or "defence").
func checkSealing(m *Manifest, evs map[uint64]*events.Event) (string, error) {
	ev := evs[m.SealingEvent]
	if ev == nil || ev.Type != "package.sealing" {
		return "", fmt.Errorf("sealing event %d is not in the package", m.SealingEvent)
	}
	// A sealing names its case and no item (custody-log.md section 8):
	// its items are in its data.
	if ev.Item != "" {
		return "", fmt.Errorf("sealing event %d names the item %s in its envelope; a package.sealing event names its case and no item (its items are in its data)", m.SealingEvent, truncate(ev.Item))
	}
	var d sealingData
	if err := ev.DecodeData(&d); err != nil {
		return "", err
	}
	ids := make([]string, len(m.Items))
	for i, it := range m.Items {
		ids[i] = it.ID
	}
	if d.Package != m.Package || d.Recipient != m.Recipient || d.For != m.SealedFor || d.Purpose != m.Purpose ||
		ev.Case != m.Case || ev.Actor.Person != m.SealedBy.Name || ev.Actor.Role != m.SealedBy.Role || !slices.Equal(d.Items, ids) ||
		ev.Time != m.SealedAt {
		return "", fmt.Errorf("sealing event %d does not match the manifest (package, case, who sealed it, for whom, recipient, purpose, items, time)", m.SealingEvent)
	}
	if r := d.forRole(); r != "prosecutor" && r != "defence" {
		return "", fmt.Errorf("sealing event %d says the package is for a %q; a package is sealed for a prosecutor or defence counsel (for_role prosecutor or defence, or absent)", m.SealingEvent, truncate(d.ForRole))
	}
	// Who seals (custody-log.md section 8): an investigator or a
	// custodian, signed in. The vault writes no other sealing.
	if !sealerRoles[ev.Actor.Role] {
		return "", fmt.Errorf("sealing event %d was sealed by %s as a %q; packages are sealed by investigators and custodians", m.SealingEvent, truncate(ev.Actor.Person), truncate(ev.Actor.Role))
	}
	if !signedIn[ev.Actor.Auth] {
		return "", fmt.Errorf("sealing event %d was sealed by %s with auth %q, not signed in (local, oidc, certificate, or token in logs before sessions): a package is sealed by a person who signed in", m.SealingEvent, truncate(ev.Actor.Person), truncate(ev.Actor.Auth))
	}
	return d.forRole(), nil
}

// requestData is what a sealing's rules read of its request's
// request.opened and request.approved events (custody-log.md section 8,
// "Decisions").
type requestData struct {
	Request     string `json:"request"`
	Kind        string `json:"kind"`
	Case        string `json:"case"`
	RequestedBy string `json:"requested_by"`
	Person      string `json:"person"`
	Expires     string `json:"expires"`
	Params      struct {
		For            string   `json:"for"`
		Purpose        string   `json:"purpose"`
		Items          []string `json:"items"`
		DiscloseOthers bool     `json:"disclose_others"`
		ExportApproval string   `json:"export_approval"` // of a case.policy request
		// of a case.classification.policy request: the votes asked for,
		// and those in force when asked
		Votes int `json:"votes"`
		From  int `json:"from"`
	} `json:"params"`
}

// policyData is what a sealing's rules read of a case.policy.set event.
type policyData struct {
	ExportApproval string `json:"export_approval"`
	Request        string `json:"request"`
	RequestedBy    string `json:"requested_by"`
}

// RequestsCarriedSince is when packages began to carry their sealing's
// request.opened and request.approved (custody-log.md section 8): a
// sealing before it that names a request is checked without them.
var RequestsCarriedSince = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

// approvalSlack is how far past its request's expiry an approval's time
// may be: the instant between the vault's check and its write.
const approvalSlack = time.Minute

// sealerRoles are the roles that ask for and carry out sealings.
var sealerRoles = map[string]bool{"investigator": true, "custodian": true}

// signedIn are the ways an approval's actor may have authenticated: a
// session (local, oidc), a client certificate, or, in logs before
// sessions, a bearer token.
var signedIn = map[string]bool{"local": true, "oidc": true, "certificate": true, "token": true}

// samePerson reports whether two actors show one credential: the same
// session, client certificate, or identity provider subject.
func samePerson(a, b events.Actor) bool {
	return a.Session != "" && a.Session == b.Session ||
		a.Certificate != "" && a.Certificate == b.Certificate ||
		a.Subject != "" && a.Issuer == b.Issuer && a.Subject == b.Subject
}

// checkSealingRequest checks the two-person rules of the package's own
// sealing from the events the package carries (section 9 step 7a;
// custody-log.md section 8, "Decisions"): where the case's last
// case.policy.set before the sealing says export_approval "required",
// the sealing names a request, and a policy dropped before it was
// dropped on another's request; a sealing that names one carries its
// request.opened and request.approved (since RequestsCarriedSince), the
// request asked to seal this package (kind package.seal, by an
// investigator or custodian of this case, for the same person, purpose,
// items and disclosure), its approval is by a signed-in custodian other
// than its requester (another credential), before the request expired,
// right before the sealing, and that custodian sealed it. It returns what
// it established, in words.
func checkSealingRequest(m *Manifest, evs map[uint64]*events.Event) (string, error) {
	sealing := evs[m.SealingEvent]
	var d sealingData
	if err := sealing.DecodeData(&d); err != nil {
		return "", err
	}
	// The policy at the sealing, and how it came to be: a requirement
	// is dropped only on an approved case.policy request, never by one
	// custodian alone.
	//
	// The events are read in the log's order, so that a package with
	// more than one fault is always refused for the same one.
	order := slices.Sorted(maps.Keys(evs))
	var policy *events.Event
	required := false
	for _, seq := range order {
		ev := evs[seq]
		if ev.Type != "case.policy.set" || seq >= sealing.Seq {
			continue
		}
		var p policyData
		if err := ev.DecodeData(&p); err != nil {
			return "", err
		}
		// Only "none" drops the approval: a value this format does not
		// write is read as "required", as the vault reads it
		// (custody-log.md section 8, case.policy.set).
		now := p.ExportApproval != "none"
		if required && !now && (p.Request == "" || p.RequestedBy == "" || p.RequestedBy == ev.Actor.Person) {
			return "", fmt.Errorf("the case's export approval was dropped at event %d by %s alone: dropping it is a request another custodian approves (custody-log.md section 8), so the sealing (event %d) was not free of it", seq, truncate(ev.Actor.Person), sealing.Seq)
		}
		if required && !now {
			if err := checkPolicyDrop(m, evs, order, ev, p); err != nil {
				return "", err
			}
		}
		policy, required = ev, now
	}
	if d.Request == "" {
		if required {
			return "", fmt.Errorf("the case's export policy (event %d) required a custodian's approval of every package, but sealing event %d names no approved request", policy.Seq, sealing.Seq)
		}
		return "no approval was needed: the case's export policy did not require one at the sealing", nil
	}
	c, err := findCarriedOut(evs, order, d.Request, fmt.Sprintf("sealing event %d", sealing.Seq))
	if err != nil {
		return "", err
	}
	opened, approved, asked := c.opened, c.approved, c.asked
	if opened == nil && approved == nil && sealing.Timestamp().Before(RequestsCarriedSince) {
		// Sealed before packages carried their request: the approval
		// is on the record, not in the package.
		return fmt.Sprintf("the sealing carries out request %s, asked by %s; sealed before packages carried their request (%s), it does not show the request or its approval: an auditor's custos audit log --case %s does",
			d.Request, printable.Terminal(d.RequestedBy), RequestsCarriedSince.Format(time.DateOnly), printable.Terminal(m.Case)), nil
	}
	for _, e := range []struct {
		typ string
		ev  *events.Event
	}{{"request.opened", opened}, {"request.approved", approved}} {
		if e.ev == nil {
			return "", fmt.Errorf("sealing event %d carries out request %s, but the package does not hold its %s event (a package carries its sealing's request and approval)", sealing.Seq, truncate(d.Request), e.typ)
		}
	}
	requester := opened.Actor
	p := asked.Params
	switch {
	case asked.Kind != "package.seal" || c.decided.Kind != "package.seal":
		return "", fmt.Errorf("request %s, which sealing event %d carries out, is of kind %q (approved as %q), not package.seal", truncate(d.Request), sealing.Seq, truncate(asked.Kind), truncate(c.decided.Kind))
	case !sealerRoles[requester.Role]:
		return "", fmt.Errorf("request %s is asked (event %d) by %s as %q: only investigators and custodians ask for a sealing", truncate(d.Request), opened.Seq, truncate(requester.Person), truncate(requester.Role))
	}
	if err := c.check(m, sealing, "its sealing", d.RequestedBy); err != nil {
		return "", err
	}
	if asked.Person != "" && asked.Person != p.For {
		return "", fmt.Errorf("request %s (event %d) names %s as whom it concerns, but asks for a package for %s: the two must be one person", truncate(d.Request), opened.Seq, truncate(asked.Person), truncate(p.For))
	}
	if p.For != d.For || p.Purpose != d.Purpose || p.DiscloseOthers != d.DisclosesOthers {
		return "", fmt.Errorf("request %s (event %d) asked for a package for %s with the purpose %q (disclosing other packages: %v); sealing event %d is for %s with the purpose %q (disclosing: %v)",
			truncate(d.Request), opened.Seq, truncate(p.For), truncate(p.Purpose), p.DiscloseOthers, sealing.Seq, truncate(d.For), truncate(d.Purpose), d.DisclosesOthers)
	}
	if len(p.Items) > 0 {
		if !slices.Equal(p.Items, d.Items) {
			return "", fmt.Errorf("request %s (event %d) asked to seal %s; sealing event %d seals %s, not those, in that order", truncate(d.Request), opened.Seq, Count(len(p.Items), "item", "items"), sealing.Seq, Count(len(d.Items), "item", "items"))
		}
	} else {
		// A request that lists no items asked for every item the case
		// had then: none deposited after it.
		for _, seq := range order {
			ev := evs[seq]
			if ev.Type == "item.deposited" && slices.Contains(d.Items, ev.Item) && ev.Seq > opened.Seq {
				return "", fmt.Errorf("request %s (event %d) asked for the case's items then; item %s was deposited after it (event %d)", truncate(d.Request), opened.Seq, ev.Item, ev.Seq)
			}
		}
	}
	why := "the case's export policy did not require it"
	if required {
		why = fmt.Sprintf("as the case's export policy (event %d) required", policy.Seq)
	}
	return fmt.Sprintf("the sealing was asked by %s in request %s (event %d) and approved by custodian %s (event %d), who sealed it; %s",
		printable.Terminal(requester.Person), d.Request, opened.Seq, printable.Terminal(approved.Actor.Person), approved.Seq, why), nil
}

// findRequest returns the one event of type typ (request.opened,
// request.approved or request.rejected) among the package's events whose
// data names request id, read in the log's order (order), with its data;
// nil if there is none, an error for two, or for data that does not
// read.
func findRequest(evs map[uint64]*events.Event, order []uint64, typ, id string) (*events.Event, requestData, error) {
	var found *events.Event
	var data requestData
	for _, seq := range order {
		ev := evs[seq]
		if ev.Type != typ {
			continue
		}
		var r requestData
		if err := ev.DecodeData(&r); err != nil {
			return nil, r, err
		}
		if r.Request != id {
			continue
		}
		if found != nil {
			return nil, r, fmt.Errorf("request %s has two %s events (%d and %d)", truncate(id), typ, found.Seq, ev.Seq)
		}
		found, data = ev, r
	}
	return found, data, nil
}

// carriedOut is a request a decision carried out (a sealing, a drop of
// the export approval), as the package's events show it: its
// request.opened and request.approved, nil where the package holds none,
// and their data.
type carriedOut struct {
	id               string
	opened, approved *events.Event
	asked, decided   requestData
}

// findCarriedOut finds request id's request.opened and request.approved
// among the package's events, and refuses a request.rejected of it, which
// the decision named as what carried out all the same. Where the events
// stand against the decision is carriedOut.check's.
func findCarriedOut(evs map[uint64]*events.Event, order []uint64, id, what string) (carriedOut, error) {
	c := carriedOut{id: id}
	var err error
	if c.opened, c.asked, err = findRequest(evs, order, "request.opened", id); err != nil {
		return c, err
	}
	if c.approved, c.decided, err = findRequest(evs, order, "request.approved", id); err != nil {
		return c, err
	}
	if rejected, _, err := findRequest(evs, order, "request.rejected", id); err != nil {
		return c, err
	} else if rejected != nil {
		return c, fmt.Errorf("request %s is rejected (event %d), yet %s carries it out", truncate(id), rejected.Seq, what)
	}
	return c, nil
}

// check checks that decision (named as what), which names requestedBy as
// who asked, carried out c, whose request.opened and request.approved the
// package holds, as custody-log.md section 8 ("Decisions") asks: the
// request's data names no other case than the package's; the decision comes right after the approval, the
// approval after the request; the approval and the decision name the
// requester; the approver is a custodian other than the requester, signed
// in with another credential, at most approvalSlack after the request's
// expiry, and writes the decision.
func (c carriedOut) check(m *Manifest, decision *events.Event, what, requestedBy string) error {
	id, opened, approved := truncate(c.id), c.opened, c.approved
	requester := opened.Actor
	switch {
	case c.asked.Case != "" && c.asked.Case != m.Case:
		// (Its envelope names the package's case, as every event in the
		// package does: section 9 step 6.)
		return fmt.Errorf("request %s (event %d) names the case %q in its data, not %s", id, opened.Seq, truncate(c.asked.Case), m.Case)
	case !(opened.Seq < approved.Seq && approved.Seq+1 == decision.Seq):
		return fmt.Errorf("request %s is opened at event %d and approved at event %d; %s (event %d) must come right after its approval, and the approval after the request", id, opened.Seq, approved.Seq, what, decision.Seq)
	case c.decided.RequestedBy != requester.Person || requestedBy != requester.Person:
		return fmt.Errorf("request %s was opened by %s, but its approval (event %d) or %s (event %d) names %q as who asked", id, truncate(requester.Person), approved.Seq, what, decision.Seq, truncate(map[bool]string{true: c.decided.RequestedBy, false: requestedBy}[c.decided.RequestedBy != requester.Person]))
	case approved.Actor.Role != "custodian" || approved.Actor.Person == requester.Person || approved.Actor.Person == "":
		return fmt.Errorf("request %s, asked by %s, is approved (event %d) by %s (%s): an approval is a custodian's other than the requester's", id, truncate(requester.Person), approved.Seq, truncate(approved.Actor.Person), truncate(approved.Actor.Role))
	case !signedIn[approved.Actor.Auth] || samePerson(approved.Actor, requester):
		return fmt.Errorf("request %s is approved (event %d) with the credential %q of the requester's or of nobody signed in (auth %q): an approval is another person's, signed in", id, approved.Seq, truncate(approved.Actor.Session+approved.Actor.Certificate+approved.Actor.Subject), truncate(approved.Actor.Auth))
	}
	exp, err := time.Parse(time.RFC3339, c.asked.Expires)
	switch {
	case err != nil:
		return fmt.Errorf("request %s (event %d) gives its expiry as %q, which is not a time in RFC 3339 (2026-12-14T10:00:00Z): an opening says until when it may be approved, and its approval (event %d) cannot be shown to be before that", id, opened.Seq, truncate(c.asked.Expires), approved.Seq)
	case approved.Timestamp().After(exp.Add(approvalSlack)):
		return fmt.Errorf("request %s (event %d) could be approved until %q; its approval (event %d) is at %s, after that", id, opened.Seq, truncate(c.asked.Expires), approved.Seq, approved.Time)
	}
	if decision.Actor.Person != approved.Actor.Person || decision.Actor.Role != approved.Actor.Role {
		return fmt.Errorf("request %s is approved by %s (event %d), but %s (event %d) is by %s: the approving custodian carries it out", id, truncate(approved.Actor.Person), approved.Seq, what, decision.Seq, truncate(decision.Actor.Person))
	}
	return nil
}

// PolicyRequestsCarriedSince is the first day a drop of a case's export
// approval is checked against its request in the package (section 9
// step 7a): a case.policy.set before it is checked by its own data alone.
var PolicyRequestsCarriedSince = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// checkPolicyDrop checks a case.policy.set (drop, data p) that dropped the
// case's export approval, from the events the package carries (a package
// carries the case's own events, its requests among them; section 9 step
// 7a): it carried out the case.policy request it names, asked by a
// custodian for export_approval none, its request.opened and
// request.approved in the package and no request.rejected, under the
// rules of carriedOut.check.
func checkPolicyDrop(m *Manifest, evs map[uint64]*events.Event, order []uint64, drop *events.Event, p policyData) error {
	if drop.Timestamp().Before(PolicyRequestsCarriedSince) {
		return nil
	}
	what := fmt.Sprintf("the drop of the case's export approval (event %d)", drop.Seq)
	c, err := findCarriedOut(evs, order, p.Request, what)
	if err != nil {
		return err
	}
	if c.opened == nil || c.approved == nil {
		return fmt.Errorf("the case's export approval was dropped (event %d) on request %s, but the package does not hold the request's request.opened and request.approved (a package carries the case's own events, its requests among them)", drop.Seq, truncate(p.Request))
	}
	switch {
	case c.asked.Kind != "case.policy" || c.decided.Kind != "case.policy" || c.asked.Params.ExportApproval != "none":
		return fmt.Errorf("request %s, on which the case's export approval was dropped (event %d), is of kind %q (approved as %q) asking for export approval %q, not a case.policy request for none", truncate(p.Request), drop.Seq, truncate(c.asked.Kind), truncate(c.decided.Kind), truncate(c.asked.Params.ExportApproval))
	case c.opened.Actor.Role != "custodian":
		return fmt.Errorf("request %s is asked (event %d) by %s as %q: only custodians ask to drop a case's export approval", truncate(p.Request), c.opened.Seq, truncate(c.opened.Actor.Person), truncate(c.opened.Actor.Role))
	}
	return c.check(m, drop, "the drop of the case's export approval", p.RequestedBy)
}

// checkLowerings checks each case.classification.policy of the package
// that names a request (a lowering, since 2026-12-07; section 9 step 7b):
// it carried out the case.classification.policy request it names, asked
// by a custodian for its votes, from the policy before it (the case's
// previous case.classification.policy the package carries, 1 if none),
// its request.opened and request.approved in the package and no
// request.rejected, under the rules of carriedOut.check. A lowering that
// names no request is an older build's (or was recorded by whoever
// holds the log's key): the package cannot tell which, and the audit of
// the log (custody-log.md section 7, step 8) does. It returns what it
// established, in words ("" where there is no such lowering).
func checkLowerings(m *Manifest, evs map[uint64]*events.Event) (string, error) {
	order := slices.Sorted(maps.Keys(evs))
	votes, checked := 1, 0
	for _, seq := range order {
		ev := evs[seq]
		if ev.Type != "case.classification.policy" {
			continue
		}
		var d struct {
			Votes       int    `json:"votes"`
			Request     string `json:"request"`
			RequestedBy string `json:"requested_by"`
		}
		if err := ev.DecodeData(&d); err != nil {
			return "", err
		}
		before := votes
		votes = max(d.Votes, 1)
		if d.Request == "" {
			continue
		}
		what := fmt.Sprintf("the lowering of the case's classification policy (event %d)", seq)
		c, err := findCarriedOut(evs, order, d.Request, what)
		if err != nil {
			return "", err
		}
		if c.opened == nil || c.approved == nil {
			return "", fmt.Errorf("the case's classification policy was lowered (event %d) on request %s, but the package does not hold the request's request.opened and request.approved (a package carries the case's own events, its requests among them)", seq, truncate(d.Request))
		}
		switch {
		case c.asked.Kind != "case.classification.policy" || c.decided.Kind != "case.classification.policy":
			return "", fmt.Errorf("request %s, on which the case's classification policy was lowered (event %d), is of kind %q (approved as %q), not a case.classification.policy request", truncate(d.Request), seq, truncate(c.asked.Kind), truncate(c.decided.Kind))
		case c.asked.Params.Votes != d.Votes || c.asked.Params.From != before:
			return "", fmt.Errorf("request %s asked to lower the case's classification policy from %d to %d agreeing votes; event %d sets %d, where the policy before it was %d", truncate(d.Request), c.asked.Params.From, c.asked.Params.Votes, seq, d.Votes, before)
		case c.opened.Actor.Role != "custodian":
			return "", fmt.Errorf("request %s is asked (event %d) by %s as %q: only custodians ask to lower a case's classification policy", truncate(d.Request), c.opened.Seq, truncate(c.opened.Actor.Person), truncate(c.opened.Actor.Role))
		}
		if err := c.check(m, ev, "the lowering of the case's classification policy", d.RequestedBy); err != nil {
			return "", err
		}
		checked++
	}
	if checked == 0 {
		return "", nil
	}
	return fmt.Sprintf("%s of the case's classification policy, each carried out on a custodian's request that another custodian approved", Count(checked, "lowering", "lowerings")), nil
}

// checkOpened requires the case's opening among the package's events: it
// names the case's recipient and who opened it, the start of the case's
// custody.
func checkOpened(m *Manifest, evs map[uint64]*events.Event) error {
	for _, ev := range evs {
		if ev.Type == "case.opened" && ev.Case == m.Case {
			return nil
		}
	}
	return fmt.Errorf("the package does not hold the opening of case %s (its case.opened event)", m.Case)
}

func checkDeposit(m *Manifest, it Item, evs map[uint64]*events.Event) error {
	ev := evs[it.DepositEvent]
	if ev == nil || ev.Type != "item.deposited" || ev.Item != it.ID || ev.Case != m.Case {
		return fmt.Errorf("item %s: deposit event %d is missing or is not its deposit", it.ID, it.DepositEvent)
	}
	var d depositData
	if err := ev.DecodeData(&d); err != nil {
		return err
	}
	if d.Name != it.Name || d.Size != it.Size || d.SHA256 != it.SHA256 || d.MD5 != it.MD5 || d.SHA1 != it.SHA1 {
		return fmt.Errorf("item %s: manifest (name, size, sha256, md5, sha1) disagrees with deposit event %d", it.ID, it.DepositEvent)
	}
	return nil
}

const ageHeader = "age-encryption.org/v1\n"

// oneStanza checks an age header (age-encryption.org/v1: stanzas "-> TYPE
// ARGS" with base64 bodies, ended by the "--- MAC" line) for exactly one
// recipient stanza, of the type of the package's recipient: X25519 for
// age1..., mlkem768x25519 for the hybrid age1pq1....
func oneStanza(head []byte, recipient string) error {
	want := "X25519"
	if strings.HasPrefix(recipient, "age1pq1") {
		want = "mlkem768x25519"
	}
	var types []string
	for _, line := range strings.Split(string(head), "\n")[1:] {
		if t, ok := strings.CutPrefix(line, "-> "); ok {
			typ, _, _ := strings.Cut(t, " ")
			types = append(types, typ)
			continue
		}
		if strings.HasPrefix(line, "--- ") {
			if len(types) != 1 || types[0] != want {
				return fmt.Errorf("its age header holds recipient stanzas %q; a package item is sealed to the package's recipient alone (one %s stanza)", types, want)
			}
			return nil
		}
	}
	return errors.New("its age header does not end within the first 64 KiB")
}

// checkItem checks the i-th item's member: every byte hashes to the
// manifest's file_sha256 (its size was checked from the header); with
// identities, the plaintext matches the deposit and, with an extraction,
// is written to the temporary folder.
func checkItem(tr io.Reader, i int, it Item, recipient string, opts VerifyOptions, ex *extraction, rep *Report) error {
	fh := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(tr, fh), 64<<10)
	// A check below that fails on a file other than the one the manifest
	// names says so: a changed byte shows as a header that is not age's,
	// a stanza of another type or a failed decryption, but what happened
	// is that the file was altered. The rest of the file is read into
	// its hash to tell (the member's size was checked against the
	// manifest); a file that hashes right keeps the check's own error.
	altered := func(err error) error {
		if _, cerr := io.Copy(io.Discard, br); cerr == nil && hex.EncodeToString(fh.Sum(nil)) != it.FileSHA256 {
			return fmt.Errorf("%s is not the file the signed manifest names (its SHA-256 differs from the manifest's file_sha256: it was altered after the package was sealed); the alteration, not the key you gave, is why a check of it failed first: %v", it.Path, err)
		}
		return err
	}
	head, err := br.Peek(len(ageHeader))
	if err != nil || string(head) != ageHeader {
		return altered(fmt.Errorf("%s is not an age file", it.Path))
	}
	// Sealed to the recipient alone (section 7): no one else holds a
	// key to the evidence. Checked without any identity.
	head, _ = br.Peek(int(min(it.FileSize, int64(br.Size()))))
	if err := oneStanza(head, recipient); err != nil {
		return altered(fmt.Errorf("%s: %w", it.Path, err))
	}
	if len(opts.Identities) > 0 {
		d, err := age.Decrypt(br, opts.Identities...)
		if err != nil {
			return altered(fmt.Errorf("%s: %w", it.Path, err))
		}
		if ex == nil {
			err = rehash(io.Discard, d, it)
		} else {
			err = ex.write(i, d, it)
		}
		if err != nil {
			return altered(err)
		}
		rep.Decrypted++
	}
	// Whatever decryption did not read is hashed too.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fmt.Errorf("reading %s: %w", it.Path, err)
	}
	if hex.EncodeToString(fh.Sum(nil)) != it.FileSHA256 {
		return fmt.Errorf("%s is not the file the signed manifest names (its SHA-256 differs from the manifest's file_sha256)", it.Path)
	}
	return nil
}

// rehash copies the plaintext to out and compares its size and SHA-256,
// and its MD5 and SHA-1 where the deposit computed them, with the
// manifest's (which step 8 compared with the deposit event): the report
// tells its reader that md5sum and sha1sum of the file must give them,
// and they are what law-enforcement hash sets are matched by.
func rehash(out io.Writer, plain io.Reader, it Item) error {
	h := sha256.New()
	ws := []io.Writer{out, h}
	var hm, h1 hash.Hash
	if it.MD5 != "" {
		hm = md5.New()
		ws = append(ws, hm)
	}
	if it.SHA1 != "" {
		h1 = sha1.New()
		ws = append(ws, h1)
	}
	n, err := io.Copy(io.MultiWriter(ws...), plain)
	if err != nil {
		return fmt.Errorf("%s: decryption failed: %w", it.Path, err)
	}
	if n != it.Size || hex.EncodeToString(h.Sum(nil)) != it.SHA256 {
		return fmt.Errorf("%s: plaintext does not match the deposit (%d bytes, expected %d, or SHA-256 differs)", it.Path, n, it.Size)
	}
	if hm != nil && hex.EncodeToString(hm.Sum(nil)) != it.MD5 {
		return fmt.Errorf("%s: plaintext does not match the deposit: its MD5 differs from the one recorded (the SHA-256 matches)", it.Path)
	}
	if h1 != nil && hex.EncodeToString(h1.Sum(nil)) != it.SHA1 {
		return fmt.Errorf("%s: plaintext does not match the deposit: its SHA-1 differs from the one recorded (the SHA-256 matches)", it.Path)
	}
	return nil
}

// looksLikePath reports whether a value given for a key names a file
// rather than being a mistyped key: it has a folder in it, or ends in an
// extension such as .key or .txt, and no "+" (a log key is its name, "+",
// its hash, "+" and its base64, which may hold a "/").
func looksLikePath(value string) bool {
	if strings.Contains(value, "+") || strings.ContainsAny(value, " \t") {
		return false // a key's name, hash and base64 (which may hold "/")
	}
	return strings.ContainsRune(value, filepath.Separator) || filepath.Ext(value) != ""
}

// TrustedKeysFlag reads what a --key flag was given: a note verifier key
// or a KeyFingerprint, what custos audit key prints pasted whole (with
// its comment lines, or its --json), or else the name of a file holding
// them ("-": standard input): a trusted-keys file (ParseTrustedKeys;
// what `custos audit key > FILE` writes) or the JSON `custos audit key
// --json` prints, so that the file a user was handed can be given where
// the key can. It
// returns the key or keys, or a *keyfile.MalformedError naming flag (such
// as "--key") when the value is neither a well-formed key nor a readable
// file of them. A value that is a well-formed key is never looked up as a
// file.
func TrustedKeysFlag(flag, value string) ([]string, error) {
	k := trustedKeyLine(keyfile.NormalizeKey(value))
	err := CheckTrustedKey(k)
	if err == nil {
		return []string{k}, nil
	}
	what := "file of log keys (given with " + flag + ")"
	if strings.Contains(value, "\n") || strings.HasPrefix(k, "{") {
		// What custos audit key printed, pasted whole ("$(cat
		// vault.key)", or its --json): the key with its comments.
		keys, perr := ParseTrustedKeys(keyfile.Normalize([]byte(value)))
		if perr != nil {
			return nil, &keyfile.MalformedError{File: flag, What: "log key", Reason: perr.Error()}
		}
		return keys, nil
	}
	if value != "-" {
		st, serr := os.Stat(value)
		switch {
		case errors.Is(serr, fs.ErrNotExist) && looksLikePath(value):
			return nil, &keyfile.MalformedError{File: flag, What: "log key", Reason: fmt.Sprintf("no file %q exists (check the path), and the value is no log key either", value)}
		case serr != nil:
			return nil, &keyfile.MalformedError{File: flag, What: "log key", Reason: "it is " + err.Error() + ", nor the name of a file holding one: the vault's auditors or custodians give it"}
		case st.IsDir():
			return nil, &keyfile.MalformedError{File: value, What: what, Reason: "it is a folder"}
		}
	}
	b, rerr := keyfile.ReadText(value, what)
	if rerr != nil {
		return nil, rerr
	}
	keys, perr := ParseTrustedKeys(b)
	if perr != nil {
		return nil, &keyfile.MalformedError{File: value, What: what, Reason: perr.Error()}
	}
	return keys, nil
}

// Count writes n with the singular or the plural that follows it ("1
// item", "2 items").
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
