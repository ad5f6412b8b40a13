package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects/fs"

	"filippo.io/age"
)

// replayedState is the state a full replay of v's log gives, built here
// from the stored events, independently of any snapshot.
func replayedState(t *testing.T, v *Vault) *State {
	t.Helper()
	st := newState()
	for _, ev := range logged(t, v) {
		if err := st.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// diffFromReplay is stateDiff of v's state, under its read lock (the
// vault may be writing a snapshot and switching to its pages), and a
// full replay of v's log.
func diffFromReplay(t *testing.T, v *Vault) string {
	t.Helper()
	// The sweep after the start may still be recording orphans.
	if err := v.waitSweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	replayed := replayedState(t, v)
	v.state.mu.RLock()
	defer v.state.mu.RUnlock()
	return stateDiff(v.state, replayed)
}

// checkSnapshotRoundTrip fails if the state, through a snapshot's
// encoding and back, is not the state: every vault test of this package
// runs it on its vault's final state (openTestVaultDir), so each state
// the tests build is also a snapshot case.
func checkSnapshotRoundTrip(t testing.TB, v *Vault) {
	t.Helper()
	if err := v.waitSweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := snapshotRoundTrip(t, v.state)
	v.state.mu.RLock()
	defer v.state.mu.RUnlock()
	if diff := stateDiff(got, v.state); diff != "" {
		t.Fatalf("the state read back from a snapshot differs from the state: %s", diff)
	}
}

// snapshotRoundTrip returns s read back as a start reads a snapshot's
// state: its lines (split) decoded by decodeLines, the maps sized by the
// header's counts, the indexes derived.
func snapshotRoundTrip(t testing.TB, s *State) *State {
	t.Helper()
	enc, sizes := encodeStateBody(t, s)
	got, err := restoreStateBody(enc, sizes)
	if err != nil {
		t.Fatalf("decoding the state: %v", err)
	}
	// Read by its summary, as a start reads it, the state is the same.
	summary, err := restoreStateSummary(enc, sizes)
	if err != nil {
		t.Fatalf("decoding the state by its summary: %v", err)
	}
	if diff := stateDiff(summary, got); diff != "" {
		t.Fatalf("the state read by the snapshot's summary differs from the state read whole: %s", diff)
	}
	return got
}

// encodeStateBody returns the state lines of a snapshot of s (its pages
// of items, then the rest), as at offset 0 of a file, and the counts its
// header would hold.
func encodeStateBody(t testing.TB, s *State) ([]byte, snapshotEntries) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var buf bytes.Buffer
	if _, err := s.writeSnapshotBody(&buf, 0); err != nil {
		t.Fatalf("encoding the state: %v", err)
	}
	sizes := *s.snapshot().entries()
	sizes.Items = s.itemCount()
	return buf.Bytes(), sizes
}

// restoreStateBody returns the state a snapshot's state lines hold, its
// pages read from enc.
func restoreStateBody(enc []byte, sizes snapshotEntries) (*State, error) {
	back := restorer{sizes: sizes, r: bytes.NewReader(enc)}
	if err := decodeLines(bufio.NewReader(bytes.NewReader(enc)), 0, back.add); err != nil {
		return nil, err
	}
	return back.state()
}

// stateDiff names the first field in which two states differ, or "". It
// takes no lock: a caller comparing the state of a running vault holds
// its read lock.
func stateDiff(a, b *State) string {
	if d := fieldsDiff(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), "mu", "hot", "items", "pages", "pagesGen", "pagesFailed", "pagesFailedOnce",
		"objects", "objectPages", "contentPages", "casePages", "cases"); d != "" {
		return d
	}
	// The cases, and each case's items wherever each state holds them
	// (deposited since its snapshot, or in its pages).
	if len(a.cases) != len(b.cases) {
		return "cases"
	}
	for id, ac := range a.cases {
		bc := b.cases[id]
		if bc == nil {
			return "cases"
		}
		list := func(s *State, c *Case) ([]string, error) {
			var out []string
			err := s.caseRows(c, func(id string) bool { out = append(out, id); return true })
			return append(out, c.Items...), err
		}
		al, aerr := list(a, ac)
		bl, berr := list(b, bc)
		if aerr != nil || berr != nil {
			return fmt.Sprintf("case %s's items (%v, %v)", id, aerr, berr)
		}
		if !slices.Equal(al, bl) || len(al) != ac.paged+len(ac.Items) || len(bl) != bc.paged+len(bc.Items) {
			return "cases' items"
		}
		x, y := *ac, *bc
		x.Items, x.paged, y.Items, y.paged = nil, 0, nil, 0
		if !reflect.DeepEqual(x, y) {
			return "cases"
		}
	}
	// The object and content indexes, wherever each state holds them.
	// (No lock is taken here: a caller that shares a state with a running
	// vault holds its read lock, and a second read lock could wait
	// behind the writer's.)
	indexes := func(s *State) ([][2]string, [][2]string, error) {
		var objs, content [][2]string
		if err := mergeRows(s.objectPages, nil, s.addedObjects(), func(r [2]string) { objs = append(objs, r) }); err != nil {
			return nil, nil, err
		}
		err := mergeRows(s.contentPages, nil, s.addedContent(), func(r [2]string) { content = append(content, r) })
		return objs, content, err
	}
	ao, ac, aerr := indexes(a)
	bo, bc, berr := indexes(b)
	if aerr != nil || berr != nil {
		return fmt.Sprintf("indexes (%v, %v)", aerr, berr)
	}
	if !reflect.DeepEqual(ao, bo) {
		return "objects"
	}
	if !reflect.DeepEqual(ac, bc) {
		return "hot.bySHA256"
	}
	// The items, wherever each state holds them (changed since its
	// snapshot, or in its pages), with their counts of events.
	all := func(s *State) ([]Item, []named, error) {
		var items []Item
		var counts []named
		err := s.eachItem(func(it *Item) error {
			items, counts = append(items, *it), append(counts, it.events)
			return nil
		})
		return items, counts, err
	}
	ai, an, aerr := all(a)
	bi, bn, berr := all(b)
	if aerr != nil || berr != nil {
		return fmt.Sprintf("items (%v, %v)", aerr, berr)
	}
	if !reflect.DeepEqual(ai, bi) || !reflect.DeepEqual(an, bn) {
		return "items"
	}
	if d := fieldsDiff(reflect.ValueOf(a.hot).Elem(), reflect.ValueOf(b.hot).Elem(), "bySHA256"); d != "" {
		return "hot." + d
	}
	return ""
}

// fieldsDiff compares two structs field by field, unexported ones too,
// but for skip.
func fieldsDiff(av, bv reflect.Value, skip ...string) string {
	open := func(v reflect.Value) any {
		return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem().Interface()
	}
	for i := range av.NumField() {
		name := av.Type().Field(i).Name
		if slices.Contains(skip, name) {
			continue
		}
		if !reflect.DeepEqual(open(av.Field(i)), open(bv.Field(i))) {
			return name
		}
	}
	return ""
}

// A field added to State (or its hotline part) must be carried by
// snapshots: this list is what snapshot() and restore() handle (objects,
// bySHA256 and each case's items as pages of their own).
func TestSnapshotCarriesEveryStateField(t *testing.T) {
	carried := map[string][]string{
		// pages, pagesGen and pagesFailed are where the items are read
		// from, not what they are.
		"State": {"mu", "log", "persons", "byToken", "cases", "items", "pages", "pagesGen", "pagesFailed", "pagesFailedOnce", "objectPages", "contentPages", "casePages", "packages", "objects", "retained", "recent",
			"lostKeys", "keyFiles", "witnessKeys", "identity", "defaultRetentions", "caseEvents", "itemEvents", "caseOwn", "sessions", "sessionByID", "requests", "approvedHalves", "idTokens", "decided", "hot"},
		"hotlineState": {"reports", "reportOrder", "votes", "settled", "exportedSums", "policy", "hashsets", "bySHA256", "pdq", "judged",
			"judgedSet", "pdqOf", "exposure", "contacts"},
		// Unexported fields of the types the state holds, which a
		// snapshot carries beside them.
		"Person":     {"tokenSHA256", "invitation"},
		"invitation": {"id", "halves", "expires", "via", "void"},
		"Request":    {"invitationHalf", "void", "voidAt", "via"},
		"session":    {"id", "person", "tokenSHA256", "expires", "signedIn", "credential"},
		"named":      {"n", "last"},
		"Item":       {"events"}, // as pagedItem.Events
		"Case":       {"paged"},  // the case index's rows of the case
		"pdqItem":    {"item", "hash"},
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[State](), reflect.TypeFor[hotlineState](), reflect.TypeFor[Person](),
		reflect.TypeFor[invitation](), reflect.TypeFor[Request](), reflect.TypeFor[session](), reflect.TypeFor[named](), reflect.TypeFor[pdqItem]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.IsExported() && typ.Name() != "State" && typ.Name() != "hotlineState" {
				continue // encoded as JSON with the type
			}
			if !slices.Contains(carried[typ.Name()], f.Name) {
				t.Errorf("%s.%s is not carried by state snapshots (vault/snapshot_state.go); add it there and bump stateVersion", typ.Name(), f.Name)
			}
		}
	}
	// The types a snapshot encodes as JSON must not hide fields from it.
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem(), path)
		case reflect.Map:
			walk(typ.Elem(), path)
		case reflect.Interface, reflect.Func, reflect.Chan:
			t.Errorf("%s: a %s cannot be carried by a snapshot", path, typ.Kind())
		case reflect.Struct:
			if seen[typ] || typ == reflect.TypeFor[snapPerson]() {
				return
			}
			seen[typ] = true
			if typ.PkgPath() == "time" {
				return
			}
			for i := range typ.NumField() {
				f := typ.Field(i)
				where := path + "." + f.Name
				if !f.IsExported() && !slices.Contains(carried[typ.Name()], f.Name) {
					t.Errorf("%s is unexported: JSON drops it from snapshots", where)
				}
				if tag := f.Tag.Get("json"); tag == "-" {
					t.Errorf("%s is tagged json:\"-\": snapshots drop it", where)
				}
				if f.IsExported() {
					walk(f.Type, where)
				}
			}
		}
	}
	walk(reflect.TypeFor[snapState](), "snapState")
	walk(reflect.TypeFor[Person](), "Person")
}

// snapshotVault opens a vault with tiles and snapshots in dir (a new one
// if dir is empty) and returns it with its store; the caller closes both.
func snapshotVault(t *testing.T, dir string, logger *slog.Logger, rec string) (*Vault, *sqlite.Store) {
	t.Helper()
	v, st, err := openSnapshotVault(t, dir, logger, rec, 50)
	if err != nil {
		t.Fatal(err)
	}
	return v, st
}

// openSnapshotVault is snapshotVault for a start that may be refused:
// on an error the store is closed.
func openSnapshotVault(t *testing.T, dir string, logger *slog.Logger, rec string, every uint64) (*Vault, *sqlite.Store, error) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
	v, err := Open(ctx, Config{
		Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"), SpoolDir: filepath.Join(dir, "spool"),
		TileDir: filepath.Join(dir, "tiles"), SnapshotDir: filepath.Join(dir, "snapshots"), SnapshotEvery: every,
		RecoveryRecipient: rec, Logger: logger,
	})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return v, st, nil
}

// logBuffer is a logger whose output the test reads.
type logBuffer = testenv.LogBuffer

// busyVault does a little of everything the state records: persons,
// cases, members, deposits, views, a hold, sessions, a request.
func busyVault(t *testing.T, v *Vault, round int) {
	t.Helper()
	ctx := context.Background()
	suffix := string(rune('a' + round))
	cust := enrolled(t, v, "cust-"+suffix, RoleCustodian)
	cust2 := enrolled(t, v, "cust2-"+suffix, RoleCustodian)
	inv := enrolled(t, v, "inv-"+suffix, RoleInvestigator)
	enrolled(t, v, "inv2-"+suffix, RoleInvestigator)
	caseID := "CASE-" + suffix
	if err := v.OpenCase(ctx, inv, caseID, "snapshot "+suffix); err != nil {
		t.Fatal(err)
	}
	req, err := v.AddMember(ctx, cust, caseID, "inv2-"+suffix, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		res, err := v.Deposit(ctx, inv, DepositRequest{Case: caseID, Name: "file-" + string(rune('a'+i%26)), Body: strings.NewReader(suffix + strings.Repeat("x", i))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Open(ctx, inv, RevealRequest{Item: res.ID, Purpose: "review"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.SetHold(ctx, cust, caseID, true, "court order 7"); err != nil {
		t.Fatal(err)
	}
	// A request left pending, with its reason.
	enrolled(t, v, "inv3-"+suffix, RoleInvestigator)
	if _, err := v.AddMember(ctx, cust, caseID, "inv3-"+suffix, "reviews the chats of round "+suffix); err != nil {
		t.Fatal(err)
	}
}

// A start loads the newest snapshot and replays only the events after
// it: the state it decides on is the state a replay from event 0 gives,
// and the start says which snapshot it used.
func TestSnapshotStartEqualsFullReplay(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
	busyVault(t, v, 0)
	// Events after the last periodic snapshot, before Close writes one.
	busyVault(t, v, 1)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	names, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	if len(names) == 0 {
		t.Fatal("no snapshot written")
	}
	for round := 2; round < 4; round++ {
		v, st = snapshotVault(t, dir, logger, rec.Recipient().String())
		started := lastOfType(t, v, TypeServerStarted)
		if started["state_snapshot"] == "" || started["state_snapshots_discarded"] != "" {
			t.Fatalf("round %d: server.started %v: want a snapshot used, none discarded", round, started)
		}
		if diff := diffFromReplay(t, v); diff != "" {
			t.Fatalf("round %d: state from the snapshot differs from a full replay in %s", round, diff)
		}
		// The vault still works on the restored state.
		busyVault(t, v, round)
		if diff := diffFromReplay(t, v); diff != "" {
			t.Fatalf("round %d: after more events, state differs from a full replay in %s", round, diff)
		}
		v.Close()
		st.Close()
	}
	if strings.Contains(logs.String(), "discarded") {
		t.Fatalf("a snapshot was discarded: %s", logs.String())
	}
}

func lastOfType(t *testing.T, v *Vault, typ string) map[string]string {
	t.Helper()
	evs := logged(t, v)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			var m map[string]string
			if err := evs[i].DecodeData(&m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s event", typ)
	return nil
}

// Snapshots that must not be trusted are discarded loudly (an error in
// the server's log, the reason in server.started) and the start replays
// the log from event 0: a byte changed anywhere (the MAC), a snapshot
// whose tiles were altered, one of another log, one longer than the log.
func TestBadSnapshotDiscardedLoudly(t *testing.T) {
	rec, _ := age.GenerateX25519Identity()
	var snapKey snapshotKey
	cases := []struct {
		name   string
		damage func(t *testing.T, dir, snap string)
		reason string
	}{
		{"byte flipped in the state", func(t *testing.T, dir, snap string) {
			b, _ := os.ReadFile(snap)
			i := bytes.Index(b, []byte(`"cases"`))
			b[i+2] ^= 0x20
			os.WriteFile(snap, b, 0o600)
		}, "MAC does not match"},
		{"a member added to a case, MAC line kept", func(t *testing.T, dir, snap string) {
			b, _ := os.ReadFile(snap)
			b = bytes.Replace(b, []byte(`"Members":{`), []byte(`"Members":{"mallory":true,`), 1)
			os.WriteFile(snap, b, 0o600)
		}, "MAC does not match"},
		{"its summary line removed", func(t *testing.T, dir, snap string) {
			// Read whole, as an older version's file: the MAC of every
			// byte covered the summary line.
			b, _ := os.ReadFile(snap)
			n := len(b) - macLineLen - int(summaryLineLen)
			os.WriteFile(snap, append(b[:n:n], b[n+int(summaryLineLen):]...), 0o600)
		}, "MAC does not match"},
		{"its summary line removed, MAC recomputed with the vault's key", func(t *testing.T, dir, snap string) {
			// A file of this version without a summary line is never
			// used, whoever sealed it: the vault writes none.
			b, _ := os.ReadFile(snap)
			os.WriteFile(snap, sealOlder(snapKey, unsealed(b)), 0o600)
		}, "no summary line"},
		{"its summary line pointing at a later line", func(t *testing.T, dir, snap string) {
			b, _ := os.ReadFile(snap)
			at := len(b) - macLineLen - int(summaryLineLen)
			rest, mac, ok := parseSummaryLine(b[at : at+int(summaryLineLen)])
			if !ok {
				t.Fatal("no summary line")
			}
			later := rest + int64(bytes.IndexByte(b[rest:], '\n')) + 1
			copy(b[at:], summaryLine(later, mac))
			os.WriteFile(snap, b, 0o600)
		}, "MAC does not match"},
		{"a line of its page index altered", func(t *testing.T, dir, snap string) {
			b, _ := os.ReadFile(snap)
			b = bytes.Replace(b, []byte(`{"page_index":{"kind":"items","entries":`), []byte(`{"page_index":{"kind":"items","entries":9`), 1)
			os.WriteFile(snap, b, 0o600)
		}, "MAC does not match"},
		{"truncated", func(t *testing.T, dir, snap string) {
			b, _ := os.ReadFile(snap)
			os.WriteFile(snap, b[:len(b)/2], 0o600)
		}, "MAC does not match"},
		{"its tree edge changed, MAC recomputed with the vault's key", func(t *testing.T, dir, snap string) {
			// What no insider can do without the log key; it stands for
			// a snapshot of another history of this log (a restored
			// backup): MAC and checkpoint valid, tree different.
			b, _ := os.ReadFile(snap)
			lines := bytes.SplitN(b, []byte("\n"), 3)
			var h snapshotHeader
			if err := json.Unmarshal(lines[1], &h); err != nil {
				t.Fatal(err)
			}
			h.Edge[0][0] = strings.Repeat("ab", 32)
			hb, _ := json.Marshal(h)
			body := append(append(append([]byte(snapshotMagic), hb...), '\n'), unsealed(lines[2])...)
			os.WriteFile(snap, sealSnapshot(snapKey, body), 0o600)
		}, "does not fit the custody log"},
		{"from another vault", func(t *testing.T, dir, snap string) {
			other := t.TempDir()
			ov, ost := snapshotVault(t, other, slog.New(slog.DiscardHandler), rec.Recipient().String())
			busyVault(t, ov, 0)
			ov.Close()
			ost.Close()
			names, _ := os.ReadDir(filepath.Join(other, "snapshots"))
			b, _ := os.ReadFile(filepath.Join(other, "snapshots", names[len(names)-1].Name()))
			// Named as a newer snapshot of this vault.
			os.WriteFile(filepath.Join(dir, "snapshots", snapshotName(1<<40)), b, 0o600)
		}, "MAC does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			for round := range 4 { // over 256 events: full tiles on disk
				busyVault(t, v, round)
			}
			snapKey = v.snaps.key
			v.Close()
			st.Close()
			names, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
			newest := filepath.Join(dir, "snapshots", names[len(names)-1].Name())
			tc.damage(t, dir, newest)
			logs := &logBuffer{}
			v, st = snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
			defer st.Close()
			defer v.Close()
			started := lastOfType(t, v, TypeServerStarted)
			if !strings.Contains(started["state_snapshots_discarded"], tc.reason) {
				t.Fatalf("server.started %v: want a discarded snapshot, %q", started, tc.reason)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "discarded") {
				t.Fatalf("no error logged: %s", logs.String())
			}
			if strings.Contains(started["state_snapshot"], "1099511627776") {
				t.Fatal("the planted snapshot was used")
			}
			if diff := diffFromReplay(t, v); diff != "" {
				t.Fatalf("state differs from a full replay in %s", diff)
			}
			// The members of the case are the log's, not the altered
			// snapshot's.
			if c := v.state.cases["CASE-a"]; c == nil || c.Members["mallory"] {
				t.Fatalf("case from an altered snapshot: %+v", c)
			}
		})
	}
}

// TestASnapshotTheLogDoesNotExtendRefusesTheStart: a state snapshot
// carries a checkpoint the vault signed, which the log must extend as it
// must extend the sticky head. An administrator who cuts the log back,
// with the heads (both copies) put back from the same older copy, finds
// the start refused, naming the snapshot; one who then lets the vault
// write a history of its own over the cut, a snapshot of the first
// history left in its folder, finds it refused as a rewrite. Whichever
// refuses a start, the snapshot files stay as they were (none renamed
// *.discarded), for whoever investigates; a log cut back under heads
// left as they were is refused by the head before a snapshot is read.
func TestASnapshotTheLogDoesNotExtendRefusesTheStart(t *testing.T) {
	rec, _ := age.GenerateX25519Identity()
	logger := slog.New(slog.DiscardHandler)
	// history opens a vault in dir, works, stores a checkpoint, and
	// saves a copy of the heads and the log at that point; then works
	// more, so that the snapshot written at the close is larger. It
	// returns the size of the copy.
	history := func(t *testing.T, dir, copyDir string) uint64 {
		v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
		busyVault(t, v, 0)
		if _, err := v.Log().Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
		stored := v.Log().Size()
		v.Close()
		st.Close()
		copyFiles(t, dir, copyDir, "keyring/"+HeadFile, "objects/head")
		v, st = snapshotVault(t, dir, logger, rec.Recipient().String())
		busyVault(t, v, 1)
		v.Close()
		st.Close()
		if newest := newestSize(t, dir); newest <= stored {
			t.Fatalf("the newest snapshot covers %d events, the copy %d", newest, stored)
		}
		return stored
	}
	refused := func(t *testing.T, dir string, want ...string) {
		t.Helper()
		before := snapshotFiles(t, dir)
		_, _, err := openSnapshotVault(t, dir, logger, rec.Recipient().String(), 50)
		if err == nil {
			t.Fatal("the start was not refused")
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("the refusal does not say %q: %v", w, err)
			}
		}
		if after := snapshotFiles(t, dir); !slices.Equal(before, after) {
			t.Errorf("the refused start changed the snapshots' folder: %v, then %v", before, after)
		}
	}

	t.Run("log cut back, heads as they were", func(t *testing.T) {
		dir := t.TempDir()
		stored := history(t, dir, t.TempDir())
		cutLog(t, filepath.Join(dir, "log.db"), stored)
		refused(t, dir, fmt.Sprintf("the custody log holds %d events", stored), "kept in "+filepath.Join(dir, "keyring", HeadFile))
	})
	t.Run("log and heads cut back together", func(t *testing.T) {
		dir, old := t.TempDir(), t.TempDir()
		stored := history(t, dir, old)
		newest := newestSize(t, dir)
		copyFiles(t, old, dir, "keyring/"+HeadFile, "objects/head")
		cutLog(t, filepath.Join(dir, "log.db"), stored)
		refused(t, dir, fmt.Sprintf("the custody log holds %d events, but this vault signed a checkpoint of %d events (kept in the state snapshot of %d events", stored, newest, newest),
			"If a rollback was accepted", "move it out of "+filepath.Join(dir, "snapshots"))
	})
	t.Run("a history written over the cut", func(t *testing.T) {
		dir, old := t.TempDir(), t.TempDir()
		stored := history(t, dir, old)
		first := newestSize(t, dir)
		aside := t.TempDir()
		copyFiles(t, dir, aside, "snapshots")
		copyFiles(t, old, dir, "keyring/"+HeadFile, "objects/head")
		cutLog(t, filepath.Join(dir, "log.db"), stored)
		// The vault starts on the cut log with no snapshot beside it,
		// and writes another history, longer than the first.
		os.RemoveAll(filepath.Join(dir, "snapshots"))
		v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
		for round := 2; v.Log().Size() <= first; round++ {
			busyVault(t, v, round)
		}
		v.Close()
		st.Close()
		os.RemoveAll(filepath.Join(dir, "snapshots"))
		copyFiles(t, aside, dir, "snapshots")
		refused(t, dir, fmt.Sprintf("the first %d events of the custody log are not the ones this vault signed (kept in the state snapshot of %d events", first, first))
	})
}

// copyFiles copies each path (a file or a folder) under from to the same
// path under to, replacing what was there.
func copyFiles(t *testing.T, from, to string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		os.RemoveAll(filepath.Join(to, p))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(to, p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(filepath.Join(to, p), os.DirFS(filepath.Join(from, p))); err != nil {
			// A file, not a folder.
			b, err := os.ReadFile(filepath.Join(from, p))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, p), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// snapshotFiles lists the names in dir's snapshots folder.
func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// newestSize is the size of the newest snapshot in dir.
func newestSize(t *testing.T, dir string) uint64 {
	t.Helper()
	n, _ := snapshotSize(filepath.Base(newestSnapshot(t, dir)))
	return n
}

// Tiles are derived data: a start from a snapshot does not replay them,
// so one found missing or altered when it is needed is rebuilt from the
// custody log's events under it, checked against the tree above, and
// rewritten; the snapshot stays valid.
func TestTilesRebuiltUnderASnapshot(t *testing.T) {
	for _, damage := range []string{"altered", "deleted"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			for round := range 4 {
				busyVault(t, v, round)
			}
			v.Close()
			st.Close()
			tile := filepath.Join(dir, "tiles", "tile", "0", "000")
			good, err := os.ReadFile(tile)
			if err != nil {
				t.Fatal(err)
			}
			if damage == "altered" {
				bad := bytes.Clone(good)
				bad[40] ^= 1
				os.WriteFile(tile, bad, 0o600)
			} else {
				os.RemoveAll(filepath.Join(dir, "tiles"))
			}
			v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			defer st.Close()
			defer v.Close()
			if lastOfType(t, v, TypeServerStarted)["state_snapshot"] == "" {
				t.Fatal("the snapshot was not used")
			}
			size := v.log.Size()
			root, err := v.log.Tree().Root(size)
			if err != nil {
				t.Fatal(err)
			}
			evs := logged(t, v)
			p, err := v.log.Tree().InclusionProof(5, size)
			if err != nil {
				t.Fatalf("inclusion proof over a %s tile: %v", damage, err)
			}
			raw, _ := events.Encode(evs[5])
			if err := events.VerifyInclusion(5, size, events.LeafHash(raw), p, root); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(tile); !bytes.Equal(got, good) {
				t.Fatalf("the %s tile was not rewritten from the log", damage)
			}
			if _, repaired := v.log.Tree().Stats(); repaired == 0 {
				t.Fatal("the rebuilt tile is not counted as repaired")
			}
		})
	}
}

// A log restored from an older backup, its rollback accepted, starts on
// its own history: no snapshot of the lost history is resumed from, and
// the state is the full replay's.
func TestSnapshotsOfALostHistoryNotUsed(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 0)
	v.Close()
	st.Close()
	db := filepath.Join(dir, "log.db")
	backup, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 1)
	v.Close()
	st.Close()
	os.Remove(db + "-wal")
	os.Remove(db + "-shm")
	if err := os.WriteFile(db, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err = sqlite.New(ctx, sqlite.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
	cfg := Config{
		Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"), SpoolDir: filepath.Join(dir, "spool"),
		TileDir: filepath.Join(dir, "tiles"), SnapshotDir: filepath.Join(dir, "snapshots"),
		RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler),
	}
	if _, err := AcceptRollback(ctx, cfg, "restored from the backup of the night before", nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	logs := &logBuffer{}
	v, st = snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
	defer st.Close()
	defer v.Close()
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
	if v.state.cases["CASE-b"] != nil {
		t.Fatal("a case of the lost history is in the state")
	}
	if strings.Contains(logs.String(), "discarded") {
		t.Fatalf("a snapshot of the lost history was left to be discarded: %s", logs.String())
	}
}

// Events altered or removed in the store before a snapshot's size are not
// re-read by the start, but checked beside it (checkCovered): the vault
// records the failure, stops acting (every append refused), discards its
// snapshots so that the next start replays and refuses the log, and a
// verified read of the history answers an integrity error, never a
// history missing the event.
func TestAlteredLogUnderASnapshotHaltsTheVault(t *testing.T) {
	for _, tamper := range []string{"deleted", "altered"} {
		t.Run(tamper, func(t *testing.T) {
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			busyVault(t, v, 0)
			busyVault(t, v, 1)
			item := caseItemIDs(t, v.state, "CASE-a")[0]
			v.Close()
			st.Close()
			tamperAccess(t, dir, item, tamper == "deleted")
			logs := &logBuffer{}
			v, st = snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
			<-v.checkDone
			if !strings.Contains(logs.String(), "cannot be vouched for") {
				t.Fatalf("no error logged: %s", logs.String())
			}
			ctx := context.Background()
			// The record of the failure is the log's last event, and a
			// checkpoint covers it, held by the sticky head too: a
			// database administrator who removed it (and put the
			// tampered event back) would be refused at the next start.
			size := v.log.Size()
			var last *events.Event
			v.cfg.Log.Read(ctx, size-1, func(r events.Record) error { last, _ = verify.DecodeEvent(r.Bytes); return errStopRead })
			if last == nil || last.Type != TypeIntegrityFailed {
				t.Fatalf("the log's last event is %+v, want integrity.failed", last)
			}
			if cp := v.log.LatestCheckpoint(); cp == nil || cp.Size != size {
				t.Fatalf("the newest checkpoint %+v does not cover the integrity.failed event at %d", cp, size-1)
			}
			head, err := os.ReadFile(filepath.Join(dir, "keyring", HeadFile))
			if err != nil || !strings.Contains(string(head), fmt.Sprintf("\n%d\n", size)) {
				t.Fatalf("the sticky head does not hold the checkpoint of %d events: %q %v", size, head, err)
			}
			inv := Principal{Name: "inv-a", Role: RoleInvestigator}
			keys, _ := os.ReadDir(filepath.Join(dir, "keyring", "cases"))
			if err := v.OpenCase(ctx, inv, "AFTER", "after the check"); err == nil || !strings.Contains(err.Error(), "halted") {
				t.Fatalf("an append after the failed check: %v, want the log halted", err)
			}
			// Refused before the case's key is made and sealed.
			if after, _ := os.ReadDir(filepath.Join(dir, "keyring", "cases")); len(after) != len(keys) {
				t.Fatalf("a case refused on a halted log left %d key files", len(after)-len(keys))
			}
			// Reads append nothing: an auditor's still answer.
			aud := Principal{Name: "aud", Role: RoleAuditor}
			err = v.Timeline(ctx, aud, "", item, func(events.Record, *events.Event) error { return nil })
			if !errors.Is(err, ErrIntegrity) || !errors.Is(err, ErrLogHalted) {
				t.Fatalf("timeline of the item: %v, want ErrIntegrity, and that the log is halted (nothing of it can be recorded)", err)
			}
			// A deposit is refused before its ciphertext is stored:
			// write-once storage would keep it with no event.
			before := filesUnder(t, filepath.Join(dir, "objects"))
			if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "CASE-a", Name: "late.bin", Body: strings.NewReader("after the halt")}); !errors.Is(err, ErrLogHalted) {
				t.Fatalf("a deposit on a halted log: %v", err)
			}
			if after := filesUnder(t, filepath.Join(dir, "objects")); after != before {
				t.Fatalf("a deposit refused on a halted log stored %d objects", after-before)
			}
			v.Close()
			st.Close()
			if names, _ := (&snapshots{dir: filepath.Join(dir, "snapshots")}).list(); len(names) != 0 {
				t.Fatalf("snapshots left after the failed check: %v", names)
			}
			if _, _, err := openSnapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String(), 0); err == nil {
				t.Fatal("the next start accepted the altered log")
			}
		})
	}
}

// An event the state cannot apply stops the writing of snapshots: the
// next start resumes from an older one, meets the event again and
// refuses, as a full replay does; it never decides on a state that
// skipped it.
func TestUnappliedEventNeverSnapshotted(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	logs := &logBuffer{}
	v, st := snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
	busyVault(t, v, 0)
	// As another writer (another version) on the same store might append
	// it: a member removal whose reason the applier cannot read.
	if _, err := v.log.Append(context.Background(), sequencer.Draft{Type: TypeCaseMemberRemoved, Actor: System, Case: "CASE-a",
		Data: map[string]any{"person": "inv2-a", "reason": map[string]string{"code": "left"}}}); err != nil {
		t.Fatal(err)
	}
	busyVault(t, v, 1)
	v.Close()
	st.Close()
	if !strings.Contains(logs.String(), "no more state snapshots") {
		t.Fatalf("snapshots not stopped: %s", logs.String())
	}
	_, _, err := openSnapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String(), 0)
	if err == nil || !strings.Contains(err.Error(), "cannot apply") {
		t.Fatalf("start after an unapplied event: %v, want a refusal", err)
	}
}

// Files in the snapshot folder that are not what their name says are
// discarded without blocking the start: an older snapshot renamed as a
// newer one, a FIFO.
func TestMisnamedAndSpecialSnapshotFilesDiscarded(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 0)
	v.Close()
	st.Close()
	snapDir := filepath.Join(dir, "snapshots")
	names, _ := (&snapshots{dir: snapDir}).list()
	b, _ := os.ReadFile(filepath.Join(snapDir, names[len(names)-1]))
	os.WriteFile(filepath.Join(snapDir, snapshotName(1<<40)), b, 0o600)
	if err := syscall.Mkfifo(filepath.Join(snapDir, snapshotName(1<<41)), 0o600); err != nil {
		t.Fatal(err)
	}
	v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer st.Close()
	defer v.Close()
	started := lastOfType(t, v, TypeServerStarted)
	// The FIFO is not even opened (only regular files are snapshots);
	// the start did not block on it.
	d := started["state_snapshots_discarded"]
	if !strings.Contains(d, "is named for 1099511627776 events") || strings.Contains(d, snapshotName(1<<41)) {
		t.Fatalf("discarded: %q", d)
	}
	if started["state_snapshot"] != strings.TrimLeft(strings.TrimSuffix(strings.TrimPrefix(names[0], "state-"), ".snap"), "0") {
		t.Fatalf("resumed from %s, want the newest real snapshot %s", started["state_snapshot"], names[0])
	}
	// Swapped in between the listing and the open, a FIFO is refused
	// without blocking.
	if _, err := v.snaps.read(snapshotName(1<<41), v.origin, v.verifier, 1<<42); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("reading a FIFO as a snapshot: %v", err)
	}
	if len(started["state_snapshot_summary_sha256"]) != 64 || started["state_snapshot_sha256"] != "" {
		t.Fatalf("server.started %v: no snapshot hash", started)
	}
}

// A snapshot that cannot be written is tried again SnapshotEvery events
// later, not at every checkpoint.
func TestFailedSnapshotBacksOff(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	logs := &logBuffer{}
	v, st := snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
	defer st.Close()
	defer v.Close()
	// Every name a snapshot could take is a folder: the rename fails.
	for n := uint64(1); n < 400; n++ {
		os.Mkdir(filepath.Join(dir, "snapshots", snapshotName(n)), 0o700)
	}
	ctx := context.Background()
	for i := range 120 {
		if _, err := v.log.Append(ctx, sequencer.Draft{Type: "test.noop", Actor: System, Data: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.log.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		v.snaps.wait()
	}
	// 120 events, a snapshot every 50: at most 3 attempts.
	if n := strings.Count(logs.String(), "state snapshot not written"); n == 0 || n > 3 {
		t.Fatalf("%d failed attempts in 120 checkpoints", n)
	}
}

// brokenFiles is a log store whose own integrity check fails.
type brokenFiles struct{ events.Store }

func (brokenFiles) CheckIntegrity(context.Context) error {
	return errors.New("database disk image is malformed")
}

// A store whose own files fail their check (SQLite's quick_check, run
// beside the started server for a large log) halts the log: the vault
// records it and acts on nothing more.
func TestFailedStoreCheckHaltsTheVault(t *testing.T) {
	logs := &logBuffer{}
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.Log = brokenFiles{c.Log}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	<-v.checkDone
	inv := Principal{Name: "inv", Role: RoleInvestigator}
	if err := v.OpenCase(context.Background(), inv, "AFTER", "after the check"); err == nil || !strings.Contains(err.Error(), "halted") {
		t.Fatalf("an append after the failed check: %v, want the log halted", err)
	}
	if !strings.Contains(logs.String(), "malformed") {
		t.Fatalf("not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), LogStoreChecked) {
		t.Fatalf("a failed check is logged as passed: %s", logs.String())
	}
	found := false
	for _, ev := range logged(t, v) {
		found = found || ev.Type == TypeIntegrityFailed
	}
	if !found {
		t.Fatal("integrity.failed not recorded")
	}
}

// A snapshot of another state version (its MAC holds: the vault wrote it
// before an upgrade) is discarded with a warning, not an error, and the
// start replays the log; one whose version was changed without the key
// fails its MAC and is discarded as an error (TestBadSnapshotDiscardedLoudly).
func TestOtherStateVersionDiscardedAsAnUpgrade(t *testing.T) {
	// An older version's body need not parse as this one's.
	dir, rec, _ := resignedSnapshot(t, func(h *snapshotHeader) { h.StateVersion = stateVersion - 1 },
		[]byte(`{"items":{"it_x":{"Deposit":{"md5":7}}}}`+"\n"))
	logs := &logBuffer{}
	v, st := snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec)
	defer st.Close()
	defer v.Close()
	started := lastOfType(t, v, TypeServerStarted)
	if !strings.Contains(started["state_snapshots_discarded"], "another version of the state") {
		t.Fatalf("server.started %v: want the snapshot discarded as another version", started)
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("want a warning and no error: %s", logs.String())
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
}

// A snapshot whose records are filed under other ids than their own is
// refused, never repaired: only the vault writes snapshots (their MAC),
// so one that disagrees with itself is not the state it saved.
func TestInconsistentSnapshotRefused(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "I-1", "t"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"i.bin", "j.bin"} {
		if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "I-1", Name: name, Body: strings.NewReader(name)}); err != nil {
			t.Fatal(err)
		}
	}
	// Each edit is made to the decoded lines: the page of items first,
	// then the cases, the counts of events, and the rest.
	page := func(parts []*snapState) []pagedItem { return parts[0].Paged }
	restAt := func(parts []*snapState) int {
		for i, p := range parts {
			if p.Persons != nil {
				return i
			}
		}
		t.Fatal("no line of persons")
		return 0
	}
	rest := func(parts []*snapState) *snapState { return parts[restAt(parts)] }
	cases := func(parts []*snapState) map[string]*Case {
		for _, p := range parts {
			if p.Cases != nil {
				return p.Cases
			}
		}
		t.Fatal("no line of cases")
		return nil
	}
	for name, edit := range map[string]func([]*snapState){
		"items out of order": func(p []*snapState) { pg := page(p); pg[0], pg[1] = pg[1], pg[0] },
		"item twice":         func(p []*snapState) { pg := page(p); pg[1] = pg[0] },
		"item without id":    func(p []*snapState) { page(p)[0].Item.ID = "" },
		"null item":          func(p []*snapState) { page(p)[1].Item = nil },
		"item without events": func(p []*snapState) {
			page(p)[0].Events = [2]uint64{}
		},
		"item counted twice": func(p []*snapState) {
			it := page(p)[0]
			rest(p).ItemEvents = map[string][2]uint64{it.Item.ID: it.Events}
		},
		"page after the rest": func(p []*snapState) { r := restAt(p); p[0], p[r] = p[r], p[0] },
		// The indexes' pages: objects (p[1]) and content (p[2]).
		"an object row dropped":    func(p []*snapState) { p[1].Objects = p[1].Objects[1:] },
		"a content row dropped":    func(p []*snapState) { p[2].Content = p[2].Content[1:] },
		"object rows out of order": func(p []*snapState) { o := p[1].Objects; o[0], o[1] = o[1], o[0] },
		"an object twice":          func(p []*snapState) { o := p[1].Objects; o[1] = o[0] },
		"an empty row":             func(p []*snapState) { p[2].Content[0][1] = "" },
		"content before objects":   func(p []*snapState) { p[1], p[2] = p[2], p[1] },
		"objects before items":     func(p []*snapState) { p[0], p[1] = p[1], p[0] },
		"an index page with more":  func(p []*snapState) { p[1].Content = p[2].Content },
		"objects given to each other": func(p []*snapState) {
			o := p[1].Objects
			o[0][1], o[1][1] = o[1][1], o[0][1]
		},
		"contents given to each other": func(p []*snapState) {
			c := p[2].Content
			c[0][1], c[1][1] = c[1][1], c[0][1]
		},
		"an item twice in the content index": func(p []*snapState) { c := p[2].Content; c[1][1] = c[0][1] },
		// The case index's pages (p[3]).
		"a case row dropped":              func(p []*snapState) { p[3].CaseItems = p[3].CaseItems[1:] },
		"case rows out of deposit order":  func(p []*snapState) { c := p[3].CaseItems; c[0][1], c[1][1] = c[1][1], c[0][1] },
		"an item in another case's list":  func(p []*snapState) { p[3].CaseItems[0][0] = "I-0" },
		"an item twice in the case index": func(p []*snapState) { c := p[3].CaseItems; c[1][1] = c[0][1] },
		"no item in the case index":       func(p []*snapState) { p[3].CaseItems[1][1] = "it_000000000000000000000000" },
		"cases before content":            func(p []*snapState) { p[2], p[3] = p[3], p[2] },
		"case rows after the rest":        func(p []*snapState) { r := restAt(p); p[3], p[r] = p[r], p[3] },
		// The case was opened (again) after its items' deposits: they
		// are not on its list.
		"items listed before the opening": func(p []*snapState) { cases(p)["I-1"].OpenedSeq = 1 << 40 },
		// A case's items beside the case index (the vault writes none).
		"a case line with items": func(p []*snapState) {
			c := cases(p)["I-1"]
			c.Items = []string{p[3].CaseItems[0][1]}
		},
		"no item in the content index":  func(p []*snapState) { p[2].Content[0][1] = "it_000000000000000000000000" },
		"a package's object not sealed": func(p []*snapState) { p[1].Objects[0][1] = "pk_000000000000000000000001" },
		"page with more":                func(p []*snapState) { p[0].LostKeys = map[string]bool{"I-1": true} },
		"case":                          func(p []*snapState) { cases(p)["I-1"].ID = "I-2" },
		"person":                        func(p []*snapState) { b := rest(p); q := b.Persons["inv"]; q.Name = "mallory"; b.Persons["inv"] = q },
		// An item whose case the snapshot lacks: its indexes cannot be
		// derived.
		"case missing": func(p []*snapState) { delete(cases(p), "I-1") },
		"package": func(p []*snapState) {
			rest(p).Packages = map[string]*Package{"pk_000000000000000000000001": {ID: "pk_000000000000000000000002", Case: "I-1"}}
		},
	} {
		enc, sizes := encodeStateBody(t, v.state)
		var parts []*snapState
		if err := decodeLines(bufio.NewReader(bytes.NewReader(enc)), 0, func(p *snapState, _ lineAt) error {
			if p.PageIndex == nil && p.CaseRows == nil {
				parts = append(parts, p)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(parts) < 5 || len(parts[0].Paged) != 2 || len(parts[1].Objects) != 2 || len(parts[2].Content) != 2 || len(parts[3].CaseItems) != 2 || restAt(parts) != len(parts)-1 {
			t.Fatalf("want a page of two items, one of their objects, one of their contents, one of their case's list, and the persons last; got %d lines", len(parts))
		}
		edit(parts)
		var edited []byte
		for _, p := range parts {
			b, err := encodeSnapState(p)
			if err != nil {
				t.Fatal(err)
			}
			edited = append(append(edited, b...), '\n')
		}
		// The index made afresh: the check that fails is that of the
		// edit, not the index's.
		if _, err := restoreStateBody(reindex(edited, 0), sizes); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
	// Unedited, the lines restore, and so does their index made afresh
	// (reindex makes what the vault writes).
	enc, sizes := encodeStateBody(t, v.state)
	if _, err := restoreStateBody(enc, sizes); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reindex(enc, 0), enc) {
		t.Fatalf("the index made afresh differs from the vault's:\n%s\n%s", reindex(enc, 0), enc)
	}
}

// The header's entry counts only size maps: counts that are negative or
// larger than the log could hold (a header the vault did not write, but
// whose MAC holds) neither fail a start nor make it allocate beyond the
// log's size, and the state is the replay's.
func TestSnapshotEntryCountsBounded(t *testing.T) {
	dir, rec, h := resignedSnapshot(t, func(h *snapshotHeader) {
		if h.Entries == nil || h.Entries.Items == 0 || h.Entries.Cases == 0 {
			t.Fatalf("the header counts no entries: %+v", h.Entries)
		}
		h.Entries = &snapshotEntries{Items: -1, Cases: 1 << 62, ItemEvents: 1 << 40, CaseEvents: -(1 << 62), CaseOwn: 1 << 50}
	}, nil)
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec)
	defer st.Close()
	defer v.Close()
	started := lastOfType(t, v, TypeServerStarted)
	if started["state_snapshot"] != strconv.FormatUint(h.Size, 10) {
		t.Fatalf("server.started %v: want the start to resume from the snapshot of %d events", started, h.Size)
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
}

// Snapshot lines reach the restorer in the file's order however many
// are decoded at once; a line that does not parse stops the decoding
// with its error, and the rest of the file is still read (the MAC
// covers every byte).
func TestDecodeLinesInOrder(t *testing.T) {
	var in bytes.Buffer
	const n = 200
	for i := range n {
		fmt.Fprintf(&in, `{"lost_keys":{"k%03d":true}}`+"\n", i)
	}
	var got []string
	const off = 1000 // of the first line in the file
	err := decodeLines(bufio.NewReader(bytes.NewReader(in.Bytes())), off, func(p *snapState, at lineAt) error {
		for k := range p.LostKeys {
			got = append(got, k)
		}
		// Where the line is, and its SHA-256.
		line := in.Bytes()[at.off-off : at.off-off+int64(at.size)]
		if at.sum != sha256.Sum256(line) || !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Errorf("line %d: at %+v, which holds %q", len(got), at, line)
		}
		return nil
	})
	if err != nil || len(got) != n || !slices.IsSorted(got) {
		t.Fatalf("decodeLines: %v, %d lines, sorted %v", err, len(got), slices.IsSorted(got))
	}
	for _, bad := range []string{`{"lost_keys":`, `{"lost_keys":{"k":true}}`} {
		lines := strings.Split(strings.TrimSuffix(in.String(), "\n"), "\n")
		lines[n/2] = bad
		br := bufio.NewReader(strings.NewReader(strings.Join(lines, "\n") + "\n"))
		calls := 0
		rest := errors.New("refused")
		err := decodeLines(br, 0, func(p *snapState, _ lineAt) error {
			calls++
			if _, ok := p.LostKeys["k"]; ok {
				return rest
			}
			return nil
		})
		if err == nil || calls > n/2+1 {
			t.Errorf("line %q: %v after %d lines, want an error at line %d", bad, err, calls, n/2)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("line %q: the rest of the file was not read", bad)
		}
	}
	// The last line cut short.
	cut := bytes.TrimSuffix(in.Bytes(), []byte("\n"))
	if err := decodeLines(bufio.NewReader(bytes.NewReader(cut)), 0, func(*snapState, lineAt) error { return nil }); err == nil {
		t.Error("a last line without its newline was accepted")
	}
}

// failingReader gives its data, then fails with a read error (not EOF)
// at every read, as a file on failing storage does.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	return 0, errors.New("read: input/output error")
}

// A snapshot file that cannot be read to its end ends the decoding with
// the read's error (the start then discards it and replays), however
// often the error comes back.
func TestDecodeLinesEndsOnAReadError(t *testing.T) {
	r := &failingReader{data: []byte(`{"lost_keys":{"a":true}}` + "\n" + `{"lost_keys":{"b":true}}` + "\n" + `{"lost_k`)}
	done := make(chan error, 1)
	go func() { done <- decodeLines(bufio.NewReader(r), 0, func(*snapState, lineAt) error { return nil }) }()
	select {
	case err := <-done:
		// Reported as a read error (not as a file that changed).
		if !errors.Is(err, errSnapshotRead) || !strings.Contains(err.Error(), "input/output error") {
			t.Fatalf("a read error mid-file: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("decodeLines did not return after a read error")
	}
}

// resignedSnapshot makes a vault with a busy history in a new folder,
// closes it, and rewrites its newest snapshot as only the vault's key
// could: edit changes the header, and body (nil: the snapshot's own)
// replaces the state lines; the file is MAC'd again, with its summary
// (the snapshot's own body), or as an older version's file, without
// (a body given). It returns the
// folder, the recovery recipient to open it with, and the header written.
func resignedSnapshot(t *testing.T, edit func(*snapshotHeader), body []byte) (string, string, snapshotHeader) {
	t.Helper()
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 0)
	snapKey := v.snaps.key
	v.Close()
	st.Close()
	names, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	snap := filepath.Join(dir, "snapshots", names[len(names)-1].Name())
	b, _ := os.ReadFile(snap)
	lines := bytes.SplitN(b, []byte("\n"), 3)
	var h snapshotHeader
	if err := json.Unmarshal(lines[1], &h); err != nil {
		t.Fatal(err)
	}
	edit(&h)
	hb, _ := json.Marshal(h)
	seal := sealOlder // a body given is an older version's
	if body == nil {
		body = shiftPageIndex(unsealed(lines[2]), int64(len(hb)-len(lines[1])))
		seal = sealSnapshot
	}
	out := append(append(append([]byte(snapshotMagic), hb...), '\n'), body...)
	if err := os.WriteFile(snap, seal(snapKey, out), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, rec.Recipient().String(), h
}

// caseItemIDs returns a case's item ids, failing the test on an error.
func caseItemIDs(t testing.TB, s *State, id string) []string {
	t.Helper()
	ids, err := s.caseItems(id)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// tamperAccess changes, in the stopped vault's SQLite log under dir, the
// one item.accessed event of item, as the database's administrator can:
// removed, or its purpose altered.
func tamperAccess(t *testing.T, dir, item string, remove bool) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "log.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmt := `UPDATE events SET bytes = replace(bytes, '"review"', '"reviev"') WHERE item_id = ? AND instr(bytes, '"item.accessed"') > 0`
	if remove {
		stmt = `DELETE FROM events WHERE item_id = ? AND instr(bytes, '"item.accessed"') > 0`
	}
	if res, err := db.Exec(stmt, item); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d rows changed", n)
	}
}

// checkedFiles is a log store whose own integrity check passes, and says
// it ran.
type checkedFiles struct {
	events.Store
	ran chan struct{}
}

func (c checkedFiles) CheckIntegrity(context.Context) error {
	close(c.ran)
	return nil
}

// A store whose own files pass their check is said to have passed it, in
// the server's log: the last of the checks a start runs beside the serving
// vault, which an operator (and the scale benchmark, before it times an
// audit) waits for.
func TestPassedStoreCheckIsLogged(t *testing.T) {
	logs := &logBuffer{}
	ran := make(chan struct{})
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.Log = checkedFiles{c.Log, ran}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	<-v.checkDone
	select {
	case <-ran:
	default:
		t.Fatal("the store's own check did not run beside the start")
	}
	if !strings.Contains(logs.String(), `msg="checked the custody log store's own files (its integrity check)" took=`) {
		t.Fatalf("the passed check is not logged: %s", logs.String())
	}
}

// TestSnapshotBeingWrittenSurvivesTheStartsDiscards: a start sets aside
// the snapshots it found unfit (discardAll) after it has begun serving,
// while it may already be writing a new snapshot into a temporary file
// (encode, then install on a goroutine of its own). That file is not
// removed under it (it was, after a state-version upgrade at 10^7
// events: "state snapshot not written: rename ... no such file or
// directory"); what a crash left is removed when the start loads, before
// it writes any.
func TestSnapshotBeingWrittenSurvivesTheStartsDiscards(t *testing.T) {
	dir := t.TempDir()
	sn := &snapshots{dir: dir, logger: slog.New(slog.DiscardHandler)}
	writing, err := os.CreateTemp(dir, ".state-*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	writing.Close()
	sn.discardAll(nil)
	if _, err := os.Stat(writing.Name()); err != nil {
		t.Fatalf("the snapshot being written was removed by the start's discards: %v", err)
	}
	// At the next start it is what a crash left.
	sn.load("origin", nil, 0, nil)
	if _, err := os.Stat(writing.Name()); !os.IsNotExist(err) {
		t.Fatalf("a temporary file a crash left is still there after the start loaded: %v", err)
	}
}
