// Package secret holds credentials in types that refuse to be printed,
// logged or encoded: bearer tokens, PINs, Vault tokens, S3 secret keys.
// Their String, GoString, Format, LogValue and MarshalJSON all give
// "[redacted]"; the value is reached only through Reveal, a call that
// stands out in review. Equality is constant-time (Equal).
//
// Unsealed key material is hsm.Secret, which follows the same rules for
// bytes.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what every printing of a secret shows.
const Redacted = "[redacted]"

// String is a secret string. The zero value is empty.
type String struct {
	v string
}

// New wraps s.
func New(s string) String { return String{v: s} }

// Reveal returns the secret itself, for the one call that needs it.
func (s String) Reveal() string { return s.v }

// Empty reports whether no secret is set.
func (s String) Empty() bool { return s.v == "" }

// Equal compares two secrets in constant time (for equal lengths).
func (s String) Equal(o String) bool {
	return subtle.ConstantTimeCompare([]byte(s.v), []byte(o.v)) == 1
}

func (s String) String() string   { return Redacted }
func (s String) GoString() string { return "secret.String(" + Redacted + ")" }

// Format makes every verb (%v, %s, %q, %x, %+v, %#v ...) print the
// redaction.
func (s String) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, Redacted)
}

// LogValue keeps the secret out of slog output.
func (s String) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes the redaction, never the secret.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText likewise, for encoders that use it.
func (s String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
