package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExpectFromMatchesWhereTheListWasMade: a sums file lists a folder's
// files as sha256sum wrote them where it ran: in the folder given
// (DCIM/a.jpg), in the folder above it (phone/DCIM/a.jpg, as the upload
// page matches it too), where the command runs (seized/phone/DCIM/a.jpg,
// ./ before it), or by absolute path. Each gives the file its hash; a
// list that names the file none of these ways stops the deposit.
func TestExpectFromMatchesWhereTheListWasMade(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs, _ := filepath.Abs("seized/phone/DCIM/a.jpg")
	const hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, listed := range []string{"DCIM/a.jpg", "phone/DCIM/a.jpg", "seized/phone/DCIM/a.jpg", "./seized/phone/DCIM/a.jpg", abs, "*phone/DCIM/a.jpg"} {
		sums := filepath.Join(dir, "SUMS")
		os.WriteFile(sums, []byte(hash+"  "+listed+"\n"), 0o644)
		ups := []upload{{path: "seized/phone/DCIM/a.jpg", name: "DCIM/a.jpg", inFolder: true}}
		if err := assignExpected(ups, ups[0].expect, sums); err != nil || ups[0].expect.SHA256 != hash {
			t.Errorf("listed as %q: %v, hash %q", listed, err, ups[0].expect.SHA256)
		}
	}
	for _, listed := range []string{"a.jpg", "other/DCIM/a.jpg", "seized/DCIM/a.jpg"} {
		sums := filepath.Join(dir, "SUMS")
		os.WriteFile(sums, []byte(hash+"  "+listed+"\n"), 0o644)
		ups := []upload{{path: "seized/phone/DCIM/a.jpg", name: "DCIM/a.jpg", inFolder: true}}
		if err := assignExpected(ups, ups[0].expect, sums); err == nil || !strings.Contains(err.Error(), "has no hash for") {
			t.Errorf("listed as %q: %v, want no hash for the file", listed, err)
		}
	}
}
