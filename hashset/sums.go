package hashset

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// parseSums reads the output of coreutils md5sum, sha1sum and sha256sum:
// "HEX  NAME" (text mode) or "HEX *NAME" (binary mode), or a bare "HEX".
// A line starting with a backslash has its name escaped ("\\" and "\n"),
// as coreutils writes names holding a newline or backslash. Hex digits
// may be in either case. Empty lines and lines starting with "#" are
// skipped.
func parseSums(r io.Reader, a Algorithm, fn func(Entry) error, st *ParseStats) error {
	lr := newLineReader(r)
	defer func() { st.Lines = lr.line }()
	n := a.Size()
	name := string(a) + "sum"
	for {
		b, long, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if long {
			st.reject(lr.line, "line longer than %d bytes", maxLine)
		} else if len(b) == 0 || b[0] == '#' {
			continue
		} else if e, reason := sumLine(b, n); reason != "" {
			st.reject(lr.line, "%s", reason)
		} else {
			switch a {
			case MD5:
				e.MD5 = e.SHA256
				e.SHA256 = nil
			case SHA1:
				e.SHA1 = e.SHA256
				e.SHA256 = nil
			}
			if err := st.accept(lr.line, e, fn); err != nil {
				return err
			}
		}
		if err := notFormat(st, name); err != nil {
			return err
		}
	}
}

// sumLine parses one line; the digest is returned in SHA256 whatever its
// algorithm.
func sumLine(b []byte, n int) (Entry, string) {
	e := Entry{Size: -1}
	escaped := b[0] == '\\'
	if escaped {
		b = b[1:]
	}
	if len(b) < 2*n {
		return e, "line shorter than a digest"
	}
	d := make([]byte, n)
	if _, err := hex.Decode(d, b[:2*n]); err != nil {
		return e, "digest is not hexadecimal"
	}
	rest := b[2*n:]
	switch {
	case len(rest) == 0:
	case len(rest) >= 3 && rest[0] == ' ' && (rest[1] == ' ' || rest[1] == '*'):
		name := string(rest[2:])
		if escaped {
			name = UnescapeSumsName(name)
		}
		e.FileName = name
	default:
		// A longer run of hex digits is a digest of another length: say
		// which format the file more likely is.
		run := 2 * n
		for run < len(b) && isHexDigit(b[run]) {
			run++
		}
		if other, ok := sumFormatOf[run/2]; ok && run%2 == 0 && run != 2*n {
			return e, fmt.Sprintf(`%d hexadecimal digits, not %d: the file looks like %s, not this format`, run, 2*n, other)
		}
		return e, `digest not followed by "  NAME", " *NAME" or the end of the line`
	}
	e.SHA256 = d
	return e, ""
}

// sumFormatOf names the checksum file format of each digest length in
// bytes.
var sumFormatOf = map[int]string{16: "md5sum", 20: "sha1sum", 32: "sha256sum"}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// UnescapeSumsName reads a name as GNU coreutils escapes it on a line
// that starts with a backslash: \\ is a backslash, \n a newline, \r a
// carriage return (any other escaped character is itself).
func UnescapeSumsName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			default:
				out.WriteByte(s[i])
			}
			continue
		}
		out.WriteByte(s[i])
	}
	return out.String()
}
