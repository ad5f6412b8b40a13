package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"filippo.io/age"
	"github.com/custos-vault/custos/crypto/agestream"
	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/pdfreport"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/pkgformat"
)

// SealRequest asks for a package of a case's items for one person.
type SealRequest struct {
	Case    string
	For     string
	Purpose string
	// Items to include; empty means every item of the case.
	Items []string
	// DiscloseOthers asks the package's report to state the other
	// packages the same items were sealed in (for whom, when); the
	// sealing event records the choice.
	DiscloseOthers bool
}

// SealedPackage describes a sealed package.
type SealedPackage struct {
	ID     string `json:"package"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Items  int    `json:"items"`
	// For and ForRole are the person it is sealed for and their role
	// (prosecutor or defence), as the sealing event records them.
	For     string `json:"for"`
	ForRole string `json:"for_role"`
	// Warnings say what the package lacks that a verifier may demand: its
	// checkpoint's witness quorum, a time-stamp token.
	Warnings []string `json:"warnings,omitempty"`
	// Request, instead of the rest, is the pending request of a case
	// whose policy requires a custodian's approval of exports (never the
	// requester's own).
	Request *RequestInfo `json:"-"`
}

// SealPackage builds a package of evidence re-encrypted to the recipient
// of the person it is for. The sealing event (who, for whom, why, which
// items) is durable before any item is decrypted, and is itself inside the
// package with an inclusion proof.
//
// The steps: authorise and record the sealing; re-encrypt each item to
// the spool; collect the custody events and their proofs; build the
// manifest and the report; sign; store the package and record it.
func (v *Vault) SealPackage(ctx context.Context, who Principal, req SealRequest) (*SealedPackage, error) {
	s, err := v.authoriseSealing(ctx, who, req)
	if err != nil {
		return nil, err
	}
	if s.c.ExportApproval {
		// The request names the items as they are now: an approval
		// seals what was asked, not what was deposited since.
		info, err := v.openRequest(ctx, who, Request{Kind: KindSeal, Case: req.Case, Person: req.For},
			sealParams{For: req.For, Purpose: req.Purpose, Items: s.items, DiscloseOthers: req.DiscloseOthers})
		if err != nil {
			return nil, err
		}
		return &SealedPackage{Request: info}, nil
	}
	return v.seal(ctx, s)
}

// approveSeal seals the package of an approved package.seal request, as
// the approving custodian; the approval is appended with the sealing.
func (v *Vault) approveSeal(ctx context.Context, who Principal, r Request, reason string) (*Approval, error) {
	p := params[sealParams](r)
	s, err := v.authoriseSealing(ctx, who, SealRequest{Case: r.Case, For: p.For, Purpose: p.Purpose, Items: p.Items, DiscloseOthers: p.DiscloseOthers})
	if err != nil {
		return nil, err
	}
	s.request, s.approvalReason = &r, reason
	pkg, err := v.seal(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Approval{RequestInfo: r.info(),
		Package: pkg}, nil
}

// seal builds, stores and records an authorised sealing. Once its
// package.sealing (and, on an approved request, its request.approved)
// is recorded, the package is built to its end whatever becomes of the
// caller's request (a client gone, a browser reloaded): a sealing on the
// record without its package, or a request spent on none, would be a
// gap in the custody record that nobody meant.
func (v *Vault) seal(ctx context.Context, s *sealing) (*SealedPackage, error) {
	var err error
	if err := v.recordSealing(ctx, s); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	spool, err := os.MkdirTemp(v.cfg.SpoolDir, "pkg-")
	if err != nil {
		return nil, err
	}
	defer func() {
		// The spool holds ciphertext only; the server log names one left behind.
		if err := os.RemoveAll(spool); err != nil {
			v.logger.Warn("could not remove a package spool", "dir", spool, "err", err)
		}
	}()

	m := s.manifest(v)
	pkg := &pkgformat.Package{Manifest: m, Checkpoint: s.anchored.Note}
	for i, tok := range s.anchored.Tokens {
		m.Timestamps = append(m.Timestamps, pkgformat.Timestamp{Path: pkgformat.TimestampPath(i), SHA256: sha256Hex(tok)})
		pkg.Timestamps = append(pkg.Timestamps, tok)
	}
	if pkg.ItemFiles, err = v.spoolItems(ctx, s, spool, m); err != nil {
		return nil, err
	}
	if pkg.Events, pkg.Proofs, err = v.collectEvents(ctx, s, m); err != nil {
		return nil, err
	}
	if err := v.finishManifest(s, pkg); err != nil {
		return nil, err
	}
	if v.testBeforeStorePackage != nil {
		v.testBeforeStorePackage()
	}
	return v.storePackage(ctx, s, pkg)
}

// A sealing is one SealPackage under way: what was authorised, and the
// sealing event and checkpoint once recorded.
type sealing struct {
	who       Principal
	req       SealRequest
	c         Case
	target    Person
	recipient age.Recipient // X25519 or hybrid post-quantum
	items     []string      // ids, in package order
	its       []Item
	pkgID     string
	// request is the approved request, where the case's policy needs
	// one; approvalReason its approver's reason ("" for none).
	request        *Request
	approvalReason string

	event *events.Event      // package.sealing, durable
	cp    *events.Checkpoint // covers event
	// anchored is cp with its cosignatures (the package's checkpoint);
	// warnings say what it lacks.
	anchored Anchored
	warnings []string
}

// authoriseSealing checks the request: the case, who may seal it, the
// person it is for and their recipient, and the items. A refusal of who
// is recorded; bad input changes nothing.
func (v *Vault) authoriseSealing(ctx context.Context, who Principal, req SealRequest) (*sealing, error) {
	c, err := v.sealableCase(ctx, who, req.Case)
	if err != nil {
		return nil, err
	}
	if err := checkText("purpose", req.Purpose, 1024, true, false); err != nil {
		return nil, err
	}
	if err := checkPersonName(req.For); err != nil {
		return nil, err
	}
	// What depends on the case alone (which the asker may see) is
	// checked before anything of the person: an answer decided after
	// the person's lookup would differ by who they are, and tell an
	// investigator who can receive packages (cannotReceive).
	items := req.Items
	if len(items) == 0 {
		if items, err = v.state.caseItems(c.ID); err != nil {
			return nil, err
		}
	}
	if len(items) == 0 {
		return nil, badInput("case %s has no items to seal", c.ID)
	}
	its, err := v.itemsOf(c, items, "package")
	if err != nil {
		return nil, err
	}
	target, ok := v.state.personByName(req.For)
	switch {
	case !ok:
		return nil, v.refusedAs(ctx, who, "package.seal", req.Case, cannotReceive(who, req.For, nil, "%s is not a prosecutor or defence counsel known to this vault: no one is enrolled under that name", req.For))
	case !receivesPackages(target.Role):
		return nil, v.refusedAs(ctx, who, "package.seal", req.Case, cannotReceive(who, req.For, nil, "%s is enrolled as %s, not a prosecutor or defence counsel: packages are sealed for those", req.For, target.Role))
	case target.Suspended || target.Removed:
		// Evidence is never encrypted to a person the vault no longer
		// lets act: it would reach them if they were reinstated, or if
		// the package's file did by any road.
		return nil, v.refusedAs(ctx, who, "package.seal", req.Case, cannotReceive(who, req.For, ErrConflict, "%s is %s", target.Name, standing(target)))
	case target.Recipient == "":
		return nil, v.refusedAs(ctx, who, "package.seal", req.Case, cannotReceive(who, req.For, ErrConflict, "%s has not registered an age recipient (custos recipient set)", req.For))
	}
	recipient, _, err := parsePackageRecipient(target.Recipient)
	if err != nil {
		return nil, err
	}
	return &sealing{who: who, req: req, c: c, target: target, recipient: recipient, items: items, its: its,
		pkgID: "pk_" + randomHex(12)}, nil
}

// MaySeal says whether who may seal a package of caseID, before anything
// else of a sealing is read: nil, or the refusal (recorded) that
// SealPackage would give. A form asks it before it reads its fields.
func (v *Vault) MaySeal(ctx context.Context, who Principal, caseID string) error {
	_, err := v.sealableCase(ctx, who, caseID)
	return err
}

// sealableCase is the case who may seal a package of: who may seal at
// all (investigators and custodians), then whether they may seal this
// case, decided before anything else of the request is read (security.md
// rule 9); a destroyed case is refused.
func (v *Vault) sealableCase(ctx context.Context, who Principal, caseID string) (Case, error) {
	if err := v.MayAsk(ctx, who, "package.seal", caseID); err != nil {
		return Case{}, err
	}
	if err := checkCaseID(caseID); err != nil {
		return Case{}, err
	}
	c, ok := v.state.getCase(caseID)
	if !ok || !seals(who, c) {
		return Case{}, v.refuseUnseen(ctx, who, "package.seal", "case", caseID, ok, "only the case's investigators and custodians seal packages", "only the case's investigators and custodians seal packages; "+assignsPeople)
	}
	if c.Destroyed {
		return Case{}, v.refuse(ctx, who, "package.seal", caseID, "the case was destroyed", ErrConflict)
	}
	return c, nil
}

// cannotReceive refuses a sealing for name, a person who cannot receive
// packages now (the reason, for the log and for custodians). A custodian,
// who lists people, is told why: as bad input (not recorded) where kind
// is nil, else as a refusal of kind. Anyone else (an investigator, who
// may not list people) is told the same whatever the reason, and it is
// recorded with the reason: sealing is not a way to learn who is
// enrolled, in which role, or suspended.
func cannotReceive(who Principal, name string, kind error, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if who.Role == RoleCustodian {
		if kind == nil {
			return badInput("%s", reason)
		}
		return refused(kind, "%s", reason)
	}
	grounds := GroundsInput
	if kind != nil {
		grounds = RefusalGrounds(kind)
	}
	return &refusal{reason: reason, kind: ErrBadInput, grounds: grounds,
		answer: fmt.Sprintf("%s cannot receive packages from this vault now: packages are sealed for prosecutors and defence counsel who have registered a recipient: check the name as they sign in with it, and that they registered their age key (on their Who am I page, or with custos recipient set); a custodian can tell you whom to seal for", truncate(name))}
}

// itemsOf returns the items ids names, each an item of case c listed
// once, at most 10,000 of them in one package or document (what); bad
// input otherwise.
func (v *Vault) itemsOf(c Case, ids []string, what string) ([]Item, error) {
	if len(ids) > 10_000 {
		return nil, badInput("too many items in one %s", what)
	}
	seen := map[string]bool{}
	its := make([]Item, 0, len(ids))
	for _, id := range ids {
		it, ok, err := v.state.getItem(id)
		if err != nil {
			return nil, err
		}
		if !ok || it.Case != c.ID {
			if err := checkItemID(id); err != nil {
				return nil, err
			}
			return nil, badInput("item %q is not an item of case %s", truncate(id), c.ID)
		}
		if seen[id] {
			return nil, badInput("item %s listed twice", id)
		}
		seen[id] = true
		its = append(its, it)
	}
	return its, nil
}

// recordSealing makes the sealing event durable, decided at its position
// in the log (mayExport), and takes a checkpoint that covers it.
func (v *Vault) recordSealing(ctx context.Context, s *sealing) error {
	d := PackageSealing{Package: s.pkgID, For: s.target.Name, ForRole: s.target.Role, Recipient: s.target.Recipient,
		Purpose: s.req.Purpose, Items: s.items, DisclosesOthers: s.req.DiscloseOthers}
	if s.request != nil {
		d.Request, d.RequestedBy = s.request.ID, s.request.By
	}
	// Who may export, and to which recipient, are decided at the event's
	// position: a recipient replaced, or a role changed, before it
	// refuses the sealing.
	export := v.mayExport(s.who)
	pre := func(c Case, ok bool) error {
		if err := export(c, ok); err != nil {
			return err
		}
		if c.ExportApproval && s.request == nil {
			return refused(ErrConflict, "the case's policy now requires a custodian's approval of its packages, never the requester's own; ask again, and a custodian other than you approves the request")
		}
		p, known := v.state.personByName(s.target.Name)
		if !known || p.Role != s.target.Role || p.Recipient != s.target.Recipient {
			return cannotReceive(s.who, s.target.Name, ErrConflict, "%s's recipient or role changed while the package was requested; ask again", s.target.Name)
		}
		if p.Suspended || p.Removed {
			return cannotReceive(s.who, s.target.Name, ErrConflict, "%s was %s while the package was requested", p.Name, standing(p))
		}
		return nil
	}
	draft := sequencer.Draft{Type: TypePackageSealing, Actor: s.who.actor(), Case: s.c.ID, Data: d}
	var evs []*events.Event
	var err error
	if s.request != nil {
		// The approval and the sealing, together: the approval's rule
		// and the sealing's, each at its position.
		draft.Check = v.atPosition(s.c.ID, pre)
		approval := v.approvalDraft(s.who, *s.request, RequestDecided{Request: s.request.ID, Kind: s.request.Kind, RequestedBy: s.request.By, Reason: s.approvalReason})
		evs, err = v.append(ctx, approval, draft)
		err = v.refusedAs(ctx, s.who, "request.approve", s.request.ID, err)
		if err == nil {
			evs = evs[1:]
		}
	} else {
		evs, err = v.decide(ctx, s.who, "package.seal", s.c.ID, pre, draft)
	}
	if err != nil {
		return fmt.Errorf("recording the sealing: %w", err)
	}
	s.event = evs[0]
	if s.cp, err = v.log.Checkpoint(ctx); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// The package carries the checkpoint with the witnesses'
	// cosignatures gathered within a bounded wait; a package sealed while
	// witnesses are down carries fewer, and a verifier with a witness
	// policy says so.
	s.anchored = v.anchor(ctx, s.cp)
	// The witnesses may have cosigned a newer checkpoint (under load):
	// it covers the sealing event too, and the package is proven in it.
	s.cp = s.anchored.Checkpoint
	if len(v.cfg.TSAs) > 0 && len(s.anchored.Tokens) == 0 {
		v.logger.Warn("a package is sealed with a checkpoint no time-stamping authority time-stamped", "package", s.pkgID, "size", s.cp.Size)
		s.warnings = append(s.warnings, "no time-stamping authority time-stamped the package's checkpoint: a verifier with --tsa-cert will refuse it; seal it again once the authority answers")
	}
	if v.cfg.Witnesses != nil && !s.anchored.Verdict.Satisfied {
		v.logger.Warn("a package is sealed with a checkpoint its witness quorum has not cosigned", "package", s.pkgID,
			"size", s.cp.Size, "verdict", v.cfg.Witnesses.Describe(s.anchored.Verdict))
		s.warnings = append(s.warnings, "the package's checkpoint is "+v.cfg.Witnesses.Describe(s.anchored.Verdict)+
			": a verifier with --witness-policy will refuse it; seal it again once the witnesses answer")
	}
	return nil
}

// manifest returns the manifest's fields known once the sealing is
// recorded; items, events and the hashes of the other members follow.
func (s *sealing) manifest(v *Vault) *pkgformat.Manifest {
	return &pkgformat.Manifest{
		Format: pkgformat.Format, Package: s.pkgID, Case: s.c.ID, Origin: v.origin, LogKey: v.vkey,
		LogKeyFingerprint: pkgformat.KeyFingerprint(v.vkey), CheckpointSHA256: sha256Hex(s.anchored.Note),
		SealedBy: pkgformat.Person{Name: s.who.Name, Role: s.who.Role}, SealedFor: s.target.Name,
		Recipient: s.target.Recipient, Purpose: s.req.Purpose, SealedAt: s.event.Time,
		SealingEvent: s.event.Seq, CheckpointSize: s.cp.Size,
	}
}

// spoolItems re-encrypts each item to the recipient, into the spool
// (ciphertext only), checking its plaintext against the deposit on the
// way; it adds the items to the manifest and returns the spooled files.
func (v *Vault) spoolItems(ctx context.Context, s *sealing, spool string, m *pkgformat.Manifest) ([]string, error) {
	id, err := v.caseIdentity(ctx, s.c.ID, "")
	if err != nil {
		return nil, err
	}
	spooled := make([]string, len(s.its))
	for i, it := range s.its {
		path := filepath.Join(spool, strconv.Itoa(i))
		fileSize, fileSHA256, err := v.reencrypt(ctx, it, id, s.recipient, path)
		if err != nil {
			return nil, err
		}
		spooled[i] = path
		d, err := v.depositRecord(ctx, it)
		if err != nil {
			return nil, err
		}
		m.Items = append(m.Items, pkgformat.Item{
			ID: it.ID, Name: d.Name, Path: pkgformat.ItemPath(i, d.Name), Size: d.Size,
			SHA256: d.SHA256, MD5: d.MD5, SHA1: d.SHA1, DepositEvent: it.DepositAt,
			FileSize: fileSize, FileSHA256: fileSHA256,
		})
	}
	return spooled, nil
}

// collectEvents gathers the custody events (the case's opening, every
// event of each item, and the sealing event, all as stored, in sequence
// order) with their inclusion proofs in the checkpoint; it adds the
// events to the manifest and returns their bytes and proofs.json.
func (v *Vault) collectEvents(ctx context.Context, s *sealing, m *pkgformat.Manifest) ([][]byte, []byte, error) {
	var hidden func(*events.Event) bool
	if !s.req.DiscloseOthers {
		hidden = othersRefused(s.target.Name)
	}
	raw, err := v.custodyEvents(ctx, s.c.ID, s.items, s.cp.Size, func(pkg string) bool { return pkg == s.pkgID || s.req.DiscloseOthers }, hidden, false)
	if err != nil {
		return nil, nil, err
	}
	proofs := pkgformat.Proofs{TreeSize: s.cp.Size, Proofs: map[string][]string{}}
	seqs := make([]uint64, 0, len(raw))
	for seq := range raw {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	evs := make([][]byte, len(seqs))
	for i, seq := range seqs {
		p, err := v.log.Tree().InclusionProof(seq, s.cp.Size)
		if err != nil {
			return nil, nil, err
		}
		hs := make([]string, len(p))
		for i, h := range p {
			hs[i] = hex.EncodeToString(h)
		}
		proofs.Proofs[strconv.FormatUint(seq, 10)] = hs
		m.Events = append(m.Events, pkgformat.Event{Seq: seq, Path: pkgformat.EventPath(seq), LeafHash: events.LeafHash(raw[seq]).String()})
		evs[i] = raw[seq]
	}
	pb, err := json.MarshalIndent(proofs, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return evs, pb, nil
}

// finishManifest writes the report, commits the manifest to the proofs,
// checkpoint and report, and signs it with the log's key.
func (v *Vault) finishManifest(s *sealing, pkg *pkgformat.Package) error {
	m := pkg.Manifest
	m.ProofsSHA256 = sha256Hex(pkg.Proofs)
	raw := make([]custody.Raw, len(pkg.Events))
	for i, b := range pkg.Events {
		raw[i] = custody.Raw{Seq: m.Events[i].Seq, Bytes: b}
	}
	paths := map[string]string{}
	for _, it := range m.Items {
		paths[it.ID] = it.Path
	}
	rec, err := custody.Build(custody.Input{Case: m.Case, Events: raw, Items: s.items, Sealing: s.event.Seq, Paths: paths, VaultRetention: v.cfg.Retention,
		Checkpoint: v.custodyCheckpoint(s.anchored), Generator: custody.Generator()})
	if err != nil {
		return fmt.Errorf("%w: the package's custody report: %v", ErrIntegrity, err)
	}
	pkg.Report = custody.Text(rec)
	m.ReportSHA256 = sha256Hex(pkg.Report)
	var pdf bytes.Buffer
	if err := pdfreport.Render(&pdf, rec); err != nil {
		return fmt.Errorf("the package's PDF report: %w", err)
	}
	pkg.ReportPDF = pdf.Bytes()
	m.ReportPDFSHA256 = sha256Hex(pkg.ReportPDF)
	if len(pkg.Report) > pkgformat.MaxReportMember || len(pkg.ReportPDF) > pkgformat.MaxReportMember {
		return badInput("the package's custody report would be over %d bytes: seal fewer items in each package", pkgformat.MaxReportMember)
	}
	if pkg.ManifestJSON, err = json.MarshalIndent(m, "", "  "); err != nil {
		return err
	}
	pkg.Signature, err = pkgformat.SignManifest(v.signer, s.pkgID, pkg.ManifestJSON)
	return err
}

// destroyedPackageHint is what the recipient of a destroyed case's
// package is told when they ask to fetch or acknowledge it.
const destroyedPackageHint = "a copy fetched before stays readable with your own key; the vault no longer hands out or acknowledges the packages of a destroyed case"

// packagePrefix begins the name of every package file in the object store.
const packagePrefix = "pk/"

// storePackage streams the package's tar into the object store, hashing
// it, and records it (package.sealed); a package whose record fails is
// discarded.
func (v *Vault) storePackage(ctx context.Context, s *sealing, pkg *pkgformat.Package) (*SealedPackage, error) {
	pkg.ModTime = v.cfg.Now()
	object := packagePrefix + randomHex(16)
	flight := v.inFlight.begin(object) // as a deposit's (objectsInFlight)
	defer flight.end()
	pr, pw := io.Pipe()
	h := sha256.New()
	go func() {
		_, err := pkg.WriteTo(io.MultiWriter(pw, h))
		pw.CloseWithError(err)
	}()
	info, err := v.objects.Put(ctx, object, pr, objects.PutOptions{RetainUntil: v.pendingUntil(s.c)})
	pr.Close() // stops the writer if Put returned early; a PipeReader's Close returns nil
	if err != nil {
		return nil, fmt.Errorf("storing the package: %w", err)
	}
	sealed := PackageSealed{Package: s.pkgID, Object: object, Size: info.Size, SHA256: hex.EncodeToString(h.Sum(nil)), ManifestSHA256: sha256Hex(pkg.ManifestJSON)}
	// A case destroyed while the package was built gets no package: the
	// sealed event is refused at its position and the file discarded.
	notDestroyed := func(c Case, _ bool) error {
		if c.Destroyed {
			return refused(ErrConflict, "the case was destroyed while the package was built")
		}
		return nil
	}
	if _, err := v.decide(ctx, s.who, "package.seal", s.c.ID, notDestroyed,
		sequencer.Draft{Type: TypePackageSealed, Actor: s.who.actor(), Case: s.c.ID, Data: sealed}); errors.Is(err, sequencer.ErrOutcomeUnknown) {
		flight.keep(v.logger, err) // as a deposit's
		return nil, fmt.Errorf("%w: recording the sealed package: %w", ErrUnavailable, err)
	} else if err != nil {
		v.discard(ctx, object)
		return nil, fmt.Errorf("recording the sealed package: %w", err)
	}
	v.extendRetention(ctx, object)
	return &SealedPackage{ID: s.pkgID, Size: sealed.Size, SHA256: sealed.SHA256, Items: len(s.its), For: s.target.Name, ForRole: s.target.Role, Warnings: s.warnings}, nil
}

// reencrypt writes an item's plaintext, re-encrypted to the recipient,
// to path, and returns the size and SHA-256 (hex) of the age file
// written, which the manifest commits to.
func (v *Vault) reencrypt(ctx context.Context, it Item, id age.Identity, to age.Recipient, path string) (int64, string, error) {
	obj, err := v.objects.Open(ctx, it.Deposit.Object)
	if err != nil {
		return 0, "", fmt.Errorf("item %s: %w", it.ID, err)
	}
	defer obj.Close()
	dec, err := agestream.NewDecrypter(obj, id)
	if err != nil {
		return 0, "", v.integrityFailed(ctx, it, fmt.Errorf("sealing a package: %w", err))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, "", err
	}
	defer f.Close() // on failure; closed and checked below otherwise
	fh := &countingHash{h: sha256.New()}
	if _, err := agestream.Encrypt(io.MultiWriter(f, fh), dec, []age.Recipient{to}, agestream.Options{NoLegacyHashes: true}); err != nil {
		if errors.Is(err, agestream.ErrReadPlaintext) {
			return 0, "", v.integrityFailed(ctx, it, fmt.Errorf("sealing a package: %w", err))
		}
		return 0, "", fmt.Errorf("spooling item %s: %w", it.ID, err)
	}
	// The spooled file is read back into the package and must be whole.
	if err := f.Close(); err != nil {
		return 0, "", fmt.Errorf("spooling item %s: %w", it.ID, err)
	}
	n, sum := dec.Sum()
	if n != it.Deposit.Size || hex.EncodeToString(sum[:]) != it.Deposit.SHA256 {
		return 0, "", v.integrityFailed(ctx, it, errors.New("sealing a package: plaintext does not match the deposit"))
	}
	return fh.n, hex.EncodeToString(fh.h.Sum(nil)), nil
}

// countingHash hashes and counts what is written to it.
type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.h.Write(p) // a hash.Hash's Write never returns an error
	c.n += int64(len(p))
	return len(p), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// seals reports whether who may seal packages of the case: a custodian,
// or an investigator assigned to it (a destroyed case is refused apart).
// Hotline analysts do not: evidence reaches the police through a case's
// investigators or custodians (docs/hotline.md, "Forwarding").
func seals(who Principal, c Case) bool {
	return who.Role == RoleCustodian || who.Role == RoleInvestigator && c.Members[who.Name]
}

// mayExport is the precondition of sealing a package: the case is not
// destroyed, and who is one of its investigators or a custodian.
func (v *Vault) mayExport(who Principal) casePrecondition {
	return func(c Case, _ bool) error {
		switch {
		case c.Destroyed:
			return refused(ErrConflict, "the case was destroyed")
		case !seals(who, c):
			return refused(ErrForbidden, "only the case's investigators and custodians seal packages")
		}
		return nil
	}
}

// FetchPackage checks the stored package file against the size and
// SHA-256 its package.sealed event recorded, records the retrieval by the
// person it is sealed for, then opens the file. A missing or altered file
// is recorded as an integrity failure and answered with ErrIntegrity; the
// returned reader checks the file again as it is read and fails (with
// ErrIntegrity, recorded) before the last byte of a file that changed in
// between.
//
// The caller sends the file, then calls the fetch's Finish once all of it
// was sent, or Abort if the recipient went away: either records how the
// retrieval ended (package.fetch.completed), as a view's completion does.
func (v *Vault) FetchPackage(ctx context.Context, who Principal, pkgID string) (*PackageFetch, *PackageSealed, error) {
	if receivesPackages(who.Role) && !pkgIDPattern.MatchString(pkgID) {
		// Told to who could fetch a package; anyone else is refused
		// below before the id is read (rule 9).
		return nil, nil, badInput("package id %q is malformed", truncate(pkgID))
	}
	p, ok := v.state.getPackage(pkgID)
	if !ok || p.Sealed == nil || !receivesPackages(who.Role) || who.Name != p.For {
		return nil, nil, v.refuseUnseen(ctx, who, "package.fetch", "package", pkgID, ok && p.Sealed != nil, "a package is fetched only by the person it is sealed for", "a package is fetched only by the person it is sealed for")
	}
	if c, _ := v.state.getCase(p.Case); c.Destroyed {
		return nil, nil, v.refuseHint(ctx, who, "package.fetch", pkgID, "the package's case was destroyed", destroyedPackageHint, ErrConflict)
	}
	// The stored file is checked against its package.sealed event before
	// the retrieval is recorded and anything is sent, and again while it is
	// sent; a missing or altered file is an integrity failure, recorded.
	if err := v.checkPackageObject(ctx, p); err != nil {
		if errors.Is(err, errObjectMissing) || errors.Is(err, errObjectAltered) {
			return nil, nil, v.packageIntegrityFailed(ctx, p, fmt.Errorf("fetching a package: %w", err))
		}
		return nil, nil, err
	}
	notDestroyed := func(c Case, _ bool) error {
		if c.Destroyed {
			return refused(ErrConflict, "the package's case was destroyed")
		}
		return nil
	}
	// Published before anything is sent: the retrieval's event must not
	// be one that only the log store's batch seal covers (appendPublished).
	evs, err := v.decidePublished(ctx, who, "package.fetch", pkgID, notDestroyed, sequencer.Draft{Type: TypePackageFetched, Actor: who.actor(), Case: p.Case,
		Data: PackageFetched{Package: pkgID}})
	if len(evs) != 1 {
		return nil, nil, err // not recorded: no retrieval to complete
	}
	f := &PackageFetch{v: v, who: who, pkg: p, fetch: evs[0].Seq}
	if err != nil {
		// Recorded, but its checkpoint was not published (ErrUnpublished).
		f.record(ctx, 0, "", "no checkpoint covering the retrieval could be published: nothing was sent")
		return nil, nil, err
	}
	rc, err := v.objects.Open(ctx, p.Sealed.Object)
	if err != nil {
		if errors.Is(err, objects.ErrNotFound) {
			return nil, nil, v.packageIntegrityFailed(ctx, p, fmt.Errorf("fetching a package: %w", errObjectMissing))
		}
		f.record(ctx, 0, "", "the package file could not be opened: nothing was sent")
		return nil, nil, err
	}
	f.r = v.newVerifiedReader(ctx, p, rc)
	return f, p.Sealed, nil
}

// PackageFetch is a package file being sent to the person it is sealed
// for (Vault.FetchPackage): an io.ReadCloser that checks the file against
// its package.sealed event as it is read, and whose Finish or Abort
// records how the retrieval ended (package.fetch.completed).
type PackageFetch struct {
	v     *Vault
	who   Principal
	pkg   Package
	fetch uint64 // the package.fetched event's position
	r     *verifiedReader
	sent  int64
}

// Read reads the file, checked as it goes; what it returns counts as
// sent. A caller that writes it on should use WriteTo (io.Copy does),
// which counts only what the writer took.
func (f *PackageFetch) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.sent += int64(n)
	return n, err
}

// WriteTo writes the file to w, checked as it goes, and counts as sent
// only the bytes w took: a recipient that went away midway is recorded
// with what was written before, not with what was read from the store.
// It implements io.WriterTo.
func (f *PackageFetch) WriteTo(w io.Writer) (int64, error) {
	return io.Copy(sentWriter{w: w, sent: &f.sent}, f.r)
}

// sentWriter counts in *sent the bytes w took.
type sentWriter struct {
	w    io.Writer
	sent *int64
}

func (s sentWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	*s.sent += int64(n)
	return n, err
}

// Close closes the stored file.
func (f *PackageFetch) Close() error { return f.r.Close() }

// Failed reports whether the file failed its check against the
// package.sealed event while it was read (recorded as integrity.failed,
// which then ends the retrieval's record), as opposed to the recipient
// going away.
func (f *PackageFetch) Failed() bool { return errors.Is(f.r.err, ErrIntegrity) }

// Finish records that the whole file was sent: its size and SHA-256,
// those of its package.sealed event (the reader holds back the last byte
// until they match). A file not read to its end is recorded as aborted.
func (f *PackageFetch) Finish(ctx context.Context) error {
	if f.Failed() {
		return f.r.err
	}
	if f.sent != f.pkg.Sealed.Size {
		return f.record(ctx, f.sent, "", fmt.Sprintf("the transfer stopped after %d of %d bytes", f.sent, f.pkg.Sealed.Size))
	}
	return f.record(ctx, f.sent, f.pkg.Sealed.SHA256, "")
}

// Abort records that the recipient went away before the end, why in
// words, unless the file failed its check (Failed), which
// integrity.failed records.
func (f *PackageFetch) Abort(ctx context.Context, why error) {
	if f.Failed() {
		return
	}
	f.record(ctx, f.sent, "", abortWords(why, "recipient", f.sent, f.pkg.Sealed.Size))
}

func (f *PackageFetch) record(ctx context.Context, n int64, sum, aborted string) error {
	_, err := f.v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypePackageFetchDone, Actor: f.who.actor(), Case: f.pkg.Case,
		Data: PackageFetchDone{Package: f.pkg.ID, FetchEvent: fmt.Sprint(f.fetch), Bytes: n, SHA256: sum, Aborted: aborted}})
	if err != nil {
		f.v.logger.Error("how a package's retrieval ended could not be recorded", "package", f.pkg.ID, "fetch_event", f.fetch, "err", err)
	}
	return err
}

// standing says why a person may not act: "removed" or "suspended".
func standing(p Person) string {
	if p.Removed {
		return "removed"
	}
	return "suspended"
}
