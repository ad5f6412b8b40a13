package e2e

import (
	"os"
	"testing"

	"filippo.io/age"
)

// newAgeKey writes an age identity file and returns its recipient.
func newAgeKey(t *testing.T, path string) string {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}
