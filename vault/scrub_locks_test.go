package vault

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
		idb + ": its retention ends 2020-01-01T00:00:00Z, before the deposit's time plus the vault's retention floor"} {
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
