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
	"testing"

	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/vault"
)

// runDataVault opens a vault on the server's layout of the data folder
// data (DATA/custody.db, DATA/keyring, DATA/objects), enrols the persons
// named, and stops it, which publishes a checkpoint of every event and
// writes the sticky head and its copy. It returns the log's verifier key.
func runDataVault(t *testing.T, data string, persons ...string) string {
	t.Helper()
	v, stop := openDataVault(t, data)
	for _, p := range persons {
		if _, err := v.Enroll(context.Background(), p, vault.RoleInvestigator); err != nil {
			t.Fatal(err)
		}
	}
	key := v.VerifierKey()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return key
}

// stoppedVault is a data folder whose vault ran once and stopped, its
// log key, and a file holding it as custos audit key writes it.
func stoppedVault(t *testing.T) (data, key, keyFile string) {
	t.Helper()
	data = t.TempDir()
	key = runDataVault(t, data, "inv-1")
	keyFile = filepath.Join(t.TempDir(), "vault.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return data, key, keyFile
}

// TestAuditOfTheStoreReadsTheHeadsFirst: a vault running beside an
// audit of its store appends, and then writes a newer head, at any
// moment. The audit reads the heads (readHeads) before it opens the
// store, so that a head it compares is never ahead of the events it
// read: here the vault runs again as soon as the heads are read, and the
// audit passes, having read the events that run added. An audit that
// read the heads after the store's events would find the newer head
// ahead of them and fail; one that did not read them by readHeads fails
// here too.
func TestAuditOfTheStoreReadsTheHeadsFirst(t *testing.T) {
	data, key, keyFile := stoppedVault(t)
	runs := 0
	afterHeadsRead = func() {
		runs++
		if k := runDataVault(t, data, fmt.Sprintf("inv-%d-a", runs), fmt.Sprintf("inv-%d-b", runs)); k != key {
			t.Fatalf("the vault's run beside the audit has key %q, not %q", k, key)
		}
	}
	defer func() { afterHeadsRead = nil }()
	var out, errs bytes.Buffer
	err := run([]string{"audit", "verify", "--store", filepath.Join(data, "custody.db"), "--key", keyFile, "--json"}, &out, &errs)
	if runs == 0 {
		t.Fatal("the audit did not read the heads by readHeads")
	}
	if err != nil {
		t.Fatalf("an audit beside a vault that ran again once the heads were read: %v\n%s\n%s", err, out.String(), errs.String())
	}
	var res struct {
		OK     bool   `json:"ok"`
		Events uint64 `json:"events"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if want := storedEvents(t, filepath.Join(data, "custody.db")); !res.OK || res.Events != want || runs != 1 {
		t.Fatalf("the audit checked %d events (ok %v, the heads read %d times), want the store's %d, once: %s", res.Events, res.OK, runs, want, out.String())
	}
}

// storedEvents is how many events the SQLite log at path holds.
func storedEvents(t *testing.T, path string) uint64 {
	t.Helper()
	r, err := sqlite.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, _, err := r.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAStoreWrittenDuringItsAuditIsNoFinding: a stopped vault's SQLite
// file (no write-ahead log beside it) is read as a file nobody writes. A
// server started on it while the audit reads it changes it under the
// reader, which may then read two states of it: the audit says so and
// asks for another, rather than report the mixture as a log truncated or
// rolled back (it did, a false alarm of tampering) or pass it.
func TestAStoreWrittenDuringItsAuditIsNoFinding(t *testing.T) {
	data, _, keyFile := stoppedVault(t)
	if _, err := os.Stat(filepath.Join(data, "custody.db-wal")); err == nil {
		t.Fatal("a stopped vault's store has a write-ahead log beside it: the case this guards does not arise")
	}
	runs := 0
	afterStoreOpened = func() {
		runs++
		runDataVault(t, data, "inv-2", "inv-3")
	}
	defer func() { afterStoreOpened = nil }()
	var out, errs bytes.Buffer
	err := run([]string{"audit", "verify", "--store", filepath.Join(data, "custody.db"), "--key", keyFile, "--json"}, &out, &errs)
	if runs != 1 {
		t.Fatalf("the store was opened %d times", runs)
	}
	if err == nil || errors.Is(err, errAuditFailed) || !strings.Contains(err.Error(), "was written while this audit read it") {
		t.Fatalf("an audit of a store a server wrote meanwhile: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"ok":false`) {
		t.Fatalf("--json: %s", out.String())
	}
	// Audited again, the store passes.
	afterStoreOpened = nil
	out.Reset()
	if err := run([]string{"audit", "verify", "--store", filepath.Join(data, "custody.db"), "--key", keyFile, "--json"}, &out, &errs); err != nil {
		t.Fatalf("the store audited again: %v\n%s", err, out.String())
	}
}
