package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos-vault/custos/vault"
)

// deepFolder makes, under dir, a folder nested beyond PATH_MAX (4,096
// bytes on Linux) holding one file: seized media can hold one (a
// program's dependency tree, a backup of a backup), and no path-based
// read reaches it. It returns the first folder of the chain.
func deepFolder(t *testing.T, dir string) string {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	component := strings.Repeat("d", 250)
	for range 18 {
		if err := r.Mkdir(component, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := r.OpenRoot(component)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		r = next
	}
	defer r.Close()
	if err := r.WriteFile("deep.txt", []byte("evidence out of reach"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, component)
}

// TestDepositLeavesNothingBehindSilently: what a folder deposit cannot
// read is content the vault will not hold, so it is marked left behind
// and the deposit ends in an error naming it, whatever else was stored;
// a link, a device or a pipe (no content of its own) is only reported.
// Two members of the class: a folder nested beyond PATH_MAX (which root
// cannot read either) and, where the tests do not run as root, a folder
// its owner may not read.
func TestDepositLeavesNothingBehindSilently(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	deepFolder(t, dir)
	wantLeft := 1
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked")
		os.Mkdir(locked, 0o755)
		os.WriteFile(filepath.Join(locked, "b.txt"), []byte("unread"), 0o644)
		os.Chmod(locked, 0)
		t.Cleanup(func() { os.Chmod(locked, 0o755) })
		wantLeft++
	} else {
		t.Log("running as root: the folder its owner may not read is not tried (root reads it)")
	}

	ups, skips, err := collectUploads([]string{dir}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].name != "a.txt" {
		t.Fatalf("uploads: %+v", ups)
	}
	left := 0
	for _, sk := range skips {
		switch {
		case strings.HasSuffix(sk.Path, "link"):
			if sk.LeftBehind {
				t.Errorf("a symbolic link is marked as content left behind: %+v", sk)
			}
		case sk.LeftBehind:
			left++
			if !strings.Contains(sk.Reason, "none of its files was deposited") {
				t.Errorf("an unreadable folder's reason does not say its files were not deposited: %q", sk.Reason)
			}
		default:
			t.Errorf("skipped, not marked left behind: %+v", sk)
		}
	}
	if left != wantLeft {
		t.Fatalf("%d skips left content behind, want %d: %+v", left, wantLeft, skips)
	}
	err = notAllDeposited(skips, nil)
	if err == nil || !strings.Contains(err.Error(), "not all of it was deposited") || !strings.Contains(err.Error(), "left behind") {
		t.Fatalf("the deposit's end: %v", err)
	}
	var links []skipped
	for _, sk := range skips {
		if !sk.LeftBehind {
			links = append(links, sk)
		}
	}
	if err := notAllDeposited(links, nil); err != nil {
		t.Fatalf("a link alone failed the deposit: %v", err)
	}
}

// TestSkippedStatementFitsAnEvent: what a deposit skipped is sent as the
// first files that fit the vault's bounds on one event (vault.
// MaxSkippedListed, vault.MaxSkippedBytes), each path and reason cut to
// its limit at a character's start, with the count of all.
func TestSkippedStatementFitsAnEvent(t *testing.T) {
	for _, c := range []struct {
		n    int
		path string
	}{{3000, "DCIM/a.jpg"}, {40, strings.Repeat("ស្រី/", 600)}} {
		var skips []skipped
		for range c.n {
			skips = append(skips, skipped{Path: c.path, Reason: "could not be read", LeftBehind: true})
		}
		req := skippedRequest("exhibit 4", skips, nil, 0, 0)
		b, _ := json.Marshal(req.Files)
		if req.Count != c.n || len(req.Files) == 0 || len(req.Files) > vault.MaxSkippedListed || len(b) > vault.MaxSkippedBytes {
			t.Errorf("%d skips of %d bytes: count %d, %d files, %d bytes", c.n, len(c.path), req.Count, len(req.Files), len(b))
		}
		for _, f := range req.Files {
			if len(f.Path) > 4096 || !utf8.ValidString(f.Path) {
				t.Fatalf("a path of %d bytes sent, valid UTF-8: %v", len(f.Path), utf8.ValidString(f.Path))
			}
		}
	}
}

// TestSkippedStatementListsContentFirst: when not all fit one event, the
// content left behind and the files refused are listed before links and
// the like (a missing file listed last had been cut from the statement,
// which then said nothing was left behind), and the count holds all of
// them, refused ones included.
func TestSkippedStatementListsContentFirst(t *testing.T) {
	var skips []skipped
	for i := range 1500 {
		skips = append(skips, skipped{Path: fmt.Sprintf("big/link%04d", i), Reason: "a symbolic link to /etc/passwd (not followed)"})
	}
	skips = append(skips, skipped{Path: "big/gone.txt", Reason: "listed in SUMS (acquired) but not in the folder", LeftBehind: true})
	refused := []skipped{{Path: "big/altered.txt", Reason: "the content is not what its acquisition hash says"}}
	req := skippedRequest("phone A", skips, refused, 7, 2)
	if req.Count != 1502 || req.Deposited != 7 || req.Already != 2 || len(req.Files) < 2 || len(req.Files) >= 1502 {
		t.Fatalf("count %d, deposited %d, already %d, %d files listed", req.Count, req.Deposited, req.Already, len(req.Files))
	}
	if !req.Files[0].LeftBehind || !req.Files[1].LeftBehind || req.Files[2].LeftBehind ||
		!strings.HasPrefix(req.Files[0].Reason, "refused: ") || req.Files[1].Path != "big/gone.txt" {
		t.Errorf("the first listed: %+v", req.Files[:3])
	}
}
