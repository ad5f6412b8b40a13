// Package pkgformat is the sealed-package format (docs/package-format.md):
// one tar file holding evidence items as standard age files for one
// recipient, the custody events of those items exactly as stored, their
// inclusion proofs, a signed checkpoint covering them, a manifest, a
// signature over the manifest, and a human-readable report.
//
// The writer (Package.WriteTo) lives here so that the reader (Verify),
// which the offline verifier uses, is checked against exactly what the
// vault produces; both follow one list of the members and their order
// (layout.go). The package imports no server code.
package pkgformat

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// KeyFingerprint returns the fingerprint of a note verifier key
// (docs/package-format.md, section 2): the SHA-256 of the key's exact
// string (name+hash+base64, UTF-8, no surrounding white space), as 64
// lowercase hex digits. Equal fingerprints mean equal keys, so a person
// may pin either.
func KeyFingerprint(verifierKey string) string {
	sum := sha256.Sum256([]byte(verifierKey))
	return hex.EncodeToString(sum[:])
}

// Format is the manifest's format line, and the first line of the
// manifest's signed text (docs/package-format.md, section 11). Format 3
// adds report.pdf, the custody report as PDF, after report.txt.
const Format = "custos-package/3"

// FormatV2 is the earlier format without report.pdf. Readers read it.
const FormatV2 = "custos-package/2"

// FormatV1 is the earlier format, which did not commit to the bytes of
// the item files, proofs.json or the checkpoint. Readers refuse it
// (docs/package-format.md, section 11).
const FormatV1 = "custos-package/1"

// Fixed member names.
const (
	ManifestName   = "manifest.json"
	SignatureName  = "manifest.sig"
	CheckpointName = "checkpoint"
	ProofsName     = "proofs.json"
	ReportName     = "report.txt"
	ReportPDFName  = "report.pdf"
	EventsDir      = "events/"
	ItemsDir       = "items/"
)

// Limits on members other than items, so that a hostile package cannot
// exhaust the verifier's memory.
const (
	MaxSmallMember = 16 << 20
	MaxMembers     = 100_000
	// MaxReportMember bounds report.txt and report.pdf, which a reader
	// hashes as it reads and never holds: a report of thousands of items
	// outgrows MaxSmallMember.
	MaxReportMember = 1 << 30
)

// Person names who sealed a package.
type Person struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Item describes one evidence item in the package.
type Item struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Path         string `json:"path"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	MD5          string `json:"md5,omitempty"`
	SHA1         string `json:"sha1,omitempty"`
	DepositEvent uint64 `json:"deposit_event"`
	// FileSize and FileSHA256 are the size in bytes and the SHA-256
	// (lowercase hex) of the item's archive member: the age file exactly
	// as stored in the package.
	FileSize   int64  `json:"file_size"`
	FileSHA256 string `json:"file_sha256"`
}

// Event names one custody event file in the package.
type Event struct {
	Seq      uint64 `json:"seq"`
	Path     string `json:"path"`
	LeafHash string `json:"leaf_hash"`
}

// Manifest is manifest.json.
type Manifest struct {
	Format  string `json:"format"`
	Package string `json:"package"`
	Case    string `json:"case"`
	Origin  string `json:"origin"`
	LogKey  string `json:"log_key"`
	// LogKeyFingerprint is KeyFingerprint(LogKey).
	LogKeyFingerprint string `json:"log_key_fingerprint"`
	SealedBy          Person `json:"sealed_by"`
	SealedFor         string `json:"sealed_for"`
	Recipient         string `json:"recipient"`
	Purpose           string `json:"purpose"`
	SealedAt          string `json:"sealed_at"`
	SealingEvent      uint64 `json:"sealing_event"`
	CheckpointSize    uint64 `json:"checkpoint_size"`
	// CheckpointSHA256, ProofsSHA256 and ReportSHA256 are the SHA-256
	// (lowercase hex) of the members checkpoint, proofs.json and
	// report.txt.
	CheckpointSHA256 string `json:"checkpoint_sha256"`
	// Timestamps lists the RFC 3161 time-stamp tokens over the
	// checkpoint as the log signed it (CheckpointMessage), one member
	// each; absent when the vault has no time-stamping authority.
	Timestamps   []Timestamp `json:"timestamps,omitempty"`
	ProofsSHA256 string      `json:"proofs_sha256"`
	ReportSHA256 string      `json:"report_sha256"`
	// ReportPDFSHA256 is the SHA-256 (lowercase hex) of report.pdf;
	// format 3 only.
	ReportPDFSHA256 string  `json:"report_pdf_sha256,omitempty"`
	Items           []Item  `json:"items"`
	Events          []Event `json:"events"`
}

// Timestamp is one time-stamp token member: its path,
// TimestampPath(n), and the SHA-256 (lowercase hex) of its bytes.
type Timestamp struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// MaxTimestamps bounds the time-stamp tokens of a package.
const MaxTimestamps = 16

// MaxTimestampToken bounds a time-stamp token's DER (section 4.1).
const MaxTimestampToken = 65536

// TimestampPath returns the archive path of the n-th time-stamp token
// (from 0): "timestamps/1.tst", "timestamps/2.tst", ...
func TimestampPath(n int) string { return fmt.Sprintf("timestamps/%d.tst", n+1) }

// Proofs is proofs.json: for each event (by seq, as a decimal string) the
// RFC 6962 inclusion proof, hex encoded, in the tree of the checkpoint's
// size.
type Proofs struct {
	TreeSize uint64              `json:"tree_size"`
	Proofs   map[string][]string `json:"proofs"`
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ItemPath returns the archive path of the n-th item: a number, so that
// equal names cannot collide, and the name made safe for any file system.
func ItemPath(n int, name string) string {
	safe := strings.Trim(unsafeChars.ReplaceAllString(name, "_"), "._")
	if len(safe) > 96 {
		safe = safe[:96]
	}
	if safe == "" {
		safe = "item"
	}
	return fmt.Sprintf("%s%03d-%s.age", ItemsDir, n+1, safe)
}

// EventPath returns the archive path of the event at seq.
func EventPath(seq uint64) string { return fmt.Sprintf("%s%012d.json", EventsDir, seq) }

// signatureText is the text of the signed note over a manifest of the
// given format.
func signatureText(format, pkg string, manifest []byte) string {
	sum := sha256.Sum256(manifest)
	return fmt.Sprintf("%s\n%s\nsha256 %s\n", format, pkg, hex.EncodeToString(sum[:]))
}

// SignManifest signs the manifest bytes (of the current Format) with the
// log's key.
func SignManifest(s note.Signer, pkg string, manifest []byte) ([]byte, error) {
	return note.Sign(&note.Note{Text: signatureText(Format, pkg, manifest)}, s)
}

// Writer writes tar members as packages store them (regular files, mode
// 0644, the same time on each). It knows nothing of their order:
// Package.WriteTo writes a package's members in the order of layout.
type Writer struct {
	tw  *tar.Writer
	now time.Time
}

// NewWriter starts a package on w.
func NewWriter(w io.Writer, now time.Time) *Writer {
	return &Writer{tw: tar.NewWriter(w), now: now.UTC().Truncate(time.Second)}
}

// Add writes one member of known size from r.
func (w *Writer) Add(name string, size int64, r io.Reader) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: w.now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	n, err := io.Copy(w.tw, r)
	if err != nil {
		return fmt.Errorf("package: writing %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("package: %s: wrote %d bytes, expected %d", name, n, size)
	}
	return nil
}

// AddBytes writes one small member.
func (w *Writer) AddBytes(name string, b []byte) error {
	return w.Add(name, int64(len(b)), strings.NewReader(string(b)))
}

// Close finishes the archive.
func (w *Writer) Close() error { return w.tw.Close() }
