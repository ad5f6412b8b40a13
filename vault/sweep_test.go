package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
)

// The sweep after a start deletes the objects no event accounts for (a
// deposit or a package that crashed before its event), records them
// first, and leaves every owned object alone: whether the listing's names
// are held and judged in order, or judged a batch at a time as listed
// (maxListedBytes); names of the vault's own form and any other.
func TestStartSweepsOrphans(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listed int
	}{{"held and judged in order", 32 << 20}, {"judged as listed", 2 * 17}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(n int) { maxListedBytes = n }(maxListedBytes)
			maxListedBytes = tc.listed
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			ctx := context.Background()
			v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			inv := enrolled(t, v, "inv", RoleInvestigator)
			if err := v.OpenCase(ctx, inv, "S-1", "sweep"); err != nil {
				t.Fatal(err)
			}
			var owned []string
			for i := range 4 {
				it, err := v.Deposit(ctx, inv, DepositRequest{Case: "S-1", Name: "e.bin", Body: strings.NewReader(strings.Repeat("e", i+1))})
				if err != nil {
					t.Fatal(err)
				}
				stored, _, _ := v.state.getItem(it.ID)
				owned = append(owned, stored.Deposit.Object)
			}
			v.Close()
			st.Close()

			objs, err := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
			if err != nil {
				t.Fatal(err)
			}
			orphans := []string{"ev/0crashed", "ev/" + randomHex(16), "pk/0crashed", "pk/" + randomHex(16)}
			for _, name := range orphans {
				if _, err := objs.Put(ctx, name, strings.NewReader("ciphertext"), objects.PutOptions{Unlocked: true}); err != nil {
					t.Fatal(err)
				}
			}
			slices.Sort(orphans)

			v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			defer st.Close()
			defer v.Close()
			// The evidence files of interrupted deposits are swept; the
			// package files, which no sealing the log records could have
			// written, are kept (TestUnexplainedPackageFilesAreKept).
			deposits := orphans[:2]
			if swept := sweptOrphans(t, v); len(swept) != 1 || !slices.Equal(swept[0], deposits) {
				t.Fatalf("objects.swept %v; want one listing %v", swept, deposits)
			}
			for _, name := range orphans {
				if _, err := objs.Stat(ctx, name); errors.Is(err, objects.ErrNotFound) != strings.HasPrefix(name, "ev/") {
					t.Errorf("orphan %s: %v, want only evidence files deleted", name, err)
				}
			}
			for _, name := range owned {
				if _, err := objs.Stat(ctx, name); err != nil {
					t.Errorf("owned object %s: %v", name, err)
				}
			}
		})
	}
}

// failingList is a store whose listing of objects under one prefix fails.
type failingList struct {
	objects.Store
	prefix string
}

func (f failingList) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	if strings.HasPrefix(prefix, f.prefix) {
		return errors.New("the store is unreachable")
	}
	return f.Store.List(ctx, prefix, fn)
}

// A sweep that cannot list the store (the evidence objects' prefix, or
// the packages' after the evidence was listed) deletes nothing and
// records nothing: it does not go on as if the store held only what it
// listed. It says so at ERROR, and the vault serves.
func TestSweepThatCannotListDeletesNothing(t *testing.T) {
	for _, prefix := range sweepPrefixes {
		t.Run(prefix, func(t *testing.T) {
			var logs testenv.LogBuffer
			v, dir := openTestVaultDir(t, func(cfg *Config) {
				if _, err := cfg.Objects.Put(context.Background(), "ev/0crashed", strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
					t.Fatal(err)
				}
				cfg.Objects = failingList{cfg.Objects, prefix}
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			ctx := context.Background()
			if err := v.waitSweep(ctx); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "level=ERROR msg=\"objects not swept") || !strings.Contains(logs.String(), "unreachable") {
				t.Errorf("log:\n%s\nwant the listing's error at ERROR", logs.String())
			}
			noOrphanRecorded(t, v)
			if _, err := os.Stat(filepath.Join(dir, "objects", "ev", "0crashed")); err != nil {
				t.Errorf("the unjudged object: %v", err)
			}
			inv := enrolled(t, v, "inv", RoleInvestigator)
			if err := v.OpenCase(ctx, inv, "S-1", "serving"); err != nil {
				t.Fatal(err)
			}
			depositText(t, v, inv, "S-1", "a.txt", "after the failed sweep")
		})
	}
}

// vanishing is a store from which one object is gone by the time it is
// deleted (listed, then removed by someone else).
type vanishing struct {
	objects.Store
	name string
}

func (v vanishing) Delete(ctx context.Context, name string) error {
	if name == v.name {
		return fmt.Errorf("%s: %w", name, objects.ErrNotFound)
	}
	return v.Store.Delete(ctx, name)
}

// An orphan already gone when the sweep deletes it is swept, not
// recorded as retained (objects.retained is for objects the store keeps).
func TestSweptOrphanAlreadyGoneIsNotRetained(t *testing.T) {
	v, err := openVaultErr(t, func(cfg *Config) {
		if _, err := cfg.Objects.Put(context.Background(), "ev/0gone", strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
			t.Fatal(err)
		}
		cfg.Objects = vanishing{cfg.Objects, "ev/0gone"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.waitSweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	swept := false
	for _, ev := range logged(t, v) {
		switch ev.Type {
		case TypeObjectsSwept:
			swept = true
		case TypeObjectsRetained:
			t.Errorf("an orphan already gone was recorded as retained: %s", ev.Data)
		}
	}
	if !swept {
		t.Error("the orphan's sweep was not recorded")
	}
}

// pausingStore holds a Put of a name under prefix, once the object is
// stored, until release is closed: a deposit or a package caught between
// its object and its event. stored receives the name.
type pausingStore struct {
	objects.Store
	armed   atomic.Bool
	prefix  string
	stored  chan string
	release chan struct{}
}

func (p *pausingStore) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	info, err := p.Store.Put(ctx, name, r, opts)
	if err == nil && strings.HasPrefix(name, p.prefix) && p.armed.CompareAndSwap(true, false) {
		p.stored <- name
		<-p.release
	}
	return info, err
}

// A sweep beside the running vault leaves alone the object of a deposit
// or a package stored and waiting for its event, and a scrub at that
// moment counts it in flight, not unaccounted. Without objectsInFlight
// the sweep records it as an orphan and tries to delete it (the store
// refuses: it is under its pending retention), and the scrub fails.
func TestSweepLeavesObjectsInFlight(t *testing.T) {
	for _, kind := range []string{"deposit", "package"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			ps := &pausingStore{stored: make(chan string), release: make(chan struct{})}
			v, _ := openTestVaultDir(t, func(cfg *Config) { ps.Store, cfg.Objects = cfg.Objects, ps })
			inv, pros, aud := enrolled(t, v, "inv", RoleInvestigator), enrolled(t, v, "pros", RoleProsecutor), enrolled(t, v, "aud", RoleAuditor)
			if err := v.OpenCase(ctx, inv, "F-1", "in flight"); err != nil {
				t.Fatal(err)
			}
			depositText(t, v, inv, "F-1", "a.txt", "evidence")
			id, _ := age.GenerateX25519Identity()
			if _, _, err := v.SetRecipient(ctx, pros, id.Recipient().String()); err != nil {
				t.Fatal(err)
			}
			if err := v.waitSweep(ctx); err != nil {
				t.Fatal(err)
			}

			ps.prefix = map[string]string{"deposit": "ev/", "package": "pk/"}[kind]
			ps.armed.Store(true)
			done := make(chan error, 1)
			go func() {
				var err error
				if kind == "deposit" {
					_, err = v.Deposit(ctx, inv, DepositRequest{Case: "F-1", Name: "b.txt", Body: strings.NewReader("in flight")})
				} else {
					_, err = v.SealPackage(ctx, inv, SealRequest{Case: "F-1", For: "pros", Purpose: "trial"})
				}
				done <- err
			}()
			name := <-ps.stored
			if err := v.sweep(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := v.Scrub(ctx, aud)
			if err != nil {
				t.Fatal(err)
			}
			close(ps.release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			for _, ev := range logged(t, v) {
				if ev.Type == TypeObjectsSwept || ev.Type == TypeObjectsRetained {
					t.Errorf("the object in flight was recorded: %s %s", ev.Type, ev.Data)
				}
			}
			if !res.OK || res.InFlight != 1 || len(res.Unaccounted) != 0 {
				t.Errorf("scrub while %s was written: %+v, want ok with one object in flight", name, res)
			}
			if _, ok, err := v.state.objectOwner(name); err != nil || !ok {
				t.Errorf("%s after its %s: owned %v, %v", name, kind, ok, err)
			}
			if _, err := ps.Stat(ctx, name); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			// Once its event is applied, it is owned: a second sweep
			// leaves it as well, and a scrub has nothing in flight.
			if err := v.sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if res, err := v.Scrub(ctx, aud); err != nil || !res.OK || res.InFlight != 0 {
				t.Errorf("scrub after the %s: %+v, %v", kind, res, err)
			}
			if _, err := ps.Stat(ctx, name); err != nil {
				t.Errorf("%s after a second sweep: %v", name, err)
			}
		})
	}
}

// blockingList is a store whose listing of the evidence objects waits
// until release is closed, or its context ends.
type blockingList struct {
	objects.Store
	release chan struct{}
}

func (b blockingList) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	if strings.HasPrefix(prefix, "ev/") {
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.Store.List(ctx, prefix, fn)
}

// The start does not wait for the sweep: a vault whose store takes its
// time to list serves deposits meanwhile, and sweeps once the listing
// ends. A vault closed while its sweep lists stops it, and logs no
// error for it.
func TestTheStartDoesNotWaitForTheSweep(t *testing.T) {
	for _, closeFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("closed during the listing=%v", closeFirst), func(t *testing.T) {
			ctx := context.Background()
			var logs testenv.LogBuffer
			release := make(chan struct{})
			dir := t.TempDir()
			cfg := testConfig(t, dir, func(cfg *Config) {
				if _, err := cfg.Objects.Put(ctx, "ev/0crashed", strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
					t.Fatal(err)
				}
				cfg.Objects = blockingList{cfg.Objects, release}
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			opened := make(chan *Vault, 1)
			go func() {
				v, err := Open(ctx, cfg)
				if err != nil {
					t.Error(err)
				}
				opened <- v
			}()
			var v *Vault
			select {
			case v = <-opened:
			case <-time.After(time.Minute):
				close(release)
				t.Fatal("the start waited for the sweep's listing")
			}
			if v == nil {
				return
			}
			if closeFirst {
				if err := v.Close(); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(logs.String(), "level=ERROR") {
					t.Errorf("log:\n%s\nwant no error for a sweep stopped by Close", logs.String())
				}
				return
			}
			defer v.Close()
			inv := enrolled(t, v, "inv", RoleInvestigator)
			if err := v.OpenCase(ctx, inv, "B-1", "busy"); err != nil {
				t.Fatal(err)
			}
			it := depositText(t, v, inv, "B-1", "a.txt", "while the store is listed")
			close(release)
			swept := slices.Concat(sweptOrphans(t, v)...)
			if !slices.Equal(swept, []string{"ev/0crashed"}) {
				t.Errorf("swept %v, want the orphan alone", swept)
			}
			stored, _, _ := v.state.getItem(it.ID)
			if _, err := os.Stat(filepath.Join(dir, "objects", filepath.FromSlash(stored.Deposit.Object))); err != nil {
				t.Errorf("the deposit made during the listing: %v", err)
			}
		})
	}
}

// phantomList is a store whose listing gives one name more than it holds:
// an object listed and then removed (a failed deposit's, discarded after
// the sweep judged it in flight).
type phantomList struct {
	objects.Store
	name string
}

func (p phantomList) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	if strings.HasPrefix(p.name, prefix) {
		if err := fn(objects.Info{Name: p.name}); err != nil {
			return err
		}
	}
	return p.Store.List(ctx, prefix, fn)
}

// An object listed but gone by the time the sweep would record it is not
// recorded as an orphan: objects.swept names only what the sweep found.
func TestSweepRecordsNoObjectAlreadyGone(t *testing.T) {
	v, _ := openTestVaultDir(t, func(cfg *Config) {
		if _, err := cfg.Objects.Put(context.Background(), "ev/0crashed", strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
			t.Fatal(err)
		}
		cfg.Objects = phantomList{cfg.Objects, "ev/" + randomHex(16)}
	})
	swept := slices.Concat(sweptOrphans(t, v)...)
	if !slices.Equal(swept, []string{"ev/0crashed"}) {
		t.Errorf("swept %v, want the orphan the store holds alone", swept)
	}
}

// Names of the vault's own form are held in 17 bytes and given back the
// same, in the same order; any other name is not packed.
func TestCompactNames(t *testing.T) {
	var names []string
	for range 200 {
		names = append(names, sweepPrefixes[len(names)%2]+randomHex(16))
	}
	names = append(names, "ev/00000000000000000000000000000000", "pk/ffffffffffffffffffffffffffffffff")
	var l listedObjects
	for _, n := range names {
		l.add(n)
	}
	for _, n := range []string{"ev/0crashed", "ev/" + strings.ToUpper(randomHex(16)), "key/" + randomHex(16)[:31], "hs/" + randomHex(16), "ev/" + randomHex(16) + "0", "ev/" + randomHex(15) + "g0"} {
		if _, ok := compactName(n); ok {
			t.Errorf("%s packed", n)
		}
		l.add(n)
	}
	if len(l.keys) != len(names) || len(l.other) != 6 {
		t.Fatalf("%d packed and %d others", len(l.keys), len(l.other))
	}
	var got []string
	if err := l.each(7, func(chunk []string) error {
		if len(chunk) > 7 && chunk[0] != "ev/0crashed" && !strings.HasPrefix(chunk[0], "hs/") {
			return fmt.Errorf("a chunk of %d", len(chunk))
		}
		got = append(got, chunk...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if !slices.Equal(got[:len(names)], names) {
		t.Errorf("given back out of order or altered")
	}
}

// FuzzCompactName: a packed name is given back unchanged, and packing
// keeps the order of any two names.
func FuzzCompactName(f *testing.F) {
	f.Add("ev/0123456789abcdef0123456789abcdef", "pk/0123456789abcdef0123456789abcdee")
	f.Add("ev/0123456789ABCDEF0123456789abcdef", "ev/0crashed")
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, oka := compactName(a)
		kb, okb := compactName(b)
		if oka && expandName(ka) != a {
			t.Fatalf("%q packed and given back as %q", a, expandName(ka))
		}
		if oka && okb && strings.Compare(string(ka[:]), string(kb[:])) != strings.Compare(a, b) {
			t.Fatalf("%q and %q packed out of order", a, b)
		}
	})
}

// openVaultErr opens a vault in a new folder as openTestVaultDir does,
// returning the start's error instead of failing.
func openVaultErr(t *testing.T, configure ...func(*Config)) (*Vault, error) {
	t.Helper()
	v, err := Open(context.Background(), testConfig(t, t.TempDir(), configure...))
	if err == nil {
		t.Cleanup(func() { v.Close() })
	}
	return v, err
}

// An object judged an orphan and owned since (its event applied in
// between) is not recorded, nor deleted: the record's precondition
// refuses it, and the names are judged again.
func TestSweepRecordsNoOrphanOwnedSinceJudged(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "O-1", "owned"); err != nil {
		t.Fatal(err)
	}
	if err := v.waitSweep(ctx); err != nil {
		t.Fatal(err)
	}
	judged := v.state.pagesGeneration() // judged an orphan here, then deposited
	it := depositText(t, v, inv, "O-1", "a.txt", "owned since it was judged")
	stored, _, _ := v.state.getItem(it.ID)
	swept, retained, err := v.sweepOrphans(ctx, []string{stored.Deposit.Object}, judged)
	if err != nil || swept != 0 || retained != 0 {
		t.Fatalf("sweeping an owned object: %d swept, %d retained, %v", swept, retained, err)
	}
	noOrphanRecorded(t, v)
	if _, err := v.objects.Stat(ctx, stored.Deposit.Object); err != nil {
		t.Errorf("the item's object: %v", err)
	}
}

// objects.swept's precondition, at the record's position in the log,
// refuses names owned since they were judged (an event applied in
// between: an append whose answer was lost is applied when the log is
// next read), names judged against pages the state has since replaced,
// and waits for a deposit or package ahead of it in its batch; names
// still unowned pass. It reads no page.
func TestSweptRecordsPreconditionFindsOwnersSinceJudged(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "O-1", "owned"); err != nil {
		t.Fatal(err)
	}
	gen := v.state.pagesGeneration()
	it := depositText(t, v, inv, "O-1", "a.txt", "deposited after it was judged")
	stored, _, _ := v.state.getItem(it.ID)
	orphan := "ev/" + randomHex(16)
	for _, tc := range []struct {
		name  string
		names []string
		gen   uint64
		ahead []*events.Event
		want  error
	}{
		{"owned since judged", []string{orphan, stored.Deposit.Object}, gen, nil, errOrphanOwned},
		{"pages replaced since judged", []string{orphan}, gen + 1, nil, errOrphanOwned},
		{"a deposit ahead in the batch", []string{orphan}, gen, []*events.Event{{Type: TypeItemDeposited}}, sequencer.ErrNotYet},
		{"a package ahead in the batch", []string{orphan}, gen, []*events.Event{{Type: TypePackageSealed}}, sequencer.ErrNotYet},
		{"still unowned", []string{orphan}, gen, []*events.Event{{Type: TypeCaseOpened}}, nil},
	} {
		if err := v.stillOrphans(tc.names, tc.gen, tc.ahead); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// unsureLog is a log store whose appends, while lose is set, are stored
// and then answered with an error, and whose seal cannot be read
// meanwhile: the writer cannot tell whether the batch was stored.
type unsureLog struct {
	events.Store
	lose atomic.Bool
}

var errReset = errors.New("connection reset by peer")

func (u *unsureLog) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	err := u.Store.Append(ctx, expected, recs, cp)
	if err == nil && u.lose.Load() {
		return errReset
	}
	return err
}

func (u *unsureLog) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if u.lose.Load() {
		return nil, errReset
	}
	return u.Store.Seal(ctx)
}

// A deposit whose event may or may not have been stored
// (sequencer.ErrOutcomeUnknown) keeps its object: not discarded, not
// recorded as retained, and left in flight, so that no sweep of this
// process takes it for an orphan. The event, stored after all, is
// applied when the log is next read and the item owns its object.
func TestDepositOfUnknownOutcomeKeepsItsObject(t *testing.T) {
	ul := &unsureLog{}
	v, _ := openTestVaultDir(t, func(cfg *Config) { ul.Store, cfg.Log = cfg.Log, ul })
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "U-1", "unsure"); err != nil {
		t.Fatal(err)
	}
	if err := v.waitSweep(ctx); err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	v.objects.List(ctx, "ev/", func(i objects.Info) error { before[i.Name] = true; return nil })
	ul.lose.Store(true)
	_, err := v.Deposit(ctx, inv, DepositRequest{Case: "U-1", Name: "a.txt", Body: strings.NewReader("stored, answer lost")})
	ul.lose.Store(false)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, sequencer.ErrOutcomeUnknown) {
		t.Fatalf("deposit whose outcome is unknown: %v", err)
	}
	var object string
	v.objects.List(ctx, "ev/", func(i objects.Info) error {
		if !before[i.Name] {
			object = i.Name
		}
		return nil
	})
	if object == "" || !v.inFlight.has(object) {
		t.Fatalf("object %q: kept in flight %v", object, v.inFlight.has(object))
	}
	if err := v.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	// The next append reads the log and applies the stored deposit.
	if err := v.OpenCase(ctx, inv, "U-2", "after"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := v.state.objectOwner(object); err != nil || !ok {
		t.Fatalf("%s after the log was read again: owned %v, %v", object, ok, err)
	}
	if err := v.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	noOrphanRecorded(t, v)
	if _, err := v.objects.Stat(ctx, object); err != nil {
		t.Errorf("the deposit's object: %v", err)
	}
}

// Orphans beyond what one objects.swept records (maxSwept) are recorded
// and deleted a batch at a time: neither an event nor the sweep's memory
// grows with what an object store's administrator could plant.
func TestSweepRecordsOrphansInBatches(t *testing.T) {
	defer func(n int) { maxSwept = n }(maxSwept)
	maxSwept = 2
	var planted []string
	v, dir := openTestVaultDir(t, func(cfg *Config) {
		for range 5 {
			name := "ev/" + randomHex(16)
			if _, err := cfg.Objects.Put(context.Background(), name, strings.NewReader("x"), objects.PutOptions{Unlocked: true}); err != nil {
				t.Fatal(err)
			}
			planted = append(planted, name)
		}
	})
	records := sweptOrphans(t, v)
	for _, r := range records {
		if len(r) > 2 {
			t.Errorf("one objects.swept records %d orphans", len(r))
		}
	}
	swept := slices.Concat(records...)
	slices.Sort(swept)
	slices.Sort(planted)
	if len(records) != 3 || !slices.Equal(swept, planted) {
		t.Fatalf("%d records of %v, want 3 of %v", len(records), swept, planted)
	}
	for _, name := range planted {
		if _, err := os.Stat(filepath.Join(dir, "objects", filepath.FromSlash(name))); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it deleted", name, err)
		}
	}
}

// sweptOrphans returns, once the start's sweep has ended, the names each
// objects.swept of v's log records, a slice a record, in log order.
func sweptOrphans(t *testing.T, v *Vault) [][]string {
	t.Helper()
	if err := v.waitSweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	var records [][]string
	for _, ev := range logged(t, v) {
		if ev.Type == TypeObjectsSwept {
			var d ObjectsSwept
			if err := ev.DecodeData(&d); err != nil {
				t.Fatal(err)
			}
			records = append(records, d.Orphans)
		}
	}
	return records
}

// noOrphanRecorded fails t for every objects.swept or objects.retained
// in v's log.
func noOrphanRecorded(t *testing.T, v *Vault) {
	t.Helper()
	for _, ev := range logged(t, v) {
		if ev.Type == TypeObjectsSwept || ev.Type == TypeObjectsRetained {
			t.Errorf("recorded %s %s", ev.Type, ev.Data)
		}
	}
}

// TestUnexplainedPackageFilesAreKept: a package's sealing is recorded
// before its file is written, so a package file no package owns is
// explained only by a seal interrupted between its package.sealing and
// its package.sealed. Where the log records none, such a file is the
// trace of a log cut back after it was sealed (or of a file put there by
// hand): it is kept, not swept as an interrupted deposit's, and said at
// ERROR. Once the log records an unfinished sealing, it is swept.
func TestUnexplainedPackageFilesAreKept(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	fp := &failPut{prefix: "pk/"}
	f := newPackageFixture(t, func(c *Config) {
		fp.Store, c.Objects = c.Objects, fp
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	v := f.v
	stray := "pk/" + randomHex(16)
	if _, err := v.objects.Put(ctx, stray, strings.NewReader("a package's file"), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	before := len(sweptOrphans(t, v))
	if err := v.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.objects.Stat(ctx, stray); err != nil {
		t.Fatalf("a package file no sealing explains was not kept: %v", err)
	}
	if n := len(sweptOrphans(t, v)); n != before {
		t.Fatalf("it was recorded as swept (%d objects.swept, %d before)", n, before)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "the log may have been cut back") || !strings.Contains(logs.String(), stray) {
		t.Fatalf("the sweep did not say so at ERROR:\n%s", logs.String())
	}
	// A seal whose file the store refuses leaves its sealing unfinished:
	// a package file is then explained, and swept.
	fp.on = true
	if _, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "a second copy"}); err == nil {
		t.Fatal("a seal whose file the store refused succeeded")
	}
	fp.on = false
	if v.state.unfinishedSealings() != 1 {
		t.Fatalf("%d unfinished sealings, want 1", v.state.unfinishedSealings())
	}
	if err := v.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.objects.Stat(ctx, stray); !errors.Is(err, objects.ErrNotFound) {
		t.Fatalf("with an unfinished sealing in the log, the package file was not swept: %v", err)
	}
}
