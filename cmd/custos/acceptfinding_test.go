package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestAcceptFindingTakesPositions: --accept-finding takes an event
// position as the audit names it (a whole number in canonical decimal),
// once for each finding; anything else is a mistake in the command (exit
// 2), found before the vault is asked.
func TestAcceptFindingTakesPositions(t *testing.T) {
	t.Setenv("CUSTOS_SERVER", "http://127.0.0.1:9") // never reached
	for _, v := range []string{"x", "05", "-1", "1.0", "18446744073709551616"} {
		var out, errOut bytes.Buffer
		err := run([]string{"audit", "verify", "--accept-finding", v}, &out, &errOut)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "not an event position") {
			t.Errorf("--accept-finding %s: %v, want a usage error naming it", v, err)
		}
	}
	var p positionList
	for _, v := range []string{"14", "0", "18446744073709551615"} {
		if err := p.Set(v); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	if got := p.String(); got != "14,0,18446744073709551615" {
		t.Errorf("the positions given read %q", got)
	}
}
