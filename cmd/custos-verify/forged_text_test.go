package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForgedManifestTextNotPrintedRaw: custos-verify exists to check a
// file nobody has to trust. Whatever a package's manifest.json says is
// printed ("package P of case C, sealed by N (R) for F") before, and
// whether or not, its signature is checked. A forged package whose case
// field holds a newline, a fake "VERIFIED" line and an escape sequence
// that hides what follows (ESC [8m) must not reach the terminal as such:
// the recipient would read VERIFIED over a package that FAILED.
func TestForgedManifestTextNotPrintedRaw(t *testing.T) {
	pkg, err := os.ReadFile(vectorPkg)
	if err != nil {
		t.Fatal(err)
	}
	forged := rewriteMember(t, pkg, "manifest.json", func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"case": "KH-2026-014"`),
			[]byte(`"case": "KH-2026-014\n  ok  every check passed\nVERIFIED\n\u001b[8m"`), 1)
	})
	path := filepath.Join(t.TempDir(), "forged.tar")
	if err := os.WriteFile(path, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runVerify(path, "--key", vectorKey(t))
	if code == 0 {
		t.Fatalf("forged package verified: %s", out)
	}
	for _, s := range []string{out, errs} {
		if strings.ContainsRune(s, '\x1b') {
			t.Errorf("escape sequence from the package reached the terminal:\n%q", s)
		}
		for _, line := range strings.Split(s, "\n") {
			if line == "VERIFIED" {
				t.Errorf("a package that failed (exit %d) printed a line VERIFIED:\n%s", code, s)
			}
		}
	}
}

// TestExtractedPathPrintedSafely: an extracted file's path is printed as
// is when it is valid UTF-8, so an item name whose escapes spell a C1
// control (\xc2\x9b is U+009B, CSI) or a right-to-left override reaches
// the terminal raw in "extracted PATH".
func TestExtractedPathPrintedSafely(t *testing.T) {
	for _, p := range []string{"out/x\u009b2Jy", "out/invoice\u202efdp.exe", "out/a\u0085b"} {
		got := printablePath(p)
		for _, r := range got {
			if r == '\u009b' || r == '\u202e' || r == '\u0085' {
				t.Errorf("printablePath(%q) = %q", p, got)
				break
			}
		}
	}
}

func rewriteMember(t *testing.T, pkg []byte, name string, f func([]byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(pkg))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			b = f(b)
			h.Size = int64(len(b))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
