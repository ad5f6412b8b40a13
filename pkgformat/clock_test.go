package pkgformat

import (
	"testing"
	"time"
)

func TestClockAhead(t *testing.T) {
	at := time.Date(2026, 11, 30, 19, 40, 12, 0, time.UTC)
	for _, c := range []struct {
		sealed string
		acc    time.Duration
		ahead  bool
	}{
		{"2026-11-30T19:40:12.560487750Z", time.Second, false}, // a TSA truncating to seconds
		{"2026-11-30T19:44:00Z", time.Second, false},
		{"2026-11-30T19:45:14Z", time.Second, true},
		{"2026-11-30T19:45:14Z", 10 * time.Minute, false},
		{"2026-11-30T21:40:12Z", 0, true},
		{"not a time", 0, false},
	} {
		if _, got := clockAhead(c.sealed, at, c.acc); got != c.ahead {
			t.Errorf("clockAhead(%s, ±%s) = %v", c.sealed, c.acc, got)
		}
	}
}
