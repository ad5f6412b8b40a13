package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What people give by mistake is answered in their words, and the
// operating system's error stays underneath.
func TestMistakesInPlainWords(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(file, []byte("0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked.txt")
	if err := os.WriteFile(locked, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, says string
		is         error
	}{
		{filepath.Join(dir, "nope.txt"), "nope.txt does not exist", fs.ErrNotExist},
		{dir, "is a folder: give the file itself", fs.ErrInvalid},
		{"bad\x1b[31mname", `bad\u001b[31mname does not exist`, fs.ErrNotExist},
	} {
		_, _, err := Open(c.path)
		var ie *Error
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.says) || !errors.Is(err, c.is) {
			t.Errorf("Open(%q): %v, want %q", c.path, err, c.says)
		}
		if _, err := ReadFile(c.path, 1<<20); !strings.Contains(fmtErr(err), c.says) {
			t.Errorf("ReadFile(%q): %v, want %q", c.path, err, c.says)
		}
	}
	if os.Geteuid() != 0 {
		if _, _, err := Open(locked); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "may not be read") {
			t.Errorf("a file that may not be read: %v", err)
		}
	}
	if b, err := ReadFile(file, 5); err != nil || string(b) != "0123\n" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
	if _, err := ReadFile(file, 4); err == nil || !strings.Contains(err.Error(), "larger than 4 bytes") {
		t.Errorf("a file past its limit: %v", err)
	}
	f, fi, err := Open(file)
	if err != nil || fi.Size() != 5 {
		t.Fatalf("Open: %v %v", fi, err)
	}
	f.Close()
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
