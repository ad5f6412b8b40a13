package pkgformat

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// tailReader passes a package's bytes to the tar reader and keeps the
// last tailKept of them and their count, so that the reader can check what
// archive/tar normalises or tolerates (docs/package-format.md, section 1):
// the type flag byte of each member's header, and the two zero blocks
// that end the archive.
type tailReader struct {
	r    io.Reader
	n    int64
	tail []byte
	// eof is set once the file ended (its reader said io.EOF).
	eof bool
	// capturing keeps, in captured, what is read until stopCapture (at
	// most maxCapture bytes; over is set beyond).
	capturing bool
	captured  []byte
	over      bool
}

// maxCapture bounds what a member's header blocks may take: a pax
// extended header's data is small (the vault writes one path), and
// archive/tar itself refuses one over 1 MiB.
const maxCapture = 64 << 10

func (t *tailReader) startCapture() {
	t.capturing, t.captured, t.over = true, t.captured[:0], false
}

// stopCapture returns what was read since startCapture, and whether it
// was more than maxCapture bytes (then only the first are returned).
func (t *tailReader) stopCapture() ([]byte, bool) {
	t.capturing = false
	return t.captured, t.over
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if err == io.EOF {
		t.eof = true
	}
	b := p[:n]
	if t.capturing {
		if room := maxCapture - len(t.captured); len(b) > room {
			t.captured, t.over = append(t.captured, b[:max(room, 0)]...), true
		} else {
			t.captured = append(t.captured, b...)
		}
	}
	if len(b) >= tailKept {
		t.tail = append(t.tail[:0], b[len(b)-tailKept:]...)
	} else {
		t.tail = append(t.tail, b...)
		if len(t.tail) > tailKept {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailKept:]...)
		}
	}
	return n, err
}

// tailKept is how many of the last bytes read tailReader keeps: the two
// end blocks and the last member's padding before them.
const tailKept = 1024 + 512

// last returns the last k bytes read (fewer if fewer were read).
func (t *tailReader) last(k int) []byte {
	if len(t.tail) < k {
		return t.tail
	}
	return t.tail[len(t.tail)-k:]
}

// header reads the next member's header, which must be the regular file
// want: its header block's type flag is '0' (archive/tar reads the old
// NUL flag as a regular file too; the format has one spelling).
//
// The blocks before that header are checked too: archive/tar reads a
// GNU long name or link (types 'L', 'K') and other extensions into the
// header it returns; the format allows one pax extended header (type
// 'x') and nothing else (section 1).
func (v *verification) header(want string) (*tar.Header, error) {
	// The previous member's data read to its end (it is, unless a check
	// stopped early), so that what Next reads is that member's padding
	// and this member's header blocks only.
	if _, err := io.Copy(io.Discard, v.tr); err != nil {
		return nil, fmt.Errorf("reading package: %w", err)
	}
	pad := int((512 - v.prevSize%512) % 512)
	v.raw.startCapture()
	h, err := v.tr.Next()
	blocks, over := v.raw.stopCapture()
	first := want == ManifestName // the package's first member
	if err == nil && (!first || h.Name == want) {
		// Before the name is compared: a header read one way by
		// archive/tar and another by other readers is said as that.
		if ferr := headerFields(v.raw.last(512)); ferr != nil {
			return nil, fmt.Errorf("%s: %w", want, ferr)
		}
	}
	switch {
	case err != nil && first:
		return nil, fmt.Errorf("not a Custos package: it is not a tar archive that begins with %s (%v)", want, err)
	case err != nil:
		return nil, fmt.Errorf("package ends before %s: %w", want, err)
	case h.Name != want && first:
		return nil, fmt.Errorf("not a Custos package: its first member is %q, not %s", h.Name, want)
	case h.Name != want:
		return nil, fmt.Errorf("expected member %s, found %q (a package holds its members in the order and form it was sealed with; a tar file re-made by another program, or unpacked and packed again, is not the package)", want, h.Name)
	}
	// After Next the last block read is the member's ustar header.
	if blk := v.raw.last(512); h.Typeflag != tar.TypeReg || len(blk) != 512 || blk[156] != tar.TypeReg {
		return nil, fmt.Errorf("%s is not a regular file with type flag '0'", want)
	}
	if err := headerBlocks(blocks, over, pad); err != nil {
		return nil, fmt.Errorf("%s: %w", want, err)
	}
	// The one pax header may hold the member's path and nothing else:
	// archive/tar applies other records (GNU.sparse.name and .map among
	// them) to the header it returns, so that readers would disagree on
	// the member's name and bytes.
	for _, k := range slices.Sorted(maps.Keys(h.PAXRecords)) {
		if val := h.PAXRecords[k]; k != "path" || val != h.Name {
			return nil, fmt.Errorf("%s: its pax extended header holds the record %q; a package's holds only the member's path (section 1)", want, truncate(k))
		}
	}
	// A reader that does not know pax takes the ustar header's own name:
	// it must be the member's, or, for a path longer than its field, the
	// field filled with the path's first bytes (section 1), so that no
	// reader extracts the member under another name.
	if _, ok := h.PAXRecords["path"]; ok {
		blk := v.raw.last(512)
		if u := ustarName(blk); u != h.Name && !(len(h.Name) > 100 && len(u) == 100 && strings.HasPrefix(h.Name, u)) {
			return nil, fmt.Errorf("%s: its ustar header names it %q, which a reader that does not know pax extracts it as (section 1)", want, truncate(u))
		}
	}
	v.prevSize = h.Size
	return h, nil
}

// ustarName is the name a ustar header block gives its member without
// pax: the name field, joined after the prefix field when the header has
// ustar's magic and a prefix.
func ustarName(blk []byte) string {
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	name := cstr(blk[0:100])
	if string(blk[257:263]) == "ustar\x00" {
		if prefix := cstr(blk[345:500]); prefix != "" {
			name = prefix + "/" + name
		}
	}
	return name
}

// headerFields checks the fields of a member's ustar header block that
// name it or hide bytes (section 1, rule container.names): the name and
// prefix fields hold NULs only after their first NUL; the link name is
// empty (a regular file has none); and a header whose magic and version
// are not ustar's ("ustar\x00" "00") has an empty prefix field, which
// some readers (Python's tarfile among them) join before the name
// whatever the magic, and others (Go's archive/tar, GNU tar) ignore,
// so that they would extract the member under different names.
func headerFields(blk []byte) error {
	afterNUL := func(b []byte) bool {
		i := bytes.IndexByte(b, 0)
		return i >= 0 && !allZero(b[i:])
	}
	for _, f := range numericFields {
		if !numericField(blk[f.from:f.to]) {
			return fmt.Errorf("its header's %s field is not octal digits ended by NULs or spaces (nor base-256): tar readers would read different numbers from it (Python's tarfile stops at a first NUL), and so different bytes (section 1)", f.name)
		}
	}
	switch {
	case afterNUL(blk[0:100]):
		return errors.New("its header's name field holds bytes after the name's end (a NUL): a package's headers hide nothing")
	case !allZero(blk[157:257]):
		return errors.New("its header names a link target, which a regular file does not have")
	case string(blk[257:265]) != "ustar\x0000" && !allZero(blk[345:500]):
		return errors.New("its header's magic is not ustar's, yet its prefix field holds bytes: some tar readers join them before the name whatever the magic, others ignore them, so readers would extract it under different names (section 1)")
	case afterNUL(blk[345:500]):
		return errors.New("its header's prefix field holds bytes after the prefix's end (a NUL): a package's headers hide nothing")
	case afterNUL(blk[265:297]) || afterNUL(blk[297:329]):
		return errors.New("its header's owner or group name field holds bytes after the name's end (a NUL): a package's headers hide nothing")
	case !allZero(blk[500:512]):
		return errors.New("its header's last 12 bytes, which no field of ustar uses, are not zeros: a package's headers hide nothing")
	case !unsignedChecksum(blk):
		return errors.New("its header's checksum is not POSIX's (the unsigned sum of the header's bytes, the checksum field counted as spaces): some readers also take the signed sum of old tars, others do not (section 1)")
	}
	return nil
}

// unsignedChecksum reports whether a header block's checksum field (in
// the octal form numericField checked) is the block's unsigned byte sum
// with the field itself counted as eight spaces (POSIX ustar).
// archive/tar, GNU tar and Python's tarfile also take the signed sum
// some old tars wrote, which differs from it where a byte of the header
// is 0x80 or more (a name beyond ASCII, a base-256 number): a package's
// header is read by one rule.
func unsignedChecksum(blk []byte) bool {
	sum := int64(8 * ' ')
	for i, c := range blk[:512] {
		if i < 148 || i >= 156 {
			sum += int64(c)
		}
	}
	stated, ok := octal(blk[148:156])
	return ok && stated == sum
}

// numericFields are a ustar header's numeric fields, by offset.
var numericFields = []struct {
	name     string
	from, to int
}{{"mode", 100, 108}, {"uid", 108, 116}, {"gid", 116, 124}, {"size", 124, 136}, {"mtime", 136, 148},
	{"checksum", 148, 156}, {"devmajor", 329, 337}, {"devminor", 337, 345}}

// numericField reports whether b is a numeric field every tar reader
// reads alike: base-256 (its first byte 0x80 or 0xff, as archive/tar,
// GNU tar and Python's tarfile read it), all NULs (zero), or spaces,
// then octal digits, then only NULs and spaces.
func numericField(b []byte) bool {
	if b[0] == 0x80 || b[0] == 0xff || allZero(b) {
		return true
	}
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	digits := i
	for i < len(b) && b[i] >= '0' && b[i] <= '7' {
		i++
	}
	if i == digits {
		return false
	}
	for ; i < len(b); i++ {
		if b[i] != 0 && b[i] != ' ' {
			return false
		}
	}
	return true
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// headerBlocks checks what Next read for one member, after pad bytes of
// the previous member's padding (zeros): its ustar header alone, or a
// pax extended header (type 'x', its data padded to a block with zeros)
// and then it.
func headerBlocks(read []byte, over bool, pad int) error {
	if over || len(read) < pad+512 || (len(read)-pad)%512 != 0 {
		return errors.New("its header is not one ustar header block, with at most one pax extended header before it")
	}
	if !allZero(read[:pad]) {
		return errors.New("the padding that fills the member before it to a 512-byte block holds bytes other than zeros: a package hides nothing there")
	}
	b := read[pad:]
	if len(b) == 512 {
		return nil
	}
	if flag := b[156]; flag != tar.TypeXHeader {
		return fmt.Errorf("a header block of type %q comes before its header: only one pax extended header (type 'x') may (a GNU long name is type 'L')", flag)
	}
	size, ok := octal(b[124:136])
	if !ok || int64(len(b)) != 512+(size+511)/512*512+512 {
		return errors.New("more header blocks come before its header than one pax extended header")
	}
	if !allZero(b[512+size : len(b)-512]) {
		return errors.New("the padding of its pax extended header holds bytes other than zeros: a package hides nothing there")
	}
	// The pax header's own block: a reader that does not know pax
	// extracts it as a file of its name, which must not be a member's
	// (writers name it .../PaxHeaders.N/NAME), and it hides nothing.
	if err := headerFields(b[:512]); err != nil {
		return fmt.Errorf("its pax extended header: %w", err)
	}
	if name := ustarName(b[:512]); !paxHeaderName(name) {
		return fmt.Errorf("its pax extended header is named %q: a reader that does not know pax extracts it as a file of that name, which must have a folder named PaxHeaders (as tar writers name it), never a member's name", truncate(name))
	}
	return paxRecords(b[512 : 512+size])
}

// paxHeaderName reports whether a pax extended header's name has a path
// element that begins with PaxHeaders, as Go's archive/tar
// ("DIR/PaxHeaders.0/NAME") and GNU tar ("DIR/PaxHeaders.PID/NAME",
// "./PaxHeaders/NAME") name it.
func paxHeaderName(name string) bool {
	for _, e := range strings.Split(name, "/") {
		if strings.HasPrefix(e, "PaxHeaders") {
			return true
		}
	}
	return false
}

// paxRecords checks a pax extended header's records ("LEN KEY=VALUE\n",
// POSIX.1-2001 pax): each well formed, and no key given twice. Readers
// disagree on a repeated key: archive/tar, GNU tar and Python's tarfile
// take the last, others (Rust's tar crate) the first, so a repeated path
// would name a member two ways (rule container.names).
func paxRecords(data []byte) error {
	seen := map[string]bool{}
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return errors.New("its pax extended header holds a record that is not LEN KEY=VALUE")
		}
		n, err := strconv.Atoi(string(data[:sp]))
		if err != nil || n <= sp+1 || n > len(data) || data[n-1] != '\n' {
			return errors.New("its pax extended header holds a record that is not LEN KEY=VALUE")
		}
		key, _, ok := strings.Cut(string(data[sp+1:n-1]), "=")
		if !ok {
			return errors.New("its pax extended header holds a record without a key and value")
		}
		if seen[key] {
			return fmt.Errorf("its pax extended header gives the record %q twice: tar readers disagree on which counts (section 1)", truncate(key))
		}
		seen[key] = true
		data = data[n:]
	}
	return nil
}

// octal reads a tar header's numeric field: octal digits, then NULs or
// spaces (the base-256 form is not used for a pax header's size).
func octal(field []byte) (int64, bool) {
	s := strings.TrimRight(string(field), " \x00")
	s = strings.TrimLeft(s, " ")
	n, err := strconv.ParseInt(s, 8, 64)
	return n, err == nil && n >= 0
}

// endOfArchive checks that the archive ends, after the last member's
// data and padding, with exactly two zero blocks, as tar writers end it;
// dataEnd is the count of bytes read when the last member's data was.
func (v *verification) endOfArchive(dataEnd int64, lastSize int64) error {
	h, err := v.tr.Next()
	if err == nil {
		return fmt.Errorf("unexpected member %q after the report", h.Name)
	}
	if err != io.EOF {
		return cutShort(v.raw, fmt.Errorf("reading package: %w", err))
	}
	pad := (512 - lastSize%512) % 512
	if v.raw.n < dataEnd+pad+1024 && v.raw.eof {
		// The file ended where the end blocks were still to come.
		return &incompleteError{errors.New("the package does not end with the two zero blocks of a tar archive")}
	}
	if v.raw.n != dataEnd+pad+1024 || !bytes.Equal(v.raw.last(1024), make([]byte, 1024)) {
		return errors.New("the package does not end with the two zero blocks of a tar archive")
	}
	if !allZero(v.raw.last(1024 + int(pad))) {
		return errors.New("the padding that fills the last member to a 512-byte block holds bytes other than zeros: a package hides nothing there")
	}
	return v.afterEnd()
}

// TarRecord is the size of a tar record (GNU tar's default: 20 blocks of
// 512 bytes). A tar writer may fill the archive's last record with
// zeros after the two end blocks; nothing else may follow them.
const TarRecord = 10240

// afterEnd checks what follows the two end blocks: at most the zeros that
// fill the last tar record. Anything else is refused, zeros beyond the
// record included: bytes there are not part of the package, and a
// second archive hidden after it would be extracted by `tar -i` over the
// verified members.
func (v *verification) afterEnd() error {
	allowed := (TarRecord - v.raw.n%TarRecord) % TarRecord
	buf := make([]byte, 4096)
	var after int64
	for {
		n, err := v.raw.r.Read(buf)
		if n > 0 {
			if bytes.IndexFunc(buf[:n], func(r rune) bool { return r != 0 }) >= 0 || after+int64(n) > allowed {
				return fmt.Errorf("bytes follow the archive's two end blocks that are not the zeros filling its last %d-byte tar record: they are not part of the package (a second archive hidden there would be extracted by tar -i)", TarRecord)
			}
			after += int64(n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading package: %w", err)
		}
	}
}
