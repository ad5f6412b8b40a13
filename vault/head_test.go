package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
	"golang.org/x/mod/sumdb/note"
)

// TestHeadIsTheLargestSignedNote: the head is the largest signed note
// found in the object store. An object-store administrator who plants a
// genuine, older note under a name that sorts last (once, or 64 times to
// push the real head out of the bounded read), or anything under a name
// the vault never gives, has the start refused with the object named,
// instead of a smaller head being believed.
func TestHeadIsTheLargestSignedNote(t *testing.T) {
	ctx := context.Background()
	dir, store, signer, verifier := headFixture(t)
	var tree events.Tree
	sign := func(size uint64) []byte {
		for tree.Size() < size {
			tree.Append(events.LeafHash([]byte{byte(tree.Size())}))
		}
		root, _ := tree.Root(size)
		n, err := events.SignCheckpoint(signer, "custos-test", size, root)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	put := func(name string, b []byte) {
		if _, err := store.Put(ctx, name, bytes.NewReader(b), objects.PutOptions{Unlocked: true}); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(name string) {
		if err := store.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	h := newStickyHead(filepath.Join(dir, "keyring"), store)
	// Genuine heads of 70 sizes (deletions failed), more than a start
	// reads: the largest is read, whatever is left below it.
	for size := uint64(1); size <= 70; size++ {
		put(headObject(size), sign(size))
	}
	got, where, err := h.load(ctx, "custos-test", verifier, false)
	if err != nil || got == nil || got.Size != 70 {
		t.Fatalf("head: %v from %s, %v; want the note of size 70", got, where, err)
	}
	for _, decoys := range [][]string{
		{"head/09999999999999999999"},
		func() (names []string) {
			for i := range 64 {
				names = append(names, fmt.Sprintf("head/%020d", 100+i))
			}
			return names
		}(),
	} {
		for _, name := range decoys {
			put(name, sign(3))
		}
		_, _, err := h.load(ctx, "custos-test", verifier, false)
		if err == nil || !strings.Contains(err.Error(), decoys[len(decoys)-1]) || !strings.Contains(err.Error(), "not of the size its name gives") {
			t.Fatalf("%d decoys: %v; want the start refused, naming the highest", len(decoys), err)
		}
		for _, name := range decoys {
			remove(name)
		}
	}
	put("head/zzz", sign(70))
	if _, _, err := h.load(ctx, "custos-test", verifier, false); err == nil || !strings.Contains(err.Error(), "head/zzz") {
		t.Fatalf("a name the vault never gives: %v", err)
	}
	remove("head/zzz")
	// A note not signed by the log's key is refused, not skipped.
	other, _, _ := note.GenerateKey(rand.Reader, "custos-test")
	os, _ := note.NewSigner(other)
	forged, _ := events.SignCheckpoint(os, "custos-test", 90, events.Hash{})
	put("head/00000000000000000090", forged)
	if _, _, err := h.load(ctx, "custos-test", verifier, false); err == nil {
		t.Fatal("a head not signed by the log's key was accepted")
	}
}

// The keyring's files are checked before they are trusted: a log.pub of
// an administrator's own, named as the vault's key (with which a log they
// rewrote and signed themselves would pass every check of a start), and
// a sticky head grown to a sparse gigabyte (nothing on disk, a gigabyte
// read) are each refused, the second without being read.
func TestAlteredKeyringFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	v, err := Open(ctx, testConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	name := v.verifier.Name()
	v.Close()
	pubPath := filepath.Join(dir, "keyring", "log.pub")
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}

	_, other, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := Open(ctx, testConfig(t, dir)); err == nil {
		v.Close()
		t.Fatal("the vault started with a log.pub that is not its signing key's")
	} else if !strings.Contains(err.Error(), "is not the public half of its sealed signing key") {
		t.Fatalf("refused with %v, want the key's halves named", err)
	}
	if err := os.WriteFile(pubPath, pub, 0o600); err != nil {
		t.Fatal(err)
	}

	headPath := filepath.Join(dir, "keyring", HeadFile)
	if err := os.Truncate(headPath, 1<<30); err != nil {
		t.Fatal(err)
	}
	before := testenv.ResetPeakMemory(t)
	if v, err := Open(ctx, testConfig(t, dir)); err == nil {
		v.Close()
		t.Fatal("the vault started with a sticky head of a gigabyte")
	} else if !errors.Is(err, smallfile.ErrTooLarge) {
		t.Fatalf("refused with %v, want the head's size named", err)
	}
	if grew := testenv.PeakMemory(t) - before; grew > 256<<20 {
		t.Errorf("the start raised the peak memory by %d MiB: the head was read whole", grew>>20)
	}
}

// A view is not served until a checkpoint covering its access event is
// published to the sticky head (the keyring folder and the object
// store), whatever the checkpoint interval: an access covered only by
// the log store's batch seal could be removed after a crash, seal and
// all, by whoever administers the store and the keyring folder, and the
// next start would find nothing missing. When the head cannot be saved,
// nothing is served and the access records why.
func TestViewsWaitForAPublishedCheckpoint(t *testing.T) {
	var logs testenv.LogBuffer
	v, dir := openTestVaultDir(t, func(c *Config) {
		c.CheckpointInterval = time.Hour
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	invTok, _ := v.Enroll(ctx, "inv", RoleInvestigator)
	inv, _ := signIn(v, invTok)
	openCases(t, v, inv, "A")
	a := depositText(t, v, inv, "A", "a.bin", "aaaa")
	headPath := filepath.Join(dir, "keyring", HeadFile)
	headSize := func() uint64 { return keptHeadSize(t, v, headPath) }

	r, err := v.OpenItem(ctx, inv, a.ID, "the view")
	if err != nil {
		t.Fatal(err)
	}
	if got := headSize(); got <= r.Access {
		t.Fatalf("the view was served with the sticky head at %d events, not covering its access event %d", got, r.Access)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx); err != nil {
		t.Fatal(err)
	}

	// The head cannot be saved (its file made a folder, so that the
	// rename over it fails).
	if err := os.Remove(headPath); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(headPath, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := v.log.Size()
	r, err = v.OpenItem(ctx, inv, a.ID, "a second view")
	if err == nil {
		r.Finish(ctx)
		t.Fatal("a view was served although no checkpoint covering it could be published")
	}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, sequencer.ErrUnpublished) {
		t.Fatalf("refused with %v, want ErrUnavailable and ErrUnpublished", err)
	}
	var got []string
	v.cfg.Log.Read(ctx, before, func(rec events.Record) error {
		ev, _ := verify.DecodeEvent(rec.Bytes)
		got = append(got, ev.Type+" "+string(ev.Data))
		return nil
	})
	if len(got) != 2 || !strings.HasPrefix(got[0], TypeItemAccessed) || !strings.Contains(got[1], "no checkpoint covering the access could be published: nothing was sent") {
		t.Fatalf("the log after the refused view: %q, want the access and its completion saying nothing was sent", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "no checkpoint of the custody log could be published") {
		t.Fatalf("the failure was not logged: %s", logs.String())
	}

	// More views while it lasts: each refused and counted, the line
	// not written again within its interval (a failing disk does not
	// flood the server's log). Once the head can be saved, a view is
	// served, and the log says once that checkpoints are published again.
	failures := v.log.CheckpointFailures()
	for range 5 {
		if r, err := v.OpenItem(ctx, inv, a.ID, "another view"); err == nil {
			r.Finish(ctx)
			t.Fatal("a view was served although no checkpoint covering it could be published")
		}
	}
	if n := v.log.CheckpointFailures(); n < failures+5 {
		t.Errorf("%d failures counted after five more refused views, %d before", n, failures)
	}
	if n := strings.Count(logs.String(), "no checkpoint of the custody log could be published"); n != 1 {
		t.Errorf("the failure was logged %d times within its interval", n)
	}
	if err := os.RemoveAll(headPath); err != nil {
		t.Fatal(err)
	}
	r, err = v.OpenItem(ctx, inv, a.ID, "a view once the disk is mended")
	if err != nil {
		t.Fatalf("a view once the head can be saved again: %v", err)
	}
	io.Copy(io.Discard, r)
	r.Finish(ctx)
	if n := strings.Count(logs.String(), "checkpoints of the custody log are published again"); n != 1 {
		t.Errorf("the recovery was logged %d times: %s", n, logs.String())
	}
}

// A package's retrieval is published before the package is sent, like a
// view (TestViewsWaitForAPublishedCheckpoint).
func TestPackageRetrievalsWaitForAPublishedCheckpoint(t *testing.T) {
	ctx := context.Background()
	v, dir := openTestVaultDir(t, func(c *Config) { c.CheckpointInterval = time.Hour })
	inv, pros := enrolled(t, v, "inv", RoleInvestigator), enrolled(t, v, "pros", RoleProsecutor)
	if err := v.OpenCase(ctx, inv, "P-1", "a package"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "P-1", Name: "a.txt", Body: strings.NewReader("evidence a")}); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(ctx, pros, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	sealed, err := v.SealPackage(ctx, inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"})
	if err != nil {
		t.Fatal(err)
	}
	headPath := filepath.Join(dir, "keyring", HeadFile)
	if err := os.Remove(headPath); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(headPath, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	rc, _, err := v.FetchPackage(ctx, pros, sealed.ID)
	if err == nil {
		rc.Close()
		t.Fatal("a package was sent although no checkpoint covering its retrieval could be published")
	}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, sequencer.ErrUnpublished) {
		t.Fatalf("refused with %v, want ErrUnavailable and ErrUnpublished", err)
	}
	// The retrieval's event stands, followed by its completion saying
	// that nothing was sent.
	evs := logged(t, v)
	fetched, done := evs[len(evs)-2], evs[len(evs)-1]
	var d PackageFetchDone
	if fetched.Type != TypePackageFetched || done.Type != TypePackageFetchDone || done.DecodeData(&d) != nil ||
		d.FetchEvent != fmt.Sprint(fetched.Seq) || d.Bytes != 0 || d.SHA256 != "" || !strings.Contains(d.Aborted, "nothing was sent") {
		t.Fatalf("after the refused retrieval the log ends with %s, %s %+v", fetched.Type, done.Type, d)
	}
	if err := os.RemoveAll(headPath); err != nil {
		t.Fatal(err)
	}
	rc, _, err = v.FetchPackage(ctx, pros, sealed.ID)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	b, err := os.ReadFile(headPath)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := events.ParseCheckpoint(b, v.origin, v.verifier)
	if err != nil || cp.Size != v.log.Size() {
		t.Fatalf("the sticky head after the retrieval: %+v %v, want the log's %d events", cp, err, v.log.Size())
	}
}

// TestALogWithoutItsHeadIsRefused: a vault saves its head before its
// first event, so a log that holds events while neither the keyring
// folder nor the object store holds a head had both copies deleted. An
// administrator holding both (one root on a one-server vault) who deletes
// them, with or without cutting the log back to an older stored
// checkpoint, has the start refused, nothing appended; only an accepted
// rollback, which records that the head was missing, starts the vault
// again, and the next start needs nothing more.
func TestALogWithoutItsHeadIsRefused(t *testing.T) {
	for _, cut := range []bool{false, true} {
		t.Run(map[bool]string{false: "heads deleted", true: "heads deleted and the log cut back"}[cut], func(t *testing.T) {
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			logger := slog.New(slog.DiscardHandler)
			v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
			busyVault(t, v, 0)
			if _, err := v.Log().Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			stored := v.Log().Size()
			busyVault(t, v, 1)
			v.Close()
			st.Close()

			removeHeads := func() {
				os.Remove(filepath.Join(dir, "keyring", HeadFile))
				heads, _ := filepath.Glob(filepath.Join(dir, "objects", "head", "*"))
				if len(heads) == 0 {
					t.Fatal("no head object to remove")
				}
				for _, h := range heads {
					os.Remove(h)
				}
				os.RemoveAll(filepath.Join(dir, "snapshots"))
				os.RemoveAll(filepath.Join(dir, "tiles"))
			}
			removeHeads()
			if cut {
				cutLog(t, filepath.Join(dir, "log.db"), stored)
			}
			size := func() uint64 {
				st, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(dir, "log.db")})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				n, err := st.Size(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := size()
			_, _, err := openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50)
			if !errors.Is(err, ErrHeadMissing) || !strings.Contains(err.Error(), "accept-rollback") {
				t.Fatalf("a log of %d events without its head started: %v", before, err)
			}
			if size() != before {
				t.Fatal("the refused start appended to the log")
			}

			ctx := context.Background()
			st, err = sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
			if err != nil {
				t.Fatal(err)
			}
			objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
			sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
			got, err := AcceptRollback(ctx, Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"),
				SpoolDir: filepath.Join(dir, "spool"), TileDir: filepath.Join(dir, "tiles"), SnapshotDir: filepath.Join(dir, "snapshots"),
				RecoveryRecipient: rec.Recipient().String(), Logger: logger}, "the head was deleted; see incident 7", nil)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !got.HeadMissing || got.LostHead != "" || got.Size != before {
				t.Fatalf("recorded %+v", got)
			}
			v, st = snapshotVault(t, dir, logger, rec.Recipient().String())
			defer st.Close()
			defer v.Close()
			var found bool
			for _, e := range logged(t, v) {
				if e.Type == TypeRollbackAccepted {
					var d RollbackAccepted
					if err := e.DecodeData(&d); err != nil {
						t.Fatal(err)
					}
					found = d.HeadMissing && d.Reason == "the head was deleted; see incident 7"
				}
			}
			if !found {
				t.Fatal("the log does not record that the head was missing")
			}
		})
	}
}

// TestANewVaultSavesItsHeadFirst: the head of a new vault is a checkpoint
// of its empty log, saved before its first event, so that a crash
// before its first checkpoint leaves a log its next start accepts.
func TestANewVaultSavesItsHeadFirst(t *testing.T) {
	ctx := context.Background()
	dir, store, signer, verifier := headFixture(t)
	h := newStickyHead(filepath.Join(dir, "keyring"), store)
	if err := os.MkdirAll(filepath.Join(dir, "keyring"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := h.saveEmpty(ctx, signer, verifier, "custos-test"); err != nil {
		t.Fatal(err)
	}
	got, _, err := newStickyHead(filepath.Join(dir, "keyring"), store).load(ctx, "custos-test", verifier, false)
	if err != nil || got == nil || got.Size != 0 {
		t.Fatalf("head %+v, %v; want the empty log's checkpoint", got, err)
	}
	var tree events.Tree
	tree.Append(events.LeafHash([]byte("server.started")))
	if err := checkExtends(got, "", 1, tree.Root); err != nil {
		t.Fatalf("a log of one event does not extend the empty head: %v", err)
	}
}

// cutLog cuts a SQLite log back to its first n events, as its database's
// administrator could: the events after them, the checkpoints of more
// events, the seal and the lookup file.
func cutLog(t *testing.T, path string, n uint64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DELETE FROM events WHERE seq >= ?`, `DELETE FROM checkpoints WHERE size > ?`, `DELETE FROM seal WHERE ? >= 0`} {
		if _, err := db.Exec(q, int64(n)); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(path + "-lookups")
}

// headFixture is a folder with a file object store in it, and a log key
// of origin "custos-test", for the sticky head's own tests.
func headFixture(t *testing.T) (string, objects.Store, note.Signer, note.Verifier) {
	t.Helper()
	dir := t.TempDir()
	store, err := fs.New(context.Background(), fs.Config{Dir: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, _ := note.GenerateKey(rand.Reader, "custos-test")
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	return dir, store, signer, verifier
}

// TestAFailedFirstStartCanBeginAgain: a first start that fails after
// saving its head (of no events) leaves that head in the keyring folder
// and the object store; with the keyring folder removed, as
// operations.md says to begin again, the next first start has a new log
// key, which did not sign that head. It vouched for nothing: the start
// removes it and begins. A head of some events signed by another key is
// still refused, empty log or not.
func TestAFailedFirstStartCanBeginAgain(t *testing.T) {
	ctx := context.Background()
	dir, store, signer, verifier := headFixture(t)
	os.MkdirAll(filepath.Join(dir, "keyring"), 0o700)
	h := newStickyHead(filepath.Join(dir, "keyring"), store)
	if err := h.saveEmpty(ctx, signer, verifier, "custos-test"); err != nil {
		t.Fatal(err)
	}
	_, _, _, otherVerifier := headFixture(t)
	got, _, err := newStickyHead(filepath.Join(dir, "keyring"), store).load(ctx, "custos-test", otherVerifier, true)
	if err != nil || got != nil {
		t.Fatalf("the leftover head of a failed first start: %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyring", HeadFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the leftover head file is still there: %v", err)
	}
	var names []string
	store.List(ctx, "head/", func(i objects.Info) error { names = append(names, i.Name); return nil })
	if len(names) != 0 {
		t.Fatalf("leftover head objects: %v", names)
	}
	// A head of events, another key's: refused, empty log or not.
	var tree events.Tree
	tree.Append(events.LeafHash([]byte("x")))
	root, _ := tree.Root(1)
	b, _ := events.SignCheckpoint(signer, "custos-test", 1, root)
	os.WriteFile(filepath.Join(dir, "keyring", HeadFile), b, 0o600)
	for _, empty := range []bool{true, false} {
		if _, _, err := newStickyHead(filepath.Join(dir, "keyring"), store).load(ctx, "custos-test", otherVerifier, empty); err == nil {
			t.Fatalf("another key's head of one event was taken (empty log %v)", empty)
		}
	}
}

// TestAnEmptyObjectStoreIsNotTheVaults: a start on a log of events with
// an object store that holds nothing (a mistyped --objects path, a disk
// not mounted) is refused before anything is written, saying to check
// --objects; the right store starts; a store emptied for good is taken
// once the keyring's head is copied into it under the name the refusal
// gives.
func TestAnEmptyObjectStoreIsNotTheVaults(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	logger := slog.New(slog.DiscardHandler)
	v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
	busyVault(t, v, 0)
	v.Close()
	st.Close()
	objectsDir := filepath.Join(dir, "objects")
	if err := os.Rename(objectsDir, objectsDir+".real"); err != nil {
		t.Fatal(err)
	}
	logBefore, _ := os.ReadFile(filepath.Join(dir, "log.db"))
	_, _, err := openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50)
	if !errors.Is(err, ErrEmptyObjectStore) || !strings.Contains(err.Error(), "Check --objects") {
		t.Fatalf("a start on an empty object store: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "log.db")); !bytes.Equal(after, logBefore) {
		t.Error("the refused start wrote to the log")
	}
	if n := countObjects(t, objectsDir); n != 0 {
		t.Errorf("the refused start wrote %d objects into the empty store", n)
	}
	// The name the refusal gives for the keyring's head.
	name := regexp.MustCompile(`as (head/[0-9]{20})`).FindStringSubmatch(err.Error())
	if name == nil {
		t.Fatalf("the refusal names no head object: %v", err)
	}

	// A store with something in it, but nothing of the vault's: refused
	// all the same.
	planted, _ := fs.New(context.Background(), fs.Config{Dir: objectsDir})
	if _, err := planted.Put(context.Background(), "misc/notes", strings.NewReader("junk"), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50); !errors.Is(err, ErrEmptyObjectStore) {
		t.Fatalf("a start on a store holding one object not the vault's: %v", err)
	}
	// Nor does an object under the vault's own names that the log never
	// recorded (another vault's, or a decoy); and the decoy stays.
	decoy := "ev/" + strings.Repeat("0", 32)
	if _, err := planted.Put(context.Background(), decoy, strings.NewReader("junk"), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50); !errors.Is(err, ErrEmptyObjectStore) || !strings.Contains(err.Error(), "evidence objects the custody log records") {
		t.Fatalf("a start on a store holding an evidence object the log never recorded: %v", err)
	}
	if _, err := planted.Stat(context.Background(), decoy); err != nil {
		t.Fatalf("the refused start swept the decoy: %v", err)
	}
	if n := countObjects(t, objectsDir); n != 2 {
		t.Errorf("the refused start wrote into the store: %d objects", n)
	}

	// The right store: the vault starts.
	os.RemoveAll(objectsDir)
	if err := os.Rename(objectsDir+".real", objectsDir); err != nil {
		t.Fatal(err)
	}
	starts := func(what string) {
		t.Helper()
		v, st, err := openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		v.Close()
		st.Close()
	}
	starts("the vault's own store")

	// A store emptied for good: the head copied in as the refusal says.
	os.RemoveAll(objectsDir)
	os.MkdirAll(objectsDir, 0o700)
	_, _, err = openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50)
	if !errors.Is(err, ErrEmptyObjectStore) {
		t.Fatalf("an emptied store: %v", err)
	}
	name = regexp.MustCompile(`as (head/[0-9]{20})`).FindStringSubmatch(err.Error())
	b, rerr := os.ReadFile(filepath.Join(dir, "keyring", HeadFile))
	if rerr != nil || name == nil {
		t.Fatal(rerr, err)
	}
	objs, _ := fs.New(context.Background(), fs.Config{Dir: objectsDir})
	if _, err := objs.Put(context.Background(), name[1], bytes.NewReader(b), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	starts("with the head copied in as named")
}

// countObjects counts the objects of the fs store in dir.
func countObjects(t *testing.T, dir string) int {
	t.Helper()
	objs, err := fs.New(context.Background(), fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	objs.List(context.Background(), "", func(objects.Info) error { n++; return nil })
	return n
}

// TestARollbackRecordsWhatTheOutsideKnew: a whole backup restored, head
// and all, starts (its log extends its own head), and its head knows
// nothing of the events after it. Accepting the rollback with the
// auditors' newer checkpoint records the loss that checkpoint proves; a
// checkpoint the log extends, or one of another log, proves none and is
// refused, recording nothing.
func TestARollbackRecordsWhatTheOutsideKnew(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	logger := slog.New(slog.DiscardHandler)
	v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
	busyVault(t, v, 0)
	old, err := v.Log().Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	st.Close()
	backup := t.TempDir()
	if err := os.CopyFS(backup, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	v, st = snapshotVault(t, dir, logger, rec.Recipient().String())
	busyVault(t, v, 1)
	newer, err := v.Log().Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	st.Close()
	// The whole backup put back.
	os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	cfg := func() (Config, func()) {
		st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
		if err != nil {
			t.Fatal(err)
		}
		objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
		sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
		return Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"),
			SpoolDir: filepath.Join(dir, "spool"), TileDir: filepath.Join(dir, "tiles"), SnapshotDir: filepath.Join(dir, "snapshots"),
			RecoveryRecipient: rec.Recipient().String(), Logger: logger}, func() { st.Close() }
	}
	// A checkpoint of the same size and root under this log's name,
	// signed by another key.
	sk, _, _ := note.GenerateKey(rand.Reader, v.origin)
	otherSigner, err := note.NewSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := events.SignCheckpoint(otherSigner, v.origin, newer.Size, newer.Root)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		saved []byte
		says  string
	}{
		"no checkpoint":                {nil, "extends the vault's head"},
		"a checkpoint the log extends": {old.Note, "proves no loss"},
		"another key's checkpoint":     {forged, "not one of this custody log signed by its key"},
	} {
		c0, done := cfg()
		size := func() uint64 { n, _ := c0.Log.Size(ctx); return n }()
		_, err := AcceptRollback(ctx, c0, "restored the backup of the night before", c.saved)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want it to say %q", name, err, c.says)
		}
		if n, _ := c0.Log.Size(ctx); n != size {
			t.Errorf("%s: the refused acceptance appended %d events", name, n-size)
		}
		done()
	}
	c0, done := cfg()
	got, err := AcceptRollback(ctx, c0, "restored the backup of the night before", newer.Note)
	done()
	if err != nil {
		t.Fatal(err)
	}
	if got.LostSize != newer.Size || got.LostHead != string(newer.Note) || got.Size < old.Size || got.Size >= newer.Size || got.HeadMissing {
		t.Fatalf("recorded %+v; want the loss of events up to %d, which the auditors' checkpoint proves", got, newer.Size)
	}

	if got.VaultHead != "" {
		t.Errorf("the vault's own head, which the restored log extends, is recorded as lost too: %q", got.VaultHead)
	}

	// A restore soon after, to fewer events than that checkpoint: the
	// checkpoint the first acceptance recorded as given up is refused.
	backup2 := t.TempDir()
	if err := os.CopyFS(backup2, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	v, st = snapshotVault(t, dir, logger, rec.Recipient().String())
	if _, err := v.Log().Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	v.Close()
	st.Close()
	os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS(backup2)); err != nil {
		t.Fatal(err)
	}
	c0, done = cfg()
	if n, _ := c0.Log.Size(ctx); n >= newer.Size {
		t.Fatalf("the log holds %d events already, the test wants fewer than %d", n, newer.Size)
	}
	if _, err := AcceptRollback(ctx, c0, "restored again", newer.Note); err == nil || !strings.Contains(err.Error(), "gave up already") {
		t.Fatalf("an acceptance with the head an earlier rollback gave up: %v", err)
	}
	done()
	os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS(backup2)); err != nil {
		t.Fatal(err)
	}

	// Later, the vault has grown past the history it gave up; the
	// checkpoint of that history, given to another acceptance, tells
	// nothing of what a restore loses now.
	v, st = snapshotVault(t, dir, logger, rec.Recipient().String())
	for v.log.Size() <= newer.Size {
		busyVault(t, v, 2+int(v.log.Size()%20))
	}
	v.Close()
	st.Close()
	c0, done = cfg()
	defer done()
	size, _ := c0.Log.Size(ctx)
	if _, err := AcceptRollback(ctx, c0, "restored again", newer.Note); err == nil || !strings.Contains(err.Error(), "tells nothing of what this restore lost") {
		t.Fatalf("an acceptance with a checkpoint of a history given up before: %v", err)
	}
	if n, _ := c0.Log.Size(ctx); n != size {
		t.Fatal("the refused acceptance appended")
	}
}

// TestAQuietLogIsNamedAtTheStart: a start on a log whose newest event is
// more than a week old says so, with that event's date, before it
// appends anything (a whole backup put back, heads and all, is otherwise
// started without a word); a start after a shorter pause says nothing.
func TestAQuietLogIsNamedAtTheStart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var offset atomic.Int64
	now := func(c *Config) { c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) } }
	v, err := Open(ctx, testConfig(t, dir, now))
	if err != nil {
		t.Fatal(err)
	}
	last := v.Log().Size() - 1
	v.Close()
	// Two days later (the log's last event, the first start's, two days
	// old), then 40 days after the first start (38 after the second's).
	for _, c := range []struct {
		after time.Duration
		warns string
	}{{2 * 24 * time.Hour, ""}, {40 * 24 * time.Hour, "days_ago=38"}} {
		offset.Store(int64(c.after))
		var logs testenv.LogBuffer
		v, err := Open(ctx, testConfig(t, dir, now, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) }))
		if err != nil {
			t.Fatal(err)
		}
		next := v.Log().Size() - 1
		v.Close()
		out := logs.String()
		if got := strings.Contains(out, "newest event was recorded more than a week ago"); got != (c.warns != "") {
			t.Fatalf("a start %v after the first: warned %v:\n%s", c.after, got, out)
		}
		if c.warns != "" && (!strings.Contains(out, fmt.Sprintf("event=%d ", last)) || !strings.Contains(out, c.warns) || !strings.Contains(out, "Restoring")) {
			t.Errorf("the warning does not name the event %d, its age (%s) and what to do:\n%s", last, c.warns, out)
		}
		last = next
	}
}

// A person's act is answered only once a checkpoint covering it is kept
// as the sticky head, as a view is: a suspension or a refusal the vault
// confirmed, covered only by the log store's batch seal, could be
// removed after a stop by whoever administers the store and the keyring
// folder (the log cut back, the seal put back from the head), and the
// next start would find nothing missing. An act recorded as the head
// fails is not confirmed; while it cannot be kept, people's acts are
// refused before anything is recorded; once it can, they are taken
// again at once.
func TestActsWaitForTheHead(t *testing.T) {
	ctx := context.Background()
	v, dir := openTestVaultDir(t, func(c *Config) { c.CheckpointInterval = time.Hour })
	cust, inv := enrolled(t, v, "cust", RoleCustodian), enrolled(t, v, "inv", RoleInvestigator)
	enrolled(t, v, "ana", RoleAnalyst)
	enrolled(t, v, "ben", RoleAnalyst)
	dinaTok, err := v.Enroll(ctx, "dina", RoleInvestigator)
	if err != nil {
		t.Fatal(err)
	}
	headPath := filepath.Join(dir, "keyring", HeadFile)
	covered := func(what string) {
		t.Helper()
		if size := keptHeadSize(t, v, headPath); size < v.log.Size() {
			t.Fatalf("%s was answered with the head at %d events, the log at %d", what, size, v.log.Size())
		}
	}
	if err := v.OpenCase(ctx, inv, "P-1", "acts"); err != nil {
		t.Fatal(err)
	}
	covered("a case opened")
	if _, err := v.Suspend(ctx, cust, "ana", "on leave"); err != nil {
		t.Fatal(err)
	}
	covered("a suspension")
	if _, err := v.Suspend(ctx, inv, "ben", "not theirs to do"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an investigator's suspension: %v", err)
	}
	covered("a refusal")

	// The head cannot be saved (its file made a folder).
	if err := os.Remove(headPath); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(headPath, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := v.log.Size()
	_, err = v.Suspend(ctx, cust, "ben", "on leave")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrRecordedUnkept) || !errors.Is(err, sequencer.ErrOutcomeUnknown) {
		t.Fatalf("a suspension as the head failed was answered %v, want it not confirmed", err)
	}
	if v.log.Size() != before+1 {
		t.Fatalf("the log went from %d to %d events, want the suspension recorded", before, v.log.Size())
	}
	before = v.log.Size()
	if _, err := v.Suspend(ctx, inv, "cust", "not theirs to do"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrHeadUnkept) {
		t.Fatalf("a refusal while no head can be kept was answered %v", err)
	}
	if err := v.OpenCase(ctx, inv, "P-2", "more"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrHeadUnkept) {
		t.Fatalf("a case opened while no head can be kept was answered %v", err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "P-1", Name: "a.txt", Body: strings.NewReader("evidence")}); !errors.Is(err, ErrHeadUnkept) {
		t.Fatalf("a deposit while no head can be kept was answered %v", err)
	}
	// People's acts that are not decisions of the vault's: a sign-in, a
	// sign-out, a public report (its number given to the reporter).
	if _, err := v.OpenSession(ctx, dinaTok.Reveal()); !errors.Is(err, ErrHeadUnkept) {
		t.Fatalf("a sign-in while no head can be kept was answered %v", err)
	}
	if err := v.EndSession(ctx, inv); !errors.Is(err, ErrHeadUnkept) {
		t.Fatalf("a sign-out while no head can be kept was answered %v", err)
	}
	if _, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a"}}); !errors.Is(err, ErrHeadUnkept) {
		t.Fatalf("a public report while no head can be kept was answered %v", err)
	}
	if v.log.Size() != before {
		var got []string
		v.cfg.Log.Read(ctx, before, func(rec events.Record) error {
			ev, _ := verify.DecodeEvent(rec.Bytes)
			got = append(got, ev.Type+" "+string(ev.Data))
			return nil
		})
		t.Fatalf("acts refused while no head can be kept recorded %q", got)
	}

	// Mended: the next act is taken at once, and covered.
	if err := os.RemoveAll(headPath); err != nil {
		t.Fatal(err)
	}
	if err := v.OpenCase(ctx, inv, "P-2", "more"); err != nil {
		t.Fatalf("a case opened once the head can be kept: %v", err)
	}
	covered("an act once the head can be kept again")
}

// A start refused for a missing or altered file of the keyring folder
// says what to do, not only what it found: log.pub removed (it named the
// path alone), and the head file altered (the object store's copy is
// there to start from once the altered one is moved aside).
func TestStartRefusalsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	v, cfg, _ := restartable(t, dir)
	v.Close()
	keyring := cfg.KeyringDir
	pub, err := os.ReadFile(filepath.Join(keyring, "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(keyring, "log.pub"))
	if _, err := Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not its public half, log.pub") || !strings.Contains(err.Error(), "custos admin recover") {
		t.Fatalf("a start without log.pub: %v", err)
	}
	os.WriteFile(filepath.Join(keyring, "log.pub"), pub, 0o600)
	os.WriteFile(filepath.Join(keyring, HeadFile), []byte("not a checkpoint\n"), 0o600)
	_, err = Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "move it out of its place, and start again, which reads the other") {
		t.Fatalf("a start with its head file altered: %v", err)
	}
	os.Rename(filepath.Join(keyring, HeadFile), filepath.Join(t.TempDir(), "altered"))
	v, err = Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("a start once the altered head file is moved aside, from the object store's copy: %v", err)
	}
	v.Close()
}

// keptHeadSize is the size of the checkpoint the head file at path
// holds, signed by v's log key.
func keptHeadSize(t *testing.T, v *Vault, path string) uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := events.ParseCheckpoint(b, v.origin, v.verifier)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Size
}
