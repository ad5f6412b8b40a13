package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
)

// TestADepositOnAFullDiskSaysSo: a deposit the full disk of the object
// store stopped is answered 503 saying the storage is full and that an
// operator must free space, not "a backend is unavailable", which sends
// people to run it again for nothing; the answer names no path; nothing
// is deposited. Once space is freed, the same deposit goes through. The
// disk is real: a tmpfs of 2 MiB holding the objects and the spool
// (testenv.SmallDisk).
func TestADepositOnAFullDiskSaysSo(t *testing.T) {
	disk := testenv.SmallDisk(t, "2m")
	tv := newTestVault(t, Options{}, func(c *vault.Config) {
		objs, err := fs.New(context.Background(), fs.Config{Dir: filepath.Join(disk, "objects")})
		if err != nil {
			t.Fatal(err)
		}
		c.Objects, c.SpoolDir = objs, filepath.Join(disk, "spool")
	})
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"FULL-1","title":"a full disk"}`); a.code != http.StatusCreated {
		t.Fatalf("opening the case: %d %s", a.code, a.body)
	}
	video := make([]byte, 3<<20)
	rand.Read(video)
	a := tv.deposit("inv", "FULL-1", "video.mp4", video)
	if a.code != http.StatusServiceUnavailable || !strings.Contains(a.body, "storage is full") || !strings.Contains(a.body, "an operator must free space") {
		t.Fatalf("a deposit on a full disk: %d %s", a.code, a.body)
	}
	if strings.Contains(a.body, disk) {
		t.Errorf("the answer names a server path: %s", a.body)
	}
	if n := len(tv.events(vault.TypeItemDeposited)); n != 0 {
		t.Fatalf("%d deposits recorded", n)
	}
	if a := tv.deposit("inv", "FULL-1", "video.mp4", video[:1<<20]); a.code != http.StatusCreated {
		t.Fatalf("a deposit that fits once the failed one left nothing behind: %d %s", a.code, a.body)
	}
}

// sqliteError and pgError stand for the drivers' errors, as diskFull
// reads them: by their Code and SQLState methods.
type sqliteError int

func (e sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteError) Code() int     { return int(e) }

type pgError string

func (e pgError) Error() string    { return "ERROR: " + string(e) }
func (e pgError) SQLState() string { return string(e) }

// TestDiskFullIsToldFromOtherFailures: the storage's full disk is read in
// each backend's own words, wrapped as the vault wraps them, and in no
// other failure.
func TestDiskFullIsToldFromOtherFailures(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("%w: recording the deposit: sequencer: %w", vault.ErrUnavailable, err)
	}
	for err, want := range map[error]bool{
		wrap(&os.PathError{Op: "write", Path: "spool/x", Err: syscall.ENOSPC}): true,
		wrap(&os.PathError{Op: "write", Path: "spool/x", Err: syscall.EDQUOT}): true,
		wrap(sqliteError(13)):                 true,  // SQLITE_FULL
		wrap(sqliteError(13 | 3<<8)):          true,  // an extended code of it
		wrap(pgError("53100")):                true,  // disk_full
		wrap(sqliteError(10)):                 false, // SQLITE_IOERR
		wrap(sqliteError(5)):                  false, // SQLITE_BUSY
		wrap(pgError("53200")):                false, // out_of_memory
		wrap(syscall.EACCES):                  false,
		errors.New("no space left on device"): false, // words alone are not the error
	} {
		if got := diskFull(err); got != want {
			t.Errorf("%v: diskFull %v", err, got)
		}
	}
}
