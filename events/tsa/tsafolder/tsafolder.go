// Package tsafolder reads and checks a folder of time-stamp notes and
// tokens as the vault keeps them in its object store's timestamps/
// folder (docs/timestamps.md section 5): what custos audit timestamps
// writes, and what a vault's operators hand over as a copy of that
// folder. custos audit timestamps and custos-verify --timestamps check a
// folder with the same code, offline, trusting nothing in it but what
// the log's key and the time-stamping authorities' certificates prove.
//
// The names, without the folder:
//
//	<size, 20 digits>-<the note's SHA-256, 64 hex>-checkpoint        a note
//	<size, 20 digits>-<the note's SHA-256, 64 hex>-<16 hex>          a token over it
//
// the 16 hex digits being the start of the token's own SHA-256; either
// may end in "-" and 8 hex digits, which the vault adds when another's
// bytes took the name first. Releases before 2026-12-04 named a note
// <size>-checkpoint and a token <size>-<n> (n from 1 to 999999, the TSA's
// place in the configuration), never with that ending: those carry no
// digest to check.
package tsafolder

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
)

// MaxListed bounds the failures and the tokens not counted that a Report
// lists (the rest are counted): a folder full of junk costs no more
// than this to report.
const MaxListed = 1000

// MaxObjectSize bounds what is read of one object, in bytes: no note or
// token the vault writes comes near it (a token is at most
// tsa.MaxTokenSize; a note a few hundred bytes).
const MaxObjectSize = tsa.MaxTokenSize

var nameRE = regexp.MustCompile(`^([0-9]{20})-(?:(?:([0-9a-f]{64})-checkpoint|([0-9a-f]{64})-([0-9a-f]{16}))(?:-[0-9a-f]{8})?|(checkpoint)|([1-9][0-9]{0,5}))$`)

// Name is what the name of an object of the timestamps/ folder says.
type Name struct {
	// Size is the checkpoint size, in events, of the note (a token's:
	// of the note it dates).
	Size uint64
	// Note is true for a note, false for a token.
	Note bool
	// NoteSHA256 is the note's SHA-256 (64 lowercase hex digits) that
	// the name gives: a note's own, a token's note's. Empty in names of
	// releases before 2026-12-04.
	NoteSHA256 string
	// TokenSHA256Prefix is a token's: the first 16 hex digits of its own
	// SHA-256. Empty for a note and in earlier releases' names.
	TokenSHA256Prefix string
}

// ParseName reads an object's name, without the folder. It returns false
// for any name the vault does not give: nothing with a "/", a "." or
// upper case, so that a name it accepts is safe as a file name.
func ParseName(name string) (Name, bool) {
	m := nameRE.FindStringSubmatch(name)
	if m == nil {
		return Name{}, false
	}
	size, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return Name{}, false // 20 digits beyond 2^64-1
	}
	n := Name{Size: size, Note: m[2] != "" || m[5] != ""}
	if n.Note {
		n.NoteSHA256 = m[2]
	} else {
		n.NoteSHA256, n.TokenSHA256Prefix = m[3], m[4]
	}
	return n, true
}

// noteKey is what pairs a token with its note: the size and the note's
// SHA-256 the names give (for earlier releases' names, the size alone).
func (n Name) noteKey() string { return strconv.FormatUint(n.Size, 10) + "-" + n.NoteSHA256 }

// Report is what a check of a folder found.
type Report struct {
	Notes  int // notes found (good or not)
	Tokens int // tokens found (good or not)
	// Verified counts the tokens verified over their notes against the
	// certificates given.
	Verified int
	// Failures are "NAME: reason", the first MaxListed of them, then
	// "and N more".
	Failures []string
	// NotCounted lists tokens of a time-stamping authority whose
	// certificates were not given (or whose chain was not valid at the
	// token's time), "NAME: reason": reported, not failures, as
	// custos-verify reports a package's.
	NotCounted []string
	// First and Last are the earliest and latest attested times of the
	// verified tokens, zero if none was.
	First, Last time.Time

	failed int
}

// TimeRange is First and Last in RFC 3339 (UTC, with the fraction the
// tokens give), or two empty strings when no token was verified.
func (r *Report) TimeRange() (first, last string) {
	if r.First.IsZero() {
		return "", ""
	}
	return r.First.UTC().Format(time.RFC3339Nano), r.Last.UTC().Format(time.RFC3339Nano)
}

// Fail records a failure (format and a as fmt.Sprintf takes them).
func (r *Report) Fail(format string, a ...any) {
	if r.failed++; r.failed <= MaxListed {
		r.Failures = append(r.Failures, fmt.Sprintf(format, a...))
	}
}

// Failed is the number of failures recorded, listed or not.
func (r *Report) Failed() int { return r.failed }

// OK reports whether nothing failed.
func (r *Report) OK() bool { return r.failed == 0 }

// Finish adds "and N more" to Failures when more failed than are listed.
// Call it once, after the last Fail.
func (r *Report) Finish() {
	if r.failed > MaxListed {
		r.Failures = append(r.Failures, fmt.Sprintf("and %d more", r.failed-MaxListed))
	}
}

// CheckFolder checks every entry of fsys's top folder and records what
// it finds in r (r may hold failures found before, such as names a
// server sent that were not written):
//
//   - each name is one ParseName accepts, and each entry a regular file
//     (not a link or a folder) of at most MaxObjectSize bytes;
//   - each object's bytes have the SHA-256 its name gives;
//   - each note is a checkpoint signed by one of keys, as the log signed
//     it (its text, the blank line and the log key's one signature line,
//     nothing else: the message a token covers, docs/timestamps.md
//     section 1), of the size its name gives;
//   - each token has its note beside it: of the size and the SHA-256
//     the token's name gives;
//   - with certs, each token verifies over its note (tsa.Verify, docs/
//     timestamps.md section 4); one failing with tsa.ErrUntrustedSigner
//     is listed in NotCounted, any other failure fails; and a note with
//     tokens must have one that verifies (all of its tokens not counted
//     fails the note: it is not dated by anyone trusted). Without certs
//     no token is verified.
//
// Entries are checked in the order of their names. It holds the names
// (about 200 bytes each) and one object at a time. The error is for a
// folder that cannot be listed or a file that cannot be read, not for
// what the checks find.
func (r *Report) CheckFolder(fsys fs.FS, keys []note.Verifier, certs []*x509.Certificate) error {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return err
	}
	type token struct {
		file, noteKey string
		sum           [sha256.Size]byte // of the bytes checked in the first pass
	}
	type noteFile struct {
		file string
		sum  [sha256.Size]byte
	}
	var (
		notes  = map[string]noteFile{} // note key -> its file
		tokens []token
	)
	for _, e := range ents {
		name := e.Name()
		n, ok := ParseName(name)
		if !ok {
			r.Fail("%s: not a name the vault gives a time-stamp note or token", quoteName(name))
			continue
		}
		if !e.Type().IsRegular() {
			r.Fail("%s: not a file (%s); not read", name, e.Type())
			continue
		}
		if n.Note {
			r.Notes++
		} else {
			r.Tokens++
		}
		b, err := readBounded(fsys, name)
		if errors.Is(err, errTooLarge) {
			r.Fail("%s: larger than %d bytes, more than any note or token the vault writes; not read", name, MaxObjectSize)
			continue
		} else if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		digest := hex.EncodeToString(sum[:])
		if n.Note {
			if n.NoteSHA256 != "" && n.NoteSHA256 != digest {
				r.Fail("%s: its bytes are not of the SHA-256 its name gives: not the vault's", name)
				continue
			}
			if err := CheckNote(b, keys, n.Size); err != nil {
				r.Fail("%s: %v", name, err)
				continue
			}
			if _, dup := notes[n.noteKey()]; !dup {
				notes[n.noteKey()] = noteFile{name, sum}
			}
			continue
		}
		if n.TokenSHA256Prefix != "" && !strings.HasPrefix(digest, n.TokenSHA256Prefix) {
			r.Fail("%s: its bytes are not of the SHA-256 its name gives: not the vault's", name)
			continue
		}
		tokens = append(tokens, token{name, n.noteKey(), sum})
	}
	// With certificates, each note dated by tokens must be dated by one
	// of a trusted authority, as a package's checkpoint must
	// (docs/timestamps.md section 5): tokens that are all not counted
	// leave it undated.
	type dating struct {
		note                 string
		verified, notCounted int
	}
	var dated []*dating
	byNote := map[string]*dating{}
	for _, t := range tokens {
		nf, ok := notes[t.noteKey]
		if !ok {
			r.Fail("%s: no note of its size and of the SHA-256 its name gives beside it (or that note failed its check)", t.file)
			continue
		}
		if certs == nil {
			continue
		}
		msg, err1 := readBounded(fsys, nf.file)
		b, err2 := readBounded(fsys, t.file)
		if err := errors.Join(err1, err2); err != nil {
			return err // both were read whole above
		}
		// Read again: they must be the bytes checked above (a folder
		// on a share its owner serves could answer otherwise).
		if sha256.Sum256(msg) != nf.sum || sha256.Sum256(b) != t.sum {
			r.Fail("%s: it or its note %s changed while the folder was checked", t.file, nf.file)
			continue
		}
		d := byNote[t.noteKey]
		if d == nil {
			d = &dating{note: nf.file}
			byNote[t.noteKey] = d
			dated = append(dated, d)
		}
		a, err := tsa.Verify(tsa.Token(b), msg, certs)
		if errors.Is(err, tsa.ErrUntrustedSigner) {
			d.notCounted++
			if len(r.NotCounted) < MaxListed {
				r.NotCounted = append(r.NotCounted, fmt.Sprintf("%s: %v", t.file, err))
			}
			continue
		} else if err != nil {
			r.Fail("%s: %v", t.file, err)
			continue
		}
		r.Verified++
		d.verified++
		if r.First.IsZero() || a.Time.Before(r.First) {
			r.First = a.Time
		}
		if a.Time.After(r.Last) {
			r.Last = a.Time
		}
	}
	for _, d := range dated {
		if d.verified == 0 && d.notCounted > 0 {
			r.Fail("%s: none of its tokens is of a time-stamping authority whose certificates were given (%d not counted, listed): it is not dated; give the certificates of every authority the vault used", d.note, d.notCounted)
		}
	}
	return nil
}

// CheckNote checks a time-stamped note as docs/timestamps.md section 1
// defines it: a checkpoint note signed by one of keys, as the log signed
// it (its text, the blank line and that key's one signature line,
// nothing else), stating size events.
func CheckNote(b []byte, keys []note.Verifier, size uint64) error {
	var msg []byte
	err := errors.New("no log key was given")
	for _, v := range keys {
		if msg, err = events.LogSigned(b, v); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("not a checkpoint signed by the log's key: %v", err)
	}
	if !bytes.Equal(msg, b) {
		return fmt.Errorf("not the note as the log signed it (other lines beside the log's signature)")
	}
	_, got, err := events.PeekCheckpoint(b)
	if err != nil {
		return err
	}
	if got != size {
		return fmt.Errorf("a checkpoint of %d events, where its name says %d", got, size)
	}
	return nil
}

var errTooLarge = errors.New("too large")

func readBounded(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxObjectSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxObjectSize {
		return nil, errTooLarge
	}
	return b, nil
}

// quoteName shows a name that is none of the vault's, quoted and cut to
// 120 characters, so that a long or odd name reads as one.
func quoteName(s string) string {
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return strconv.Quote(s)
}
