package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/events"
)

// A checkpoint in form (its signature is the audit's to judge).
const formCheckpoint = "custos-test\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 custos-test AAAAAAAAAAAA\n"

// The file --save-checkpoint replaces is replaced only if it still holds
// what it held as the audit began: an audit that ran alongside and saved
// a newer checkpoint is never undone, whichever way the file changed.
func TestSaveCheckpointNeverUndoesAnotherSave(t *testing.T) {
	newer := strings.Replace(formCheckpoint, "\n12\n", "\n40\n", 1)
	for name, change := range map[string]func(path string){
		"replaced": func(path string) { os.WriteFile(path, []byte(newer), 0o644) },
		"removed":  func(path string) { os.Remove(path) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "saved.checkpoint")
			if err := os.WriteFile(path, []byte(formCheckpoint), 0o640); err != nil {
				t.Fatal(err)
			}
			target, err := readSaveTarget(path, nil)
			if err != nil || target.note == nil {
				t.Fatalf("%v %+v", err, target)
			}
			change(path)
			before, _ := os.ReadFile(path)
			if _, err := target.write([]byte("older")); err == nil || !strings.Contains(err.Error(), "while the audit ran") {
				t.Fatalf("saved over a file that changed during the audit: %v", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("the file was changed")
			}
		})
	}
	// A file that appears during the audit is left too.
	path := filepath.Join(t.TempDir(), "new.checkpoint")
	target, err := readSaveTarget(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(newer), 0o644)
	if _, err := target.write([]byte("older")); err == nil {
		t.Fatal("saved over a file that appeared during the audit")
	}
}

// A regular file is replaced with its permission bits kept; a link keeps
// leading to the newest checkpoint; a pipe is written through.
func TestSaveCheckpointTargets(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "media", "cp")
	os.MkdirAll(filepath.Dir(real), 0o755)
	if err := os.WriteFile(real, []byte(formCheckpoint), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	target, err := readSaveTarget(link, nil)
	if err != nil {
		t.Fatal(err)
	}
	if replaced, err := target.write([]byte("newer\n")); err != nil || !replaced {
		t.Fatalf("%v %v", replaced, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(real); string(b) != "newer\n" {
		t.Fatalf("the link's target holds %q", b)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", fi.Mode().Perm())
	}

	// A link to a file not made yet: the file is made where it leads, the
	// link kept, with the umask applied as to any new file.
	dangling := filepath.Join(dir, "to-media")
	if err := os.Symlink(filepath.Join("media", "new.cp"), dangling); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077)
	target, err = readSaveTarget(dangling, nil)
	if err == nil {
		_, err = target.write([]byte("first\n"))
	}
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the dangling link was replaced by a file")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "media", "new.cp")); string(b) != "first\n" {
		t.Fatalf("the link's new target holds %q", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "media", "new.cp")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("a new file under umask 077 has mode %v", fi.Mode().Perm())
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	target, err = readSaveTarget(fifo, nil)
	if err != nil || !target.stream {
		t.Fatalf("%v %+v", err, target)
	}
	if _, err := target.write([]byte(formCheckpoint)); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != formCheckpoint {
		t.Fatalf("the pipe's reader got %q", b)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatal("the pipe was replaced by a file")
	}

	// A folder, and a file holding something else, are refused before
	// the audit.
	if _, err := readSaveTarget(dir, nil); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Fatalf("a folder: %v", err)
	}
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("meeting notes\n"), 0o644)
	if _, err := readSaveTarget(notes, nil); err == nil || !strings.Contains(err.Error(), "left as it is") {
		t.Fatalf("a file of notes: %v", err)
	}
}

// A flag left without its value (it swallows the next flag) and a file
// flag given an empty value (an unset variable in a script) are usage
// errors before anything is read or sent, never ignored.
func TestFlagsWithoutValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "verify", "--save-checkpoint", "--key", "vault.key"}, "--save-checkpoint needs a value: it was followed by --key"},
		{[]string{"audit", "verify", "--checkpoint", "--json"}, "--checkpoint needs a value: it was followed by --json"},
		{[]string{"audit", "verify", "--checkpoint", ""}, "--checkpoint is empty"},
		{[]string{"audit", "verify", "--save-checkpoint", " "}, "--save-checkpoint is empty"},
		{[]string{"audit", "verify", "--witness-policy", ""}, "--witness-policy is empty"},
		{[]string{"audit", "verify", "--key", ""}, "--key is empty"},
		// Every command alike: a value left empty is refused before
		// anything is sent, whatever the command.
		{[]string{"get", "it_000000000000000000000001", "--purpose", "", "-o", "x"}, "--purpose is empty"},
		{[]string{"deposit", "--case", " ", "evidence.bin"}, "--case is empty"},
		{[]string{"package", "seal", "--case", "C-1", "--for", "", "--purpose", "trial"}, "--for is empty"},
		{[]string{"report", "new", "--url", "https://a.example/x", "--url", ""}, "--url is empty"},
		{[]string{"get", "it_000000000000000000000001", "--purpose", "--reveal-known", "-o", "x"}, "--purpose needs a value"},
		// Each value of a repeated flag.
		{[]string{"report", "new", "--url", "https://a.example/x", "--url", "--anonymous"}, "--url needs a value: it was followed by --anonymous"},
		// A flag of one value given twice: the flag package would keep
		// the last alone, unseen.
		{[]string{"audit", "verify", "--key", "a", "--key", "b"}, "--key was given more than once"},
		{[]string{"get", "it_000000000000000000000001", "--purpose", "review", "-o", "x", "--purpose=other"}, "--purpose was given more than once"},
		// Two flags reading standard input.
		{[]string{"audit", "verify", "--key", "-", "--checkpoint", "-"}, "only one of the files may be standard input"},
		{[]string{"audit", "verify", "--checkpoint", "a", "--checkpoint", "-", "--checkpoint", "-"}, "only one of the files may be standard input"},
	} {
		var out, errb strings.Builder
		err := run(c.args, &out, &errb)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
}

// An empty or blank argument (an unset variable in a script) is refused
// as a mistake in how the command was typed, in every command, before
// anything is sent: the vault never sees a request for ".../destruction//approve".
func TestEmptyArgumentsRefused(t *testing.T) {
	sent := 0
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent++
		http.NotFound(w, r)
	}))
	defer vault.Close()
	t.Setenv("CUSTOS_SERVER", vault.URL)
	t.Setenv("CUSTOS_TOKEN", "css_"+strings.Repeat("0", 64))
	t.Setenv("CUSTOS_CONFIG_DIR", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"case", "approve-destruction", "KH-2026-099", ""}, "case approve-destruction: argument 2 is empty"},
		{[]string{"case", "approve-destruction", "", "dr_000000000000000000000001"}, "case approve-destruction: argument 1 is empty"},
		{[]string{"approve", " "}, "approve: argument 1 is empty"},
		{[]string{"item", "show", "", "--json"}, "item show: argument 1 is empty"},
		{[]string{"deposit", "--case", "C-1", "evidence.bin", ""}, "deposit: argument 2 is empty"},
	} {
		var out, errb strings.Builder
		err := run(c.args, &out, &errb)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
	if sent != 0 {
		t.Fatalf("%d requests reached the vault for commands with an empty argument", sent)
	}
}

// A value given as --name=VALUE is meant, even one that spells a flag.
func TestExplicitFlagValuesTaken(t *testing.T) {
	fs := newFlags("deposit")
	name := fs.String("name", "", "")
	fs.Bool("report", false, "")
	if _, err := parse(fs, []string{"--name=-report", "-"}); err != nil || *name != "-report" {
		t.Fatalf("--name=-report: %v, name %q", err, *name)
	}
}

// Wherever the vault's sticky head is not found, an audit of the store
// says it was not compared, what that leaves unproven and where to copy
// the head from: a PostgreSQL store (no data folder beside it) as a copy
// of the SQLite file alone (testdata/script/auditstore.txtar). A copy of
// the head is known by its name.
func TestHeadNotComparedSaysWhereAndWhy(t *testing.T) {
	pg := &localLog{path: "postgres://custos@db.example/custos"}
	for own, want := range map[string]string{
		"":                      "a log cut short together with its newest checkpoints and batch seal would pass it",
		"your saved checkpoint": "a log cut short after your saved checkpoint would pass it",
	} {
		w := pg.headNotCompared(own)
		for _, s := range []string{"the vault's sticky head, its own record of how long the log is, was not compared",
			"a PostgreSQL store has no data folder beside it", want, "DATA/keyring/head.checkpoint", "--checkpoint head.checkpoint"} {
			if !strings.Contains(w, s) {
				t.Errorf("own %q: the warning lacks %q: %s", own, s, w)
			}
		}
	}
	for file, head := range map[string]bool{
		"data/keyring/head.checkpoint":  true,
		"copied/head.checkpoint":        true,
		"head.checkpoint":               true,
		"mine.checkpoint":               false,
		"data/keyring/head.checkpoint2": false,
	} {
		if isStickyHead(file) != head {
			t.Errorf("isStickyHead(%q) = %v", file, !head)
		}
	}
}

// What a passed audit says it checked besides the vault's checkpoints:
// the auditor's own, the one --save-checkpoint replaced, and the sticky
// head, each named for what it is, by its size and the time of the log it
// holds (its last event's), where the replay read it.
func TestSavedSummary(t *testing.T) {
	asOf := func(size uint64) string {
		switch size {
		case 12:
			return "the log as of 2026-12-05 12:56:10 UTC"
		case 14:
			return "the log as of 2026-12-05 12:58:02 UTC"
		}
		return ""
	}
	own := func(size uint64) savedCheckpoint {
		return savedCheckpoint{&events.Checkpoint{Size: size}, "mine.checkpoint", false}
	}
	head := savedCheckpoint{&events.Checkpoint{Size: 14}, "data/keyring/head.checkpoint", true}
	copied := savedCheckpoint{&events.Checkpoint{Size: 14}, "data/objects/head/00000000000000000014", true}
	for _, c := range []struct {
		given          []savedCheckpoint
		previous       bool
		which, extends string
	}{
		{nil, false, "signed checkpoints", ""},
		{nil, true, "signed checkpoints (the vault's and your saved one)", ""},
		{[]savedCheckpoint{own(12)}, false, "signed checkpoints (the vault's and your saved one)", "the saved checkpoint of 12 events (the log as of 2026-12-05 12:56:10 UTC)"},
		{[]savedCheckpoint{own(12), own(9)}, true, "signed checkpoints (the vault's and your 3 saved ones)", "the saved checkpoints of 12 events (the log as of 2026-12-05 12:56:10 UTC) and 9 events"},
		{[]savedCheckpoint{head}, false, "signed checkpoints (the vault's and its sticky head)", "the vault's sticky head (14 events, the log as of 2026-12-05 12:58:02 UTC, data/keyring/head.checkpoint)"},
		{[]savedCheckpoint{own(12), head}, false, "signed checkpoints (the vault's and its sticky head and your saved one)",
			"the saved checkpoint of 12 events (the log as of 2026-12-05 12:56:10 UTC) and the vault's sticky head (14 events, the log as of 2026-12-05 12:58:02 UTC, data/keyring/head.checkpoint)"},
		{[]savedCheckpoint{copied, head}, false, "signed checkpoints (the vault's and its sticky head)",
			"the sticky head's copy in the vault's object store (14 events, the log as of 2026-12-05 12:58:02 UTC, data/objects/head/00000000000000000014) and the vault's sticky head (14 events, the log as of 2026-12-05 12:58:02 UTC, data/keyring/head.checkpoint)"},
	} {
		which, extends := savedSummary(c.given, c.previous, asOf)
		if which != c.which || extends != c.extends {
			t.Errorf("%d given, previous %v: %q, %q; want %q, %q", len(c.given), c.previous, which, extends, c.which, c.extends)
		}
	}
}
