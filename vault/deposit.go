package vault

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/crypto/agestream"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/readfull"
	"github.com/custos-vault/custos/objects"
)

// heldAs is the item of caseID deposited under name with content of
// SHA-256 sum (64 lowercase hex digits), or "" if none is: what a
// deposit not to be made again (DepositRequest.NotAgain) looks for.
func (v *Vault) heldAs(caseID, name, sum string) (string, error) {
	return v.heldWhere(caseID, name, sum, func(Item) (bool, error) { return true, nil })
}

// heldFrom is heldAs narrowed to an item deposited from source (its
// signed deposit record's Source, "" for none): a deposit resumed, as
// opposed to the same files from another exhibit (a second suspect's
// phone holding the same folder), which are that exhibit's evidence and
// are deposited again. Only items of the same name and content are read
// from the log.
func (v *Vault) heldFrom(ctx context.Context, caseID, name, sum, source string) (string, error) {
	return v.heldWhere(caseID, name, sum, func(o Item) (bool, error) {
		rec, err := v.depositRecord(ctx, o)
		return err == nil && rec.Source == source, err
	})
}

// heldWhere is the first item of caseID deposited under name with
// content of SHA-256 sum for which ok holds, or "".
func (v *Vault) heldWhere(caseID, name, sum string, ok func(Item) (bool, error)) (string, error) {
	others, err := v.state.itemsBySHA256(sum)
	if err != nil {
		return "", err
	}
	for _, other := range others {
		o, found, err := v.state.getItem(other)
		if err != nil {
			return "", err
		}
		if !found || o.Case != caseID || o.Deposit.Name != name {
			continue
		}
		yes, err := ok(o)
		if err != nil {
			return "", err
		}
		if yes {
			return o.ID, nil
		}
	}
	return "", nil
}

// HeldAs says which item of caseID, if any, was deposited under name with
// content of SHA-256 sum from source, to the case's assigned investigators and
// analysts (refused as ItemsPage refuses): a page about to upload a file
// asks it first, and sends nothing the case already holds, as custos
// deposit hashes a folder's files first. "" if none. A malformed sum is
// bad input. Of a destroyed case it answers the refusal its deposit
// would (ErrConflict, recorded as a refused item.deposit): the page
// stops there, with one refusal on the record, not one for each file it
// would have sent.
func (v *Vault) HeldAs(ctx context.Context, who Principal, caseID, name, sum, source string) (string, error) {
	if err := v.mayListItems(ctx, who, caseID); err != nil {
		return "", err
	}
	if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 || sum != strings.ToLower(sum) {
		return "", badInput("sha256 %q is not 64 lowercase hex digits", truncate(sum))
	}
	if c, _ := v.state.getCase(caseID); c.Destroyed {
		return "", v.refuseDestroyedDeposit(ctx, who, caseID)
	}
	return v.heldFrom(ctx, caseID, name, sum, source)
}

// refuseDestroyedDeposit records and answers the refusal of a deposit to
// caseID, destroyed, to one of its members, who knows the case and is
// told why.
func (v *Vault) refuseDestroyedDeposit(ctx context.Context, who Principal, caseID string) error {
	return v.refuse(ctx, who, "item.deposit", caseID, fmt.Sprintf("case %s was destroyed under a court order: nothing can be deposited to it", caseID), ErrConflict)
}

// AlreadyDeposited is the refusal (ErrConflict) of a deposit asked not
// to be made again (DepositRequest.NotAgain) whose file its case already
// holds under the same name: Item is that item. Nothing is deposited.
type AlreadyDeposited struct {
	Item string
	err  error
}

func (e *AlreadyDeposited) Error() string { return e.err.Error() }
func (e *AlreadyDeposited) Unwrap() error { return e.err }

// DepositRequest is one evidence file to deposit.
type DepositRequest struct {
	Case   string
	Name   string
	Note   string
	Source string
	Body   io.Reader
	// ClientSHA256, if set, is called after Body is exhausted and returns
	// the SHA-256 the depositor computed (hex); a mismatch aborts the
	// deposit before its event is written.
	ClientSHA256 func() string
	// Expect holds acquisition hashes (hex) the content must have, for
	// example those of a forensic image: an item whose content differs is
	// refused (ErrIntegrity, recorded) before anything is committed.
	Expect Hashes
	// ExpectList names the hash list Expect was read from (it needs
	// Expect); recorded with the hashes.
	ExpectList *AcquisitionList
	Progress   func(n int64)
	// Report is the hotline report the file was captured for; the
	// report must be assessed into the same case (docs/hotline.md).
	Report string
	// NotAgain refuses (ErrConflict, no deposit recorded; its ciphertext
	// is discarded as any refused upload's) a file the case already holds
	// under the same name with the same SHA-256, as `custos deposit`
	// skips it without --again.
	NotAgain bool
}

// Hashes are hex digests of an item's content; empty ones are not given.
type Hashes struct {
	SHA256, MD5, SHA1 string
}

// DepositResult describes a durable deposit.
type DepositResult struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	Event  uint64 `json:"event"`
	// Matches, Media and Known: the known-material hash-set entries the
	// content matched, what the pass learned of an image or video, and
	// why the item counts as known material ("" if it does not).
	Matches []HashSetMatch `json:"matches,omitempty"`
	Media   *MediaInfo     `json:"media,omitempty"`
	Known   string         `json:"known,omitempty"`
	// Again names the item the case already held under the same name
	// with the same content, which this deposit repeats (a file named
	// one by one, or deposited with --again); "" if none.
	Again string `json:"again,omitempty"`
}

// Deposit encrypts one file to its case's key, stores the ciphertext, and
// records the deposit. The answer comes only when both the object and the
// event are durable; on any failure nothing is visible: the object is
// deleted (or, if the store refuses, swept at the next start) and no event
// exists.
func (v *Vault) Deposit(ctx context.Context, who Principal, req DepositRequest) (*DepositResult, error) {
	if err := v.refuseWhileHalted(); err != nil {
		return nil, err
	}
	if err := v.headKept(ctx); err != nil {
		return nil, err
	}
	if handlesEvidence(who.Role) {
		// Who could deposit is told of a malformed case id; anyone
		// else is refused below before it is read (rule 9).
		if err := checkCaseID(req.Case); err != nil {
			return nil, err
		}
	}
	c, ok := v.state.getCase(req.Case)
	if ok && c.Destroyed && assigned(who, c) {
		return nil, v.refuseDestroyedDeposit(ctx, who, req.Case)
	}
	if ok && seesAllCases(who) {
		// Custodians and auditors know every case: not told it does
		// not exist, but who deposits.
		return nil, v.refuse(ctx, who, "item.deposit", req.Case, fmt.Sprintf("a %s does not deposit evidence: only investigators and analysts assigned to case %s do (a custodian who opened a case is listed among its members to manage it); %s", who.Role, req.Case, assignsPeople), ErrForbidden)
	}
	if !ok || !v.memberOf(who, c) {
		return nil, v.refuseUnseen(ctx, who, "item.deposit", "case", req.Case, ok, "only investigators and analysts assigned to the case deposit", "only investigators and analysts assigned to a case deposit to it; "+assignsPeople)
	}
	// The precondition is checked now, before anything is streamed, and
	// again at the deposit event's position: a case destroyed, or a
	// depositor removed, while the upload ran refuses the deposit.
	pre := func(c Case, ok bool) error {
		switch {
		case !ok:
			return refused(ErrNotFound, "no such case")
		case c.Destroyed:
			return refused(ErrConflict, "the case was destroyed under a court order")
		case !v.memberOf(who, c):
			return refused(ErrForbidden, "only investigators and analysts assigned to the case deposit")
		}
		if req.Report != "" {
			// Who may work on the report is asked first (as
			// mayWorkOnReport does), before anything of it shapes the
			// answer: to an investigator a report not assessed into this
			// case is one that does not exist; an analyst not assigned
			// to the case it is assessed into is told only that.
			r, ok := v.state.getReport(req.Report)
			if ok && r.Case != c.ID && who.Role == RoleAnalyst {
				if err := v.reportOpenTo(who, req.Report, r, ok); err != nil {
					return err
				}
			}
			switch {
			case !ok || r.Case != c.ID && who.Role != RoleAnalyst:
				return badInput("no report %s that you may deposit for in case %s: check its id in the list of reports", req.Report, c.ID)
			case r.Status == StatusClosed:
				return refused(ErrConflict, "report %s was closed (%s)", req.Report, r.ClosedReason)
			case r.Case != c.ID:
				return refusedHints(ErrConflict, fmt.Sprintf("assess it into the case first: custos report assess %s --case %s", req.Report, c.ID),
					"assess it into the case first, on the report's page", "report %s is not assessed into case %s", req.Report, c.ID)
			}
		}
		return nil
	}
	if req.Report != "" {
		if err := checkReportID(req.Report); err != nil {
			return nil, err
		}
	}
	if err := v.checkNow(req.Case, pre); err != nil {
		return nil, v.refusedAs(ctx, who, "item.deposit", req.Case, err)
	}
	c, _ = v.state.getCase(req.Case)
	if err := checkFileName(req.Name); err != nil {
		return nil, err
	}
	if err := checkText("note", req.Note, 4096, false, true); err != nil {
		return nil, err
	}
	if err := checkText("source", req.Source, 2048, false, false); err != nil {
		return nil, err
	}
	for _, h := range []struct {
		name, v string
		n       int
	}{{"sha256", req.Expect.SHA256, 64}, {"md5", req.Expect.MD5, 32}, {"sha1", req.Expect.SHA1, 40}} {
		if _, err := hex.DecodeString(h.v); h.v != "" && (err != nil || len(h.v) != h.n) {
			return nil, badInput("expected %s %q is not %d hex digits", h.name, truncate(h.v), h.n)
		}
	}
	if v.cfg.NoLegacyHashes && (req.Expect.MD5 != "" || req.Expect.SHA1 != "") {
		return nil, badInput("this vault does not compute MD5 or SHA-1 (--no-legacy-hashes): give the expected SHA-256")
	}
	if err := checkAcquisitionList(req.ExpectList, req.Expect); err != nil {
		return nil, err
	}
	recipient, err := age.ParseX25519Recipient(c.Recipient)
	if err != nil {
		return nil, fmt.Errorf("case %s recipient: %w", c.ID, err)
	}

	itemID := "it_" + randomHex(12)
	object := "ev/" + randomHex(16)
	// Not an orphan for the sweep until the state owns it or it is
	// discarded (objectsInFlight).
	flight := v.inFlight.begin(object)
	defer flight.end()
	pipe := agestream.NewPipe(8)
	type encResult struct {
		res *agestream.Result
		err error
	}
	done := make(chan encResult, 1)
	// The depositor's own hash is checked before the object store sees
	// the end of the stream: a mismatch fails the upload itself, so the
	// store never commits an object (under object lock it could never be
	// deleted again).
	// Sticky: the media probe peeks, and an upload cut short must fail
	// the deposit, never end it (internal/readfull).
	body, probe := v.probeMedia(readfull.Sticky(req.Body))
	go func() {
		res, err := agestream.Encrypt(pipe, body, []age.Recipient{recipient},
			agestream.Options{NoLegacyHashes: v.cfg.NoLegacyHashes, Progress: req.Progress})
		if err == nil && req.ClientSHA256 != nil {
			err = checkClientSum(req.ClientSHA256(), res.Plain.SHA256[:])
		}
		if err == nil {
			err = checkExpected(req.Expect, res)
		}
		pipe.CloseWithError(err)
		done <- encResult{res, err}
	}()
	_, putErr := v.objects.Put(ctx, object, pipe, objects.PutOptions{RetainUntil: v.pendingUntil(c)})
	pipe.CloseRead(errors.New("object store stopped reading"))
	enc := <-done
	media := probe.result(enc.err)
	fail := func(err error) (*DepositResult, error) {
		if putErr == nil {
			v.discard(ctx, object)
		}
		return nil, err
	}
	switch classifyUpload(enc.err, putErr) {
	case uploadRefused:
		if errors.Is(enc.err, errNotExpected) {
			// An acquisition hash that does not hold is a custody fact:
			// recorded, and nothing of the content kept.
			fail(nil)
			// The log names the file; the answer goes to the one who
			// sent it, whose client names it already.
			reason := strings.TrimPrefix(enc.err.Error(), ErrBadInput.Error()+": ")
			if l := req.ExpectList; l != nil {
				reason += fmt.Sprintf(" (read from the hash list %s)", listWords(l))
			}
			if err := v.refuse(ctx, who, "item.deposit", req.Case, req.Name+": "+reason, ErrBadInput); !Recorded(err) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s%w", ErrBadInput, reason, recordedMark{})
		}
		if errors.Is(enc.err, ErrUploadAltered) {
			// Bytes that changed between the depositor and the vault
			// are a custody fact, as an acquisition hash that does
			// not hold is: recorded, and nothing of them kept.
			fail(nil)
			reason := strings.TrimPrefix(enc.err.Error(), ErrIntegrity.Error()+": ")
			if err := v.recordRefusal(ctx, who, "item.deposit", req.Case, req.Name+": "+reason, GroundsInput); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w; nothing was stored and the refusal is recorded: deposit the file again, and if it happens again, something between you and the vault alters uploads: tell the vault's operators%w", enc.err, recordedMark{})
		}
		return fail(enc.err)
	case uploadInterrupted:
		return fail(fmt.Errorf("%w: upload interrupted: %v", ErrBadInput, enc.err))
	case uploadStoreFailed:
		return nil, fmt.Errorf("%w: storing ciphertext: %w", ErrUnavailable, putErr)
	case uploadEncryptFailed:
		return fail(fmt.Errorf("encrypting: %w", enc.err))
	}
	res := enc.res
	sum := hex.EncodeToString(res.Plain.SHA256[:])
	// The item the case already holds under this name with this content
	// from this source: refused under NotAgain (a deposit resumed).
	// Otherwise the item of this name and content, whatever its source,
	// is told (Again), and a store that cannot say leaves it unsaid.
	if req.NotAgain {
		held, err := v.heldFrom(ctx, c.ID, req.Name, sum, req.Source)
		if err == nil && held != "" {
			err = &AlreadyDeposited{Item: held, err: fmt.Errorf("%w: %s is already in case %s as %s, with the same SHA-256 and source; it was not deposited again (to do that on purpose: custos deposit --again, or on the upload page the box 'Upload files the case already holds (same name and content) again')", ErrConflict, req.Name, c.ID, held)}
		}
		if err != nil {
			fail(nil)
			return nil, err
		}
	}
	again, err := v.heldAs(c.ID, req.Name, sum)
	if err != nil {
		again = ""
	}
	d := ItemDeposited{
		Name: req.Name, Size: res.Plain.Size, SHA256: sum,
		Object: object, CiphertextSize: res.CipherSize, CiphertextSHA256: hex.EncodeToString(res.CipherSHA256[:]),
		CiphertextHeaderSHA256: hex.EncodeToString(res.CipherHeaderSHA256[:]),
		Source:                 req.Source, Note: req.Note,
	}
	if e := req.Expect; e != (Hashes{}) {
		d.Acquisition = &AcquisitionHashes{SHA256: strings.ToLower(e.SHA256), SHA1: strings.ToLower(e.SHA1), MD5: strings.ToLower(e.MD5)}
		if l := req.ExpectList; l != nil {
			d.Acquisition.List = &AcquisitionList{Name: l.Name, SHA256: strings.ToLower(l.SHA256), Entry: l.Entry}
		}
	}
	if !v.cfg.NoLegacyHashes {
		d.MD5 = hex.EncodeToString(res.Plain.MD5[:])
		d.SHA1 = hex.EncodeToString(res.Plain.SHA1[:])
	}
	d.Report, d.Media = req.Report, media
	if d.Matches, err = v.hashsets.match(d); err != nil {
		return fail(err)
	}
	evs, err := v.decide(ctx, who, "item.deposit", c.ID, pre, sequencer.Draft{Type: TypeItemDeposited, Actor: who.actor(), Case: c.ID, Item: itemID, Data: d})
	if errors.Is(err, sequencer.ErrOutcomeUnknown) {
		// The event may be in the log: its object is neither discarded
		// nor let go by the sweep of this process (a next start judges
		// it after replaying the log).
		flight.keep(v.logger, err)
		return nil, fmt.Errorf("%w: recording the deposit: %w", ErrUnavailable, err)
	}
	if err != nil {
		return fail(fmt.Errorf("recording the deposit: %w", err))
	}
	v.extendRetention(ctx, object)
	v.trimRecent()
	it, _, err := v.state.getItem(itemID) // just deposited: among the changed items
	if err != nil {
		return nil, err
	}
	known, err := v.hiddenBecause(ctx, it, &d)
	if err != nil {
		// The deposit is recorded; its answer says it is treated as
		// known until a view decides again.
		known = "treated as known until it can be checked, as the check could not be completed: " + err.Error()
	}
	return &DepositResult{ID: itemID, Name: d.Name, Size: d.Size, SHA256: d.SHA256, MD5: d.MD5, SHA1: d.SHA1, Event: evs[0].Seq,
		Matches: d.Matches, Media: d.Media, Known: known, Again: again}, nil
}

// uploadOutcome is what became of a deposit's upload: the depositor's
// stream, hashed and encrypted on one side, and the object store's write
// on the other.
type uploadOutcome int

const (
	// uploadStored: both sides succeeded.
	uploadStored uploadOutcome = iota
	// uploadRefused: the depositor's fault, already classified (bad
	// input, or their SHA-256 disagrees: an integrity failure).
	uploadRefused
	// uploadInterrupted: the depositor's stream broke while it was read.
	uploadInterrupted
	// uploadStoreFailed: the object store failed while the depositor's
	// side was fine; nothing was committed.
	uploadStoreFailed
	// uploadEncryptFailed: the vault's own hashing or encryption failed.
	uploadEncryptFailed
)

// classifyUpload decides which failure of a deposit wins. The
// depositor's comes first: a store that stopped because the client's
// stream failed is not an outage. The store's comes before the vault's
// own: an encryption that failed because the store stopped reading is the
// store's failure.
func classifyUpload(encErr, putErr error) uploadOutcome {
	switch {
	case errors.Is(encErr, ErrBadInput) || errors.Is(encErr, ErrIntegrity):
		return uploadRefused
	case errors.Is(encErr, agestream.ErrReadPlaintext):
		return uploadInterrupted
	case putErr != nil:
		return uploadStoreFailed
	case encErr != nil:
		return uploadEncryptFailed
	}
	return uploadStored
}

// discard removes an object that never got its deposit event. Under
// object lock the store refuses until the object's pending retention
// ends; the object is then recorded as retained, so that scrub accounts
// for it and a start after that date sweeps it.
func (v *Vault) discard(ctx context.Context, object string) {
	ctx = context.WithoutCancel(ctx)
	err := v.objects.Delete(ctx, object)
	if err == nil {
		return
	}
	v.logger.Warn("could not delete the ciphertext of a failed deposit; it is recorded as retained and swept once its pending retention ends", "object", object, "err", err)
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeObjectsRetained, Actor: System, Data: ObjectsRetained{Orphans: []string{object}}}); err != nil {
		v.logger.Error("could not record a retained orphan; the next start's sweep finds it", "object", object, "err", err)
	}
}

// maxListEntry bounds a hash list's entry for a file (a path of up to
// 4,096 bytes, escaped).
const maxListEntry = 4 * 4096

// checkAcquisitionList refuses (ErrBadInput) a hash list named without
// hashes read from it, a name that is not one file's name as item names
// are written (EscapeName, one component of at most 255 bytes; "" for a
// list that was not a file, read through a pipe), a SHA-256 that is not
// 64 hex digits, or an entry not escaped as names are or longer than
// maxListEntry.
func checkAcquisitionList(l *AcquisitionList, expect Hashes) error {
	if l == nil {
		return nil
	}
	if expect == (Hashes{}) {
		return badInput("a hash list (expect_list) goes with the hashes read from it (expect_sha256, expect_md5 or expect_sha1)")
	}
	if strings.Contains(l.Name, "/") {
		return badInput("hash list name %q: its file name alone, without a folder", truncate(l.Name))
	}
	if err := checkFileName(l.Name); l.Name != "" && err != nil {
		return fmt.Errorf("hash list name: %w", err)
	}
	if _, err := hex.DecodeString(l.SHA256); err != nil || len(l.SHA256) != 64 {
		return badInput("hash list SHA-256 %q is not 64 hex digits", truncate(l.SHA256))
	}
	if l.Entry != "" {
		if err := checkText("hash list entry", l.Entry, maxListEntry, false, false); err != nil {
			return err
		}
		if err := checkEscapes(l.Entry); err != nil || EscapeName(UnescapeName(l.Entry)) != l.Entry {
			return badInput("hash list entry %q: write it escaped as item names are (\\xHH for a byte a name cannot show as it is)", truncate(l.Entry))
		}
		if bytes.IndexByte(UnescapeName(l.Entry), 0) >= 0 {
			return badInput("hash list entry %q: holds a NUL byte (\\x00), which no file system allows in a name", truncate(l.Entry))
		}
	}
	return nil
}

// listWords names a hash list in a sentence: its name, if it has one,
// in single quotation marks (any inside written \u2018 or \u2019, so
// that a name cannot close them and state another SHA-256; documents
// quote the whole reason in double ones), and its SHA-256.
func listWords(l *AcquisitionList) string {
	if l.Name == "" {
		return "without a name, SHA-256 " + strings.ToLower(l.SHA256)
	}
	return QuotedListName(l.Name) + ", SHA-256 " + strings.ToLower(l.SHA256)
}

// QuotedListName is a hash list's name in single quotation marks, any
// inside written \u2018 or \u2019, as a reason a document quotes in
// double ones holds it: the name cannot close them and add a clause.
func QuotedListName(name string) string { return "‘" + singleQuotes.Replace(name) + "’" }

var singleQuotes = strings.NewReplacer("‘", `\u2018`, "’", `\u2019`)

// errNotExpected marks content whose hash differs from an expected one.
var errNotExpected = errors.New("the content is not what its acquisition hash says")

// checkExpected compares the content's hashes with the expected ones.
func checkExpected(want Hashes, res *agestream.Result) error {
	for _, h := range []struct {
		name, want string
		got        []byte
	}{{"SHA-256", want.SHA256, res.Plain.SHA256[:]}, {"MD5", want.MD5, res.Plain.MD5[:]}, {"SHA-1", want.SHA1, res.Plain.SHA1[:]}} {
		if h.want == "" {
			continue
		}
		got := hex.EncodeToString(h.got)
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(h.want)), []byte(got)) != 1 {
			return fmt.Errorf("%w: %w: its %s is %s, not the expected %s", ErrBadInput, errNotExpected, h.name, got, strings.ToLower(h.want))
		}
	}
	return nil
}

// ErrUploadAltered is a deposit whose bytes, as the vault received them,
// are not the ones the depositor's client hashed (a wrapped
// ErrIntegrity): nothing is stored, and the refusal is recorded.
var ErrUploadAltered = errors.New("the upload was altered on its way to the vault")

// checkClientSum compares the depositor's SHA-256 (hex, from the request
// trailer) with the vault's.
func checkClientSum(claimed string, sum []byte) error {
	claimed = strings.ToLower(strings.TrimSpace(claimed))
	got := hex.EncodeToString(sum)
	if claimed == "" {
		return badInput("the client sent no SHA-256 of what it uploaded")
	}
	if subtle.ConstantTimeCompare([]byte(claimed), []byte(got)) != 1 {
		return fmt.Errorf("%w: %w: the client hashed %s but the vault received %s", ErrIntegrity, ErrUploadAltered, claimed, got)
	}
	return nil
}

// retention returns how long the case's objects stay write-once.
func (v *Vault) retention(c Case) time.Duration {
	if c.Retention > 0 {
		return c.Retention
	}
	return v.cfg.Retention
}

// pendingUntil is the retention date an object of case c is written with
// before its event is durable: the pending retention, or the case's own if
// shorter (a COMPLIANCE date can be extended but never shortened).
func (v *Vault) pendingUntil(c Case) time.Time {
	return v.cfg.Now().Add(min(v.cfg.PendingRetention, v.retention(c)))
}

// extendRetention moves a durable object from its pending retention to the
// full one. A failure is logged, not returned: the deposit is already
// durable, and the next start extends the retention of recent objects.
// The object's case decides its retention, and whether it is under a
// legal hold.
func (v *Vault) extendRetention(ctx context.Context, object string) {
	ctx = context.WithoutCancel(ctx)
	c, ok, err := v.state.objectCase(object)
	if err != nil {
		// A page of the object index or of items failed its check (the
		// vault halts) or could not be read: the object keeps the
		// default retention until the next start, which extends the
		// retention of recent objects by their case's, and places their
		// case's hold.
		v.logger.Error("the case of a stored object could not be read; its case's retention and hold wait for the next start", "object", object, "err", err)
	}
	if err := v.objects.ExtendRetention(ctx, object, v.cfg.Now().Add(v.retention(c))); err != nil {
		v.logger.Error("could not extend the retention of a stored object; it will be retried at the next start", "object", object, "err", err)
	}
	if !ok {
		return
	}
	// The hold is read and applied under holdMu, as SetHold applies a
	// case's hold to its objects: whichever runs last applies the hold as
	// the log has it then, so a lift is never undone by a late deposit.
	v.holdMu.Lock()
	defer v.holdMu.Unlock()
	if c, _ = v.state.getCase(c.ID); c.Held {
		if err := v.objects.SetLegalHold(ctx, object, true); err != nil {
			v.logger.Error("could not place the case's legal hold on a stored object; repeat `custos case hold`", "object", object, "err", err)
		}
	}
}

// recentTrimMin is the least size of the index of recent objects that a
// deposit trims (trimRecent); tests lower it.
var recentTrimMin int64 = 1024

// trimRecent forgets, once the state's index of recent objects has
// doubled since it was last trimmed, the objects recorded before the
// pending-retention window, as a start does (extendRecentRetention): a
// server that runs for years keeps only the window's objects in it, at
// a cost that stays constant per deposit.
func (v *Vault) trimRecent() {
	if int64(v.state.recentLen()) < max(recentTrimMin, v.recentTrimAt.Load()) {
		return
	}
	v.state.pruneRecent(v.cfg.Now().Add(-v.cfg.PendingRetention))
	v.recentTrimAt.Store(2 * int64(v.state.recentLen()))
}

// extendRecentRetention finishes retention extensions that a crash may
// have interrupted: every object recorded within the pending window.
func (v *Vault) extendRecentRetention(ctx context.Context) {
	since := v.cfg.Now().Add(-v.cfg.PendingRetention)
	v.state.pruneRecent(since)
	for _, o := range v.state.recentObjects(since) {
		v.extendRetention(ctx, o)
	}
}
