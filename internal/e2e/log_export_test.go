package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// TestAuditOfAnExport: an export is audited without the vault, with
// custos audit verify --store DIR and the key the auditor was given,
// as the store itself is; it says that an export holds no lookup values
// and no sticky head, and proves with the auditor's own checkpoint that
// none was cut from its end. Each kind of change to a copy of the folder
// fails the audit, naming what changed: an event's bytes, an event
// removed from the middle or from the end (with its checkpoints), an
// event added after the newest checkpoint, a checkpoint of another key
// or moved to another size's name, Windows line ends; and another key
// than the log's is refused before anything is read.
func TestAuditOfAnExport(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-041", "--title", "export audit")
	ev, _, _ := evidence(t, work, "note.txt", 64)
	s.ok("investigator", work, "deposit", "--case", "KH-2026-041", ev)
	early := filepath.Join(work, "early.checkpoint")
	s.ok("auditor", work, "audit", "verify", "--save-checkpoint", early)
	s.ok("investigator", work, "case", "open", "KH-2026-042", "--title", "second")
	s.ok("auditor", work, "audit", "verify")
	keyFile := filepath.Join(work, "vault.key")
	os.WriteFile(keyFile, []byte(s.ok("auditor", work, "audit", "key").stdout), 0o644)
	dir := filepath.Join(work, "export")
	exp := s.ok("auditor", work, "audit", "export", "-o", dir, "--json").json(t)
	// The server is not asked: no address, no session.
	offline := func(args ...string) result {
		t.Helper()
		return s.run("", work, "custos", append([]string{"audit", "verify", "--key", keyFile}, args...)...)
	}

	r := offline("--store", dir, "--json")
	if r.code != 0 {
		t.Fatalf("the export's audit failed: %s", r.stderr)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out["ok"] != true || out["events"] != exp["events"] || out["sticky_head_compared"] != false {
		t.Fatalf("the export's audit answered %v (export %v)", out, exp)
	}
	r = offline("--store", dir)
	if !strings.Contains(r.stdout, "of the export folder "+dir) || !strings.Contains(r.stdout, "an export holds no lookup values") ||
		!strings.Contains(r.stdout, "an export folder holds none") {
		t.Fatalf("the export's audit does not say what it read:\n%s", r.stdout)
	}
	r = offline("--store", dir, "--checkpoint", early)
	if r.code != 0 || !strings.Contains(r.stdout, "the log extends") {
		t.Fatalf("the export with the auditor's own checkpoint: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The timeline read from the export is the server's, up to the
	// export's size: a case's, an item's (with the packages and
	// destruction of its case), the whole log's.
	item := regexp.MustCompile(`it_[0-9a-f]{24}`).FindString(s.ok("investigator", work, "item", "list", "--case", "KH-2026-041").stdout)
	// A destruction asked and rejected before an item comes is in that
	// item's timeline too, as the server gives it.
	req := s.ok("custodian", work, "case", "destroy", "KH-2026-041", "--order", "ORD-7", "--reason", "asked too soon", "--json").json(t)
	s.ok("custodian2", work, "reject", req["request"].(string), "--reason", "the trial is not over")
	later, _, _ := evidence(t, work, "later.txt", 64)
	laterItem := s.ok("investigator", work, "deposit", "--case", "KH-2026-041", later, "--json").json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	s.prosecutorRecipient(work)
	pkg := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-041", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pkg["package"].(string), "-o", "bundle.tar")
	dir2 := filepath.Join(work, "export2")
	exp2 := s.ok("auditor", work, "audit", "export", "-o", dir2, "--json").json(t)
	for _, filter := range [][]string{{"--case", "KH-2026-041"}, {"--item", item}, {"--item", laterItem}, {"--person", "investigator", "--since", "2026-01-01"}, nil} {
		server := seqs(t, s.ok("auditor", work, append([]string{"audit", "log", "--json"}, filter...)...).stdout, uint64(exp2["events"].(float64)))
		r := s.run("", work, "custos", append([]string{"audit", "log", "--json", "--store", dir2, "--key", keyFile}, filter...)...)
		if r.code != 0 {
			t.Fatalf("audit log --store %v: %s", filter, r.stderr)
		}
		if offline := seqs(t, r.stdout, 1<<62); !slices.Equal(offline, server) || len(server) < 2 {
			t.Fatalf("audit log %v: the export's timeline %v, the server's %v", filter, offline, server)
		}
	}
	if r := s.run("", work, "custos", "audit", "log", "--store", dir2, "--key", keyFile, "--item", item); r.code != 0 || !strings.Contains(r.stdout, "sealed") {
		t.Fatalf("the item's timeline from the export does not show its package:\n%s%s", r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "log", "--store", dir2, "--key", keyFile, "--item", "it_000000000000000000000000"); r.code == 0 || !strings.Contains(r.stderr, "no item") {
		t.Fatalf("an item nothing names: %d %s", r.code, r.stderr)
	}
	// A name typed for an id, or an id cut short: the items it may mean.
	for _, typed := range []string{"later", laterItem[:10]} {
		if r := s.run("", work, "custos", "audit", "log", "--store", dir2, "--key", keyFile, "--item", typed); r.code == 0 || !strings.Contains(r.stderr, laterItem+` "later.txt" (case KH-2026-041)`) {
			t.Fatalf("--item %s: %d %s", typed, r.code, r.stderr)
		}
	}
	// What was audited is said before the timeline.
	if r := s.run("", work, "custos", "audit", "log", "--store", dir2, "--key", keyFile, "--case", "KH-2026-042"); !strings.Contains(r.stderr, "audited: events 0 to ") || !strings.Contains(r.stderr, "warning: the vault's sticky head") {
		t.Fatalf("audit log --store does not say what it audited:\n%s", r.stderr)
	}
	// Without --store and without a vault: where the offline way is.
	if r := s.run("", work, "custos", "audit", "log", "--item", item); r.code == 0 || !strings.Contains(r.stderr, "--store DIR --key KEY") {
		t.Fatalf("audit log without a vault: %s", r.stderr)
	}

	// The export names its newest checkpoint, the one it is cut at: a
	// copy handed over apart from the folder, given to the audit and to
	// the timeline, proves its end.
	newestFile, _ := exp["newest_checkpoint"].(string)
	if want := filepath.Join(dir, "checkpoints", fmt.Sprintf("%020d", uint64(exp["events"].(float64)))); newestFile != want {
		t.Fatalf("audit export names %q as its newest checkpoint, want %q", newestFile, want)
	}
	handed := filepath.Join(work, "handed-over.checkpoint")
	os.WriteFile(handed, must(os.ReadFile(newestFile)), 0o644)
	if r := offline("--store", dir, "--checkpoint", handed); r.code != 0 || !strings.Contains(r.stdout, "the log extends the saved checkpoint of "+fmt.Sprint(exp["events"])) {
		t.Fatalf("the export with its newest checkpoint handed over: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "log", "--store", dir, "--key", keyFile, "--checkpoint", handed, "--case", "KH-2026-041"); r.code != 0 || !strings.Contains(r.stderr, "audited: ") || !strings.Contains(r.stdout, "KH-2026-041") {
		t.Fatalf("audit log --store with --checkpoint: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	lines := strings.SplitAfter(string(must(os.ReadFile(filepath.Join(dir, "events.ndjson")))), "\n")
	lines = lines[:len(lines)-1] // after the last newline
	cps, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	newest := cps[len(cps)-1].Name()
	earlySize := func() int {
		b := must(os.ReadFile(early))
		n, _ := strconv.Atoi(strings.Split(string(b), "\n")[1])
		return n
	}()
	// variant copies the export, changes it, and audits the copy.
	variant := func(name string, change func(d string), want string, args ...string) {
		t.Helper()
		d := filepath.Join(work, name)
		if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		change(d)
		r := offline(append([]string{"--store", d}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Fatalf("%s: the audit answered %d, stderr %q, want %q", name, r.code, r.stderr, want)
		}
		// What to do next is an export's: another copy first.
		if !strings.Contains(r.stderr, "an export is a copy of the log") || strings.Contains(r.stderr, "keep the vault, its data folder") {
			t.Fatalf("%s: the advice after the failure is not an export's:\n%s", name, r.stderr)
		}
	}
	writeEvents := func(d string, ls []string) {
		os.WriteFile(filepath.Join(d, "events.ndjson"), []byte(strings.Join(ls, "")), 0o644)
	}
	opened := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, `"KH-2026-041"`) })
	variant("edited", func(d string) {
		ls := slices.Clone(lines)
		ls[opened] = strings.Replace(ls[opened], `"KH-2026-041"`, `"KH-2026-049"`, 1)
		writeEvents(d, ls)
	}, fmt.Sprintf("event %d", opened+1)) // the next event's prev no longer matches
	variant("removed", func(d string) { writeEvents(d, slices.Delete(slices.Clone(lines), 2, 3)) }, "event 2")
	// A timeline is shown only of a log that passes its audit.
	if r := s.run("", work, "custos", "audit", "log", "--store", filepath.Join(work, "removed"), "--key", keyFile); r.code == 0 || !strings.Contains(r.stderr, "no timeline of it is shown") || r.stdout != "" {
		t.Fatalf("the timeline of an export with an event removed: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	variant("added", func(d string) { writeEvents(d, append(slices.Clone(lines), lines[len(lines)-1])) }, "after it was written")
	variant("crlf", func(d string) {
		writeEvents(d, []string{strings.ReplaceAll(strings.Join(lines, ""), "\n", "\r\n")})
	}, "carriage return")
	variant("unsigned", func(d string) {
		os.RemoveAll(filepath.Join(d, "checkpoints"))
		os.Mkdir(filepath.Join(d, "checkpoints"), 0o755)
	}, "holds no checkpoint in checkpoints/")
	variant("renamed", func(d string) {
		os.Rename(filepath.Join(d, "checkpoints", newest), filepath.Join(d, "checkpoints", fmt.Sprintf("%020d", 1)))
	}, "does not hold a checkpoint of size 1, as its name says: it was changed or renamed after the export\n")
	variant("foreign", func(d string) {
		b := must(os.ReadFile(filepath.Join(d, "checkpoints", newest)))
		b[len(b)-3] ^= 1 // the signature's last bytes
		os.WriteFile(filepath.Join(d, "checkpoints", newest), b, 0o644)
	}, "not signed by the log's key")
	// The export cut back to the auditor's early checkpoint: it passes
	// alone, and fails against a checkpoint the auditor saved later.
	late := filepath.Join(work, "late.checkpoint")
	os.WriteFile(late, must(os.ReadFile(filepath.Join(dir, "checkpoints", newest))), 0o644)
	variant("cut", func(d string) {
		writeEvents(d, lines[:earlySize])
		for _, c := range cps {
			if n, _ := strconv.Atoi(c.Name()); n > earlySize {
				os.Remove(filepath.Join(d, "checkpoints", c.Name()))
			}
		}
		if r := offline("--store", d, "--checkpoint", early); r.code != 0 {
			t.Fatalf("the export cut back to the early checkpoint fails alone: %s", r.stderr)
		}
	}, "if the checkpoint given was saved after the export was made, this is no finding: ask for a newer export", "--checkpoint", late)
	other := filepath.Join(work, "other.key")
	_, vkey, err := note.GenerateKey(rand.Reader, "custos-other")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(other, []byte(vkey+"\n"), 0o644)
	if r := s.run("", work, "custos", "audit", "verify", "--store", dir, "--key", other); r.code == 0 || !strings.Contains(r.stderr, "nothing of the log was checked") {
		t.Fatalf("another key: %d %s", r.code, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "verify", "--store", work); r.code == 0 || !strings.Contains(r.stderr, "--store needs --key") {
		t.Fatalf("without a key: %d %s", r.code, r.stderr)
	}
	if r := offline("--store", t.TempDir()); r.code != 2 || !strings.Contains(r.stderr, "is not a custody log export") {
		t.Fatalf("a folder that is no export: %d %s", r.code, r.stderr)
	}
	// The usual slips: the folder above the export, its events file, its
	// checkpoints folder, a zip of it, a name that is not there.
	zipped := filepath.Join(work, "export.zip")
	os.WriteFile(zipped, []byte("PK\x03\x04 the rest of a zip file"), 0o644)
	for _, c := range []struct{ store, want string }{
		{work, "is not itself a custody log export, but holds one: give " + work},
		{filepath.Join(dir, "events.ndjson"), "is one file of an export: give the folder that holds it, " + dir},
		{filepath.Join(dir, "checkpoints"), "is the export's checkpoints folder: give the folder above it, " + dir},
		{zipped, "is a zip file: unpack it first"},
		{filepath.Join(work, "nowhere"), "no such file or folder"},
	} {
		if r := offline("--store", c.store); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Fatalf("--store %s: %d %s, want %q", c.store, r.code, r.stderr, c.want)
		}
	}
	// An export holding another folder that is one (an older export
	// kept inside) is still read as itself.
	if err := os.CopyFS(filepath.Join(dir2, "older"), os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if r := offline("--store", dir2); r.code != 0 {
		t.Fatalf("an export with another inside it: %s", r.stderr)
	}
	// The folder's own key vouches for nothing: said.
	if r := s.run("", work, "custos", "audit", "verify", "--store", dir, "--key", filepath.Join(dir, "key")); !strings.Contains(r.stderr, "is inside the export") {
		t.Fatalf("--key from inside the export: %s", r.stderr)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// seqs are the positions of a timeline's events (audit log --json),
// those below n.
func seqs(t *testing.T, answer string, n uint64) []uint64 {
	t.Helper()
	var tl struct {
		Events []struct {
			Seq uint64 `json:"seq"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(answer), &tl); err != nil {
		t.Fatalf("%v: %s", err, answer)
	}
	var out []uint64
	for _, e := range tl.Events {
		if e.Seq < n {
			out = append(out, e.Seq)
		}
	}
	return out
}
