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
		// With the browser's scripts off, the zone chosen beside the
		// time (tz_manual) places it the same; the script's wins.
		got, err = statedAt(url.Values{"at_local": {c.local}, "tz": {""}, "tz_manual": {c.tz}})
		if c.bad != (err != nil) || got != c.want {
			t.Errorf("%q with %q chosen: %q %v", c.local, c.tz, got, err)
		}
	}
	if got, err := statedAt(url.Values{"at_local": {"2026-11-30T14:05"}, "tz": {"420"}, "tz_manual": {"0"}}); err != nil || got != "2026-11-30T14:05:00+07:00" {
		t.Errorf("the script's zone beside a chosen one: %q %v", got, err)
	}
}

// TestTimeZonesOffered: the zones a form offers with scripts off run
// from UTC-12:00 to UTC+14:00 by quarter hours, Nepal's among them.
func TestTimeZonesOffered(t *testing.T) {
	tz := tzOffsets()
	if len(tz) != 105 || tz[0].Label != "UTC-12:00" || tz[len(tz)-1].Label != "UTC+14:00" {
		t.Fatalf("%d zones, from %+v to %+v", len(tz), tz[0], tz[len(tz)-1])
	}
	found := false
	for _, o := range tz {
		found = found || o.Label == "UTC+05:45" && o.Minutes == 345
	}
	if !found {
		t.Error("UTC+05:45 is not offered")
	}
}
