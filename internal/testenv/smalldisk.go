package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// SmallDisk mounts a new tmpfs of size (mount's size option: "1m" is one
// MiB) on a new temporary folder and returns the folder: a real file
// system that fills, for the tests of a full disk. It is unmounted when
// the test ends, lazily (a descriptor a closing vault's goroutine still
// holds would otherwise keep it busy). Mounting needs root: without it,
// or where mount is refused, the test is skipped, saying so, or failed
// under `make test` (Missing), which runs as root.
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root, to mount a small tmpfs as a disk that fills")
		return ""
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		Missing(t, fmt.Sprintf("cannot mount a tmpfs here, to have a disk that fills: %v %s", err, out))
		return ""
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}
