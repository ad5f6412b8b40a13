// Package witness checks the custody log's cosigned checkpoints against a
// witness policy: which witnesses (C2SP tlog-witness,
// https://c2sp.org/tlog-witness) must have cosigned them, with Ed25519
// cosignatures (https://c2sp.org/tlog-cosignature). It has no network
// code, so that verifiers can use it; the server's client that submits
// checkpoints to witnesses is package witnessclient. A witness cosigns a checkpoint only if it is
// consistent with every checkpoint of the same log it cosigned before, so
// a log that was rolled back, forked, or shown differently to two
// auditors cannot gather a quorum for both histories.
//
// docs/witnesses.md describes the policy file, what the vault does with
// each answer, and how to run a witness.
package witness

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"

	fnote "github.com/transparency-dev/formats/note"
	fwitness "github.com/transparency-dev/formats/witness"
	"golang.org/x/mod/sumdb/note"
)

// MaxPolicySize bounds a policy file, in bytes.
const MaxPolicySize = 64 << 10

// Witness is one witness of a policy.
type Witness struct {
	// Name is the policy's name for it; VKey its cosignature/v1 verifier
	// key (C2SP signed-note vkey, type 0x04 or 0x01), whose own name is
	// Key.Name().
	Name string
	VKey string
	Key  note.Verifier
	// URL is its add-checkpoint endpoint (the witness URL with
	// "/add-checkpoint" appended); "" in a policy used only to verify.
	URL string
}

// Policy is a set of witnesses and the quorum of them that must cosign a
// checkpoint. Its text form is the Sigsum policy format that Tessera and
// torchwood read (parsed by github.com/transparency-dev/formats/witness):
//
//	witness NAME VKEY [URL]
//	group NAME K|any|all MEMBER...
//	quorum NAME|none
//
// with "#" comments; "log" lines are ignored. A witness line without a
// URL can be used to verify but not to submit.
type Policy struct {
	Witnesses []Witness
	group     fwitness.Group
	// Quorum describes the quorum in words ("2 of 3", "all of 2").
	Quorum string
}

// placeholderURL stands in for a witness line's missing URL, which the
// format's parser requires.
const placeholderURL = "https://custos.invalid/no-url"

// ParsePolicy parses a policy file. Errors name the line at fault.
func ParsePolicy(b []byte) (*Policy, error) {
	if len(b) > MaxPolicySize {
		return nil, fmt.Errorf("witness policy of %d bytes exceeds the %d-byte limit", len(b), MaxPolicySize)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	var text strings.Builder
	p := &Policy{}
	names := map[string]bool{}
	keys := map[string]string{} // raw public key -> witness name
	quorumLine := 0             // the line of the quorum, once read
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		body, _, _ := strings.Cut(line, "#")
		f := strings.Fields(body)
		if len(f) > 0 && f[0] == "witness" {
			if len(f) != 3 && len(f) != 4 {
				return nil, fmt.Errorf("witness policy line %d: want `witness NAME VKEY [URL]`", n+1)
			}
			w := Witness{Name: f[1], VKey: f[2]}
			k, err := fnote.NewVerifierForCosignatureV1(w.VKey)
			if err != nil {
				return nil, fmt.Errorf("witness policy line %d: witness %s: bad verifier key: %v", n+1, w.Name, err)
			}
			w.Key = k
			raw, err := checkVKey(w.VKey, k)
			if err != nil {
				return nil, fmt.Errorf("witness policy line %d: witness %s: %v", n+1, w.Name, err)
			}
			if other, ok := keys[raw]; ok {
				return nil, fmt.Errorf("witness policy line %d: witness %s has the key of witness %s: one key counts once", n+1, w.Name, other)
			}
			keys[raw] = w.Name
			u := placeholderURL
			if len(f) == 4 {
				pu, err := url.Parse(f[3])
				if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" || pu.ForceQuery {
					return nil, fmt.Errorf("witness policy line %d: witness %s: the URL must be http:// or https:// with a host, and no user name, query or fragment", n+1, w.Name)
				}
				u = f[3]
				w.URL = pu.JoinPath("add-checkpoint").String()
			}
			if names[w.Name] {
				return nil, fmt.Errorf("witness policy line %d: witness %s is named twice", n+1, w.Name)
			}
			names[w.Name] = true
			p.Witnesses = append(p.Witnesses, w)
			fmt.Fprintf(&text, "witness %s %s %s\n", w.Name, w.VKey, u)
			continue
		}
		if len(f) > 0 && f[0] == "group" {
			if err := checkGroup(f); err != nil {
				return nil, fmt.Errorf("witness policy line %d: %v", n+1, err)
			}
			names[f[1]] = true // checkGroup saw its name
		}
		// The format's parser keeps the last quorum line it reads: a
		// second one would silently replace the first.
		if len(f) > 0 && f[0] == "quorum" {
			if quorumLine > 0 {
				return nil, fmt.Errorf("witness policy line %d: a second quorum line (the first is line %d): a policy has exactly one", n+1, quorumLine)
			}
			quorumLine = n + 1
			// The format's parser resolves the quorum's name after the
			// last line; a name is defined before the line that uses it
			// (docs/witnesses.md section 1.1), so that the policy reads
			// the same from top to bottom.
			if len(f) == 2 && f[1] != "none" && !names[f[1]] {
				return nil, fmt.Errorf("witness policy line %d: quorum %s: no witness or group of that name is defined above it (a name is defined before the line that uses it)", n+1, f[1])
			}
		}
		text.WriteString(body + "\n")
	}
	g, err := fwitness.ParsePolicy([]byte(text.String()))
	if err != nil {
		return nil, fmt.Errorf("witness policy: %w", err)
	}
	if len(p.Witnesses) == 0 {
		return nil, errors.New("witness policy: no witness")
	}
	if g.N == 0 {
		return nil, errors.New("witness policy: quorum none: a policy that needs no witness is no policy")
	}
	p.group = g
	p.Quorum = fmt.Sprintf("%d of %d", g.N, len(g.Components))
	return p, nil
}

// checkVKey checks what formats/note leaves unchecked in a witness's
// verifier key: its key hash must be the one its name and key give (C2SP
// signed-note), and its type one of Ed25519 (0x01, counted as its
// cosignature/v1 key) and Ed25519 cosignature/v1 (0x04). It returns the
// raw public key, by which a policy counts each key once.
func checkVKey(vkey string, k note.Verifier) (string, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return "", errors.New("bad verifier key")
	}
	b, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(b) != 33 {
		return "", errors.New("bad verifier key: only Ed25519 keys (types 0x01 and 0x04) are accepted")
	}
	switch b[0] {
	case 0x01:
		if _, err := fnote.VKeyToCosignatureV1(vkey); err != nil {
			return "", fmt.Errorf("bad verifier key: its key hash %s is not the one its name and key give", parts[1])
		}
	case 0x04:
		if parts[1] != fmt.Sprintf("%08x", k.KeyHash()) {
			return "", fmt.Errorf("bad verifier key: its key hash %s is not the one its name and key give (%08x)", parts[1], k.KeyHash())
		}
	default:
		return "", fmt.Errorf("bad verifier key: type 0x%02x; only Ed25519 keys (0x01, 0x04) are accepted", b[0])
	}
	return string(b[1:]), nil
}

// checkGroup refuses what the format's parser lets through and a quorum
// must not hold: a group without members, a member named twice, a
// threshold of zero (at any depth: a nested group that needs nobody
// would satisfy its parent with no cosignature).
func checkGroup(f []string) error {
	if len(f) < 4 {
		return fmt.Errorf("group %s has no members", strings.Join(f[1:min(2, len(f))], ""))
	}
	if f[2] == "0" || strings.TrimLeft(f[2], "0") == "" {
		return fmt.Errorf("group %s has a threshold of 0: a group that needs no witness is no group", f[1])
	}
	seen := map[string]bool{}
	for _, m := range f[3:] {
		if seen[m] {
			return fmt.Errorf("group %s names %s twice", f[1], m)
		}
		seen[m] = true
	}
	return nil
}

// NewPolicy builds the policy of the server flags --witness and
// --witness-quorum: the given witnesses, any quorum of them (0 means
// all).
func NewPolicy(ws []Witness, quorum int) (*Policy, error) {
	if len(ws) == 0 {
		return nil, errors.New("no witness")
	}
	if quorum == 0 {
		quorum = len(ws)
	}
	if quorum < 0 || quorum > len(ws) {
		return nil, fmt.Errorf("a quorum of %d witnesses out of %d is impossible", quorum, len(ws))
	}
	var b strings.Builder
	var names []string
	for _, w := range ws {
		u := strings.TrimSuffix(w.URL, "/add-checkpoint")
		fmt.Fprintf(&b, "witness %s %s %s\n", w.Name, w.VKey, u)
		names = append(names, w.Name)
	}
	fmt.Fprintf(&b, "group custos-quorum %d %s\nquorum custos-quorum\n", quorum, strings.Join(names, " "))
	return ParsePolicy([]byte(b.String()))
}

// ParseVerifierKey parses a witness's verifier key as a policy's
// `witness` line takes it (C2SP signed-note vkey, Ed25519 of type 0x01 or
// cosignature/v1 of type 0x04, its key hash checked), returning the
// cosignature/v1 verifier that checks the witness's cosignatures.
func ParseVerifierKey(vkey string) (note.Verifier, error) {
	if vkey == "" || strings.ContainsAny(vkey, " \t\r\n#") {
		return nil, errors.New("bad verifier key")
	}
	p, err := ParsePolicy([]byte("witness w " + vkey + "\nquorum w\n"))
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "witness policy line 1: witness w: "))
	}
	return p.Witnesses[0].Key, nil
}

// CosignatureVKey returns a witness's verifier key as the cosignature/v1
// key (type 0x04) it signs with: a plain Ed25519 key (type 0x01) is
// converted, a 0x04 key is returned as it is, so that one witness has
// one key in a record whichever form a policy gave. Errors as
// ParseVerifierKey's.
func CosignatureVKey(vkey string) (string, error) {
	if _, err := ParseVerifierKey(vkey); err != nil {
		return "", err
	}
	if b, err := base64.StdEncoding.DecodeString(strings.SplitN(vkey, "+", 3)[2]); err == nil && len(b) > 0 && b[0] == 0x01 {
		return fnote.VKeyToCosignatureV1(vkey)
	}
	return vkey, nil
}

// ParseFlag parses one --witness flag value, NAME=VKEY@URL, where URL is
// the witness's base URL (to which /add-checkpoint is appended).
func ParseFlag(s string) (Witness, error) {
	name, rest, ok := strings.Cut(s, "=")
	vkey, u, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 || name == "" || vkey == "" || u == "" || strings.ContainsAny(name, " \t#") {
		return Witness{}, fmt.Errorf("--witness %q: want NAME=VERIFIER_KEY@URL", s)
	}
	p, err := ParsePolicy([]byte("witness " + name + " " + vkey + " " + u + "\nquorum " + name + "\n"))
	if err != nil {
		return Witness{}, fmt.Errorf("--witness %s: %v", name, strings.TrimPrefix(err.Error(), "witness policy line 1: "))
	}
	return p.Witnesses[0], nil
}

// Verdict is what a policy says of one cosigned checkpoint.
type Verdict struct {
	// Satisfied: the quorum of witnesses cosigned it (the witnesses in
	// Faults not counted).
	Satisfied bool
	// Cosigned and Missing name the policy's witnesses that did and did
	// not cosign it; a witness named in Faults is in neither.
	Cosigned, Missing []string
	// Times holds, for each witness that cosigned, the time its
	// cosignature states (C2SP tlog-cosignature): when it saw the
	// checkpoint.
	Times map[string]time.Time
	// Faults says, one sentence each in the policy's witness order, why
	// a witness's cosignature lines were refused: more than one line by
	// its key (whichever were read first would decide), or a
	// cosignature whose time cannot be (see CheckAt). A refused witness
	// is not counted, as one that did not cosign is not; the others
	// still meet the quorum or not, so that one witness with a wrong
	// clock (or a hostile one) cannot veto the rest.
	Faults []string
}

// MaxCosignatureAhead is how far past the clock of the check a
// cosignature's time may be: clocks differ, but a witness cannot cosign
// a checkpoint a day in the future.
const MaxCosignatureAhead = 24 * time.Hour

// Check is CheckAt with this computer's clock.
func (p *Policy) Check(cosigned []byte) Verdict { return p.CheckAt(cosigned, time.Now()) }

// CheckAt checks the cosignatures on a checkpoint note against the
// policy, with now the clock of the check. It does not check the log's
// own signature (events.ParseCheckpoint does): cosigned must be a
// checkpoint already verified as the log's.
//
// A witness counts when the note holds exactly one signature line of its
// key (its name and key hash), that line verifies over the note's text,
// and the time it states is possible: not 0, at most 2^63-1 seconds, and
// at most MaxCosignatureAhead after now. Two or more lines of one key,
// or a verified line with an impossible time, are a fault (Faults): the
// verdict is then not satisfied, so that it never depends on the order
// of the lines. Lines of keys outside the policy are ignored.
func (p *Policy) CheckAt(cosigned []byte, now time.Time) Verdict {
	v := Verdict{Times: map[string]time.Time{}}
	counted := map[string]bool{}
	for _, w := range p.Witnesses {
		lines, stamp := linesBy(cosigned, w.Key)
		if lines > 1 {
			v.Faults = append(v.Faults, fmt.Sprintf("the checkpoint carries %d cosignature lines by the key of witness %s; "+
				"a checkpoint carries at most one per witness (which line counted would depend on their order)", lines, w.Name))
			continue
		}
		n, err := note.Open(cosigned, note.VerifierList(w.Key))
		if lines != 1 || err != nil || len(n.Sigs) != 1 {
			v.Missing = append(v.Missing, w.Name)
			continue
		}
		switch {
		case stamp == 0:
			v.Faults = append(v.Faults, fmt.Sprintf("witness %s's cosignature states the time 0 (1970-01-01): no witness cosigns at that time", w.Name))
			continue
		case stamp > math.MaxInt64:
			v.Faults = append(v.Faults, fmt.Sprintf("witness %s's cosignature states the time %d, past the largest a cosignature may state (2^63-1 seconds)", w.Name, stamp))
			continue
		}
		t := time.Unix(int64(stamp), 0).UTC()
		if t.Sub(now) > MaxCosignatureAhead {
			v.Faults = append(v.Faults, fmt.Sprintf("witness %s's cosignature states the time %s, more than 24 hours after this computer's clock (%s): "+
				"a witness cannot cosign in the future (check this computer's date)", w.Name, t.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
			continue
		}
		v.Cosigned = append(v.Cosigned, w.Name)
		v.Times[w.Name] = t
		counted[KeyID(w.Key)] = true
	}
	v.Satisfied = satisfied(p.group, counted)
	return v
}

// linesBy counts the signature lines of a signed note by k's key
// (events.SignatureLines), whether or not they verify, and returns the
// time (C2SP tlog-cosignature: the 8 bytes after the key hash) the last
// of them states.
func linesBy(b []byte, k note.Verifier) (n int, stamp uint64) {
	lines := events.SignatureLines(b, k.Name(), k.KeyHash())
	if len(lines) == 0 {
		return 0, 0
	}
	if raw := lines[len(lines)-1].Raw; len(raw) >= 12 {
		stamp = binary.BigEndian.Uint64(raw[4:])
	}
	return len(lines), stamp
}

// satisfied evaluates a policy's group over the witnesses counted (by
// KeyID).
func satisfied(c any, counted map[string]bool) bool {
	switch x := c.(type) {
	case fwitness.Group:
		n := 0
		for _, k := range x.Components {
			if satisfied(k, counted) {
				n++
			}
		}
		return x.N > 0 && n >= x.N
	case *fwitness.Group:
		return satisfied(*x, counted)
	case fwitness.Witness:
		return counted[KeyID(x.Key)]
	case *fwitness.Witness:
		return satisfied(*x, counted)
	}
	return false
}

// Satisfied reports whether the cosignatures on a checkpoint note meet
// the policy's quorum, by this computer's clock (Check).
func (p *Policy) Satisfied(cosigned []byte) bool { return p.Check(cosigned).Satisfied }

// KeyID names a cosigner key: "NAME+HASH" (the C2SP signed-note key name
// and key hash in 8 hex digits).
func KeyID(k note.Verifier) string { return fmt.Sprintf("%s+%08x", k.Name(), k.KeyHash()) }

// Describe says a verdict in one line: "cosigned by a, b (quorum 2 of 3
// met)".
func (p *Policy) Describe(v Verdict) string {
	s := "cosigned by " + orNone(v.Cosigned)
	if len(v.Faults) > 0 {
		s += "; not counted: " + strings.Join(v.Faults, "; ")
	}
	if v.Satisfied {
		return s + " (quorum " + p.Quorum + " met)"
	}
	if len(v.Missing) > 0 {
		s += "; not by " + orNone(v.Missing)
	}
	return s + " (quorum " + p.Quorum + " NOT met)"
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no witness"
	}
	return strings.Join(names, ", ")
}

// Verifiers returns the cosignature verifiers of the policy's witnesses,
// in the policy's order; none for a nil policy (no witness configured).
func (p *Policy) Verifiers() []note.Verifier {
	if p == nil {
		return nil
	}
	out := make([]note.Verifier, len(p.Witnesses))
	for i, w := range p.Witnesses {
		out[i] = w.Key
	}
	return out
}

// Reachable reports whether the policy's quorum can be met by the
// witnesses it gives a URL: a witness line without one is a retired
// witness's key, to check what it cosigned before, to which nothing is
// submitted. A server whose quorum needs such a witness would never see
// a checkpoint witnessed.
func (p *Policy) Reachable() bool { return reachable(p.group) }

func reachable(c any) bool {
	switch x := c.(type) {
	case fwitness.Group:
		n := 0
		for _, k := range x.Components {
			if reachable(k) {
				n++
			}
		}
		return n >= x.N
	case *fwitness.Group:
		return reachable(*x)
	case fwitness.Witness:
		return !strings.HasPrefix(x.URL, placeholderURL)
	case *fwitness.Witness:
		return reachable(*x)
	}
	return false
}
