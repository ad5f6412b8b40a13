package pkgformat

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// tailReader passes a package's bytes to the tar reader and keeps the
// last 1,024 of them and their count, so that the reader can check what
// archive/tar normalises or tolerates (docs/package-format.md, section 1):
// the type flag byte of each member's header, and the two zero blocks
// that end the archive.
type tailReader struct {
	r    io.Reader
	n    int64
	tail []byte
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	b := p[:n]
	if len(b) >= 1024 {
		t.tail = append(t.tail[:0], b[len(b)-1024:]...)
	} else {
		t.tail = append(t.tail, b...)
		if len(t.tail) > 1024 {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-1024:]...)
		}
	}
	return n, err
}

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
func (v *verification) header(want string) (*tar.Header, error) {
	h, err := v.tr.Next()
	if err != nil {
		return nil, fmt.Errorf("package ends before %s: %w", want, err)
	}
	if h.Name != want {
		return nil, fmt.Errorf("expected member %s, found %q", want, h.Name)
	}
	// After Next the last block read is the member's ustar header.
	if blk := v.raw.last(512); h.Typeflag != tar.TypeReg || len(blk) != 512 || blk[156] != tar.TypeReg {
		return nil, fmt.Errorf("%s is not a regular file with type flag '0'", want)
	}
	return h, nil
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
		return fmt.Errorf("reading package: %w", err)
	}
	pad := (512 - lastSize%512) % 512
	if v.raw.n != dataEnd+pad+1024 || !bytes.Equal(v.raw.last(1024), make([]byte, 1024)) {
		return errors.New("the package does not end with the two zero blocks of a tar archive (truncated?)")
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
