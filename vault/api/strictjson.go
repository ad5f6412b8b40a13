package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custos-vault/custos/internal/strictjson"
	"github.com/custos-vault/custos/vault"
)

// errMediaType is a request body that is not JSON (HTTP 415).
var errMediaType = errors.New("unsupported media type")

// maxJSONDepth bounds how deeply a request body may nest.
const maxJSONDepth = 32

// readJSON decodes the body of a JSON route into v, a pointer to a request
// struct, refusing with vault.ErrBadInput (HTTP 400) anything that is not
// exactly one JSON object (RFC 8259) of at most MaxJSONBody bytes of valid
// UTF-8 whose every key is one of the struct's json names, spelled with
// the same case, and appears once per object; and with errMediaType
// (HTTP 415) a body whose Content-Type is not application/json (charset,
// if given, utf-8). Every JSON route reads its body here.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkJSONType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fmt.Errorf("%w: request body over %d bytes", vault.ErrBadInput, MaxJSONBody)
		}
		return fmt.Errorf("%w: reading the request body: %v", vault.ErrBadInput, err)
	}
	return decodeStrict(body, v)
}

func checkJSONType(ct string) error {
	if ct == "" {
		return fmt.Errorf("%w: the request body must be JSON: send Content-Type: application/json", errMediaType)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return fmt.Errorf("%w: Content-Type %s is not application/json", errMediaType, strconv.QuoteToASCII(ct))
	}
	for k, val := range params {
		if k != "charset" || !strings.EqualFold(val, "utf-8") {
			return fmt.Errorf("%w: Content-Type %s: only charset=utf-8 is accepted", errMediaType, strconv.QuoteToASCII(ct))
		}
	}
	return nil
}

// decodeStrict decodes body into v (a pointer to a struct) as readJSON
// describes: encoding/json matches keys case-insensitively and keeps the
// last of duplicate keys, so the keys are checked first, by walking the
// tokens against v's type.
func decodeStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: the request body is not valid UTF-8", vault.ErrBadInput)
	}
	if err := checkSurrogates(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	first, err := dec.Token()
	if err != nil {
		return malformed(err)
	}
	if first != json.Delim('{') {
		return fmt.Errorf("%w: the request body must be one JSON object", vault.ErrBadInput)
	}
	if err := walkObject(dec, reflect.TypeOf(v), 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after JSON", vault.ErrBadInput)
	}
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	return nil
}

func malformed(err error) error {
	return fmt.Errorf("%w: malformed JSON: %v", vault.ErrBadInput, err)
}

// walkValue checks the next value of dec against type t (nil: any type).
func walkValue(dec *json.Decoder, t reflect.Type, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("%w: JSON nested deeper than %d levels", vault.ErrBadInput, maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return malformed(err)
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, t, depth)
	case json.Delim('['):
		var elem reflect.Type
		if t = deref(t); t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := walkValue(dec, elem, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return malformed(err)
		}
	}
	return nil
}

// walkObject checks the members of an object whose '{' was just read.
func walkObject(dec *json.Decoder, t reflect.Type, depth int) error {
	t = deref(t)
	var fields map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fmt.Errorf("%w: duplicate key %s", vault.ErrBadInput, strconv.QuoteToASCII(key))
		}
		seen[key] = true
		var ft reflect.Type
		switch {
		case fields != nil:
			var ok bool
			if ft, ok = fields[key]; !ok {
				return unknownKey(key, fields)
			}
		case t != nil && t.Kind() == reflect.Map:
			ft = t.Elem()
		}
		if err := walkValue(dec, ft, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformed(err)
	}
	return nil
}

func unknownKey(key string, fields map[string]reflect.Type) error {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Errorf("%w: unknown key %s (keys are case-sensitive: %s)", vault.ErrBadInput, strconv.QuoteToASCII(key), strconv.Quote(name))
		}
	}
	if len(key) > 64 {
		key = key[:64]
	}
	return fmt.Errorf("%w: unknown key %s", vault.ErrBadInput, strconv.QuoteToASCII(key))
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonFields maps the exact json names of t's exported fields to their
// types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// checkSurrogates refuses a \u escape of a UTF-16 surrogate that is not
// half of a pair, which encoding/json would replace with U+FFFD.
func checkSurrogates(body []byte) error {
	if strictjson.LoneSurrogate(body) {
		return fmt.Errorf("%w: the request body escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF)", vault.ErrBadInput)
	}
	return nil
}
