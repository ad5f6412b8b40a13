package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/objects"
	"golang.org/x/mod/sumdb/note"
)

// Key files on the record (docs/keys.md): each key's two files are
// recorded by their SHA-256 when written, and a start and a scrub judge
// the files and their replicas against that record.

// keyFileDigest is the SHA-256 (hex) of a key file in the keyring folder.
func keyFileDigest(t *testing.T, v *Vault, id, suffix string) string {
	t.Helper()
	b, err := os.ReadFile(v.keys.caseFile(id, suffix))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// replicaNames lists the replicas of one kind of a key's files.
func replicaNames(t *testing.T, v *Vault, id, suffix string) []string {
	t.Helper()
	names, err := v.keys.replicas(context.Background(), id, suffix)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// overwriteObject replaces a stored object's bytes in the file store
// under DIR/objects, as someone with the store's folder would.
func overwriteObject(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, "objects", filepath.FromSlash(name))
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o400); err != nil {
		t.Fatal(err)
	}
}

// TestKeyFilesAreOnTheRecord: a case's opening and the reporter-contacts
// key's creation record the SHA-256 of both files of the key, which are
// the bytes in the keyring folder and in each replica.
func TestKeyFilesAreOnTheRecord(t *testing.T) {
	v, _ := openTestVaultDir(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	openCases(t, v, inv, "K-1")
	if _, err := v.sealContact(ctx, "reporter@example.org"); err != nil {
		t.Fatal(err)
	}
	recorded := map[string]KeyFiles{}
	for _, ev := range logged(t, v) {
		switch ev.Type {
		case TypeCaseOpened:
			var d CaseOpened
			if err := ev.DecodeData(&d); err != nil || d.KeyFiles == nil {
				t.Fatalf("case.opened %s: %v, key_files %v", ev.Data, err, d.KeyFiles)
			}
			recorded[ev.Case] = *d.KeyFiles
		case TypeContactsKeyCreated:
			var d ContactsKeyCreated
			if err := ev.DecodeData(&d); err != nil || d.KeyFiles == nil {
				t.Fatalf("reports.contacts.key %s: %v", ev.Data, err)
			}
			recorded[contactsKeyID] = *d.KeyFiles
		}
	}
	for _, id := range []string{"K-1", contactsKeyID} {
		for _, suffix := range []string{sealedSuffix, recoverySuffix} {
			want := recorded[id].digestOf(suffix)
			if got := keyFileDigest(t, v, id, suffix); got != want {
				t.Errorf("%s%s: the file's SHA-256 is %s, the log recorded %q", id, suffix, got, want)
			}
			names := replicaNames(t, v, id, suffix)
			if len(names) != 1 {
				t.Fatalf("%s%s: replicas %v", id, suffix, names)
			}
			b, err := objects.ReadSmall(ctx, v.objects, names[0], maxKeyFile)
			if err != nil {
				t.Fatal(err)
			}
			if fileDigest(b) != want {
				t.Errorf("%s%s: the replica is not the recorded file", id, suffix)
			}
		}
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	if res, err := v.Scrub(ctx, aud); err != nil || !res.OK {
		t.Fatalf("scrub of untouched keys: %+v %v", res, err)
	}
}

// TestScrubFindsKeyFilesRewrittenWithTheirReplicas: an insider who writes
// the same bytes into a key file and its replica (so that the two still
// agree) is found: the file is not the one the log recorded, and the
// replica is unaccounted. Each file of each key is such a place: the
// sealed file and the recovery copy of a case key, and the sealed file
// of the reporter-contacts key.
func TestScrubFindsKeyFilesRewrittenWithTheirReplicas(t *testing.T) {
	for _, tc := range []struct {
		name, id, suffix, want string
	}{
		{"sealed file", "K-1", sealedSuffix, "case K-1: sealed file: not the file the log recorded"},
		{"recovery copy", "K-1", recoverySuffix, "case K-1: recovery copy: not the file the log recorded"},
		{"reporter-contacts key", contactsKeyID, sealedSuffix, "the reporter-contacts key: sealed file: not the file the log recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, dir := openTestVaultDir(t)
			ctx := context.Background()
			inv := enrolled(t, v, "inv", RoleInvestigator)
			aud := enrolled(t, v, "aud", RoleAuditor)
			openCases(t, v, inv, "K-1", "K-2")
			if _, err := v.sealContact(ctx, "reporter@example.org"); err != nil {
				t.Fatal(err)
			}
			junk := []byte(strings.Repeat("anything at all, kept under the vault's name\n", 40))
			names := replicaNames(t, v, tc.id, tc.suffix)
			rewriteAlike(t, v, dir, tc.id, tc.suffix, junk)
			res, err := v.Scrub(ctx, aud)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || !slices.Equal(res.KeysAltered, []string{tc.want}) || !slices.Equal(res.Unaccounted, names) {
				t.Fatalf("scrub: ok %v, keys altered %q, unaccounted %v; want %q and %v", res.OK, res.KeysAltered, res.Unaccounted, tc.want, names)
			}
			// And the scrub's event says so.
			var d AuditScrubbed
			evs := logged(t, v)
			if err := evs[len(evs)-1].DecodeData(&d); err != nil || !slices.Equal(d.KeysAltered, []string{tc.want}) {
				t.Fatalf("audit.scrubbed %s: %v", evs[len(evs)-1].Data, err)
			}
		})
	}
}

// rotatingSealer stands in for a sealer whose key-encryption key rotates
// (a TPM's or an HSM's, tested with swtpm and SoftHSM2 in internal/e2e):
// each Seal of the development sealer is a fresh encryption, so a
// rotation through it rewrites every sealed file as a real one does.
type rotatingSealer struct {
	hsm.Sealer
	rotations int
}

func (r *rotatingSealer) Rotate(ctx context.Context) (string, error) {
	r.rotations++
	return r.KeyRef(), nil
}

func (r *rotatingSealer) RetireOld(ctx context.Context) error { return nil }

// TestRotationRecordsEachSealedFileBeforeWritingIt: a rotation records
// each re-sealed file's SHA-256 (key.stored) before the file changes, so
// that afterwards the files, the replicas and the record agree, and a
// scrub passes.
func TestRotationRecordsEachSealedFileBeforeWritingIt(t *testing.T) {
	v, _ := openTestVaultDir(t, func(c *Config) { c.Sealer = &rotatingSealer{Sealer: c.Sealer} })
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	cust := enrolled(t, v, "cust", RoleCustodian)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "R-1", "R-2")
	if _, err := v.sealContact(ctx, "reporter@example.org"); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, id := range []string{"R-1", "R-2", contactsKeyID} {
		before[id] = keyFileDigest(t, v, id, sealedSuffix)
	}
	if _, err := v.RotateKEK(ctx, cust, false); err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	var order []string
	for _, ev := range logged(t, v) {
		if ev.Type == TypeKeyStored || ev.Type == TypeKeysRotating || ev.Type == TypeKeysRotated {
			order = append(order, ev.Type)
		}
		if ev.Type != TypeKeyStored {
			continue
		}
		var d KeyStored
		if err := ev.DecodeData(&d); err != nil {
			t.Fatal(err)
		}
		id := ev.Case
		if d.Key == keyStoredContacts {
			id = contactsKeyID
		}
		if d.KeyFiles.Recovery != "" || ev.Actor.Person != "cust" {
			t.Errorf("key.stored of a rotation: %s by %s", ev.Data, ev.Actor.Person)
		}
		stored[id] = d.KeyFiles.Sealed
	}
	if want := []string{TypeKeysRotating, TypeKeyStored, TypeKeyStored, TypeKeyStored, TypeKeysRotated}; !slices.Equal(order, want) {
		t.Fatalf("events %v, want %v", order, want)
	}
	for id, old := range before {
		now := keyFileDigest(t, v, id, sealedSuffix)
		if now == old || stored[id] != now || v.state.keyFilesOf(id).Sealed != now {
			t.Errorf("%s: before %s, after %s, recorded %s", id, old, now, stored[id])
		}
	}
	if res, err := v.Scrub(ctx, aud); err != nil || !res.OK {
		t.Fatalf("scrub after a rotation: %+v %v", res, err)
	}
	if _, err := v.caseIdentity(ctx, "R-1", ""); err != nil {
		t.Fatalf("the re-sealed key: %v", err)
	}
}

// TestAStartFinishesKeyWritesCutShort: a write of a key file is
// recorded, then replicated, then written locally. A start finds each
// way it can be cut short, and a file replaced in the keyring folder
// (as by a backup older than the write), and puts the record, the file
// and the replicas back in agreement. A sealed file that is neither the
// recorded one nor opens, and a missing one whose replica is not the
// recorded file, are recorded as key problems and reported by the scrub,
// without stopping the start.
func TestAStartFinishesKeyWritesCutShort(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, cfg, inv := restartable(t, dir)
	var err error
	openCases(t, v, inv, "C-1", "C-2", "C-3", "C-4", "C-5")
	// A re-sealing of a case key, recorded as a rotation records it.
	reseal := func(id string) []byte {
		t.Helper()
		blob, err := os.ReadFile(v.keys.caseFile(id, sealedSuffix))
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := v.reseal(ctx, blob)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.append(ctx, v.keyStored(id, KeyFiles{Sealed: fileDigest(fresh)}, "test", System)); err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	// C-1: cut short after its record, before the replica: the file
	// before it is still the key's.
	c1Old := keyFileDigest(t, v, "C-1", sealedSuffix)
	reseal("C-1")
	// C-2: cut short after the replica, before the local file.
	c2New := reseal("C-2")
	name := replicaPrefix("C-2", sealedSuffix) + "-7000000000000000"
	if _, err := v.objects.Put(ctx, name, strings.NewReader(string(c2New)), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	junk := []byte("not a sealed key")
	// C-3: its sealed file and replica replaced by the same bytes.
	c3Replica := replicaNames(t, v, "C-3", sealedSuffix)
	rewriteAlike(t, v, dir, "C-3", sealedSuffix, junk)
	// C-4: its sealed file replaced, the replica left alone.
	c4 := keyFileDigest(t, v, "C-4", sealedSuffix)
	if err := os.WriteFile(v.keys.caseFile("C-4", sealedSuffix), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	// C-5: its sealed file removed, and the replica replaced.
	if err := os.Remove(v.keys.caseFile("C-5", sealedSuffix)); err != nil {
		t.Fatal(err)
	}
	c5Replica := replicaNames(t, v, "C-5", sealedSuffix)
	overwriteObject(t, dir, c5Replica[0], junk)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got := keyFileDigest(t, v, "C-1", sealedSuffix); got != c1Old || v.state.keyFilesOf("C-1").Sealed != c1Old {
		t.Errorf("C-1: the file %s, recorded %s; want the file before the re-sealing (%s) recorded again", got, v.state.keyFilesOf("C-1").Sealed, c1Old)
	}
	if got := keyFileDigest(t, v, "C-2", sealedSuffix); got != fileDigest(c2New) {
		t.Errorf("C-2: the file was not restored from its replica")
	}
	if got := keyFileDigest(t, v, "C-4", sealedSuffix); got != c4 {
		t.Errorf("C-4: the file was not restored from its replica")
	}
	if _, err := os.Stat(v.keys.caseFile("C-5", sealedSuffix)); err == nil {
		t.Errorf("C-5: a replica that is not the recorded file was restored")
	}
	adopted, failed := 0, map[string]int{}
	for _, ev := range logged(t, v) {
		switch {
		case ev.Type == TypeKeyStored && ev.Case == "C-1" && strings.Contains(string(ev.Data), "was not finished"):
			adopted++
		case ev.Type == TypeCaseKeyFailed:
			failed[ev.Case]++
		case ev.Type == TypeKeyStored && ev.Case != "C-1" && ev.Case != "C-2":
			t.Errorf("a start recorded %s for %s", ev.Data, ev.Case)
		}
	}
	if adopted != 1 || len(failed) != 2 || failed["C-3"] != 1 || failed["C-5"] != 1 {
		t.Fatalf("C-1's file recorded again %d times, key problems %v; want 1, and C-3 and C-5 once each", adopted, failed)
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	wantUnaccounted := append(slices.Clone(c3Replica), c5Replica...)
	slices.Sort(wantUnaccounted)
	if !slices.Equal(res.KeysAltered, []string{"case C-3: sealed file: not the file the log recorded", "case C-5: sealed file: missing from the keyring folder"}) ||
		!slices.Equal(res.Unaccounted, wantUnaccounted) {
		t.Fatalf("scrub: keys altered %q, unaccounted %v", res.KeysAltered, res.Unaccounted)
	}
	for _, id := range []string{"C-1", "C-2", "C-4"} {
		if _, err := v.caseIdentity(ctx, id, ""); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// TestAStartRecordsKeyFilesOfOlderLogs: a case opened before key files
// were recorded (its case.opened has no key_files) has its files
// recorded as the next start finds them, once; from then on the scrub
// judges them.
func TestAStartRecordsKeyFilesOfOlderLogs(t *testing.T) {
	ctx := context.Background()
	v, cfg, inv := restartable(t, t.TempDir())
	var err error
	openLegacyCase(t, v, inv, "OLD-1")
	if v.state.keyFilesOf("OLD-1") != (KeyFiles{}) {
		t.Fatal("a case.opened without key_files recorded digests")
	}
	for range 2 {
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
		if v, err = Open(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	defer v.Close()
	var stored []*events.Event
	for _, ev := range logged(t, v) {
		if ev.Type == TypeKeyStored {
			stored = append(stored, ev)
		}
	}
	want := KeyFiles{Sealed: keyFileDigest(t, v, "OLD-1", sealedSuffix), Recovery: keyFileDigest(t, v, "OLD-1", recoverySuffix)}
	if len(stored) != 1 || stored[0].Case != "OLD-1" || v.state.keyFilesOf("OLD-1") != want {
		t.Fatalf("key.stored events %d, recorded %+v, want one with %+v", len(stored), v.state.keyFilesOf("OLD-1"), want)
	}
	if err := os.WriteFile(v.keys.caseFile("OLD-1", recoverySuffix), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	if res, err := v.Scrub(ctx, aud); err != nil || !slices.Equal(res.KeysAltered, []string{"case OLD-1: recovery copy: not the file the log recorded"}) {
		t.Fatalf("scrub: %+v %v", res, err)
	}
}

// TestKeyStoredIsChecked: a key.stored event is applied only for a case
// the log opened or a reporter-contacts key it created, with digests of
// the recorded shape; anything else is an event the vault cannot apply.
func TestKeyStoredIsChecked(t *testing.T) {
	s := newState()
	good := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, caseID, data string
	}{
		{"a case never opened", "NONE", `{"key":"case","key_files":{"sealed_sha256":"` + good + `"},"sealer":"s","reason":"r"}`},
		{"no contacts key", "", `{"key":"reporter-contacts","key_files":{"sealed_sha256":"` + good + `"},"sealer":"s","reason":"r"}`},
		{"another kind of key", "", `{"key":"log","key_files":{},"sealer":"s","reason":"r"}`},
		{"upper-case digest", "NONE", `{"key":"case","key_files":{"sealed_sha256":"` + strings.ToUpper(good) + `"},"sealer":"s","reason":"r"}`},
	} {
		ev := &events.Event{Type: TypeKeyStored, Case: tc.caseID, Data: []byte(tc.data)}
		if err := applyKeyStored(s, ev); err == nil {
			t.Errorf("%s: applied", tc.name)
		}
	}
	s.cases["C"] = &Case{ID: "C"}
	if err := applyKeyStored(s, &events.Event{Type: TypeKeyStored, Case: "C", Data: []byte(`{"key":"case","key_files":{"sealed_sha256":"` + strings.ToUpper(good) + `"},"sealer":"s","reason":"r"}`)}); err == nil {
		t.Error("an upper-case digest of an opened case: applied")
	}
	if err := applyKeyStored(s, &events.Event{Type: TypeKeyStored, Case: "C", Data: []byte(`{"key":"case","key_files":{"sealed_sha256":"` + good + `"},"sealer":"s","reason":"r"}`)}); err != nil || s.keyFiles["C"].Sealed != good {
		t.Errorf("a good event: %v, recorded %+v", err, s.keyFiles["C"])
	}
}

// listHook is an object store that runs fn once, before the listing of
// prefix: a moment between two of a start's or a scrub's steps.
type listHook struct {
	objects.Store
	mu     sync.Mutex
	prefix string
	fn     func()
}

func (h *listHook) arm(prefix string, fn func()) {
	h.mu.Lock()
	h.prefix, h.fn = prefix, fn
	h.mu.Unlock()
}

func (h *listHook) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	h.mu.Lock()
	var run func()
	if h.fn != nil && prefix == h.prefix {
		run, h.fn = h.fn, nil
	}
	h.mu.Unlock()
	if run != nil {
		run()
	}
	return h.Store.List(ctx, prefix, fn)
}

// rewriteAlike writes b into one of a key's files and over its first
// replica, as someone with the keyring folder and the file store under
// dir would, so that the two still agree.
func rewriteAlike(t *testing.T, v *Vault, dir, id, suffix string, b []byte) {
	t.Helper()
	if err := os.WriteFile(v.keys.caseFile(id, suffix), b, 0o600); err != nil {
		t.Fatal(err)
	}
	overwriteObject(t, dir, replicaNames(t, v, id, suffix)[0], b)
}

func removeReplicas(t *testing.T, v *Vault, id, suffix string) {
	t.Helper()
	for _, n := range replicaNames(t, v, id, suffix) {
		if err := v.objects.Delete(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAStartJudgesWhatItRecords: a start takes, records and writes the
// bytes it read once; a file swapped between two of its reads, or a file
// of an older log's key that does not open, is never recorded as the
// key's; an older genuine file swapped in with the replicas removed is
// not taken back.
func TestAStartJudgesWhatItRecords(t *testing.T) {
	junk := []byte("the insider's bytes, kept under the vault's name")
	keyFailed := func(t *testing.T, v *Vault, id string) int {
		n := 0
		for _, ev := range logged(t, v) {
			if ev.Type == TypeCaseKeyFailed && ev.Case == id {
				n++
			}
		}
		return n
	}
	t.Run("a file swapped between reads", func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		hook := &listHook{}
		v, cfg, inv := restartable(t, dir, func(c *Config) { hook.Store = c.Objects; c.Objects = hook })
		var err error
		openCases(t, v, inv, "K-1")
		path := v.keys.caseFile("K-1", sealedSuffix)
		genuine, _ := os.ReadFile(path)
		v.Close()
		rewriteAlike(t, v, dir, "K-1", sealedSuffix, junk)
		// The genuine file is back for whatever the start reads after it
		// lists the replicas.
		hook.arm(replicaPrefix("K-1", sealedSuffix)+"-", func() { os.WriteFile(path, genuine, 0o600) })
		if v, err = Open(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if v.state.keyFilesOf("K-1").Sealed == fileDigest(junk) {
			t.Fatal("the start recorded the junk's digest")
		}
		os.WriteFile(path, junk, 0o600)
		aud := enrolled(t, v, "aud", RoleAuditor)
		if res, err := v.Scrub(ctx, aud); err != nil || res.OK {
			t.Fatalf("scrub of a key replaced by junk: %+v %v", res, err)
		}
	})
	t.Run("an older log's key that does not open", func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		v, cfg, inv := restartable(t, dir)
		var err error
		openLegacyCase(t, v, inv, "OLD-1")
		v.Close()
		rewriteAlike(t, v, dir, "OLD-1", sealedSuffix, junk)
		if v, err = Open(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if got := v.state.keyFilesOf("OLD-1"); got.Sealed != "" || got.Recovery == "" || keyFailed(t, v, "OLD-1") != 1 {
			t.Fatalf("recorded %+v, key problems %d; want only the recovery copy recorded, and one key problem", got, keyFailed(t, v, "OLD-1"))
		}
	})
	t.Run("an older genuine file swapped in", func(t *testing.T) {
		ctx := context.Background()
		v, cfg, inv := restartable(t, t.TempDir(), func(c *Config) { c.Sealer = &rotatingSealer{Sealer: c.Sealer} })
		var err error
		cust := enrolled(t, v, "cust", RoleCustodian)
		openCases(t, v, inv, "K-1")
		old, _ := os.ReadFile(v.keys.caseFile("K-1", sealedSuffix))
		if _, err := v.RotateKEK(ctx, cust, false); err != nil {
			t.Fatal(err)
		}
		v.Close()
		os.WriteFile(v.keys.caseFile("K-1", sealedSuffix), old, 0o600)
		removeReplicas(t, v, "K-1", sealedSuffix)
		if v, err = Open(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		aud := enrolled(t, v, "aud", RoleAuditor)
		res, err := v.Scrub(ctx, aud)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || v.state.keyFilesOf("K-1").Sealed == fileDigest(old) || keyFailed(t, v, "K-1") != 1 {
			t.Fatalf("the older file was taken back: scrub ok %v, recorded %s, key problems %d", res.OK, v.state.keyFilesOf("K-1").Sealed, keyFailed(t, v, "K-1"))
		}
	})
}

// TestAStartIsNotStoppedByOneKeysFiles: a key file that is a folder or
// larger than a key file, or a replica larger than one, is a problem of
// that key, not a reason to refuse every case a start.
func TestAStartIsNotStoppedByOneKeysFiles(t *testing.T) {
	for _, kind := range []string{"folder", "large", "large replica"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			v, cfg, inv := restartable(t, t.TempDir())
			var err error
			openCases(t, v, inv, "K-1", "K-2")
			v.Close()
			path := v.keys.caseFile("K-1", sealedSuffix)
			os.Remove(path)
			switch kind {
			case "folder":
				err = os.Mkdir(path, 0o700)
			case "large replica":
				if err = os.WriteFile(path, []byte("junk"), 0o600); err == nil {
					_, err = v.objects.Put(ctx, replicaPrefix("K-1", sealedSuffix)+"-ffffffffffffffff", strings.NewReader(string(make([]byte, maxKeyFile+1))), objects.PutOptions{Unlocked: true})
				}
			default:
				err = os.WriteFile(path, make([]byte, maxKeyFile+1), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			if v, err = Open(ctx, cfg); err != nil {
				t.Fatalf("start refused: %v", err)
			}
			defer v.Close()
			if _, err := v.caseIdentity(ctx, "K-2", ""); err != nil {
				t.Errorf("another case: %v", err)
			}
			if kind != "folder" {
				// The vault's own replica, older than the planted one, is
				// the recorded file: written back.
				if _, err := v.caseIdentity(ctx, "K-1", ""); err != nil {
					t.Errorf("K-1: %v", err)
				}
			}
		})
	}
}

// TestAStartLooksThroughTheReplicas: a replica planted under a newer name
// does not hide the vault's own, which is the recorded file; a replica
// of the file the last re-sealing replaced, left by a write cut short
// after the file, is deleted by the next start, not reported for ever.
func TestAStartLooksThroughTheReplicas(t *testing.T) {
	ctx := context.Background()
	v, cfg, inv := restartable(t, t.TempDir(), func(c *Config) { c.Sealer = &rotatingSealer{Sealer: c.Sealer} })
	var err error
	cust := enrolled(t, v, "cust", RoleCustodian)
	openCases(t, v, inv, "K-1", "K-2")
	oldName := replicaNames(t, v, "K-2", sealedSuffix)[0]
	old, err := objects.ReadSmall(ctx, v.objects, oldName, maxKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.RotateKEK(ctx, cust, false); err != nil {
		t.Fatal(err)
	}
	v.Close()
	// K-1: its file removed, and junk under the newest name.
	os.Remove(v.keys.caseFile("K-1", sealedSuffix))
	if _, err := v.objects.Put(ctx, replicaPrefix("K-1", sealedSuffix)+"-ffffffffffffffff", strings.NewReader("junk"), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	// K-2: the replica the rotation deleted, back as a crash before the
	// deletion leaves it.
	if _, err := v.objects.Put(ctx, oldName, strings.NewReader(string(old)), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.caseIdentity(ctx, "K-1", ""); err != nil {
		t.Errorf("K-1: %v", err)
	}
	if names := replicaNames(t, v, "K-2", sealedSuffix); slices.Contains(names, oldName) || len(names) != 1 {
		t.Errorf("K-2's replicas %v: the one the rotation replaced is still there", names)
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{replicaPrefix("K-1", sealedSuffix) + "-ffffffffffffffff"}; !slices.Equal(res.Unaccounted, want) || len(res.KeysAltered) != 0 {
		t.Fatalf("scrub: unaccounted %v, keys altered %q; want only the planted replica", res.Unaccounted, res.KeysAltered)
	}
}

// TestARotationBesideAScrub: a rotation that runs while a scrub lists the
// store is no failure of the scrub: each replica is judged against the
// record as it stands when it is read.
func TestARotationBesideAScrub(t *testing.T) {
	ctx := context.Background()
	hook := &listHook{}
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.Sealer = &rotatingSealer{Sealer: c.Sealer}
		hook.Store, c.Objects = c.Objects, hook
	})
	inv := enrolled(t, v, "inv", RoleInvestigator)
	cust := enrolled(t, v, "cust", RoleCustodian)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "K-1", "K-2")
	if err := v.waitSweep(ctx); err != nil {
		t.Fatal(err)
	}
	hook.arm("", func() {
		if _, err := v.RotateKEK(ctx, cust, false); err != nil {
			t.Error(err)
		}
	})
	if res, err := v.Scrub(ctx, aud); err != nil || !res.OK {
		t.Fatalf("a rotation during a scrub: %+v %v", res, err)
	}
}

// TestARecoveredContactsKeyIsLiveAgain: a recovery that re-seals the
// reporter-contacts key after an earlier one lost it ends the loss, so
// that starts and scrubs judge its files again.
func TestARecoveredContactsKeyIsLiveAgain(t *testing.T) {
	ctx := context.Background()
	rid, _ := age.GenerateX25519Identity()
	cfg := testConfig(t, t.TempDir(), func(c *Config) { c.RecoveryRecipient = rid.Recipient().String() })
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.sealContact(ctx, "reporter@example.org"); err != nil {
		t.Fatal(err)
	}
	// A case's key, whose recovery copy stays, is recovered each time.
	openCases(t, v, enrolled(t, v, "inv", RoleInvestigator), "K-1")
	recPath := v.keys.caseFile(contactsKeyID, recoverySuffix)
	rec, _ := os.ReadFile(recPath)
	v.Close()
	os.Remove(recPath)
	removeReplicas(t, v, contactsKeyID, recoverySuffix)
	if r, err := Recover(ctx, cfg, rid); err != nil || len(r.Lost) != 1 || r.ContactsKey || !slices.Equal(r.Cases, []string{"K-1"}) {
		t.Fatalf("the first recovery: %+v %v", r, err)
	}
	os.WriteFile(recPath, rec, 0o600)
	if r, err := Recover(ctx, cfg, rid); err != nil || len(r.Lost) != 0 || !r.ContactsKey || !slices.Equal(r.Cases, []string{"K-1"}) {
		t.Fatalf("the second recovery: %+v %v", r, err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	defer recordStateCorpus(t, cfg.Log)
	if v.state.keyLost(contactsKeyID) {
		t.Fatal("still recorded as lost")
	}
	// Each recovery's opening of the vault says it was one.
	runs := 0
	for _, ev := range logged(t, v) {
		if ev.Type == TypeServerStarted && strings.Contains(string(ev.Data), `"run":"custos admin recover"`) {
			runs++
		}
	}
	if runs != 2 {
		t.Errorf("%d server.started events say they were a recovery, want 2", runs)
	}
	os.WriteFile(v.keys.caseFile(contactsKeyID, sealedSuffix), []byte("mine"), 0o600)
	aud := enrolled(t, v, "aud", RoleAuditor)
	if res, err := v.Scrub(ctx, aud); err != nil || res.OK {
		t.Fatalf("a scrub of its rewritten file: %+v %v", res, err)
	}
}

// failPut is an object store whose Put of a name with prefix fails while
// on: a store that refuses a rotation's new replica.
type failPut struct {
	objects.Store
	prefix string
	on     bool
}

func (f *failPut) Put(ctx context.Context, name string, r io.Reader, o objects.PutOptions) (objects.Info, error) {
	if f.on && strings.HasPrefix(name, f.prefix) {
		return objects.Info{}, errors.New("the store refused the write")
	}
	return f.Store.Put(ctx, name, r, o)
}

// TestARotationReSealsOnlyTheRecordedFile: a rotation re-seals a key's
// sealed file only as the log recorded it: a file swapped in the keyring
// folder is put back from the replica that is the recorded one first;
// with no copy of the recorded file left, the key is not re-sealed, is
// recorded as a key problem, and no older version is retired; a lost
// reporter-contacts key does not stop the rotation; and a write that
// fails after its record is recorded as not written, so that no scrub
// finds a file other than recorded.
func TestARotationReSealsOnlyTheRecordedFile(t *testing.T) {
	ctx := context.Background()
	fp := &failPut{}
	rs := &rotatingSealer{}
	retired := 0
	v, _ := openTestVaultDir(t, func(c *Config) {
		rs.Sealer = c.Sealer
		c.Sealer = &retireCounter{rotatingSealer: rs, retired: &retired}
		fp.Store, c.Objects = c.Objects, fp
	})
	inv := enrolled(t, v, "inv", RoleInvestigator)
	cust := enrolled(t, v, "cust", RoleCustodian)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "A-1", "B-1", "C-1")
	b1, _ := os.ReadFile(v.keys.caseFile("B-1", sealedSuffix))
	// B-1's sealed file in its place; its replica left alone.
	os.WriteFile(v.keys.caseFile("A-1", sealedSuffix), b1, 0o600)
	// C-1: B-1's file in its place and as its only replica.
	os.WriteFile(v.keys.caseFile("C-1", sealedSuffix), b1, 0o600)
	removeReplicas(t, v, "C-1", sealedSuffix)
	if _, err := v.objects.Put(ctx, replicaPrefix("C-1", sealedSuffix)+"-ffffffffffffffff", strings.NewReader(string(b1)), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	res, err := v.RotateKEK(ctx, cust, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Cases, []string{"A-1", "B-1"}) || len(res.Skipped) != 1 || res.Skipped[0].Case != "C-1" || res.Retired || retired != 0 {
		t.Fatalf("rotation: %+v (retired %d times)", res, retired)
	}
	for _, id := range []string{"A-1", "B-1"} {
		if _, err := v.caseIdentity(ctx, id, ""); err != nil {
			t.Errorf("%s after the rotation: %v", id, err)
		}
	}
	var c1Stored, c1Failed int
	for _, ev := range logged(t, v) {
		switch {
		case ev.Type == TypeKeyStored && ev.Case == "C-1":
			c1Stored++
		case ev.Type == TypeCaseKeyFailed && ev.Case == "C-1":
			c1Failed++
		}
	}
	if c1Stored != 0 || c1Failed != 1 {
		t.Fatalf("C-1: %d key.stored, %d case.key.failed; want none and one", c1Stored, c1Failed)
	}
	if r, err := v.Scrub(ctx, aud); err != nil || !slices.Equal(r.KeysAltered, []string{"case C-1: sealed file: not the file the log recorded"}) {
		t.Fatalf("scrub after: %+v %v", r, err)
	}

	// A store that refuses the new replicas: the rotation fails, and the
	// record says the files before it are the keys'.
	fp.prefix, fp.on = "key/", true
	if _, err := v.RotateKEK(ctx, cust, false); err == nil {
		t.Fatal("a rotation whose writes failed succeeded")
	}
	fp.on = false
	if r, err := v.Scrub(ctx, aud); err != nil || len(r.KeysAltered) != 1 || len(r.Unaccounted) != 1 {
		t.Fatalf("scrub after a failed rotation: keys altered %q, unaccounted %v, %v; want only C-1's file and replica", r.KeysAltered, r.Unaccounted, err)
	}
}

// retireCounter counts the retirements of a rotatingSealer.
type retireCounter struct {
	*rotatingSealer
	retired *int
}

func (r *retireCounter) RetireOld(ctx context.Context) error { *r.retired++; return nil }

// TestALostContactsKeyDoesNotStopARotation: a reporter-contacts key a
// recovery recorded as lost is not re-sealed, like a lost case key.
func TestALostContactsKeyDoesNotStopARotation(t *testing.T) {
	ctx := context.Background()
	rid, _ := age.GenerateX25519Identity()
	cfg := testConfig(t, t.TempDir(), func(c *Config) {
		c.RecoveryRecipient = rid.Recipient().String()
		c.Sealer = &rotatingSealer{Sealer: c.Sealer}
	})
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.sealContact(ctx, "reporter@example.org"); err != nil {
		t.Fatal(err)
	}
	v.Close()
	os.Remove(v.keys.caseFile(contactsKeyID, recoverySuffix))
	removeReplicas(t, v, contactsKeyID, recoverySuffix)
	if r, err := Recover(ctx, cfg, rid); err != nil || len(r.Lost) != 1 {
		t.Fatalf("recovery: %+v %v", r, err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	cust := enrolled(t, v, "cust", RoleCustodian)
	if res, err := v.RotateKEK(ctx, cust, true); err != nil || !res.Retired {
		t.Fatalf("rotation beside a lost contacts key: %+v %v", res, err)
	}
	// What the loss left is not judged, but a file larger than a key
	// file under its name is no key file.
	aud := enrolled(t, v, "aud", RoleAuditor)
	os.WriteFile(v.keys.caseFile(contactsKeyID, recoverySuffix), make([]byte, maxKeyFile+1), 0o600)
	if res, err := v.Scrub(ctx, aud); err != nil || len(res.KeysAltered) != 1 || !strings.Contains(res.KeysAltered[0], "a file of a lost key") {
		t.Fatalf("scrub of a lost key's oversized file: %+v %v", res, err)
	}
}

// TestACaseOpenedDuringAScrub: the key replicas of a case opened while a
// scrub lists the store are the vault's.
func TestACaseOpenedDuringAScrub(t *testing.T) {
	ctx := context.Background()
	hook := &listHook{}
	v, _ := openTestVaultDir(t, func(c *Config) { hook.Store, c.Objects = c.Objects, hook })
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "K-1")
	if err := v.waitSweep(ctx); err != nil {
		t.Fatal(err)
	}
	hook.arm("", func() {
		if err := v.OpenCase(ctx, inv, "K-2", "t"); err != nil {
			t.Error(err)
		}
	})
	if res, err := v.Scrub(ctx, aud); err != nil || !res.OK {
		t.Fatalf("a case opened during a scrub: %+v %v", res, err)
	}
}

// TestScrubListsKeyringStrays: a destroyed case's key files put back in
// the keyring folder, and a file under a name no key has, are listed (a
// destroyed case's files by its name); the next start records the
// destroyed case's copy as a key problem before it removes it.
func TestScrubListsKeyringStrays(t *testing.T) {
	ctx := context.Background()
	v, cfg, inv := restartable(t, t.TempDir())
	var err error
	c1 := enrolled(t, v, "c1", RoleCustodian)
	c2 := enrolled(t, v, "c2", RoleCustodian)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "D-1", "L-1")
	sealed, _ := os.ReadFile(v.keys.caseFile("D-1", sealedSuffix))
	id, err := v.RequestDestruction(ctx, c1, "D-1", "order 7", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, c2, "D-1", id); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(v.keys.caseFile("D-1", sealedSuffix), sealed, 0o600)
	stray := filepath.Join(filepath.Dir(v.keys.caseFile("D-1", sealedSuffix)), strings.Repeat("0", 32)+".sealed")
	os.WriteFile(stray, []byte("kept under a key's name"), 0o600)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"case D-1 (destroyed): sealed key file: a copy of a destroyed case's key in the keyring folder (a backup taken before the destruction restored, or put there; the next start removes it)",
		"the keyring folder: " + strings.Repeat("0", 32) + ".sealed: a file of no key the vault holds",
	}
	if res.OK || !slices.Equal(res.KeysAltered, want) {
		t.Fatalf("keys altered\n%s\nwant\n%s", strings.Join(res.KeysAltered, "\n"), strings.Join(want, "\n"))
	}
	v.Close()
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := os.Stat(v.keys.caseFile("D-1", sealedSuffix)); err == nil {
		t.Error("the destroyed case's key file is still there after a start")
	}
	recorded := 0
	for _, ev := range logged(t, v) {
		if ev.Type == TypeCaseKeyFailed && ev.Case == "D-1" && strings.Contains(string(ev.Data), "destroyed case were found") {
			recorded++
		}
	}
	if recorded != 1 {
		t.Errorf("the destroyed case's key copy recorded %d times, want once", recorded)
	}
	aud = enrolled(t, v, "aud2", RoleAuditor)
	if res, err := v.Scrub(ctx, aud); err != nil || !slices.Equal(res.KeysAltered, want[1:]) {
		t.Fatalf("after the start: %+v %v", res, err)
	}
}

// TestARewrittenRecoveryCopyIsRecorded: a case's recovery copy (its
// escrow) and its replica rewritten alike are recorded as a key problem
// at the next start, not only logged: the log shows when the escrow was
// found lost.
func TestARewrittenRecoveryCopyIsRecorded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, cfg, inv := restartable(t, dir)
	var err error
	openCases(t, v, inv, "R-1")
	v.Close()
	junk := []byte("not the escrow")
	rewriteAlike(t, v, dir, "R-1", recoverySuffix, junk)
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var reasons []string
	for _, ev := range logged(t, v) {
		if ev.Type == TypeCaseKeyFailed && ev.Case == "R-1" {
			reasons = append(reasons, string(ev.Data))
		}
	}
	if len(reasons) != 1 || !strings.Contains(reasons[0], "escrow") {
		t.Fatalf("key problems recorded: %q", reasons)
	}
	if _, err := v.caseIdentity(ctx, "R-1", ""); err != nil {
		t.Errorf("the sealed key still opens: %v", err)
	}
}

// restartable opens a test vault in a folder of its own, with the
// configuration to open it again (testConfig's, as configure changes it)
// and an investigator; configure's first argument is the folder.
func restartable(t *testing.T, dir string, configure ...func(*Config)) (*Vault, Config, Principal) {
	t.Helper()
	cfg := testConfig(t, dir, configure...)
	v, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v, cfg, enrolled(t, v, "inv", RoleInvestigator)
}

// openLegacyCase opens case id as a release before key files were
// recorded did: its key's files written, its case.opened without
// key_files.
func openLegacyCase(t *testing.T, v *Vault, inv Principal, id string) {
	t.Helper()
	ctx := context.Background()
	recipient, _, err := v.keys.newCaseKey(ctx, id, v.recovery)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeCaseOpened, Actor: inv.actor(), Case: id,
		Data: CaseOpened{Title: "t", Recipient: recipient, Sealer: v.cfg.Sealer.KeyRef(), Members: []string{inv.Name}}}); err != nil {
		t.Fatal(err)
	}
}

// TestDestroyedCaseKeyCopiesAreJudged: at a start, only what holds a
// destroyed case's recorded key bytes is a copy of its key, recorded and
// removed; junk under its names is no copy (a scrub lists it), and a
// temporary file a crash left in the keyring folder is removed.
func TestDestroyedCaseKeyCopiesAreJudged(t *testing.T) {
	ctx := context.Background()
	v, cfg, inv := restartable(t, t.TempDir())
	c1 := enrolled(t, v, "c1", RoleCustodian)
	c2 := enrolled(t, v, "c2", RoleCustodian)
	openCases(t, v, inv, "D-1", "D-2")
	recovery, _ := os.ReadFile(v.keys.caseFile("D-2", recoverySuffix))
	for _, id := range []string{"D-1", "D-2"} {
		req, err := v.RequestDestruction(ctx, c1, id, "order", "court order")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.ApproveDestruction(ctx, c2, id, req); err != nil {
			t.Fatal(err)
		}
	}
	// D-1: a folder under its sealed file's name; D-2: its genuine
	// recovery copy back. And a temporary file of a cut-short write.
	if err := os.MkdirAll(filepath.Join(v.keys.caseFile("D-1", sealedSuffix), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(v.keys.caseFile("D-2", recoverySuffix), recovery, 0o600)
	tmp := filepath.Join(filepath.Dir(v.keys.caseFile("D-1", sealedSuffix)), "."+caseHash("D-1")+sealedSuffix+".tmp-123")
	os.WriteFile(tmp, []byte("half a key"), 0o600)
	for range 2 {
		v.Close()
		var err error
		if v, err = Open(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	defer v.Close()
	failed := map[string]int{}
	for _, ev := range logged(t, v) {
		if ev.Type == TypeCaseKeyFailed {
			failed[ev.Case]++
		}
	}
	if failed["D-1"] != 0 || failed["D-2"] != 1 {
		t.Fatalf("key problems recorded %v; want none for D-1's folder, one for D-2's copy", failed)
	}
	if _, err := os.Stat(v.keys.caseFile("D-2", recoverySuffix)); err == nil {
		t.Error("D-2's key copy is still there")
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("the temporary file is still there")
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.KeysAltered) != 1 || !strings.HasPrefix(res.KeysAltered[0], "case D-1 (destroyed): sealed key file") {
		t.Fatalf("keys altered %q", res.KeysAltered)
	}
}

// TestADestructionTriesEveryKeyCopy: a destruction whose key replicas
// the store refuses to delete still removes the key's files from the
// keyring folder (one copy that stays does not keep the others), and
// says it did not finish; a scrub lists the replicas left, not the files.
func TestADestructionTriesEveryKeyCopy(t *testing.T) {
	ctx := context.Background()
	fd := &failingDeletes{}
	v, _ := openTestVaultDir(t, func(c *Config) { fd.Store, c.Objects = c.Objects, fd })
	inv := enrolled(t, v, "inv", RoleInvestigator)
	c1 := enrolled(t, v, "c1", RoleCustodian)
	c2 := enrolled(t, v, "c2", RoleCustodian)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "D-1")
	replicas := append(replicaNames(t, v, "D-1", sealedSuffix), replicaNames(t, v, "D-1", recoverySuffix)...)
	slices.Sort(replicas)
	req, err := v.RequestDestruction(ctx, c1, "D-1", "order", "court order")
	if err != nil {
		t.Fatal(err)
	}
	fd.fail = true
	if _, err := v.ApproveDestruction(ctx, c2, "D-1", req); err == nil {
		t.Fatal("a destruction whose key replicas could not be deleted finished")
	}
	fd.fail = false
	for _, suffix := range []string{sealedSuffix, recoverySuffix} {
		if _, err := os.Stat(v.keys.caseFile("D-1", suffix)); err == nil {
			t.Errorf("the key's %s file is still in the keyring folder", suffix)
		}
	}
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.KeysAltered) != 0 || !slices.Equal(res.Unaccounted, replicas) {
		t.Fatalf("scrub: keys altered %q, unaccounted %v; want none and %v", res.KeysAltered, res.Unaccounted, replicas)
	}
}

// TestAReSealedFileIsRecordedBeforeItIsWritten: the custody log's
// "recorded before it happens" for key files: a re-sealed file whose
// key.stored cannot be appended (the log halted) is not written, to the
// keyring folder or the object store, and the rotation stops there.
func TestAReSealedFileIsRecordedBeforeItIsWritten(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t, func(c *Config) { c.Sealer = &rotatingSealer{Sealer: c.Sealer} })
	inv := enrolled(t, v, "inv", RoleInvestigator)
	openCases(t, v, inv, "K-1")
	before := keyFileDigest(t, v, "K-1", sealedSuffix)
	replicas := replicaNames(t, v, "K-1", sealedSuffix)
	blob, _ := v.keys.readLocal("K-1", sealedSuffix)
	fresh, err := v.reseal(ctx, blob)
	if err != nil {
		t.Fatal(err)
	}
	v.log.Halt(errors.New("the test halts the log"))
	if err := v.storeResealed(ctx, System, "K-1", fresh, before, "test"); !errors.Is(err, errNotRecorded) {
		t.Fatalf("storing a re-sealed file the log could not record: %v, want errNotRecorded", err)
	}
	if got := keyFileDigest(t, v, "K-1", sealedSuffix); got != before {
		t.Error("the sealed file was written though its record was not")
	}
	if got := replicaNames(t, v, "K-1", sealedSuffix); !slices.Equal(got, replicas) {
		t.Errorf("replicas %v, before %v: a replica was written though its record was not", got, replicas)
	}
}

// TestALostKeyringIsRecoveredFromTheObjectStore: the log key's recovery
// copy is replicated to the object store as every case key's is, so that
// a keyring folder lost with no backup loses no key: custos admin
// recover restores the log key from the replica (and the public key from
// the log's record of it), the next start the case keys from theirs, and
// the evidence opens. A replica planted beside it that holds another key
// (encrypted to the same, public, recovery recipient) is never taken,
// and a scrub lists it.
func TestALostKeyringIsRecoveredFromTheObjectStore(t *testing.T) {
	ctx := context.Background()
	cfg, rid, v := recoverableVault(t)
	inv := enrolled(t, v, "inv", RoleInvestigator)
	openCases(t, v, inv, "K-1")
	item := depositText(t, v, inv, "K-1", "chat.txt", "the evidence")
	vkey := v.vkey
	v.Close()

	// Someone with the object store plants a newer replica of another
	// log key, encrypted to the recovery recipient (which is public).
	planted, otherKey := plantedLogRecovery(t, rid)
	if _, err := cfg.Objects.Put(ctx, logRecoveryPrefix+"ffffffffffffffff", bytes.NewReader(planted), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}

	// The keyring folder is lost, with no backup.
	if err := os.RemoveAll(cfg.KeyringDir); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, cfg); err == nil {
		t.Fatal("a vault without its keyring started")
	}
	res, err := Recover(ctx, cfg, rid)
	if err != nil {
		t.Fatalf("recovery from the object store: %v", err)
	}
	if !slices.Equal(res.Cases, []string{"K-1"}) || len(res.Lost) != 0 {
		t.Fatalf("recovered %+v", res)
	}
	pub, _ := os.ReadFile(filepath.Join(cfg.KeyringDir, "log.pub"))
	if strings.TrimSpace(string(pub)) != vkey || strings.Contains(string(pub), otherKey) {
		t.Fatalf("log.pub restored as %q, the log's key is %q", pub, vkey)
	}
	v, err = Open(ctx, cfg)
	if err != nil {
		t.Fatalf("the start after the recovery: %v", err)
	}
	defer v.Close()
	if v.vkey != vkey {
		t.Fatalf("the vault signs with %q, its log with %q", v.vkey, vkey)
	}
	r, err := v.OpenItem(ctx, inv, item.ID, "after the recovery")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if err := r.Finish(ctx); err != nil || string(b) != "the evidence" {
		t.Fatalf("the item reads %q after the recovery: %v", b, err)
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	scrub, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{logRecoveryPrefix + "ffffffffffffffff"}; !slices.Equal(scrub.Unaccounted, want) {
		t.Fatalf("scrub: unaccounted %v, want the planted replica", scrub.Unaccounted)
	}

	// With only the planted replica left, the recovery refuses.
	v.Close()
	names, _ := v.keys.logRecoveryReplicas(ctx)
	for _, n := range names {
		if n != logRecoveryPrefix+"ffffffffffffffff" {
			cfg.Objects.Delete(ctx, n)
		}
	}
	os.RemoveAll(cfg.KeyringDir)
	if _, err := Recover(ctx, cfg, rid); err == nil || !strings.Contains(err.Error(), "not the key the log was opened with") {
		t.Fatalf("a recovery from a planted replica only: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.KeyringDir, "log.key.sealed")); err == nil {
		t.Fatal("the refused recovery sealed the planted key into the keyring")
	}
}

// TestAPlantedLogRecoveryCopyIsNotTaken: the log key's recovery copy is
// on the record (log.opened's recovery_copy_sha256). A copy of another
// key planted in the keyring by someone with the server's disk (anyone
// may encrypt to the recovery recipient) is written back from the
// replica at the next start, never replicated; a scrub names it in
// keys_altered and passes the genuine replica; a recovery run on it
// takes the genuine replica and never seals the planted key.
func TestAPlantedLogRecoveryCopyIsNotTaken(t *testing.T) {
	ctx := context.Background()
	cfg, rid, v := recoverableVault(t)
	if v.state.logInfo().RecoveryCopy == "" {
		t.Fatal("log.opened does not record the log key's recovery copy")
	}
	genuine, _ := os.ReadFile(v.keys.logRecoveryFile())
	v.Close()
	planted, _ := plantedLogRecovery(t, rid)
	plant := func() {
		if err := os.WriteFile(v.keys.logRecoveryFile(), planted, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	replicas := func() (out []string) {
		names, _ := v.keys.logRecoveryReplicas(ctx)
		for _, n := range names {
			b, _ := objects.ReadSmall(ctx, cfg.Objects, n, maxKeyFile)
			out = append(out, fileDigest(b))
		}
		return out
	}

	// A start writes the recorded copy back, and replicates nothing else.
	plant()
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(v.keys.logRecoveryFile()); !bytes.Equal(b, genuine) {
		t.Fatal("the start kept the planted recovery copy")
	}
	if got := replicas(); !slices.Equal(got, []string{fileDigest(genuine)}) {
		t.Fatalf("replicas %v, want only the genuine copy's", got)
	}

	// Planted while the vault runs: the scrub names it, and passes the
	// genuine replica.
	plant()
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.KeysAltered, "the log key: recovery copy: not the file the log recorded") || len(res.Unaccounted) != 0 {
		t.Fatalf("scrub: keys altered %q, unaccounted %v", res.KeysAltered, res.Unaccounted)
	}
	v.Close()

	// A recovery run on it takes the genuine replica; the sealed key is
	// the log's.
	plant()
	if _, err := Recover(ctx, cfg, rid); err != nil {
		t.Fatalf("recovery beside a planted copy: %v", err)
	}
	if b, _ := os.ReadFile(v.keys.logRecoveryFile()); !bytes.Equal(b, genuine) {
		t.Fatal("the recovery kept the planted recovery copy")
	}
	v, err = Open(ctx, cfg)
	if err != nil {
		t.Fatalf("the start after the recovery: %v", err)
	}
	v.Close()

	// With the genuine replica gone too, the recovery refuses, and
	// leaves the working sealed key as it was.
	sealedBefore, _ := os.ReadFile(filepath.Join(cfg.KeyringDir, "log.key.sealed"))
	names, _ := v.keys.logRecoveryReplicas(ctx)
	for _, n := range names {
		cfg.Objects.Delete(ctx, n)
	}
	plant()
	if _, err := Recover(ctx, cfg, rid); err == nil || !strings.Contains(err.Error(), "not this log's key") {
		t.Fatalf("a recovery with only a planted copy: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(cfg.KeyringDir, "log.key.sealed")); !bytes.Equal(b, sealedBefore) {
		t.Fatal("the refused recovery rewrote the sealed log key")
	}
}

// TestALogOpenedBeforeRecordsItsRecoveryCopy: a log whose log.opened
// does not record the log key's recovery copy (releases before
// 2026-12-06) records one at its next start (key.stored, key "log"),
// once: a copy made then from the key itself, never the keyring's as
// found, which someone may have planted before the upgrade (anyone may
// encrypt to the recovery recipient).
func TestALogOpenedBeforeRecordsItsRecoveryCopy(t *testing.T) {
	ctx := context.Background()
	rid, _ := age.GenerateX25519Identity()
	testHookOpenedAsBefore = true
	v, _ := openTestVaultDir(t, func(c *Config) { c.RecoveryRecipient = rid.Recipient().String() })
	testHookOpenedAsBefore = false
	if v.state.logInfo().RecoveryCopy != "" {
		t.Fatal("the hook did not open the log as before")
	}
	stored := func(v *Vault) (n int, digest string) {
		for _, ev := range logged(t, v) {
			var d KeyStored
			if ev.Type == TypeKeyStored && ev.DecodeData(&d) == nil && d.Key == keyStoredLog {
				n, digest = n+1, d.KeyFiles.Recovery
			}
		}
		return n, digest
	}
	if n, _ := stored(v); n != 0 {
		t.Fatal("the start as before recorded the copy")
	}
	v.Close()
	planted, _ := plantedLogRecovery(t, rid)
	if err := os.WriteFile(v.keys.logRecoveryFile(), planted, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := v.cfg
	v2, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := os.ReadFile(v2.keys.logRecoveryFile())
	n, d := stored(v2)
	if n != 1 || d != fileDigest(local) || d == fileDigest(planted) || v2.recordedLogRecovery() != d {
		t.Fatalf("the upgrade recorded %d copies (%s), the keyring holds %s, the planted copy is %s", n, d, fileDigest(local), fileDigest(planted))
	}
	// The copy recorded holds the log's key.
	skey, err := openRecovery(local, rid)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(string(skey))
	if err != nil || sameKey(signer, v2.verifier) != nil {
		t.Fatalf("the recorded copy does not hold the log's key: %v", err)
	}
	v2.Close()
	v3, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v3.Close()
	if n, _ := stored(v3); n != 1 {
		t.Fatalf("a later start recorded it again: %d records", n)
	}
}

// recoverableVault is a test vault whose recovery identity the test
// holds, and its configuration.
func recoverableVault(t *testing.T) (Config, *age.X25519Identity, *Vault) {
	t.Helper()
	rid, _ := age.GenerateX25519Identity()
	cfg := testConfig(t, t.TempDir(), func(c *Config) { c.RecoveryRecipient = rid.Recipient().String() })
	v, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, rid, v
}

// plantedLogRecovery is a recovery copy of a log key of someone else's,
// encrypted to rid's (public) recipient as anyone may, and that key's
// verifier key.
func plantedLogRecovery(t *testing.T, rid *age.X25519Identity) ([]byte, string) {
	t.Helper()
	sk, vk, err := note.GenerateKey(rand.Reader, "custos-planted")
	if err != nil {
		t.Fatal(err)
	}
	b, err := encryptRecovery([]byte(sk), rid.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	return b, vk
}
