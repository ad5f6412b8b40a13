package main

import (
	"os/exec"
	"testing"
)

// Each printed word reads back, through a real shell, as the one word
// it was: names with a space, a quote, a dollar, a backquote, Khmer,
// Tagalog, a leading dash or nothing at all.
func TestShellWordReadsBackThroughAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	for _, s := range []string{"bundle.tar", "PNP-ACG-2026-0311 package.tar", "it's.tar", "$HOME `id` \\n.tar", "ឯកសារ.tar", "Larawan ng bahay ño.png", "-n", "", "a\tb", "*.tar"} {
		out, err := exec.Command(sh, "-c", "printf '%s' "+shellWord(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("%q printed as %s reads back as %q (%v)", s, shellWord(s), out, err)
		}
	}
	if w := shellWord("bundle.tar"); w != "bundle.tar" {
		t.Errorf("a plain name is quoted: %s", w)
	}
}
