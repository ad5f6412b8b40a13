package vault

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/custos-vault/custos/crypto/agestream"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Reveal streams one item's plaintext after its access event is durable.
// Read it to the end, then call Finish.
type Reveal struct {
	v    *Vault
	who  Principal
	Item Item
	// Media is what the deposit's probe of the content found (nil for
	// content it did not recognise), as its signed deposit record has
	// it.
	Media  *MediaInfo
	Access uint64
	// Warning, if set, is the reviewer-welfare warning of the person's
	// daily exposure limit.
	Warning string
	obj     io.Closer
	dec     *agestream.Decrypter
	err     error
}

// OpenItem authorises and records an access to an item, then opens its
// plaintext stream. Nothing is read from the object store before the
// access event is durable.
func (v *Vault) OpenItem(ctx context.Context, who Principal, itemID, purpose string) (*Reveal, error) {
	return v.Open(ctx, who, RevealRequest{Item: itemID, Purpose: purpose})
}

// RevealRequest asks for an item's plaintext. RevealKnown is the
// explicit override that known material needs (docs/hotline.md): the
// access event then records why the item counted as known.
type RevealRequest struct {
	Item        string
	Purpose     string
	RevealKnown bool
	// ShownIf, when set, says whether the vault's web viewer shows an
	// item of the media its deposit record holds (nil: unknown media):
	// the access is then recorded as AccessShown, not AccessCopy. Nil
	// for every other reader (the API hands the plaintext to a program,
	// which may keep it).
	ShownIf func(*MediaInfo) bool
}

// How an item.accessed records the plaintext was sent (ItemAccessed.Access,
// docs/custody-log.md section 5).
const (
	// AccessShown: shown in the vault's web viewer, which offers no way
	// to save it (since 2026-12-07).
	AccessShown = "shown"
	// AccessCopy: sent as a file the person's program or browser keeps:
	// the command line's custos get, any API client, a web download
	// (since 2026-12-07).
	AccessCopy = "copy"
	// AccessView is what every access recorded before 2026-12-07 says:
	// sent to the person, to view or to save.
	AccessView = "view"
)

// Open authorises and records an access to an item, then opens its
// plaintext stream; see OpenItem. Known material is refused unless
// RevealKnown, and the refusal is recorded.
func (v *Vault) Open(ctx context.Context, who Principal, req RevealRequest) (*Reveal, error) {
	itemID, purpose := req.Item, req.Purpose
	it, err := v.gatedItem(ctx, who, "item.get", itemID)
	if err != nil {
		return nil, err
	}
	if err := checkText("purpose", purpose, 1024, true, false); err != nil {
		return nil, err
	}
	// Decided now and again at the access event's position: a member
	// removed, or the case destroyed, before the event is refused.
	pre := func(c Case, _ bool) error {
		switch {
		case c.Destroyed:
			return refusedOn(ErrNotFound, GroundsState, "the item's case was destroyed under a court order")
		case !v.memberOf(who, c):
			return refused(ErrForbidden, "%s", itemGates["item.get"].notAssigned)
		}
		return nil
	}
	if err := v.checkNow(it.Case, pre); err != nil {
		return nil, v.refusedAs(ctx, who, "item.get", itemID, err)
	}
	// The deposit record does not change: read once, it serves both
	// decisions (the second runs at the event's position, in the
	// sequencer, where the store is not read).
	rec, err := v.depositRecord(ctx, it)
	if err != nil {
		return nil, err
	}
	near := &neighbourRecords{}
	known, err := v.hiddenWith(ctx, it, &rec, near)
	if err != nil {
		// A hash set that could not be read: never shown as if unknown.
		return nil, v.refusedAs(ctx, who, "item.get", itemID, err)
	}
	hidden := func(known string) error {
		// On the record's grounds, not the person's permission: they may
		// view it, with the override (docs/custody-log.md, "grounds").
		r := refusedHints(ErrForbidden, "to see it anyway, reveal it explicitly with your purpose, which is recorded (add --reveal-known)",
			"to see it anyway, tick “I need to see this known material” beside the purpose, and view it again; that is recorded",
			"known material, not shown for review: %s", known).(*refusal)
		r.grounds = GroundsState
		return r
	}
	if known != "" && !req.RevealKnown {
		return nil, v.refusedAs(ctx, who, "item.get", itemID, hidden(known))
	}
	// Whether the item is known material is decided again at the access
	// event's position, as membership is: a vote or an import that makes
	// it known just ahead of the event refuses the reveal (or, with the
	// override, asks for it again, so that the recorded reason is the
	// one that held).
	atPosition := func(c Case, ok bool) error {
		if err := pre(c, ok); err != nil {
			return err
		}
		now, _, err := v.state.getItem(itemID)
		if err != nil {
			return err
		}
		k, err := v.hiddenWith(ctx, now, &rec, near.frozenCopy())
		switch {
		case err != nil:
			return err
		case k == known:
			return nil
		case k != "" && !req.RevealKnown:
			return hidden(k)
		default:
			return refused(ErrConflict, "whether item %s is known material changed while the access was decided (now: %s); repeat the request", itemID, orNot(k))
		}
	}
	access := AccessCopy
	if req.ShownIf != nil && req.ShownIf(rec.Media) {
		access = AccessShown
	}
	d := sequencer.Draft{Type: TypeItemAccessed, Actor: who.actor(), Case: it.Case, Item: itemID,
		Data: ItemAccessed{Purpose: purpose, Access: access, Override: known}}
	d.Check = func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if knownMayChange(ev) {
				return sequencer.ErrNotYet
			}
		}
		return v.atPosition(it.Case, atPosition)(ahead)
	}
	evs, err := func() ([]*events.Event, error) {
		if h := v.hashsets; h != nil {
			// Not beside an import being put in use
			// (hashSets.installing).
			h.installing.RLock()
			defer h.installing.RUnlock()
		}
		// Published before the plaintext is: a view covered only by the
		// log store's batch seal could be removed with it after a crash
		// by whoever administers the store and the keyring folder.
		return v.appendPublished(ctx, d)
	}()
	err = v.refusedAs(ctx, who, "item.get", itemID, err)
	if errors.Is(err, sequencer.ErrUnpublished) && len(evs) == 1 {
		v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeItemAccessCompleted, Actor: who.actor(),
			Case: it.Case, Item: it.ID, Data: ItemAccessCompleted{AccessEvent: fmt.Sprint(evs[0].Seq),
				Aborted: "no checkpoint covering the access could be published: nothing was sent"}})
		return nil, err
	}
	if err != nil {
		if Recorded(err) || errors.Is(err, ErrUnavailable) {
			// A refusal, or a hash set that could not be read at the
			// access's position: its own words say it.
			return nil, err
		}
		return nil, fmt.Errorf("recording the access: %w", err)
	}
	r := &Reveal{v: v, who: who, Item: it, Media: rec.Media, Access: evs[0].Seq, Warning: v.exposureWarning(who.Name)}
	id, err := v.caseIdentity(ctx, it.Case, it.ID)
	if err != nil {
		// A key problem, recorded as one: the evidence is not suspect.
		r.v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeItemAccessCompleted, Actor: who.actor(),
			Case: it.Case, Item: it.ID, Data: ItemAccessCompleted{AccessEvent: fmt.Sprint(r.Access), Aborted: "the case key is unavailable"}})
		return nil, err
	}
	// A stored ciphertext of another size than its deposit recorded is
	// not this item's (another item's of the case swapped in, or an
	// altered one): refused before a byte of its plaintext is sent; so
	// is one whose age header and nonce are not those the deposit wrote
	// (ciphertext_header_sha256: the header's MAC is keyed by the file's
	// own random key, so another item's file of the same size has
	// another header). A deposit before that was recorded leaves one of
	// the same size to the plaintext's hash, at the end (Finish), where
	// a client that is not the vault's own may have read what was sent.
	if st, err := v.objects.Stat(ctx, it.Deposit.Object); err == nil && rec.CiphertextSize > 0 && st.Size != rec.CiphertextSize {
		return nil, r.integrity(ctx, fmt.Errorf("the stored ciphertext is %d bytes, not the %d its deposit recorded: nothing was sent", st.Size, rec.CiphertextSize))
	}
	obj, err := v.objects.Open(ctx, it.Deposit.Object)
	if err != nil {
		return nil, r.integrity(ctx, fmt.Errorf("opening ciphertext: %w", err))
	}
	dec, err := agestream.NewDecrypter(obj, id)
	if err != nil {
		obj.Close()
		return nil, r.integrity(ctx, err)
	}
	if want := rec.CiphertextHeaderSHA256; want != "" {
		got, err := dec.HeaderSHA256()
		if err == nil && hex.EncodeToString(got[:]) != want {
			err = fmt.Errorf("its age header is not the one its deposit wrote (SHA-256 %x, not %s): another file of the same size, perhaps another item's", got, want)
		}
		if err != nil {
			obj.Close()
			return nil, r.integrity(ctx, fmt.Errorf("the stored ciphertext is not this item's: %w: nothing was sent", err))
		}
	}
	r.obj, r.dec = obj, dec
	return r, nil
}

// knownMayChange reports whether an event can change whether an item of
// any case is known material (knownBecause), so that an access decided
// before it is decided again after it: a vote or a deposit (a copy held
// illegal), a hash set's import, removal or loss, and any event about a
// case or a person, of whatever case: a classification policy, and the
// membership, suspension or removal that makes a voter's clearing of
// another case's copy lapse, or count again.
func knownMayChange(ev *events.Event) bool {
	return ev.Type == TypeItemClassified || ev.Type == TypeItemDeposited || strings.HasPrefix(ev.Type, "hashset.") ||
		strings.HasPrefix(ev.Type, "case.") || strings.HasPrefix(ev.Type, "person.")
}

func (r *Reveal) Read(p []byte) (int, error) {
	n, err := r.dec.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// Finish checks the streamed plaintext against the deposit and records
// the outcome: completion, or an integrity failure (and an error).
func (r *Reveal) Finish(ctx context.Context) error {
	r.obj.Close()
	n, sum := r.dec.Sum()
	got := hex.EncodeToString(sum[:])
	switch {
	case r.err != nil:
		return r.integrity(ctx, fmt.Errorf("decryption failed after %d bytes: %w", n, r.err))
	case n != r.Item.Deposit.Size || got != r.Item.Deposit.SHA256:
		return r.integrity(ctx, fmt.Errorf("plaintext of %d bytes with SHA-256 %s does not match the deposit (%d bytes, %s)",
			n, got, r.Item.Deposit.Size, r.Item.Deposit.SHA256))
	}
	_, err := r.v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeItemAccessCompleted, Actor: r.who.actor(),
		Case: r.Item.Case, Item: r.Item.ID, Data: ItemAccessCompleted{AccessEvent: fmt.Sprint(r.Access), Bytes: n, SHA256: got}})
	return err
}

// Abort records that the reader went away before the end, why in words
// (abortWords).
func (r *Reveal) Abort(ctx context.Context, why error) {
	r.obj.Close()
	n, _ := r.dec.Sum()
	r.v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeItemAccessCompleted, Actor: r.who.actor(),
		Case: r.Item.Case, Item: r.Item.ID, Data: ItemAccessCompleted{AccessEvent: fmt.Sprint(r.Access), Bytes: n,
			Aborted: abortWords(why, "reader", n, r.Item.Deposit.Size)}})
}

// abortWords says why a view or a package's retrieval ended before the
// end, as the custody log records it and a court reads it: a reader (who:
// "viewer", "recipient") that went away (its connection closed, reset or
// timed out, its request cancelled) in words, with how much of the file
// it was sent; anything else as the error says it.
func abortWords(why error, who string, sent, size int64) string {
	of := fmt.Sprintf("after %d of %d bytes", sent, size)
	var ne net.Error
	switch {
	case errors.Is(why, context.Canceled), errors.Is(why, syscall.EPIPE), errors.Is(why, syscall.ECONNRESET), errors.Is(why, net.ErrClosed):
		return "the " + who + "'s connection closed " + of + ": the " + who + " did not receive the whole file"
	case errors.Is(why, context.DeadlineExceeded), errors.As(why, &ne) && ne.Timeout():
		return "the " + who + "'s connection timed out " + of + ": the " + who + " did not receive the whole file"
	}
	return "the transfer stopped " + of + " (" + why.Error() + ")"
}

func (r *Reveal) integrity(ctx context.Context, cause error) error {
	return r.v.integrityFailed(ctx, r.Item, cause)
}

// integrityFailed records that stored evidence did not match its deposit
// (however it was found: a view, a package being sealed, a scrub) and
// returns the error for the caller.
func (v *Vault) integrityFailed(ctx context.Context, it Item, cause error) error {
	return withIntegrityRecorded(fmt.Errorf("%w: item %s: %v", ErrIntegrity, it.ID, cause), v.recordIntegrityFailure(ctx, it, cause))
}

// recordIntegrityFailure appends the integrity.failed event of an item
// and returns the log's error, if the event could not be appended.
func (v *Vault) recordIntegrityFailure(ctx context.Context, it Item, cause error) error {
	_, err := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeIntegrityFailed, Actor: System,
		Case: it.Case, Item: it.ID, Data: IntegrityFailed{Object: it.Deposit.Object, Reason: cause.Error()}})
	v.logger.Error("integrity failure", "item", it.ID, "err", cause)
	return err
}

// Failed reports whether reading the plaintext failed (decryption or
// authentication error), as opposed to the reader going away.
func (r *Reveal) Failed() bool { return r.err != nil }
