// Package strictjson decodes the JSON that Custos's formats carry by one
// grammar, so that every reader of a package or of custody events reads
// the same bytes the same way (docs/custody-log.md section 12). It adds
// to encoding/json (RFC 8259) what that package leaves open:
//
//   - member names are matched exactly, case included (encoding/json takes
//     "Purpose" for "purpose"); where unknown members are allowed, one
//     that differs only in case from a member the reader reads is refused;
//   - no object repeats a member name, at any depth (encoding/json keeps
//     the last of two, another reader may keep the first);
//   - a member that the Go type declares without ",omitempty" is required;
//   - null stands for no value only where the rules allow it;
//   - a number read into an integer is written in canonical decimal: an
//     optional "-" for signed members, no leading zero, no fraction, no
//     exponent, no "-0", within the member's range (so "15.0", "1e1" and
//     "-0" are refused, although JSON allows them);
//   - one JSON value, with nothing before or after it (not even white
//     space);
//   - valid UTF-8, and no \u escape of a lone UTF-16 surrogate
//     (encoding/json would read both as U+FFFD, so two different byte
//     strings would read as one text).
//
// Nesting is bounded by encoding/json's own limit of 10,000 levels.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Rules select what differs between the formats.
type Rules struct {
	// AllowUnknown ignores members the type does not declare (event data,
	// which gains optional members within a version: custody-log.md
	// section 9). Unknown members are still checked for repeats.
	AllowUnknown bool
	// AllowNull accepts null as the absence of a value (event data,
	// written by Go's json.Marshal, which writes a nil list as null).
	AllowNull bool
	// Optional makes no member required (event data, whose members
	// depend on when the event was written).
	Optional bool
	// MaxDepth, if not 0, bounds nesting below encoding/json's 10,000
	// levels; the top-level value is level 1.
	MaxDepth int
	// Space allows white space before and after the value (request
	// bodies, which tools end with a newline).
	Space bool
	// RequiredBools keeps, under Optional, a boolean member declared
	// without ",omitempty" required, and refuses null for any boolean
	// member: a request that leaves out a yes-or-no answer (a legal
	// hold's "on") is refused rather than read as no.
	RequiredBools bool
}

// Manifest is the grammar of a package's manifest.json and proofs.json:
// exact and complete, no null, no unknown member.
var Manifest = Rules{}

// EventData is the grammar a reader applies to an event's data member
// when it interprets it: exact names and no repeats for every member, and
// canonical integers for the members it reads; unknown members, null and
// absent members are allowed.
var EventData = Rules{AllowUnknown: true, AllowNull: true, Optional: true}

// Decode decodes b, exactly one JSON value, into v (a pointer) under the
// rules. Its errors name the member at fault, as a path such as
// items[0].size.
func Decode(b []byte, v any, r Rules) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return errors.New("strictjson: Decode needs a pointer")
	}
	if len(b) == 0 || !r.Space && (isSpace(b[0]) || isSpace(b[len(b)-1])) {
		return errors.New("white space before or after the JSON value")
	}
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8")
	}
	if LoneSurrogate(b) {
		return errors.New(`a \u escape of a lone UTF-16 surrogate (\ud800-\udfff)`)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walk(dec, t, "", 1, r); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	if !r.AllowUnknown {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v)
}

// walk reads one JSON value from dec, checking it against t (nil: a value
// the reader does not interpret).
func walk(dec *json.Decoder, t reflect.Type, path string, depth int, r Rules) error {
	if r.MaxDepth > 0 && depth > r.MaxDepth {
		return fmt.Errorf("%s: JSON nested deeper than %d levels", where(path), r.MaxDepth)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok := tok.(type) {
	case nil:
		if t != nil && (!r.AllowNull || r.RequiredBools && t.Kind() == reflect.Bool) {
			return fmt.Errorf("%s: null is not a value here", where(path))
		}
		return nil
	case json.Number:
		if t != nil {
			return checkInteger(t, string(tok), path)
		}
		return nil
	case json.Delim:
		if tok == '[' {
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; dec.More(); i++ {
				if err := walk(dec, elem, fmt.Sprintf("%s[%d]", path, i), depth+1, r); err != nil {
					return err
				}
			}
		} else if err := walkObject(dec, t, path, depth, r); err != nil {
			return err
		}
		_, err = dec.Token() // the closing ] or }
		return err
	}
	return nil // a string or a boolean: its type is encoding/json's to check
}

func walkObject(dec *json.Decoder, t reflect.Type, path string, depth int, r Rules) error {
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		if seen[key] {
			return fmt.Errorf("%s: member %q appears twice (a duplicate key)", where(path), key)
		}
		seen[key] = true
		var sub reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Map:
			sub = t.Elem()
		case t.Kind() == reflect.Struct:
			info := structOf(t)
			f, ok := info.byName[key]
			if !ok {
				// encoding/json would read an unknown "Size" as "size"
				// (bytes.EqualFold); refuse it rather than guess.
				for _, n := range info.names {
					if strings.EqualFold(n, key) {
						return fmt.Errorf("%s: member %q differs only in case from %q (member names are exact: keys are case-sensitive)", where(path), key, n)
					}
				}
				if !r.AllowUnknown {
					return fmt.Errorf("%s: unknown member %q (an unknown key)", where(path), key)
				}
			}
			sub = f
		}
		if err := walk(dec, sub, path+"."+key, depth+1, r); err != nil {
			return err
		}
	}
	if t != nil && t.Kind() == reflect.Struct {
		required := structOf(t).required
		if r.Optional {
			required = nil
			if r.RequiredBools {
				required = structOf(t).requiredBools
			}
		}
		for _, name := range required {
			if !seen[name] {
				return fmt.Errorf("%s: required member %q is missing", where(path), name)
			}
		}
	}
	return nil
}

// checkInteger refuses a number that is not in canonical decimal when t
// is an integer type. Other number types are left to encoding/json.
func checkInteger(t reflect.Type, s, path string) error {
	var canon string
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%s: %s is not an integer in range, in canonical decimal", where(path), s)
		}
		canon = strconv.FormatInt(n, 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%s: %s is not a non-negative integer in range, in canonical decimal", where(path), s)
		}
		canon = strconv.FormatUint(n, 10)
	default:
		return nil
	}
	if s != canon {
		return fmt.Errorf("%s: %s is not written in canonical decimal (write %s)", where(path), s, canon)
	}
	return nil
}

// structInfo is what the walk needs of a struct type, worked out once
// per type: the type of each member by its exact JSON name (promoted
// fields of embedded structs included, as encoding/json reads them), the
// names, and the required ones (no omitempty).
type structInfo struct {
	byName   map[string]reflect.Type
	names    []string
	required []string
	// requiredBools are the required members of boolean type
	// (Rules.RequiredBools).
	requiredBools []string
}

var structs sync.Map // reflect.Type -> *structInfo

func structOf(t reflect.Type) *structInfo {
	if v, ok := structs.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]reflect.Type{}}
	for _, f := range reflect.VisibleFields(t) {
		name, omit, ok := jsonName(f)
		if !ok || f.Anonymous {
			continue
		}
		info.byName[name] = f.Type
		info.names = append(info.names, name)
		if !omit {
			info.required = append(info.required, name)
			if f.Type.Kind() == reflect.Bool {
				info.requiredBools = append(info.requiredBools, name)
			}
		}
	}
	v, _ := structs.LoadOrStore(t, info)
	return v.(*structInfo)
}

// jsonName is f's member name as encoding/json writes it, and whether the
// tag says omitempty; ok is false for a field encoding/json skips.
func jsonName(f reflect.StructField) (name string, omitempty, ok bool) {
	tag := f.Tag.Get("json")
	if tag == "-" || !f.IsExported() {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	for _, o := range strings.Split(opts, ",") {
		if o == "omitempty" || o == "omitzero" {
			omitempty = true
		}
	}
	return name, omitempty, true
}

func where(path string) string {
	if path == "" {
		return "the top-level value"
	}
	return strings.TrimPrefix(path, ".")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// LoneSurrogate reports whether JSON text b holds a \u escape of a UTF-16
// surrogate that is not half of a high-low pair. encoding/json reads one
// as U+FFFD, so the text decoded would not be the text written.
func LoneSurrogate(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++ // an escaped character, perhaps a backslash
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			continue // malformed; the decoder refuses it
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			var low uint16
			ok := i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u'
			if ok {
				low, ok = hex4(b, i+8)
			}
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (uint16, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 16)
	return uint16(v), err == nil
}
