package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

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

// requestRules are the rules of internal/strictjson that request bodies
// follow: exact names, no repeats, canonical integers, at most 32 levels;
// members may be left out or null, except a yes-or-no member declared
// without omitempty (HoldRequest's "on"), which must be given as true or
// false; the body may end in a newline.
var requestRules = strictjson.Rules{AllowNull: true, Optional: true, RequiredBools: true, MaxDepth: maxJSONDepth, Space: true}

// decodeStrict decodes body into v (a pointer to a struct) as readJSON
// describes, by the one JSON grammar of the formats (internal/strictjson:
// encoding/json alone matches keys case-insensitively and keeps the last
// of duplicate keys).
func decodeStrict(body []byte, v any) error {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%w: the request body must be one JSON object", vault.ErrBadInput)
	}
	if err := strictjson.Decode(body, v, requestRules); err != nil {
		return fmt.Errorf("%w: malformed JSON: %v", vault.ErrBadInput, err)
	}
	return nil
}
