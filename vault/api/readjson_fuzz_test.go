package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// decodeBody runs readJSON on body as the handlers do.
func decodeBody(body []byte, v any) error {
	r := httptest.NewRequest("POST", "/v1/cases", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return readJSON(httptest.NewRecorder(), r, v)
}

// FuzzReadJSON decodes arbitrary bodies into the API's request types.
// Every refusal is bad input (HTTP 400); whatever is accepted is at most
// MaxJSONBody bytes, one JSON value with nothing after it, and decodes to
// the same request after a round trip through encoding/json.
func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`{"case":"KH-2026-014","title":"Hotline report <14> & more"}`))
	f.Add([]byte(`{"case":"KH-2026-014","for":"prosecutor","purpose":"trial","items":["it_0f1e2d3c4b5a69788796a5b4"]}`))
	f.Add([]byte(`{"recipient":"age192zp7hvun92c2ynwjnzm60cat3ugejm0qhe9xp5ejn7syvnmjuwqkz4n5z"}`))
	f.Add([]byte(`{"case":"a","title":"b","extra":1}`))
	f.Add([]byte(`{"case":"a"} {"case":"b"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"items":"x"}`))
	f.Add([]byte(`{"title":"` + strings.Repeat("x", MaxJSONBody) + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newReq := range []func() any{
			func() any { return new(CaseRequest) },
			func() any { return new(PackageRequest) },
			func() any { return new(RecipientRequest) },
		} {
			req := newReq()
			err := decodeBody(body, req)
			if err != nil {
				if !errors.Is(err, vault.ErrBadInput) || status(err) != 400 {
					t.Fatalf("refusal %v is not bad input (status %d)", err, status(err))
				}
				continue
			}
			if len(body) > MaxJSONBody {
				t.Fatalf("accepted a body of %d bytes", len(body))
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			var v any
			if dec.Decode(&v) != nil {
				t.Fatalf("accepted a body encoding/json cannot parse: %q", body)
			}
			if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) != 0 {
				t.Fatalf("accepted trailing data %q", rest)
			}
			again, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			// Compared in encoded form: an empty list and no list are the
			// same request.
			req2 := newReq()
			if err := decodeBody(again, req2); err != nil {
				t.Fatalf("re-encoded request %q refused: %v", again, err)
			}
			if third, _ := json.Marshal(req2); !bytes.Equal(third, again) {
				t.Fatalf("round trip of %q changed the request: %s != %s", body, again, third)
			}
		}
	})
}

// FuzzStrictJSON checks what the strict decoder accepts: an object whose
// keys, at every level, appear once, and at the top level are exactly the
// request type's json names; it also never panics on any body.
func FuzzStrictJSON(f *testing.F) {
	f.Add([]byte(`{"case":"A","case":"B"}`))
	f.Add([]byte(`{"Case":"A","title":"t"}`))
	f.Add([]byte(`{"case":"A","for":"p","purpose":"x","items":["a","b"]}`))
	f.Add([]byte(`{"case":"A","items":[{"a":1,"a":2}]}`))
	f.Add([]byte(`{"case":"\u0063"}`))
	f.Add([]byte(`{"c\u0061se":"A","case":"B"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req PackageRequest
		if decodeStrict(body, &req) != nil {
			return
		}
		names := map[string]bool{"case": true, "for": true, "purpose": true, "items": true}
		dec := json.NewDecoder(bytes.NewReader(body))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("accepted a body that is not an object: %q", body)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := tok.(string)
			if seen[key] || !names[key] {
				t.Fatalf("accepted key %q (duplicate or not exact) in %q", key, body)
			}
			seen[key] = true
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Request bodies nest at most 32 levels, a newline may follow the
// object, and a number is refused where a list of ids is due.
func TestReadJSONBounds(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(`{"items":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`)
	}
	if err := decodeBody(deep(32), new(PackageRequest)); err == nil || strings.Contains(err.Error(), "deeper") {
		t.Errorf("32 levels: %v, want a type error, not a depth error", err)
	}
	if err := decodeBody(deep(33), new(PackageRequest)); err == nil || !strings.Contains(err.Error(), "deeper than 32") {
		t.Errorf("33 levels: %v", err)
	}
	var req RecipientRequest
	if err := decodeBody([]byte("{\"recipient\":\"age1x\"}\n"), &req); err != nil || req.Recipient != "age1x" {
		t.Errorf("a final newline: %v", err)
	}
}
