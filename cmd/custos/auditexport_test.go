package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
)

// TestAuditOfTheLogCases: custos audit verify --store reads each log
// case of the format's test cases (testdata/custody-log/cases, folders in
// the layout of custos audit export, docs/custody-log.md section 11) as
// an export, with the cases' key: the valid ones pass steps 3 to 6 of
// section 7, each invalid one fails them, as the audit engine alone
// judges them (events TestLogCases). The cases are logs of the format,
// not of a vault's work: their events act in sessions no event opened,
// which step 8, the custody rules, finds, and which is all it may find
// of a valid case.
func TestAuditOfTheLogCases(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "custody-log", "cases")
	b, err := os.ReadFile(filepath.Join(root, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases struct {
		Key   string `json:"key"`
		Cases []struct {
			File, Kind, Rule, Change string
			Valid                    bool
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(cases.Key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases.Cases {
		if c.Kind != "log" {
			continue
		}
		n++
		t.Run(filepath.Base(c.File), func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run([]string{"audit", "verify", "--store", filepath.Join(root, c.File), "--key", keyFile}, &out, &errs)
			ruleOnly := err != nil && strings.Contains(err.Error(), "the log's signatures hold: the vault recorded an action its rules forbid") &&
				strings.Contains(err.Error(), "which the log never opened")
			if (err == nil || ruleOnly) != c.Valid {
				t.Fatalf("%s (rule %s): audit verify answered %v, valid %v\n%s%s", c.Change, c.Rule, err, c.Valid, out.String(), errs.String())
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d log cases", n)
	}
}

// TestAuditOfAnExportSaysWhatItRead: a log that passes every step, read
// from an export folder, passes; the answer says it read an export,
// which holds no lookup values and no sticky head.
func TestAuditOfAnExportSaysWhatItRead(t *testing.T) {
	data, _, keyFile := stoppedVault(t)
	dir := filepath.Join(t.TempDir(), "export")
	writeExportOf(t, filepath.Join(data, "custody.db"), dir)
	var out, errs bytes.Buffer
	if err := run([]string{"audit", "verify", "--store", dir, "--key", keyFile}, &out, &errs); err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	// A checkpoint of another log names both logs.
	err := run([]string{"audit", "verify", "--store", dir, "--key", keyFile, "--checkpoint", filepath.Join("..", "..", "testdata", "custody-log", "checkpoint-5.txt")}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), `it is of the log "custos-vectors", this log is "custos-`) {
		t.Fatalf("another log's checkpoint: %v", err)
	}
	// The checkpoint that came with the export is kept as it came.
	given := filepath.Join(t.TempDir(), "given.checkpoint")
	ents0, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	os.WriteFile(given, must(os.ReadFile(filepath.Join(dir, "checkpoints", ents0[0].Name()))), 0o644)
	before := must(os.ReadFile(given))
	err = run([]string{"audit", "verify", "--store", dir, "--key", keyFile, "--checkpoint", given, "--save-checkpoint", given}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "would replace the checkpoint you gave") || !bytes.Equal(must(os.ReadFile(given)), before) {
		t.Fatalf("--save-checkpoint over the checkpoint given: %v", err)
	}
	out.Reset()
	errs.Reset()
	if err := run([]string{"audit", "verify", "--store", dir, "--key", keyFile}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	// A checkpoint taken from inside the folder, even named as the
	// vault's head, counts for nothing: neither the head nor yours.
	ents, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	newest, _ := os.ReadFile(filepath.Join(dir, "checkpoints", ents[len(ents)-1].Name()))
	os.WriteFile(filepath.Join(dir, "head.checkpoint"), newest, 0o644)
	var inside bytes.Buffer
	if err := run([]string{"audit", "verify", "--store", dir, "--key", keyFile, "--checkpoint", filepath.Join(dir, "head.checkpoint"), "--json"}, &inside, &errs); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Compared *bool    `json:"sticky_head_compared"`
		Extends  []uint64 `json:"extends_checkpoints"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(inside.Bytes(), &res); err != nil || res.Compared == nil || *res.Compared || len(res.Extends) != 0 ||
		!strings.Contains(strings.Join(res.Warnings, "\n"), "is inside the export") {
		t.Fatalf("a checkpoint from inside the export: %s", inside.String())
	}
	for _, want := range []string{"of the export folder " + dir, "an export holds no lookup values", "NOT compared with the vault's sticky head", "an export folder holds none"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the answer does not say %q:\n%s", want, out.String())
		}
	}
}

// writeExportOf writes the SQLite log at db into dir as custos audit
// export lays it out: its events, and its stored checkpoints.
func writeExportOf(t *testing.T, db, dir string) {
	t.Helper()
	r, err := sqlite.OpenReader(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	var newest uint64
	err = r.ReadCheckpoints(context.Background(), 0, func(c events.StoredCheckpoint) error {
		newest = c.Size
		return os.WriteFile(filepath.Join(dir, "checkpoints", fmt.Sprintf("%020d", c.Size)), c.Note, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	var nd bytes.Buffer
	err = r.Read(context.Background(), 0, func(rec events.Record) error {
		if rec.Seq < newest {
			nd.Write(rec.Bytes)
			nd.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events.ndjson"), nd.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTimelineOfAStoreFollowsItsAudit: audit log --store shows the
// timeline of a log whose integrity holds, saying first on standard error
// what the custody rules found (the format's valid case acts in sessions
// no event opened), and refuses to show one that fails its audit.
func TestTimelineOfAStoreFollowsItsAudit(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "custody-log", "cases")
	var cases struct {
		Key string `json:"key"`
	}
	b, _ := os.ReadFile(filepath.Join(root, "cases.json"))
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	err := run([]string{"audit", "log", "--store", filepath.Join(root, "log", "valid-vector"), "--key", cases.Key, "--json"}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	var tl struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(out.Bytes(), &tl); err != nil || len(tl.Events) != 12 {
		t.Fatalf("the valid case's timeline: %d events (%v)", len(tl.Events), err)
	}
	if !strings.Contains(errs.String(), "warning: the log's integrity holds, but") || !strings.Contains(errs.String(), "which the log never opened") || !strings.Contains(errs.String(), "audited: events 0 to 11, the log's integrity holds; its custody rules do not") {
		t.Fatalf("the rule findings are not said:\n%s", errs.String())
	}
	out.Reset()
	errs.Reset()
	err = run([]string{"audit", "log", "--store", filepath.Join(root, "log", "invalid-root"), "--key", cases.Key}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "no timeline of it is shown") || out.Len() != 0 {
		t.Fatalf("a log whose tree fails: %v\n%s", err, out.String())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", filepath.Join(root, "log", "valid-vector")}, "--store needs --key"},
		{[]string{"--key", cases.Key}, "give --store too"},
	} {
		err := run(append([]string{"audit", "log"}, c.args...), &out, &errs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("audit log %v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestAnExportsNewestCheckpointAlteredIsAFinding: a file under the
// largest checkpoint name that holds another size's checkpoint is a
// finding of the audit, answered with --json as any other ({"ok":false}),
// as it is under a smaller name; and an export's own key file naming
// another key than the log's is said.
func TestAnExportsNewestCheckpointAlteredIsAFinding(t *testing.T) {
	data, _, keyFile := stoppedVault(t)
	dir := filepath.Join(t.TempDir(), "export")
	writeExportOf(t, filepath.Join(data, "custody.db"), dir)
	ents, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	first, err := os.ReadFile(filepath.Join(dir, "checkpoints", ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoints", "00000000000000000099"), first, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "key"), []byte("custos-elsewhere+01234567+AAAA\n"), 0o644)
	var out, errs bytes.Buffer
	err = run([]string{"audit", "verify", "--store", dir, "--key", keyFile, "--json"}, &out, &errs)
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err == nil || !errors.Is(err, errAuditFailed) || !errors.As(err, new(*exportFailure)) || json.Unmarshal(out.Bytes(), &res) != nil || res.OK || !strings.Contains(res.Error, "does not hold a checkpoint of size 99") {
		t.Fatalf("the audit answered %v, %s", err, out.String())
	}
	if !strings.Contains(errs.String(), "warning: the export's key file names another key") {
		t.Fatalf("the export's other key is not said:\n%s", errs.String())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAnExportsKeyFileIsSaid: the folder's key file missing, of more
// lines than one, or not a file is said as a warning, and the audit,
// which judges by the key given alone, passes; a named pipe given as the
// store is refused at once, saying what to give.
func TestAnExportsKeyFileIsSaid(t *testing.T) {
	data, _, keyFile := stoppedVault(t)
	dir := filepath.Join(t.TempDir(), "export")
	writeExportOf(t, filepath.Join(data, "custody.db"), dir)
	key := strings.TrimSpace(strings.SplitN(string(must(os.ReadFile(keyFile))), "\n", 2)[0])
	for _, c := range []struct {
		name string
		make func(path string)
		want string
	}{
		{"missing", func(string) {}, "the export holds no key file"},
		{"two lines", func(p string) { os.WriteFile(p, []byte(key+"\n"+key+"\n"), 0o644) }, "the export's key file holds 2 lines, where an export writes one"},
		{"a folder", func(p string) { os.Mkdir(p, 0o755) }, "the export's key file is not a file"},
		{"a pipe", func(p string) { syscall.Mkfifo(p, 0o644) }, "the export's key file is not a file"},
	} {
		os.RemoveAll(filepath.Join(dir, "key"))
		c.make(filepath.Join(dir, "key"))
		var out, errs bytes.Buffer
		if err := run([]string{"audit", "verify", "--store", dir, "--key", keyFile}, &out, &errs); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !strings.Contains(errs.String(), "warning: "+c.want) {
			t.Fatalf("%s: stderr %q, want %q", c.name, errs.String(), c.want)
		}
	}
	pipe := filepath.Join(t.TempDir(), "store")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if err := run([]string{"audit", "verify", "--store", pipe, "--key", keyFile}, &out, &errs); err == nil || !strings.Contains(err.Error(), "is neither a file nor a folder") {
		t.Fatalf("a pipe for the store: %v", err)
	}
}
