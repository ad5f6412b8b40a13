package vault

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/caseuco"
	"github.com/custos-vault/custos/custody/pdfreport"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Event types of custody documents made on demand.
const (
	// TypeCustodyReport records a custody report (PDF or text) made on
	// demand, before it is made.
	TypeCustodyReport = "custody.report"
	// TypeCaseUCOExported records a CASE/UCO export, before it is made.
	TypeCaseUCOExported = "case.caseuco.exported"
)

// CustodyDocumentMade is the data of custody.report and
// case.caseuco.exported: the format, the items asked for (absent: every
// item of the case) and the purpose stated, if any.
type CustodyDocumentMade struct {
	Format  string   `json:"format"`
	Items   []string `json:"items,omitempty"`
	Purpose string   `json:"purpose,omitempty"`
}

// Formats of custody documents (DocumentRequest.Format).
const (
	FormatPDF     = "pdf"
	FormatText    = "text"
	FormatCaseUCO = "case-uco"
)

// DocumentRequest asks for a custody document of a case.
type DocumentRequest struct {
	Case string
	// Items to cover, in order; empty means every item of the case.
	Items []string
	// Format is FormatPDF, FormatText or FormatCaseUCO.
	Format string
	// Purpose is why it is asked for (optional, recorded).
	Purpose string
}

// Document is a custody document made on demand.
type Document struct {
	Format      string
	ContentType string
	Body        []byte
	SHA256      string
	// Event is the event that recorded the request, which the document
	// itself shows; Checkpoint the size of the checkpoint it is proven in.
	Event, Checkpoint uint64
	// Items is how many items it covers, Events how many custody events
	// it holds (each proven included in the checkpoint).
	Items, Events int
}

// reportRule is who makes custody reports.
const reportRule = "only auditors and custodians make custody reports"

// mayReport is who may make a custody report of a case.
func mayReport(who Principal) func(Case) bool {
	return func(Case) bool { return who.Role == RoleAuditor || who.Role == RoleCustodian }
}

// caseUCORule is who exports a case's CASE/UCO record.
const caseUCORule = "only auditors, custodians and the case's investigators export its CASE/UCO record"

// mayCaseUCO is who may export a case's CASE/UCO record.
func mayCaseUCO(who Principal) func(Case) bool {
	return func(c Case) bool { return who.Role == RoleAuditor || who.Role == RoleCustodian || assigned(who, c) }
}

// MayExportCaseUCO gates a case's CASE/UCO record (case.caseuco):
// auditors, custodians and the case's investigators. Refused and
// recorded otherwise, answered as CustodyDocument answers; nil for who
// may.
func (v *Vault) MayExportCaseUCO(ctx context.Context, who Principal, caseID string) error {
	if seesAllCases(who) || handlesEvidence(who.Role) {
		if err := checkCaseID(caseID); err != nil {
			return err
		}
	}
	_, err := v.documentOf(ctx, who, caseID, "case.caseuco", caseUCORule, mayCaseUCO(who))
	return err
}

// documentOf is the case a custody document is asked of, if who may
// (may) ask for it (action, rule): an unknown case and one who may not
// know are answered alike; who knows the case is told the rule plainly.
func (v *Vault) documentOf(ctx context.Context, who Principal, caseID, action, rule string, may func(Case) bool) (Case, error) {
	c, ok := v.state.getCase(caseID)
	switch {
	case !ok && seesAllCases(who):
		return Case{}, v.refuseUnseen(ctx, who, action, "case", caseID, false, "", "custos case list shows the cases; ids are case-sensitive")
	case ok && !may(c) && (assigned(who, c) || seesAllCases(who) || v.packageFor(who, c.ID)):
		// Who knows the case is told the rule plainly.
		return Case{}, v.refuse(ctx, who, action, caseID, rule+"; ask one of them", ErrForbidden)
	case !ok || !may(c):
		return Case{}, v.refuseUnseen(ctx, who, action, "case", caseID, ok, rule, rule)
	}
	return c, nil
}

// CustodyDocument makes a custody document of a case from the custody
// log: the custody report (PDF or text) for auditors and custodians, the
// CASE/UCO record (JSON-LD) for them and the case's investigators. The
// request is recorded (custody.report or case.caseuco.exported) before
// the document is made, and the document shows that event; every event in
// it is read through the verified log and proven included in a checkpoint
// taken after it. A destroyed case's custody can still be reported.
func (v *Vault) CustodyDocument(ctx context.Context, who Principal, req DocumentRequest) (*Document, error) {
	if seesAllCases(who) || handlesEvidence(who.Role) {
		// Told to who could have a document of some case; anyone else
		// is refused below before the id is read (rule 9).
		if err := checkCaseID(req.Case); err != nil {
			return nil, err
		}
	}
	typ, action, rule, may := TypeCustodyReport, "custody.report", reportRule, mayReport(who)
	badFormat := false
	switch req.Format {
	case FormatPDF, FormatText:
	case FormatCaseUCO:
		typ, action, rule, may = TypeCaseUCOExported, "case.caseuco", caseUCORule, mayCaseUCO(who)
	default:
		// Told only to who may make a custody report of the case
		// (security.md rule 9).
		badFormat = true
	}
	c, err := v.documentOf(ctx, who, req.Case, action, rule, may)
	if err != nil {
		return nil, err
	}
	if badFormat {
		return nil, badInput("format %q: use %s, %s or %s", truncate(req.Format), FormatPDF, FormatText, FormatCaseUCO)
	}
	if err := checkText("purpose", req.Purpose, 1024, false, false); err != nil {
		return nil, err
	}
	items := req.Items
	if _, err := v.itemsOf(c, items, "document"); err != nil {
		return nil, err
	}
	pre := func(c Case, ok bool) error {
		switch {
		case !ok:
			return refused(ErrNotFound, "no case %s", req.Case)
		case !may(c):
			return refused(ErrForbidden, "%s", rule)
		}
		return nil
	}
	evs, err := v.decide(ctx, who, action, c.ID, pre, sequencer.Draft{Type: typ, Actor: who.actor(), Case: c.ID,
		Data: CustodyDocumentMade{Format: req.Format, Items: items, Purpose: req.Purpose}})
	if err != nil {
		return nil, fmt.Errorf("recording the request: %w", err)
	}
	rec, size, n, err := v.custodyRecord(ctx, c.ID, items, evs[0].Seq)
	if err != nil {
		return nil, err
	}
	doc := &Document{Format: req.Format, Event: evs[0].Seq, Checkpoint: size, Items: len(rec.Items), Events: n}
	var b bytes.Buffer
	switch req.Format {
	case FormatPDF:
		doc.ContentType = "application/pdf"
		err = pdfreport.Render(&b, rec)
	case FormatText:
		doc.ContentType = "text/plain; charset=utf-8"
		b.Write(custody.Text(rec))
	case FormatCaseUCO:
		doc.ContentType = caseuco.ContentType
		err = caseuco.Export(&b, rec)
	}
	if err != nil {
		return nil, fmt.Errorf("making the %s document: %w", req.Format, err)
	}
	doc.Body, doc.SHA256 = b.Bytes(), sha256Hex(b.Bytes())
	return doc, nil
}

// custodyRecord reads the custody record of a case's items (every item
// when items is empty) made for the request recorded at event, in a
// checkpoint taken (and anchored) after it, whose size it returns, with
// how many events the record holds.
func (v *Vault) custodyRecord(ctx context.Context, caseID string, items []string, event uint64) (*custody.Record, uint64, int, error) {
	// The items are those of the case when the request was recorded:
	// read before the checkpoint, so that an item deposited while the
	// checkpoint is anchored is not asked of a checkpoint without it.
	all := items
	if len(all) == 0 {
		var err error
		if all, err = v.state.caseItems(caseID); err != nil {
			return nil, 0, 0, err
		}
	}
	cp, err := v.log.Checkpoint(ctx)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	anchored := v.anchor(ctx, cp)
	size := anchored.Checkpoint.Size
	raw, err := v.custodyEvents(ctx, caseID, all, size, func(string) bool { return true }, nil, true)
	if err != nil {
		return nil, 0, 0, err
	}
	in := custody.Input{Case: caseID, Items: all, Report: event, Checkpoint: v.custodyCheckpoint(anchored), Generator: custody.Generator(), VaultRetention: v.cfg.Retention}
	// Each event is proven included in the checkpoint the report names,
	// as a reader of the report would prove it.
	for _, seq := range slices.Sorted(maps.Keys(raw)) {
		b := raw[seq]
		p, err := v.log.Tree().InclusionProof(seq, size)
		if err != nil {
			return nil, 0, 0, err
		}
		if err := events.VerifyInclusion(seq, size, events.LeafHash(b), p, anchored.Checkpoint.Root); err != nil {
			return nil, 0, 0, fmt.Errorf("%w: event %d is not included in the checkpoint of %d events: %v", ErrIntegrity, seq, size, err)
		}
		in.Events = append(in.Events, custody.Raw{Seq: seq, Bytes: b})
	}
	rec, err := custody.Build(in)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: the custody record of case %s: %v", ErrIntegrity, caseID, strings.TrimPrefix(err.Error(), "custody record: "))
	}
	// Every item of the case is no choice of items: the report says it
	// covers them all (it said the case might hold others).
	rec.Chosen = len(items) > 0
	return rec, size, len(in.Events), nil
}
