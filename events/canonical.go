package events

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"
)

var canonPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// isCanonical reports whether b is exactly the canonical encoding of e
// (section 2.2 of docs/custody-log.md), as appendCanonical writes it.
//
// It may answer false for bytes that are canonical (DecodeWith then asks
// encoding/json, which decides); it never answers true for bytes that
// are not. FuzzCanonicalAgreesWithStdlib checks both against
// encoding/json.
func isCanonical(b []byte, e *Event) bool {
	bp := canonPool.Get().(*[]byte)
	w, ok := appendCanonical((*bp)[:0], e)
	ok = ok && bytes.Equal(w, b)
	*bp = w[:0]
	canonPool.Put(bp)
	return ok
}

// appendCanonical appends the canonical encoding of e to dst: what
// encoding/json's Encoder with SetEscapeHTML(false) writes for e, without
// its line end. It writes the members itself, as encoding/json does
// (appendJSONString), which is most of a replay's cost otherwise; it
// answers false, with dst unchanged, when the data member is not compact
// JSON as json.Compact leaves it (compactJSON), which encoding/json would
// compact or refuse.
func appendCanonical(dst []byte, e *Event) ([]byte, bool) {
	if !compactJSON(e.Data) {
		return dst, false
	}
	w := append(dst, `{"v":`...)
	w = strconv.AppendInt(w, int64(e.V), 10)
	w = append(w, `,"seq":`...)
	w = strconv.AppendUint(w, e.Seq, 10)
	w = append(w, `,"id":`...)
	w = appendJSONString(w, e.ID)
	w = append(w, `,"type":`...)
	w = appendJSONString(w, e.Type)
	w = append(w, `,"time":`...)
	w = appendJSONString(w, e.Time)
	w = append(w, `,"actor":{"person":`...)
	a := &e.Actor
	w = appendJSONString(w, a.Person)
	w = append(w, `,"role":`...)
	w = appendJSONString(w, a.Role)
	w = append(w, `,"auth":`...)
	w = appendJSONString(w, a.Auth)
	for _, f := range [...]struct {
		name, v string
	}{{`,"session":`, a.Session}, {`,"issuer":`, a.Issuer}, {`,"subject":`, a.Subject}, {`,"certificate":`, a.Certificate}, {`,"acr":`, a.ACR}} {
		if f.v != "" {
			w = append(w, f.name...)
			w = appendJSONString(w, f.v)
		}
	}
	if len(a.AMR) > 0 {
		w = append(w, `,"amr":[`...)
		for i, m := range a.AMR {
			if i > 0 {
				w = append(w, ',')
			}
			w = appendJSONString(w, m)
		}
		w = append(w, ']')
	}
	w = append(w, `},"case":`...)
	w = appendJSONString(w, e.Case)
	w = append(w, `,"item":`...)
	w = appendJSONString(w, e.Item)
	w = append(w, `,"data":`...)
	w = append(w, e.Data...)
	w = append(w, `,"prev":`...)
	w = appendJSONString(w, e.Prev)
	return append(w, '}'), true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json writes a string with HTML
// escaping off (encode.go, appendString): '"' and '\\' escaped, control
// bytes as \b \f \n \r \t or \u00XX, each byte of invalid UTF-8 as
// \ufffd, U+2028 and U+2029 as \u2028 and \u2029, everything else as is.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainASCII marks the ASCII bytes encoding/json writes as they are in
// a string: from space on, but for the quote and the backslash. Beyond
// ASCII it writes every rune as it is but those escapedRune names.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapedRune reports whether encoding/json escapes the rune r that
// utf8.DecodeRune read from size bytes: a byte of invalid UTF-8 (as
// \ufffd), U+2028 or U+2029.
func escapedRune(r rune, size int) bool {
	return r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029'
}

// maxJSONDepth is encoding/json's nesting limit (scanner.go,
// maxNestingDepth): deeper values are refused.
const maxJSONDepth = 10000

// compactJSON reports whether b is one JSON value (RFC 8259) as
// encoding/json's scanner accepts it, with no white space outside its
// strings: what json.Compact leaves unchanged. Strings are checked as the
// scanner checks them (no control byte, valid escapes; their UTF-8 is not
// checked).
func compactJSON(b []byte) bool {
	p := jsonChecker{b: b}
	return p.value(0) && p.i == len(b)
}

type jsonChecker struct {
	b []byte
	i int
}

func (p *jsonChecker) value(depth int) bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.container(depth, '}', func() bool {
			if p.i >= len(p.b) || p.b[p.i] != '"' || !p.str() || p.i >= len(p.b) || p.b[p.i] != ':' {
				return false
			}
			p.i++
			return p.value(depth + 1)
		})
	case c == '[':
		return p.container(depth, ']', func() bool { return p.value(depth + 1) })
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

// container checks an object or an array from its opening bracket: no
// member, or members (each checked by member) separated by commas, then
// end; at most maxJSONDepth deep.
func (p *jsonChecker) container(depth int, end byte, member func() bool) bool {
	if depth+1 > maxJSONDepth {
		return false
	}
	p.i++
	if p.i < len(p.b) && p.b[p.i] == end {
		p.i++
		return true
	}
	for {
		if !member() || p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case end:
			p.i++
			return true
		default:
			return false
		}
	}
}

func (p *jsonChecker) literal(s string) bool {
	if !bytes.HasPrefix(p.b[p.i:], []byte(s)) {
		return false
	}
	p.i += len(s)
	return true
}

// str checks a string starting at its opening quote.
func (p *jsonChecker) str() bool {
	p.i++
	for p.i < len(p.b) {
		// Eight bytes at a time while none ends or interrupts the run.
		if len(p.b)-p.i >= 8 && !stopsJSONString(word(p.b[p.i:])) {
			p.i += 8
			continue
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			p.i++
			if p.i >= len(p.b) {
				return false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if p.i+4 >= len(p.b) {
					return false
				}
				for _, h := range p.b[p.i+1 : p.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				p.i += 5
			default:
				return false
			}
		default:
			p.i++
		}
	}
	return false
}

func (p *jsonChecker) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// number checks a number: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
func (p *jsonChecker) number() bool {
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.b) {
		return false
	}
	if p.b[p.i] == '0' {
		p.i++
	} else if p.digits() == 0 {
		return false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return false
		}
	}
	return true
}
