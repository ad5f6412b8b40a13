package e2e

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
	"golang.org/x/mod/sumdb/note"
)

// TestAuditExportSuffices exports a dev vault's log with `custos audit
// export` and checks it as a verifier outside the vault would, with
// nothing but the folder and the project's own log packages: the key
// verifies every checkpoint, the events hash into a tree whose root at
// every checkpoint's size is that checkpoint's, and the newest covers
// them all.
func TestAuditExportSuffices(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-031", "--title", "export test")
	ev := filepath.Join(work, "note.txt")
	os.WriteFile(ev, []byte("evidence"), 0o644)
	s.ok("investigator", work, "deposit", "--case", "KH-2026-031", "--source", "https://example.invalid/r/1", ev)
	// A checkpoint of the log so far, then more events after it.
	s.ok("auditor", work, "audit", "verify")
	s.ok("investigator", work, "case", "open", "KH-2026-032", "--title", "second")

	// Only auditors export; an existing non-empty folder is refused.
	s.refused("investigator", work, "only auditors", "audit", "export", "-o", filepath.Join(work, "nope"))
	if _, err := os.Stat(filepath.Join(work, "nope")); err == nil {
		t.Fatal("a refused export left its folder")
	}
	full := filepath.Join(work, "full")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	s.refused("auditor", work, "not empty", "audit", "export", "-o", full)

	dir := filepath.Join(work, "empty")
	os.Mkdir(dir, 0o755)
	out := s.ok("auditor", work, "audit", "export", "-o", dir, "--json").json(t)
	key := s.ok("auditor", work, "audit", "key", "--json").json(t)
	if out["dir"] != dir || out["key_fingerprint"] != key["fingerprint"] || out["events"].(float64) < 5 || out["checkpoints"].(float64) < 2 {
		t.Fatalf("audit export answered %v (key %v)", out, key)
	}

	// The key: one line, the one the vault names.
	kb, err := os.ReadFile(filepath.Join(dir, "key"))
	if err != nil || string(kb) != key["key"].(string)+"\n" {
		t.Fatalf("key file %q (%v), want %q", kb, err, key["key"])
	}
	verifier, err := note.NewVerifier(strings.TrimSuffix(string(kb), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	origin := verifier.Name()

	// The events: decode, seq, prev chain, leaf hashes into the tree.
	f, err := os.Open(filepath.Join(dir, "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tree events.Tree
	var prev events.Hash
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), events.MaxEventSize+1)
	for sc.Scan() {
		b := sc.Bytes()
		e, err := events.Decode(b)
		if err != nil {
			t.Fatalf("event %d: %v", tree.Size(), err)
		}
		if e.Seq != tree.Size() || e.Prev != hex.EncodeToString(prev[:]) {
			t.Fatalf("event %d: seq %d prev %s", tree.Size(), e.Seq, e.Prev)
		}
		if e.Seq == 0 {
			var d vault.LogOpened
			if e.Type != vault.TypeLogOpened || e.DecodeData(&d) != nil || d.CheckpointKey+"\n" != string(kb) || d.Origin != origin {
				t.Fatalf("event 0 does not open the log with the exported key: %s", b)
			}
		}
		prev = events.LeafHash(b)
		tree.Append(prev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if tree.Size() != uint64(out["events"].(float64)) {
		t.Fatalf("%d events in the file, %v reported", tree.Size(), out["events"])
	}

	// The checkpoints: signed by the key, named by size, each with the
	// root of the replayed tree of its size; the newest covers all.
	ents, err := os.ReadDir(filepath.Join(dir, "checkpoints"))
	if err != nil || len(ents) != int(out["checkpoints"].(float64)) {
		t.Fatalf("checkpoints/: %d files (%v), %v reported", len(ents), err, out["checkpoints"])
	}
	var newest uint64
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, "checkpoints", e.Name()))
		cp, err := events.ParseCheckpoint(b, origin, verifier)
		if err != nil {
			t.Fatalf("checkpoints/%s: %v", e.Name(), err)
		}
		if want := fmt.Sprintf("%020d", cp.Size); e.Name() != want {
			t.Errorf("checkpoints/%s holds the checkpoint of size %d", e.Name(), cp.Size)
		}
		root, err := tree.Root(cp.Size)
		if err != nil || root != cp.Root {
			t.Fatalf("checkpoints/%s: root %x, the events' tree %x (%v)", e.Name(), cp.Root, root, err)
		}
		newest = max(newest, cp.Size)
	}
	if newest != tree.Size() {
		t.Fatalf("the newest checkpoint covers %d of %d events", newest, tree.Size())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.txt")); !bytes.Contains(b, []byte("docs/custody-log.md")) {
		t.Errorf("README.txt: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(work, ".*partial*")); len(left) != 0 {
		t.Errorf("temporary folders left: %v", left)
	}
	// A second export into the now full folder is refused.
	s.refused("auditor", work, "not empty", "audit", "export", "-o", dir)
}
