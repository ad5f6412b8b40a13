package main

import (
	"fmt"
	"github.com/custos-vault/custos/vault"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a duration as people write retention periods: Go's
// durations (87600h, 90m) and whole or decimal days and years (3650d,
// 10y, 1.5y; a year is 365 days).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for unit, d := range map[string]time.Duration{"d": 24 * time.Hour, "y": 365 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil || f < 0 || f*float64(d) > float64(200*365*24*time.Hour) {
				return 0, fmt.Errorf("%q is not a duration such as 3650d, 10y or 87600h", s)
			}
			return time.Duration(f * float64(d)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 3650d, 10y or 87600h", s)
	}
	return d, nil
}

// durationFlag is a flag.Value that reads parseDuration's forms.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// shortRetention is the retention below which a case's own retention
// needs --yes: a year.
const shortRetention = 365 * 24 * time.Hour

// humanDurationText is humanDuration of a Go duration string ("" stays "").
func humanDurationText(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	return vault.ReadableDuration(d)
}
