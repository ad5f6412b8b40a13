package pkgformat

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExtractNames: a deposited name becomes the path it was deposited
// from (folders included, escaped bytes restored), and nothing that could
// leave the target folder or that file systems alter.
func TestExtractNames(t *testing.T) {
	for name, want := range map[string]string{
		"chat.txt":                 "chat.txt",
		"DCIM/Camera/IMG_0001.jpg": filepath.Join("DCIM", "Camera", "IMG_0001.jpg"),
		`caf\xe9.txt`:              "caf\xe9.txt",
		`a\x5cb`:                   `a\b`,
		"cafe\u0301.txt":           "cafe\u0301.txt",
	} {
		got, why := extractName(name)
		if why != "" || got != want {
			t.Errorf("%q: %q (%s), want %q", name, got, why, want)
		}
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", `a\x2fb`, `a\x41`, `a\b`, `a\xE9`, "a/CON", "a./b", "x/"} {
		if got, why := extractName(bad); why == "" {
			t.Errorf("%q extracted as %q", bad, got)
		}
	}
}

// FuzzExtractName: whatever a package names an item, the extraction path
// stays inside the target folder.
func FuzzExtractName(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../a", `a\x2f..`, "a/..", `\xff`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, why := extractName(name)
		if why != "" {
			return
		}
		clean := filepath.Clean(got)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) || clean != got {
			t.Fatalf("%q extracts to %q", name, got)
		}
	})
}
