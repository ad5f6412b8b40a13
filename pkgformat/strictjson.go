package pkgformat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// exactMembers checks, before b is decoded into a value of type t, what
// encoding/json does not: every object member name is exactly one of the
// names the type defines (encoding/json matches names without regard to
// case), and no object repeats a member (encoding/json keeps the last).
// So two readers of the same bytes, one taking the first of two "purpose"
// members and one the last, cannot disagree (docs/package-format.md,
// section 2).
func exactMembers(b []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return walkJSON(dec, t, "")
}

// walkJSON reads one JSON value from dec, checking it against t.
func walkJSON(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is encoding/json's to check
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if seen[key] {
				return fmt.Errorf("%s: member %q appears twice", where(path), key)
			}
			seen[key] = true
			var sub reflect.Type
			switch {
			case t == nil:
			case t.Kind() == reflect.Map:
				sub = t.Elem()
			case t.Kind() == reflect.Struct:
				f, ok := memberField(t, key)
				if !ok {
					return fmt.Errorf("%s: unknown member %q (member names are exact, case included)", where(path), key)
				}
				sub = f
			}
			if err := walkJSON(dec, sub, path+"."+key); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing ] or }
	return err
}

// memberField returns the type of the field of struct t whose JSON name
// is exactly name.
func memberField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name {
			return f.Type, true
		}
	}
	return nil, false
}

func where(path string) string {
	if path == "" {
		return "the top-level object"
	}
	return strings.TrimPrefix(path, ".")
}

// strictJSON decodes b, one JSON value and nothing after it, into v,
// refusing members v does not define, members whose names differ from
// v's in case, and repeated members.
func strictJSON(b []byte, v any) error {
	if err := exactMembers(b, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// More() misses a stray '}' or ']': demand the end of input.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data")
	}
	return nil
}
