package vault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/objects"
)

// TestScrubFindsWeakenedLocks: someone with the object store's own
// access (on a file store, root editing the lock records beside the
// objects) lifts the legal hold of a held case's evidence, or moves an
// old object's retention into the past, so that it can be deleted. The
// vault still says the case is held; a scrub finds both, fails, records
// them in audit.scrubbed, and puts the hold back; a second scrub finds
// the retention still weakened (the store cannot be made to undo a
// deletion it allows) and the hold in place.
func TestScrubFindsWeakenedLocks(t *testing.T) {
	var offset atomic.Int64
	h := newHotline(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	dir := filepath.Dir(h.v.cfg.KeyringDir)
	a := h.deposit(t, h.a1, "held.jpg", []byte("held capture"), "")
	b := h.deposit(t, h.a1, "old.jpg", []byte("old capture"), "")
	if _, err := h.v.SetHold(h.ctx, h.cust, "HL-1", true, "court order 78"); err != nil {
		t.Fatal(err)
	}
	object := func(id string) string {
		it, err := h.v.state.item(id)
		if err != nil {
			t.Fatal(err)
		}
		return it.Deposit.Object
	}
	lockFile := func(id string) string { return filepath.Join(dir, "objects", object(id)+".lock") }
	edit := func(id, from, to string) {
		b, err := os.ReadFile(lockFile(id))
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(from)
		if !re.Match(b) {
			t.Fatalf("lock record %s: no %s in %s", id, from, b)
		}
		if err := os.WriteFile(lockFile(id), re.ReplaceAll(b, []byte(to)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ida, idb := a.ID, b.ID

	// Two days on, the objects are past their pending retention.
	offset.Store(int64(48 * time.Hour))
	edit(ida, `"legal_hold":true`, `"legal_hold":false`)
	edit(idb, `"retain_until":"[^"]*"`, `"retain_until":"2020-01-01T00:00:00Z"`)
	res, err := h.v.Scrub(h.ctx, h.cust)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || len(res.LocksWeakened) != 2 {
		t.Fatalf("scrub: ok %v, weakened %q", res.OK, res.LocksWeakened)
	}
	joined := strings.Join(res.LocksWeakened, "\n")
	for _, want := range []string{ida + ": its case is under a legal hold, but the object's legal hold was off (put back)",
		idb + ": its retention ends 2020-01-01T00:00:00Z, before the deposit's time plus the vault's default retention when it was deposited"} {
		if !strings.Contains(joined, want) {
			t.Errorf("scrub does not say %q:\n%s", want, joined)
		}
	}
	evs := logged(t, h.v)
	var d AuditScrubbed
	if last := evs[len(evs)-1]; last.Type != TypeAuditScrubbed || last.DecodeData(&d) != nil || len(d.LocksWeakened) != 2 {
		t.Fatalf("audit.scrubbed does not record the weakened locks: %s %+v", last.Type, d)
	}
	l, err := h.v.objects.(objects.LockReader).Lock(context.Background(), object(ida))
	if err != nil || !l.LegalHold {
		t.Fatalf("the hold was not put back: %+v, %v", l, err)
	}

	res, err = h.v.Scrub(h.ctx, h.cust)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || len(res.LocksWeakened) != 1 || !strings.HasPrefix(res.LocksWeakened[0], idb+": its retention ends") {
		t.Fatalf("second scrub: ok %v, weakened %q", res.OK, res.LocksWeakened)
	}
}

// TestScrubLockFindingsOfOtherObjects: the rest of the class. A held
// case's package file whose hold was lifted is found and put back as its
// items are; a lock record that cannot be read is reported, and the scrub
// goes on to check the items after it (an altered one among them is
// still found); a hold placed while a scrub runs is never reported.
func TestScrubLockFindingsOfOtherObjects(t *testing.T) {
	var offset atomic.Int64
	h := newHotline(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	dir := filepath.Dir(h.v.cfg.KeyringDir)
	pros := enrolled(t, h.v, "pros", RoleProsecutor)
	id, _ := age.GenerateX25519Identity()
	if _, _, err := h.v.SetRecipient(h.ctx, pros, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	add, err := h.v.AddMember(h.ctx, h.cust, "HL-1", "inv", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.Approve(h.ctx, h.cust2, add.ID); err != nil {
		t.Fatal(err)
	}
	a := h.deposit(t, h.a1, "a.jpg", []byte("first capture"), "")
	b := h.deposit(t, h.a1, "b.jpg", []byte("second capture"), "")
	sealed, err := h.v.SealPackage(h.ctx, h.inv, SealRequest{Case: "HL-1", For: "pros", Purpose: "to the police"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.SetHold(h.ctx, h.cust, "HL-1", true, "court order 79"); err != nil {
		t.Fatal(err)
	}
	pkg, _ := h.v.state.getPackage(sealed.ID)
	pkgObject := pkg.Sealed.Object
	if err := h.v.objects.SetLegalHold(h.ctx, pkgObject, false); err != nil { // as the store's administrator
		t.Fatal(err)
	}
	item := func(id string) *Item {
		it, err := h.v.state.item(id)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	// The first item's lock record is garbage; the second item's bytes
	// are altered.
	first, second := item(a.ID), item(b.ID)
	if first.ID > second.ID { // the scrub goes in id order
		first, second = second, first
	}
	if err := os.WriteFile(filepath.Join(dir, "objects", first.Deposit.Object+".lock"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "objects", second.Deposit.Object)
	bs, _ := os.ReadFile(obj)
	bs[len(bs)-1] ^= 1
	os.WriteFile(obj, bs, 0o600)

	offset.Store(int64(time.Hour)) // past the grace of a hold just placed
	res, err := h.v.Scrub(h.ctx, h.cust)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(res.LocksWeakened, "\n")
	if res.OK || !strings.Contains(joined, sealed.ID+": its case is under a legal hold, but the object's legal hold was off (put back)") ||
		!strings.Contains(joined, first.ID+": its lock in the store could not be read") {
		t.Fatalf("weakened %q", res.LocksWeakened)
	}
	if !slices.Contains(res.Mismatched, second.ID) || res.Incomplete != "" {
		t.Fatalf("the item after an unreadable lock record was not checked: mismatched %v, incomplete %q", res.Mismatched, res.Incomplete)
	}
	if l, err := h.v.objects.(objects.LockReader).Lock(h.ctx, pkgObject); err != nil || !l.LegalHold {
		t.Fatalf("the package's hold was not put back: %+v, %v", l, err)
	}
}

// TestScrubDuringAHoldFindsNothing: a scrub running while a custodian
// places a hold never reports the objects the hold is still being
// applied to.
func TestScrubDuringAHoldFindsNothing(t *testing.T) {
	var offset atomic.Int64
	h := newHotline(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	for i := range 20 {
		h.deposit(t, h.a1, fmt.Sprintf("c%d.jpg", i), []byte(fmt.Sprintf("capture %d", i)), "")
	}
	// Deposits older than the grace, as a scrub would judge them.
	offset.Store(int64(time.Hour))
	for round := range 5 {
		done := make(chan error, 1)
		go func() {
			_, err := h.v.SetHold(h.ctx, h.cust, "HL-1", round%2 == 0, "court order")
			done <- err
		}()
		res, err := h.v.Scrub(h.ctx, h.cust)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.LocksWeakened) != 0 {
			t.Fatalf("round %d: a hold being placed was reported: %q", round, res.LocksWeakened)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestScrubJudgesRetentionByTheRecordedDefault: the object store's
// administrator shortens the retention of evidence of a case on the
// vault's default to some months, well above the retention floor, so
// that it can be deleted before the years the vault set. The scrub
// judges it against the default the start before its deposit recorded
// in server.started, not against the floor, and lists it; an item
// deposited after a start that lowered the default, locked for what that
// start set, is not listed (the operator's change of configuration is on
// the record, not a weakening in the store).
func TestScrubJudgesRetentionByTheRecordedDefault(t *testing.T) {
	r := newRetentionVault(t)
	before := r.deposit(r.v, "before.jpg") // under the default of ten years
	lowered := r.cfg
	lowered.Retention = 90 * 24 * time.Hour // lowered by the operator, and recorded
	r.restart(lowered, 72*time.Hour)
	after := r.deposit(r.v, "after.jpg")
	r.offset.Store(int64(6 * 24 * time.Hour)) // both past their pending retention

	r.lockUntil(before, 100*24*time.Hour) // months, where the vault set ten years
	r.lockUntil(after, 100*24*time.Hour)  // more than the 90 days set
	res, err := r.v.Scrub(context.Background(), r.cust)
	if err != nil {
		t.Fatal(err)
	}
	want := before.ID + ": its retention ends " + before.At.Time().Add(100*24*time.Hour).Format(time.RFC3339) +
		", before the deposit's time plus the vault's default retention when it was deposited, as server.started recorded it (" +
		before.At.Time().Add(10*365*24*time.Hour).Format(time.RFC3339) + ")"
	if res.OK || len(res.LocksWeakened) != 1 || !strings.HasPrefix(res.LocksWeakened[0], want) {
		t.Fatalf("scrub: ok %v, weakened %q; want one, %q", res.OK, res.LocksWeakened, want)
	}
}

// TestRetentionAt: which start's recorded default an item is judged
// against, and with which pending retention. The start before its
// deposit decides both; the next start too, if its default is less, where
// it came before the deposit's own pending retention ended (it extended
// what a crash left pending, by its own default); a start that decides
// and recorded no default (an older release) leaves the item to the
// floor.
func TestRetentionAt(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	start := func(seq uint64, at time.Time, retention, pending time.Duration) startRetention {
		return startRetention{Seq: seq, At: AsUnixNano(at), Retention: retention, Pending: pending}
	}
	for _, tc := range []struct {
		name    string
		starts  []startRetention
		want    time.Duration // 0: judged by the floor
		pending time.Duration
	}{
		{"no start before it", []startRetention{start(20, t0.Add(day), 365*day, day)}, 0, 0},
		{"the start before it", []startRetention{start(5, t0.Add(-day), 3650*day, day)}, 3650 * day, day},
		{"a later start, long after it", []startRetention{start(5, t0.Add(-day), 3650*day, day), start(20, t0.Add(3*day), 90*day, day)}, 3650 * day, day},
		{"a later start within its pending retention, lower", []startRetention{start(5, t0.Add(-day), 3650*day, day), start(20, t0.Add(time.Hour), 90*day, day)}, 90 * day, day},
		{"a later start within its pending retention, higher", []startRetention{start(5, t0.Add(-day), 90*day, day), start(20, t0.Add(time.Hour), 3650*day, day)}, 90 * day, day},
		{"the start before it recorded none", []startRetention{start(2, t0.Add(-3*day), 3650*day, day), start(5, t0.Add(-day), 0, 0)}, 0, 0},
		{"a later start that gave itself a century of pending retention", []startRetention{start(5, t0.Add(-day), 3650*day, day), start(20, t0.Add(30*day), day, 36500*day)}, 3650 * day, day},
		{"the start before of unknown pending retention, a later start long after", []startRetention{start(5, t0.Add(-day), 3650*day, 0), start(20, t0.Add(30*day), 90*day, day)}, 90 * day, 0},
		{"a later start that recorded none, within its pending retention", []startRetention{start(5, t0.Add(-day), 3650*day, day), start(20, t0.Add(time.Hour), 0, 0)}, 0, day},
	} {
		s := &State{defaultRetentions: tc.starts}
		got, pending, ok := s.retentionAt(10, t0)
		if ok != (tc.want > 0) || got != tc.want || pending != tc.pending {
			t.Errorf("%s: %s, pending %s, %v; want %s, pending %s", tc.name, got, pending, ok, tc.want, tc.pending)
		}
	}
}

// TestScrubRetentionCheckOutlivesARestart: root restarts the vault once
// with a century of pending retention and a default of a day, then as
// before, and the object store's administrator cuts a ten-year lock of
// evidence deposited before to five weeks: the scrub still finds it,
// since it judges by what was recorded at the deposit; and a vault
// running with a century of pending retention still finds a retention
// moved into the past.
func TestScrubRetentionCheckOutlivesARestart(t *testing.T) {
	r := newRetentionVault(t)
	old := r.deposit(r.v, "old.jpg")
	lax := r.cfg
	lax.Retention, lax.PendingRetention = 24*time.Hour, 100*365*24*time.Hour
	r.restart(lax, 30*24*time.Hour)
	stays := r.cfg
	stays.PendingRetention = lax.PendingRetention // and it stays lax
	r.restart(stays, 30*24*time.Hour+time.Minute)
	r.offset.Store(int64(33 * 24 * time.Hour))
	until := r.lockUntil(old, 35*24*time.Hour)
	res, err := r.v.Scrub(context.Background(), r.cust)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || len(res.LocksWeakened) != 1 || !strings.HasPrefix(res.LocksWeakened[0], old.ID+": its retention ends "+until) {
		t.Fatalf("a ten-year lock cut to five weeks after a lax restart: ok %v, weakened %q", res.OK, res.LocksWeakened)
	}
}

// retentionVault is a restartable vault on a file store whose clock a
// test moves, with a custodian and case C-1 on the vault's default
// retention, for the scrub's retention checks.
type retentionVault struct {
	t      *testing.T
	v      *Vault
	cfg    Config
	dir    string
	inv    Principal
	cust   Principal
	offset *atomic.Int64
}

func newRetentionVault(t *testing.T) *retentionVault {
	r := &retentionVault{t: t, dir: t.TempDir(), offset: &atomic.Int64{}}
	r.v, r.cfg, r.inv = restartable(t, r.dir, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(r.offset.Load())) }
	})
	r.cust = enrolled(t, r.v, "cust", RoleCustodian)
	openCases(t, r.v, r.inv, "C-1")
	return r
}

// deposit deposits a file named name into C-1 through v.
func (r *retentionVault) deposit(v *Vault, name string) *Item {
	r.t.Helper()
	res, err := v.Deposit(context.Background(), r.inv, DepositRequest{Case: "C-1", Name: name, Body: strings.NewReader("capture " + name)})
	if err != nil {
		r.t.Fatal(err)
	}
	it, err := v.state.item(res.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return it
}

// lockUntil moves an item's retention in its lock record, as the file
// store's administrator could, to the deposit's time plus d.
func (r *retentionVault) lockUntil(it *Item, d time.Duration) string {
	r.t.Helper()
	name := filepath.Join(r.dir, "objects", it.Deposit.Object+".lock")
	b, err := os.ReadFile(name)
	if err != nil {
		r.t.Fatal(err)
	}
	until := it.At.Time().Add(d).Format(time.RFC3339)
	b = regexp.MustCompile(`"retain_until":"[^"]*"`).ReplaceAll(b, []byte(`"retain_until":"`+until+`"`))
	if err := os.WriteFile(name, b, 0o600); err != nil {
		r.t.Fatal(err)
	}
	return until
}

// restart closes the running vault and opens it with cfg at the clock's
// offset d.
func (r *retentionVault) restart(cfg Config, d time.Duration) {
	r.t.Helper()
	if err := r.v.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.offset.Store(int64(d))
	v, err := Open(context.Background(), cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.v = v
	r.t.Cleanup(func() { v.Close() })
}
