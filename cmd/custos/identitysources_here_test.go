package main

import (
	"errors"
	"strings"
	"testing"
)

// What identity-source list says of a provider's key, from what this
// computer read of the provider: served, not served, or not read; and
// nothing for other sources.
func TestKeysHereNote(t *testing.T) {
	const iss, other = "https://id.example.org/realms/unit", "https://down.example.org/"
	const k1, k2 = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "9Uz1lSmd32cWLyt36VQWAXdh3ltEFlQ6EcPjTQGqTsw"
	h := keysHere{served: map[string][]string{iss: {k1}}, failed: map[string]error{other: errors.New("no route\x1b[2J")}}
	for src, want := range map[string]string{
		"oidc-key " + iss + " " + k1:         "the provider serves it as this computer reaches it",
		"oidc-key " + iss + " " + k2:         "NOT served by the provider as this computer reaches it",
		"oidc-key " + other + " " + k1:       "not checked from this computer (no route",
		"oidc-client " + iss + " custos sub": "",
		"ca " + strings.Repeat("c", 64):      "",
	} {
		got := h.note(src, false)
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
		if strings.Contains(got, "\x1b") {
			t.Errorf("%s: a control character reaches the terminal: %q", src, got)
		}
	}
	// A key accepted that the provider no longer serves: retire it.
	if got := h.note("oidc-key "+iss+" "+k2, true); !strings.Contains(got, "retire it") {
		t.Errorf("an accepted key not served: %q", got)
	}
}
