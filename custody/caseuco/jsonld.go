package caseuco

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A small deterministic JSON-LD writer: objects keep their keys in the
// order they were built, so the same Record gives the same bytes.

// obj is a JSON object with its keys in order.
type obj []field

type field struct {
	k string
	v any
}

// add appends a key, unless v is empty: "", nil, an empty list.
func (o *obj) add(k string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x == "" {
			return
		}
	case []any:
		if len(x) == 0 {
			return
		}
	case ref:
		if x == "" {
			return
		}
	}
	*o = append(*o, field{k, v})
}

// ref is a reference to a node ({"@id": ...}).
type ref string

// typed is a typed literal ({"@type": ..., "@value": ...}).
type typed struct{ typ, val string }

// writeJSON writes v indented by two spaces a level. Strings are
// written with every character that is not graphic (controls, format
// characters such as U+202E, line and paragraph separators, unassigned
// code points) escaped as \uXXXX, so that the file shows the same in any
// viewer and its text cannot reorder or hide a line; the value is
// unchanged. It fails on a string that is not UTF-8.
func writeJSON(b *bytes.Buffer, v any, indent int) error {
	nl := func(n int) {
		b.WriteByte('\n')
		for range n {
			b.WriteString("  ")
		}
	}
	switch x := v.(type) {
	case string:
		return writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case ref: // on one line: {"@id": "kb:..."}
		b.WriteString(`{"@id": `)
		if err := writeString(b, string(x)); err != nil {
			return err
		}
		b.WriteByte('}')
	case typed: // on one line: {"@type": "xsd:...", "@value": "..."}
		b.WriteString(`{"@type": `)
		if err := writeString(b, x.typ); err != nil {
			return err
		}
		b.WriteString(`, "@value": `)
		if err := writeString(b, x.val); err != nil {
			return err
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(indent + 1)
			if err := writeJSON(b, e, indent+1); err != nil {
				return err
			}
		}
		nl(indent)
		b.WriteByte(']')
	case obj:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(indent + 1)
			if err := writeString(b, f.k); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := writeJSON(b, f.v, indent+1); err != nil {
				return err
			}
		}
		nl(indent)
		b.WriteByte('}')
	default:
		return fmt.Errorf("caseuco: cannot write %T", v)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: text is not UTF-8: %q", ErrExport, s)
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r):
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return nil
}

// Node ids. Every node of an export is kb:KIND[-LABEL]-UUID, where kb is
// the case's base IRI (urn:custos:CASE:), LABEL is a readable part (an
// item id, an event's seq) kept only when it is made of letters, digits,
// '.', '_' and '-', and UUID is a name-based UUID (RFC 9562 version 5) of
// the base, the kind and the node's key. UCO suggests that node IRIs end
// with a UUID (core:UcoThing-identifier-regex-shape); these are derived
// from the record, so the same record gives the same ids.

// idNamespace is the UUID namespace of Custos's CASE/UCO node ids:
// the version 5 UUID of this package's URL in the URL namespace.
var idNamespace = uuid5(uuid{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8},
	"https://github.com/custos-vault/custos/custody/caseuco")

type uuid [16]byte

func uuid5(ns uuid, name string) uuid {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u uuid
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func (u uuid) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// ids makes the node ids of one export.
type ids struct{ base string }

// id is the node id of kind for key; label is shown in it when readable.
func (x ids) id(kind, label string, key ...string) string {
	u := uuid5(idNamespace, x.base+kind+"\x00"+strings.Join(key, "\x00"))
	s := "kb:" + kind + "-"
	if readable(label) {
		s += label + "-"
	}
	return s + u.String()
}

func readable(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Base is the base IRI of a case's nodes, urn:custos:CASE:, with every
// byte of the case id that is not a letter, digit, '.', '_' or '-'
// percent-encoded (RFC 8141 allows them in a URN's specific string).
func Base(caseID string) string {
	var b strings.Builder
	b.WriteString("urn:custos:")
	for i := 0; i < len(caseID); i++ {
		c := caseID[i]
		if readable(string(c)) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteByte(':')
	return b.String()
}
