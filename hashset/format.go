package hashset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The on-disk format, specified in docs/hashsets.md. All integers are
// little-endian; keys are the digests' bytes, compared as unsigned bytes.

const (
	magic         = "CUSTOSHS"
	formatVersion = 1
	headerSize    = 32
	manifestName  = "manifest.json"
	maxManifest   = 1 << 20 // the manifest's bound when read (a few KiB as written)
	entriesName   = "entries.dat"
	offsetsName   = "offsets.dat"
	pdqName       = "pdq.dat"
	maxEntries    = 1<<32 - 2 // entry numbers are uint32
	maxRecord     = 1 << 20   // an entry record's bound when read
	pdqRecord     = 4 + 32
)

// kinds are the 4-byte file kinds of the header.
var kinds = map[string]string{
	"md5.tab": "MD5 ", "sha1.tab": "SHA1", "sha256.tab": "S256",
	entriesName: "ENTR", offsetsName: "OFFS", pdqName: "PDQ ",
}

func tableName(a Algorithm) string { return string(a) + ".tab" }

// header is the 32-byte header every data file starts with.
type header struct {
	kind    string // 4 bytes
	count   uint64 // records (entries for entries.dat and offsets.dat)
	keySize uint32 // tables: bytes per key
	bits    uint32 // tables: fan-out bits
}

func (h header) bytes() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, magic...)
	b = append(b, h.kind...)
	b = binary.LittleEndian.AppendUint32(b, formatVersion)
	b = binary.LittleEndian.AppendUint64(b, h.count)
	b = binary.LittleEndian.AppendUint32(b, h.keySize)
	b = binary.LittleEndian.AppendUint32(b, h.bits)
	return b
}

func readHeader(f io.ReaderAt, kind string) (header, error) {
	b := make([]byte, headerSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return header{}, fmt.Errorf("reading the header: %w", err)
	}
	if string(b[:8]) != magic {
		return header{}, errors.New("not a Custos hash set file (bad magic)")
	}
	if string(b[8:12]) != kind {
		return header{}, fmt.Errorf("file kind %q, want %q", b[8:12], kind)
	}
	if v := binary.LittleEndian.Uint32(b[12:]); v != formatVersion {
		return header{}, fmt.Errorf("format version %d, this build reads %d", v, formatVersion)
	}
	return header{kind: kind, count: binary.LittleEndian.Uint64(b[16:]),
		keySize: binary.LittleEndian.Uint32(b[24:]), bits: binary.LittleEndian.Uint32(b[28:])}, nil
}

// fanoutBits is the number of leading key bits the fan-out indexes: about
// 16 records per slot, between 8 and 24 bits.
func fanoutBits(n uint64) uint32 {
	return uint32(min(max(bits.Len64(n>>4), 8), 24))
}

// prefix returns the leading b bits of a key of at least 8 bytes... or
// fewer, padded with zeros.
func prefix(key []byte, b uint32) uint64 {
	var k [8]byte
	copy(k[:], key)
	return binary.BigEndian.Uint64(k[:]) >> (64 - b)
}

// Entry records in entries.dat.
const (
	flagVictimKnown = 1 << iota
	flagVictim
	flagPDQ
)

func appendEntry(b []byte, e *Entry) []byte {
	var flags byte
	if e.VictimIdentified != nil {
		flags |= flagVictimKnown
		if *e.VictimIdentified {
			flags |= flagVictim
		}
	}
	if len(e.PDQ) == 32 {
		flags |= flagPDQ
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, e.Size)
	for _, s := range []string{e.ID, e.Category, e.Series, e.FileName, e.PhotoDNA} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if flags&flagPDQ != 0 {
		b = append(b, e.PDQ...)
	}
	return b
}

var errRecord = errors.New("corrupt entry record")

func decodeEntry(b []byte) (Entry, error) {
	var e Entry
	if len(b) < 1 {
		return e, errRecord
	}
	flags := b[0]
	b = b[1:]
	if flags&^(flagVictimKnown|flagVictim|flagPDQ) != 0 {
		return e, errRecord
	}
	var n int
	if e.Size, n = binary.Varint(b); n <= 0 {
		return e, errRecord
	}
	b = b[n:]
	for _, s := range []*string{&e.ID, &e.Category, &e.Series, &e.FileName, &e.PhotoDNA} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return e, errRecord
		}
		*s = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	if flags&flagVictimKnown != 0 {
		v := flags&flagVictim != 0
		e.VictimIdentified = &v
	}
	if flags&flagPDQ != 0 {
		if len(b) < 32 {
			return e, errRecord
		}
		e.PDQ = append([]byte(nil), b[:32]...)
		b = b[32:]
	}
	if len(b) != 0 {
		return e, errRecord
	}
	return e, nil
}

// Manifest describes a set; it is the folder's manifest.json.
type Manifest struct {
	Version         int       `json:"version"`
	Name            string    `json:"name"`
	Format          string    `json:"format"`
	DefaultCategory string    `json:"default_category"`
	KnownGood       bool      `json:"known_good"`
	SourceSHA256    string    `json:"source_sha256"`
	Imported        string    `json:"imported"` // RFC 3339, UTC
	Entries         uint64    `json:"entries"`
	Rejected        int       `json:"rejected"`
	Counts          Counts    `json:"counts"`
	Files           []FileSum `json:"files"`
	TableSHA256     string    `json:"table_sha256"`
}

// Counts are the records of each table.
type Counts struct {
	MD5    uint64 `json:"md5"`
	SHA1   uint64 `json:"sha1"`
	SHA256 uint64 `json:"sha256"`
	PDQ    uint64 `json:"pdq"`
}

func (c Counts) of(a Algorithm) uint64 {
	switch a {
	case MD5:
		return c.MD5
	case SHA1:
		return c.SHA1
	}
	return c.SHA256
}

// FileSum is one data file's size and SHA-256 (hex).
type FileSum struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// dataFiles are a set's data files, in the manifest's order (sorted).
var dataFiles = []string{entriesName, "md5.tab", offsetsName, pdqName, "sha1.tab", "sha256.tab"}

// tableDigest is the digest over a set's data files: the SHA-256 of one
// line "NAME SIZE SHA256\n" per file, in the manifest's order.
func tableDigest(files []FileSum) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %d %s\n", f.Name, f.Size, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashFile(path string) (FileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	return hashReader(filepath.Base(path), f)
}

func hashReader(name string, r io.Reader) (FileSum, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return FileSum{}, err
	}
	return FileSum{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidName reports whether name can name a set: 1 to 64 characters of
// a-z, 0-9, ".", "_" and "-", starting with a letter or digit, with no "..".
func ValidName(name string) bool {
	return validName.MatchString(name) && !strings.Contains(name, "..")
}
