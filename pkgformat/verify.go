package pkgformat

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"golang.org/x/mod/sumdb/note"
)

// VerifyOptions say what to check beyond what needs no keys.
type VerifyOptions struct {
	// TrustedKey, if set, is the log verifier key the package must be
	// signed with (obtained from the vault's operators or an earlier
	// audit). Without it the key named in the manifest is used, which
	// proves integrity but not origin; the report says which.
	TrustedKey string
	// Identities, if set, decrypt every item and re-hash its plaintext.
	Identities []age.Identity
	// ExtractDir, with Identities, receives each item's plaintext under
	// its original name. Files are created, never overwritten.
	ExtractDir string
}

// Report is what Verify established.
type Report struct {
	Manifest   *Manifest
	KeyPinned  bool
	Checks     []string
	Decrypted  int
	Extracted  []string
	Checkpoint *events.Checkpoint
}

func (r *Report) passed(format string, args ...any) {
	r.Checks = append(r.Checks, fmt.Sprintf(format, args...))
}

// depositData and sealingData are the fields of those custody events that
// a package's manifest must agree with.
type depositData struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type sealingData struct {
	Package   string   `json:"package"`
	For       string   `json:"for"`
	Recipient string   `json:"recipient"`
	Purpose   string   `json:"purpose"`
	Items     []string `json:"items"`
}

// Verify reads a package from r, front to back, and checks everything it
// can: the manifest's signature, the checkpoint's signature, every
// custody event's bytes and inclusion proof, that each item's deposit
// event and the sealing event agree with the manifest, that every member
// is accounted for and none is extra; with identities, it decrypts every
// item and compares size and SHA-256 with the deposit. It returns the first
// failure.
func Verify(r io.Reader, opts VerifyOptions) (*Report, error) {
	tr := tar.NewReader(r)
	rep := &Report{}
	next := func(want string) (*tar.Header, []byte, error) {
		h, err := tr.Next()
		if err != nil {
			return nil, nil, fmt.Errorf("package ends before %s: %w", want, err)
		}
		if h.Name != want {
			return nil, nil, fmt.Errorf("expected member %s, found %q", want, h.Name)
		}
		b, err := readSmall(tr, h)
		return h, b, err
	}

	_, mb, err := next(ManifestName)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(mb)
	if err != nil {
		return nil, err
	}
	rep.Manifest = m

	key := m.LogKey
	if opts.TrustedKey != "" {
		if strings.TrimSpace(opts.TrustedKey) != m.LogKey {
			return rep, fmt.Errorf("package is signed by log key %q, not the trusted key", m.LogKey)
		}
		rep.KeyPinned = true
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return rep, fmt.Errorf("manifest log_key: %w", err)
	}
	if verifier.Name() != m.Origin {
		return rep, fmt.Errorf("manifest origin %q does not match its log key %q", m.Origin, verifier.Name())
	}

	_, sig, err := next(SignatureName)
	if err != nil {
		return rep, err
	}
	n, err := note.Open(sig, note.VerifierList(verifier))
	if err != nil {
		return rep, fmt.Errorf("manifest signature: %w", err)
	}
	if n.Text != signatureText(m.Package, mb) {
		return rep, errors.New("manifest signature covers another manifest")
	}
	rep.passed("manifest signed by the log key %s", verifier.Name())

	_, cpb, err := next(CheckpointName)
	if err != nil {
		return rep, err
	}
	cp, err := events.ParseCheckpoint(cpb, m.Origin, verifier)
	if err != nil {
		return rep, fmt.Errorf("checkpoint: %w", err)
	}
	if cp.Size != m.CheckpointSize {
		return rep, fmt.Errorf("checkpoint is for %d events, manifest says %d", cp.Size, m.CheckpointSize)
	}
	rep.Checkpoint = cp
	rep.passed("checkpoint signed for the first %d custody events", cp.Size)

	_, pb, err := next(ProofsName)
	if err != nil {
		return rep, err
	}
	var proofs Proofs
	if err := strictJSON(pb, &proofs); err != nil {
		return rep, fmt.Errorf("proofs.json: %w", err)
	}
	if proofs.TreeSize != cp.Size {
		return rep, fmt.Errorf("proofs are for tree size %d, checkpoint for %d", proofs.TreeSize, cp.Size)
	}

	// Custody events.
	decoded := map[uint64]*events.Event{}
	for _, me := range m.Events {
		_, b, err := next(me.Path)
		if err != nil {
			return rep, err
		}
		ev, err := events.Decode(b)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", me.Path, err)
		}
		if ev.Seq != me.Seq || me.Path != EventPath(me.Seq) {
			return rep, fmt.Errorf("%s holds event %d, manifest says %d", me.Path, ev.Seq, me.Seq)
		}
		leaf := events.LeafHash(b)
		if leaf.String() != me.LeafHash {
			return rep, fmt.Errorf("%s: bytes do not hash to the manifest's leaf hash", me.Path)
		}
		p, err := decodeProof(proofs.Proofs[strconv.FormatUint(me.Seq, 10)])
		if err != nil {
			return rep, fmt.Errorf("proof of event %d: %w", me.Seq, err)
		}
		if err := events.VerifyInclusion(me.Seq, cp.Size, leaf, p, cp.Root); err != nil {
			return rep, fmt.Errorf("event %d is not in the checkpointed log: %w", me.Seq, err)
		}
		decoded[me.Seq] = ev
	}
	rep.passed("%d custody events, each proven included in the checkpoint", len(m.Events))

	if err := checkSealing(m, decoded); err != nil {
		return rep, err
	}
	rep.passed("sealing event %d names this package, its recipient, purpose and items", m.SealingEvent)

	// Items.
	for _, it := range m.Items {
		if err := checkDeposit(m, it, decoded); err != nil {
			return rep, err
		}
		h, err := tr.Next()
		if err != nil {
			return rep, fmt.Errorf("package ends before %s: %w", it.Path, err)
		}
		if h.Name != it.Path || h.Typeflag != tar.TypeReg {
			return rep, fmt.Errorf("expected item %s, found %q", it.Path, h.Name)
		}
		if err := checkItem(tr, it, opts, rep); err != nil {
			return rep, err
		}
	}
	rep.passed("%d items match their deposit events (name, size, SHA-256)", len(m.Items))
	if len(opts.Identities) > 0 {
		rep.passed("%d items decrypted; every plaintext SHA-256 matches its deposit", rep.Decrypted)
	}

	_, report, err := next(ReportName)
	if err != nil {
		return rep, err
	}
	if sum := sha256.Sum256(report); hex.EncodeToString(sum[:]) != m.ReportSHA256 {
		return rep, errors.New("report.txt is not the report the manifest names")
	}
	rep.passed("report.txt is the one the signed manifest names")
	if h, err := tr.Next(); err != io.EOF {
		if err == nil {
			return rep, fmt.Errorf("unexpected member %q after the report", h.Name)
		}
		return rep, fmt.Errorf("reading package: %w", err)
	}
	return rep, nil
}

// ParseManifest parses manifest.json strictly.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := strictJSON(b, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("manifest.json: format %q, this verifier reads %q", m.Format, Format)
	}
	if len(m.Events) > MaxMembers || len(m.Items) > MaxMembers {
		return nil, errors.New("manifest.json: too many members")
	}
	paths := map[string]bool{}
	for i, it := range m.Items {
		if it.Path != ItemPath(i, it.Name) || paths[it.Path] {
			return nil, fmt.Errorf("manifest.json: item %d has path %q", i, it.Path)
		}
		paths[it.Path] = true
	}
	for i, e := range m.Events {
		if i > 0 && e.Seq <= m.Events[i-1].Seq {
			return nil, errors.New("manifest.json: events out of order")
		}
	}
	return &m, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// More() misses a stray '}' or ']': demand the end of input.
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
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

func checkSealing(m *Manifest, evs map[uint64]*events.Event) error {
	ev := evs[m.SealingEvent]
	if ev == nil || ev.Type != "package.sealing" {
		return fmt.Errorf("sealing event %d is not in the package", m.SealingEvent)
	}
	var d sealingData
	if err := ev.DecodeData(&d); err != nil {
		return err
	}
	ids := make([]string, len(m.Items))
	for i, it := range m.Items {
		ids[i] = it.ID
	}
	if d.Package != m.Package || d.Recipient != m.Recipient || d.For != m.SealedFor || d.Purpose != m.Purpose ||
		ev.Case != m.Case || ev.Actor.Person != m.SealedBy.Name || ev.Actor.Role != m.SealedBy.Role || !slices.Equal(d.Items, ids) {
		return fmt.Errorf("sealing event %d does not match the manifest", m.SealingEvent)
	}
	return nil
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
	if d.Name != it.Name || d.Size != it.Size || d.SHA256 != it.SHA256 {
		return fmt.Errorf("item %s: manifest (name, size, sha256) disagrees with deposit event %d", it.ID, it.DepositEvent)
	}
	return nil
}

const ageHeader = "age-encryption.org/v1\n"

func checkItem(tr io.Reader, it Item, opts VerifyOptions, rep *Report) error {
	br := bufio.NewReaderSize(tr, 64<<10)
	head, err := br.Peek(len(ageHeader))
	if err != nil || string(head) != ageHeader {
		return fmt.Errorf("%s is not an age file", it.Path)
	}
	if len(opts.Identities) == 0 {
		return nil
	}
	d, err := age.Decrypt(br, opts.Identities...)
	if err != nil {
		return fmt.Errorf("%s: %w", it.Path, err)
	}
	if opts.ExtractDir == "" {
		err = rehash(io.Discard, d, it)
	} else {
		err = extract(d, it, opts.ExtractDir, rep)
	}
	if err != nil {
		return err
	}
	rep.Decrypted++
	return nil
}

// rehash copies the plaintext to out and compares size and SHA-256 with
// the deposit.
func rehash(out io.Writer, plain io.Reader, it Item) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), plain)
	if err != nil {
		return fmt.Errorf("%s: decryption failed: %w", it.Path, err)
	}
	if n != it.Size || hex.EncodeToString(h.Sum(nil)) != it.SHA256 {
		return fmt.Errorf("%s: plaintext does not match the deposit (%d bytes, expected %d, or SHA-256 differs)", it.Path, n, it.Size)
	}
	return nil
}

// extract writes an item's plaintext under its original base name (or its
// archive name if that is taken or unusable); a partial or wrong plaintext
// is removed, never left behind.
func extract(plain io.Reader, it Item, dir string, rep *Report) error {
	name := filepath.Base(filepath.Clean("/" + it.Name))
	if name == "/" || name == "." || name == ".." {
		name = strings.TrimSuffix(filepath.Base(it.Path), ".age")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Lstat(path); err == nil {
		path = filepath.Join(dir, strings.TrimSuffix(filepath.Base(it.Path), ".age"))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", it.Name, err)
	}
	err = rehash(f, plain, it)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	rep.Extracted = append(rep.Extracted, path)
	return nil
}
