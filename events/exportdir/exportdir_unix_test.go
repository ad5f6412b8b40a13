//go:build unix

package exportdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestRefusesWhatIsNoFile: a named pipe or a folder where a checkpoint
// belongs is refused at once, naming it (a pipe would never end a read),
// and so is a pipe for the events.
func TestRefusesWhatIsNoFile(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(dir string) error
		want string
	}{
		{"pipe for a checkpoint", func(dir string) error {
			return syscall.Mkfifo(filepath.Join(dir, CheckpointsDir, "00000000000000000001"), 0o644)
		}, "is not a file"},
		{"folder for a checkpoint", func(dir string) error {
			return os.Mkdir(filepath.Join(dir, CheckpointsDir, "00000000000000000001"), 0o755)
		}, "is not a file"},
		{"pipe for the events", func(dir string) error {
			os.Remove(filepath.Join(dir, EventsFile))
			return syscall.Mkfifo(filepath.Join(dir, EventsFile), 0o644)
		}, "is not a file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := folder(t, []byte("{}\n"), nil)
			if err := c.make(dir); err != nil {
				t.Fatal(err)
			}
			r, err := Open(dir)
			if err != nil {
				if !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Open: %v, want %q", err, c.want)
				}
				return
			}
			done := make(chan error, 1)
			go func() {
				_, err := readAll(t, r, 0)
				if err == nil {
					err = r.ReadCheckpoints(context.Background(), 0, func(events.StoredCheckpoint) error { return nil })
				}
				done <- err
			}()
			select {
			case err := <-done:
				var a *Altered
				if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &a) {
					t.Fatalf("%v, want %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the read did not end")
			}
		})
	}
}
