package web

import (
	"errors"
	"net/url"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestStatedAt: a form's "when, if earlier" is placed in time by the
// offset the page sends; without one, or with a time that is not one, it
// is refused rather than guessed.
func TestStatedAt(t *testing.T) {
	for _, c := range []struct {
		local, tz, want string
		bad             bool
	}{
		{"", "", "", false},
		{"2026-11-30T14:05", "420", "2026-11-30T14:05:00+07:00", false},
		{"2026-11-30T14:05:30", "-300", "2026-11-30T14:05:30-05:00", false},
		{"2026-11-30T14:05", "", "", true},
		{"2026-11-30T14:05", "9999", "", true},
		{"yesterday", "0", "", true},
	} {
		got, err := statedAt(url.Values{"at_local": {c.local}, "tz": {c.tz}})
		if c.bad != (err != nil) || got != c.want || (err != nil && !errors.Is(err, vault.ErrBadInput)) {
			t.Errorf("%q with %q: %q %v", c.local, c.tz, got, err)
		}
	}
}
