package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDepositSkippedNameNoTerminalEscapes: a folder deposit walks media
// that come from the other side (a seized phone's dump, a suspect's USB
// stick). File names there are whatever that side chose, control
// characters included; custos reports special files it skips by their
// path, and a path with ESC ] ... BEL (set the window title) or ESC [ 2 J
// (clear the screen) must not reach the depositor's terminal as is.
func TestDepositSkippedNameNoTerminalEscapes(t *testing.T) {
	dir := t.TempDir()
	evil := "link\x1b]0;custos: all items deposited\x07\x1b[2J"
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, evil)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	t.Setenv("CUSTOS_SERVER", "http://127.0.0.1:1") // never reached
	var stdout, stderr bytes.Buffer
	runDeposit([]string{"--case", "KH-1", dir}, &stdout, &stderr)
	for _, s := range []string{stdout.String(), stderr.String()} {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("a file name from the deposited folder reached the terminal with its control characters:\n%q", s)
		}
	}
}
