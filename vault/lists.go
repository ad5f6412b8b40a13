package vault

import (
	"context"
	"encoding/hex"
	"errors"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
)

// Finding one's work: cases, items and packages as each person may know
// them. Listing records nothing (it reveals no evidence); a refusal is
// recorded, and an unknown or unseen case or item is answered alike
// (refuseUnseen).

// CaseSummary is one case in a list.
type CaseSummary struct {
	Case      string    `json:"case"`
	Destroyed bool      `json:"destroyed"`
	Held      bool      `json:"held"`
	Items     int       `json:"items"`
	OpenedAt  time.Time `json:"opened_at"`
	Title     string    `json:"title"`
}

// CaseDetail is one case as `case show` describes it.
type CaseDetail struct {
	Case string `json:"case"`
	// ClassificationVotes is how many agreeing votes settle an item's
	// category in the case (custos case classification-votes).
	ClassificationVotes int `json:"classification_votes"`
	// ClassificationPolicy says who set the classification policy in
	// force, when and why, and who asked for a lowering (absent if it
	// was never set).
	ClassificationPolicy *StatusNote `json:"classification_policy,omitempty"`
	Destroyed            bool        `json:"destroyed"`
	ExportApproval       bool        `json:"export_approval"`
	// ExportPolicy says who set the export policy in force, when and
	// why (absent if it was never set).
	ExportPolicy *StatusNote `json:"export_policy,omitempty"`
	Held         bool        `json:"held"`
	// Hold says who placed the hold in place, when and why (absent while
	// none is).
	Hold    *HoldView `json:"hold,omitempty"`
	Items   int       `json:"items"`
	Members []string  `json:"members"`
	// Inactive gives, for a member who can no longer act, why: "suspended"
	// or "removed" (from the vault). The assignment stays on the case
	// until a custodian ends it; absent while every member can act.
	Inactive map[string]string `json:"inactive_members,omitempty"`
	OpenedAt time.Time         `json:"opened_at"`
	OpenedBy string            `json:"opened_by"`
	// Retention is the case's own retention (a Go duration), or "" for
	// the vault's default, given in VaultRetention.
	Retention      string `json:"retention,omitempty"`
	Size           int64  `json:"size"`
	Title          string `json:"title"`
	VaultRetention string `json:"vault_retention"`
	// Destructions are the case's pending destruction requests (to
	// custodians), oldest first, for the second custodian to read before
	// approving one.
	Destructions []PendingDestruction `json:"destructions,omitempty"`
	// VoidDestructions are, to custodians, the case's destruction
	// requests that can no longer be approved though nobody decided them
	// (a legal hold placed while they waited, their requester suspended
	// or removed, or their expiry), each with why: so that a requester
	// learns what became of one.
	VoidDestructions []VoidDestruction `json:"void_destructions,omitempty"`
	// Destruction, for a destroyed case, says who asked for it and
	// under which order and why, who approved it and when, and whether
	// its keys are gone yet, as the log's events record them.
	Destruction *DestructionView `json:"destruction,omitempty"`
	// Reports are the reports assessed into the case as it stands, in
	// the order they were entered, to those who read reports (the case's
	// analysts, custodians and auditors; absent for anyone else, and
	// while there are none). A report moved to another case since is
	// that case's; its history keeps the move.
	Reports []CaseReport `json:"reports,omitempty"`
}

// CaseReport is a report as a case's page lists it: its number, its
// status as its reader is shown it, when it was received, how many URLs
// it names and the first of them.
type CaseReport struct {
	Report     string    `json:"report"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
	URLs       int       `json:"urls"`
	FirstURL   string    `json:"first_url"`
}

// DestructionView is a case's destruction as its events record it:
// RequestedBy asked (at RequestedAt, event Requested) under Order, for
// Reason; ApprovedBy approved it (at ApprovedAt, event Approved); Done
// is the position of its case.destroyed event (the keys destroyed), 0
// while the shredding has not been recorded.
type DestructionView struct {
	Request     string    `json:"request"`
	Order       string    `json:"order"`
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	Requested   uint64    `json:"requested_event"`
	ApprovedBy  string    `json:"approved_by"`
	ApprovedAt  time.Time `json:"approved_at"`
	Approved    uint64    `json:"approved_event"`
	Done        uint64    `json:"destroyed_event,omitempty"`
}

// HoldView is a legal hold in place: who placed it, when, why (the
// reason its case.hold.placed event records), and that event's position.
type HoldView struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Event  uint64    `json:"event"`
}

// PendingDestruction is a destruction request waiting for a second
// custodian: its id, the court order and reason, and who asked; Case is
// set where the list is not of one case's (Vault.Destructions).
type PendingDestruction struct {
	// At is when it was asked.
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Case string    `json:"case,omitempty"`
	// Expires is when the request stops being approvable (its time plus
	// the vault's request TTL).
	Expires time.Time `json:"expires"`
	Order   string    `json:"order"`
	Reason  string    `json:"reason"`
	Request string    `json:"request"`
}

// VoidDestruction is a destruction request of a case that can no longer
// be approved though nobody decided it, and why.
type VoidDestruction struct {
	Request string    `json:"request"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Order   string    `json:"order"`
	Why     string    `json:"why"`
}

// ItemSummary is one item in a list.
type ItemSummary struct {
	// Category is the item's settled category, if any; Known says why
	// it is known material, hidden from review by default.
	Category string `json:"category,omitempty"`
	// Disputed: no category is settled and the votes disagree (as
	// ItemDetail's Classification.Disputed).
	Disputed bool `json:"disputed,omitempty"`
	// Voted, Votes and Needed: while no category is settled and the
	// votes agree, the category they are for, how many there are, and
	// how many agreeing votes settle one in the case (as ItemDetail's
	// Classification.Tally and Needed); absent once settled or with no
	// votes.
	Voted  string `json:"voted,omitempty"`
	Votes  int    `json:"votes,omitempty"`
	Needed int    `json:"needed,omitempty"`
	ID     string `json:"id"`
	Known  string `json:"known,omitempty"`
	Name   string `json:"name"`
	Report string `json:"report,omitempty"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// SameAs, for an item with no settled category that is not known
	// material, is an item with the same content (SHA-256) whose votes
	// settle one, of the same case or of another the reader is assigned
	// to: the same file, judged already, which its analysts can vote on
	// without opening it again (settledCopy). Absent otherwise.
	SameAs *SettledCopy `json:"same_as,omitempty"`
}

// SettledCopy is an item of the same content whose votes settled a
// category.
type SettledCopy struct {
	Item     string `json:"item"`
	Category string `json:"category"`
	// Case is the copy's case where it is another than the item's, one
	// the reader is assigned to ("" for a copy in the item's own case).
	Case string `json:"case,omitempty"`
}

// ItemDetail is one item as `item show` describes it.
//
// Hotline work (docs/hotline.md): Classification, Known (why it is known
// material, hidden from review unless revealed with a recorded purpose),
// Matches (the hash-set entries it matched at deposit) and Media (what
// the deposit learned of the image or video).
type ItemDetail struct {
	Accesses int `json:"accesses"`
	// Acquisition is the acquisition hashes the content matched at
	// deposit, and the list they were read from (ItemDeposited's).
	Acquisition *AcquisitionHashes `json:"acquisition,omitempty"`
	Case        string             `json:"case"`
	// CaseDestroyed: its case was destroyed; it can no longer be
	// viewed or classified.
	CaseDestroyed  bool           `json:"case_destroyed,omitempty"`
	Classification Classification `json:"classification"`
	DepositedAt    time.Time      `json:"deposited_at"`
	DepositedBy    string         `json:"deposited_by"`
	ID             string         `json:"id"`
	Known          string         `json:"known,omitempty"`
	Matches        []HashSetMatch `json:"matches,omitempty"`
	MD5            string         `json:"md5,omitempty"`
	Media          *MediaInfo     `json:"media,omitempty"`
	Name           string         `json:"name"`
	Note           string         `json:"note,omitempty"`
	// Report is the hotline report it was captured for.
	Report string `json:"report,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Source string `json:"source,omitempty"`
}

// PackageSummary is one package in a list.
type PackageSummary struct {
	Case    string `json:"case"`
	For     string `json:"for"`
	Items   int    `json:"items"`
	Package string `json:"package"`
	Purpose string `json:"purpose"`
	// Receipt is the acknowledgement of the person it is sealed for, if
	// they gave one.
	Receipt *PackageReceipt `json:"receipt,omitempty"`
	// SealedAt is when it was sealed, as its signed manifest and its
	// report state it (the package.sealing event's time); StoredAt when
	// the sealed file was stored (package.sealed), a moment later.
	SealedAt time.Time `json:"sealed_at,omitzero"`
	SealedBy string    `json:"sealed_by,omitempty"`
	// RequestedBy and Request: the sealer approved a request of the case
	// (export approval) that RequestedBy asked.
	RequestedBy string    `json:"requested_by,omitempty"`
	Request     string    `json:"request,omitempty"`
	StoredAt    time.Time `json:"stored_at,omitzero"`
	SHA256      string    `json:"sha256,omitempty"`
	Size        int64     `json:"size,omitempty"`
	// CaseDestroyed: its case was destroyed since. The package is not
	// fetched any more; copies fetched before stay readable by the
	// person it is sealed for (their own key).
	CaseDestroyed bool `json:"case_destroyed,omitempty"`
}

// seesAllCases: custodians and auditors know every case.
func seesAllCases(who Principal) bool {
	return who.Role == RoleCustodian || who.Role == RoleAuditor
}

// Cases lists the cases who may know: their own (assigned
// investigators; prosecutors, those with a package sealed for them), all
// for custodians and auditors; oldest first.
func (v *Vault) Cases(who Principal) []CaseSummary {
	forMe := map[string]bool{}
	if who.Role == RoleProsecutor {
		for _, p := range v.state.allPackages() {
			if p.For == who.Name && p.Sealed != nil {
				forMe[p.Case] = true
			}
		}
	}
	var out []CaseSummary
	for _, id := range v.state.allCases() {
		c, ok := v.state.getCase(id)
		if !ok || !(seesAllCases(who) || assigned(who, c) || forMe[id]) {
			continue
		}
		out = append(out, CaseSummary{Case: c.ID, Title: c.Title, Held: c.Held, Destroyed: c.Destroyed,
			Items: v.state.caseItemCount(id), OpenedAt: c.OpenedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OpenedAt.Before(out[j].OpenedAt) })
	return out
}

// ShowCase describes a case to its investigators, custodians, auditors
// and the prosecutors it has packages for.
func (v *Vault) ShowCase(ctx context.Context, who Principal, caseID string) (*CaseDetail, error) {
	if err := checkCaseID(caseID); err != nil {
		return nil, err
	}
	c, ok := v.state.getCase(caseID)
	if !ok || !(seesAllCases(who) || assigned(who, c) || v.packageFor(who, caseID)) {
		return nil, v.refuseUnseen(ctx, who, "case.show", "case", caseID, ok, "not assigned to the case", "only the case's investigators and analysts, custodians, auditors and the prosecutors it has packages for see a case; "+assignsPeople)
	}
	d := &CaseDetail{Case: c.ID, Title: c.Title, Held: c.Held, Hold: c.Hold, Destroyed: c.Destroyed, ExportApproval: c.ExportApproval, ExportPolicy: c.ExportPolicy, ClassificationVotes: v.state.votesNeeded(c.ID), ClassificationPolicy: c.ClassificationPolicy,
		OpenedBy: c.OpenedBy, OpenedAt: c.OpenedAt, Retention: durationString(c.Retention), VaultRetention: v.cfg.Retention.String(),
		Members: []string{}}
	for m := range c.Members {
		d.Members = append(d.Members, m)
		if p, ok := v.state.personByName(m); ok && (p.Removed || p.Suspended) {
			if d.Inactive == nil {
				d.Inactive = map[string]string{}
			}
			d.Inactive[m] = map[bool]string{true: "removed", false: "suspended"}[p.Removed]
		}
	}
	sort.Strings(d.Members)
	if c.Destroyed {
		var err error
		if d.Destruction, err = v.destructionOf(ctx, c); err != nil {
			return nil, err
		}
	}
	if who.Role == RoleCustodian && !c.Destroyed {
		var pending []caseDestruction
		for _, r := range c.Requests {
			pending = append(pending, caseDestruction{DestructionRequest: r})
		}
		sort.Slice(pending, func(i, j int) bool { return pending[i].Request < pending[j].Request })
		d.Destructions = v.openDestructions(pending)
		for _, r := range pending {
			if err := v.destructionVoid(r.DestructionRequest); err != nil {
				why := err.Error()
				var rf *refusal
				if errors.As(err, &rf) {
					why = rf.reason // the refusal's reason, without a command to run
				}
				d.VoidDestructions = append(d.VoidDestructions, VoidDestruction{Request: r.Request, By: r.By, At: r.At, Order: r.Order, Why: why})
			}
		}
	}
	if readsReports(who.Role) {
		rs, err := v.ListReports(ctx, who, ReportFilter{Case: caseID})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			first := ""
			if len(r.URLs) > 0 {
				first = r.URLs[0]
			}
			d.Reports = append(d.Reports, CaseReport{Report: r.Report, Status: r.Status, ReceivedAt: r.ReceivedAt, URLs: len(r.URLs), FirstURL: first})
		}
	}
	ids, err := v.state.caseItems(caseID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		it, ok, err := v.state.getItem(id)
		if err != nil {
			return nil, err
		}
		if ok {
			d.Items++
			d.Size += it.Deposit.Size
		}
	}
	return d, nil
}

// destructionOf reads, from the case's own events (verified, as every
// read of the log), who asked for and who approved the destruction of c.
func (v *Vault) destructionOf(ctx context.Context, c Case) (*DestructionView, error) {
	out := &DestructionView{Request: c.Approved.Request, Order: c.Approved.Order, RequestedBy: c.Approved.RequestedBy}
	err := v.readNamed(ctx, c.ID, byCaseOwn, func(r events.Record, ev *events.Event) error {
		var d struct {
			Request string `json:"request"`
			Reason  string `json:"reason"`
		}
		switch ev.Type {
		case TypeDestructionRequested, TypeDestructionApproved, TypeCaseDestroyed:
			if err := ev.DecodeData(&d); err != nil {
				return err
			}
		default:
			return nil
		}
		if d.Request != out.Request {
			return nil
		}
		switch ev.Type {
		case TypeDestructionRequested:
			out.Reason, out.RequestedAt, out.Requested = d.Reason, ev.Timestamp().UTC(), r.Seq
		case TypeDestructionApproved:
			out.ApprovedBy, out.ApprovedAt, out.Approved = ev.Actor.Person, ev.Timestamp().UTC(), r.Seq
		case TypeCaseDestroyed:
			out.Done = r.Seq
		}
		return nil
	})
	return out, err
}

// ItemFilter narrows an item list: a path.Match pattern on the name, and
// hashes (lowercase or uppercase hex) the item must have.
type ItemFilter struct {
	Name              string
	SHA256, MD5, SHA1 string
	// SHA256Prefix keeps items whose SHA-256 starts with these hex digits
	// (at least 8), as a person copies them from a list.
	SHA256Prefix string
	// Unclassified keeps only items still waiting for a classification:
	// no settled category, none inherited from a hash set, and not known
	// material (the triage queue).
	Unclassified bool
}

// Items lists a case's items, in deposit order, to its assigned
// investigators.
func (v *Vault) Items(ctx context.Context, who Principal, caseID string, f ItemFilter) ([]ItemSummary, error) {
	p, err := v.ItemsPage(ctx, who, caseID, f, 0, 0)
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}

// ItemPage is one page of a case's items that pass a filter: Items from
// the Offset-th (0-based) such item on, and Total, how many pass.
type ItemPage struct {
	Items  []ItemSummary `json:"items"`
	Offset int           `json:"offset"`
	Total  int           `json:"total"`
}

// ItemsPage lists at most limit (0: all) of a case's items that pass f,
// in deposit order, skipping the first offset, to its assigned
// investigators and analysts. Only the page's items are summarised, so a
// page of a case of 100,000 items costs a pass over their names and
// hashes, not their classifications. Errors as Items.
func (v *Vault) ItemsPage(ctx context.Context, who Principal, caseID string, f ItemFilter, offset, limit int) (*ItemPage, error) {
	// Who may list first, then the filters (security.md rule 9).
	if err := v.mayListItems(ctx, who, caseID); err != nil {
		return nil, err
	}
	if offset < 0 || limit < 0 {
		return nil, badInput("offset and limit are not negative")
	}
	typed := f.Name
	f.Name = namePattern(f.Name)
	if _, err := path.Match(f.Name, ""); err != nil {
		return nil, badInput("the name pattern %q is not valid (use *, ? and [...], as a shell does)", truncate(typed))
	}
	for _, h := range []struct {
		name, v string
		n       int
	}{{"sha256", f.SHA256, 64}, {"md5", f.MD5, 32}, {"sha1", f.SHA1, 40}} {
		if _, err := hex.DecodeString(h.v); h.v != "" && (err != nil || len(h.v) != h.n) {
			return nil, badInput("%s %q is not %d hex digits", h.name, truncate(h.v), h.n)
		}
	}
	if p := f.SHA256Prefix; p != "" && (len(p) < 8 || len(p) > 64 || strings.Trim(strings.ToLower(p), "0123456789abcdef") != "") {
		return nil, badInput("a SHA-256 prefix %q is 8 to 64 hex digits", truncate(p))
	}
	page := &ItemPage{Items: []ItemSummary{}, Offset: offset}
	stated := newKnownChecks()
	var ids []string
	var err error
	if f == (ItemFilter{}) && limit > 0 {
		// No filter: the page is a slice of the case's items, whatever
		// their number, read as far as it goes.
		ids, page.Total, err = v.state.caseItemsRange(caseID, offset, limit)
		offset = 0
	} else if f.SHA256 != "" {
		// One content: its items from the vault's content index, in
		// deposit order, whatever the case's size (a folder's deposit
		// asks this of each file); those of other cases are left below.
		ids, err = v.state.itemsBySHA256(strings.ToLower(f.SHA256))
	} else {
		ids, err = v.state.caseItems(caseID)
	}
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		it, ok, err := v.state.getItem(id)
		if err != nil {
			return nil, err
		}
		d := it.Deposit
		switch {
		case !ok,
			it.Case != caseID,
			f.Name != "" && !matchName(f.Name, d.Name),
			f.SHA256 != "" && !strings.EqualFold(f.SHA256, d.SHA256),
			(f.MD5 != "" || f.SHA1 != "") && !d.Legacy,
			f.SHA256Prefix != "" && !strings.HasPrefix(d.SHA256, strings.ToLower(f.SHA256Prefix)):
			continue
		}
		var rec *ItemDeposited
		if f.MD5 != "" || f.SHA1 != "" {
			// The legacy hashes are in the signed deposit record only.
			r, err := v.depositRecord(ctx, it)
			if err != nil {
				return nil, err
			}
			if f.MD5 != "" && !strings.EqualFold(f.MD5, r.MD5) || f.SHA1 != "" && !strings.EqualFold(f.SHA1, r.SHA1) {
				continue
			}
			rec = &r
		}
		// Whether the item is known is decided only for the items the
		// filter or the page needs it of.
		var known string
		if f.Unclassified {
			if cl := v.classification(it); cl.Category != "" || cl.Inherit != nil || cl.KnownGood {
				continue
			}
			// The queue leaves out what is known, not what a hash set
			// out of use may list: with such a set every item is hidden
			// (hiddenBecause), and the queue would empty without a word.
			// Its items stay listed, marked as hidden, and a view says
			// why.
			var err error
			if known, err = v.knownBecause(ctx, it, rec); err != nil {
				return nil, err
			} else if known != "" {
				continue
			}
		}
		if f != (ItemFilter{}) || limit == 0 {
			page.Total++
			if page.Total <= offset || limit > 0 && len(page.Items) >= limit {
				continue
			}
		}
		if known == "" {
			var err error
			if known, err = v.hiddenBecause(ctx, it, rec); err != nil {
				return nil, err
			}
		}
		cl, err := v.statedClassification(ctx, it, stated)
		if err != nil {
			return nil, err
		}
		sum := it.brief()
		sum.Category, sum.Disputed, sum.Known, sum.Report = cl.Category, cl.Category == "" && cl.Disputed, known, d.Report()
		if cat, n := cl.Undecided(); n > 0 {
			sum.Voted, sum.Votes, sum.Needed = cat, n, cl.Needed
			if cl.NotSettledBecause != "" {
				// Known material: what settles it is two people of the
				// case agreeing, not the case's policy.
				sum.Votes, sum.Needed = cl.clearers, cl.UndecidedNeeded()
			}
		}
		if cl.Category == "" && known == "" {
			// (A copy that is itself known material is hidden for what
			// makes it known, whatever a copy's votes say.)
			if sum.SameAs, err = v.settledCopy(it, who); err != nil {
				return nil, err
			}
		}
		page.Items = append(page.Items, sum)
	}
	return page, nil
}

// ChosenItems gives the name, size and SHA-256 of each of ids that is an
// item of caseID, in the order given, to the case's assigned
// investigators and analysts (refused as ItemsPage refuses). An id of no
// item, or of another case's, is left out without a word or a record:
// a form that lists what was chosen learns nothing of other cases, and
// records no refusal in the name of whoever followed its link.
func (v *Vault) ChosenItems(ctx context.Context, who Principal, caseID string, ids []string) ([]ItemSummary, error) {
	if err := v.mayListItems(ctx, who, caseID); err != nil {
		return nil, err
	}
	out := []ItemSummary{}
	for _, id := range ids {
		if !itemIDPattern.MatchString(id) {
			continue
		}
		it, ok, err := v.state.getItem(id)
		if err != nil {
			return nil, err
		}
		if ok && it.Case == caseID {
			out = append(out, it.brief())
		}
	}
	return out, nil
}

// brief is it as a list names it: its id, name, size and SHA-256, from
// its deposit's summary (no classification, no known-material status).
func (it Item) brief() ItemSummary {
	return ItemSummary{ID: it.ID, Name: it.Deposit.Name, Size: it.Deposit.Size, SHA256: it.Deposit.SHA256}
}

// mayListItems is ItemsPage's rule of who lists a case's items (who is
// told of a malformed case id, and how a refusal is recorded).
func (v *Vault) mayListItems(ctx context.Context, who Principal, caseID string) error {
	if handlesEvidence(who.Role) {
		// Who could be assigned is told of a malformed id; anyone
		// else is refused before it is read.
		if err := checkCaseID(caseID); err != nil {
			return err
		}
	}
	c, ok := v.state.getCase(caseID)
	if ok && !assigned(who, c) && (seesAllCases(who) || v.packageFor(who, caseID)) {
		// They know the case: say why, not "no such case".
		return v.refuse(ctx, who, "item.list", caseID, "only the case's investigators and analysts list its items", ErrForbidden)
	}
	if !ok || !assigned(who, c) {
		return v.refuseUnseen(ctx, who, "item.list", "case", caseID, ok, "not assigned to the case", "only the case's investigators and analysts list its items; "+assignsPeople)
	}
	return nil
}

// settledCopy is the first item (in deposit order) of it's case with
// its content (SHA-256) whose votes settle a category, or else the first
// such item of another case who is assigned to (a case not destroyed),
// or nil. A copy in a case who is not assigned to is that case's to know
// (a copy settled as illegal anywhere already makes the item known
// material, knownBecause). It says nothing of the item's own category:
// its analysts still vote on it, without opening it again.
func (v *Vault) settledCopy(it Item, who Principal) (*SettledCopy, error) {
	ids, err := v.state.itemsBySHA256(it.Deposit.SHA256)
	if err != nil {
		return nil, err
	}
	var other *SettledCopy
	for _, id := range ids {
		if id == it.ID {
			continue
		}
		o, ok, err := v.state.getItem(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		// Another case's copy is named only to a reader assigned to it,
		// who may list it anyway, and only the first of them; the case's
		// own is named first. A file held in many cases is classified
		// only for the copies that could be named.
		same := o.Case == it.Case
		if !same {
			if c, _ := v.state.getCase(o.Case); other != nil || !assigned(who, c) || c.Destroyed {
				continue
			}
		}
		cl := v.classification(o)
		if cl.Source != "votes" || cl.Category == "" {
			continue
		}
		if same {
			return &SettledCopy{Item: o.ID, Category: cl.Category}, nil
		}
		other = &SettledCopy{Item: o.ID, Category: cl.Category, Case: o.Case}
	}
	return other, nil
}

// namePattern reads a name pattern as the names it matches are shown, so
// that a name copied from a list finds its item: an escape \xHH (two
// hex digits, in either case, as names are matched) stands for itself,
// as a recorded name holds it
// (EscapeName: first\x0asecond.txt); \uXXXX and \UXXXXXXXX, as the
// command line and the reports show a character (a mark on a Latin
// letter, a joiner), stand for that character. Any other backslash
// escapes the character after it, as path.Match reads it (\* is a star).
func namePattern(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '\\' || i+1 == len(p) {
			b.WriteByte(p[i])
			continue
		}
		switch n := hexRun(p[i+2:]); {
		case (p[i+1] == 'x' || p[i+1] == 'X') && n >= 2:
			// Matched without regard to letter case, as names are.
			b.WriteString(`\\`)
		case p[i+1] == 'u' && n >= 4, p[i+1] == 'U' && n >= 8:
			width := 4
			if p[i+1] == 'U' {
				width = 8
			}
			if r, err := strconv.ParseUint(p[i+2:i+2+width], 16, 32); err == nil && utf8.ValidRune(rune(r)) {
				b.WriteString(patternQuote(string(rune(r))))
				i += 1 + width
				continue
			}
			b.WriteByte(p[i])
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// hexRun is how many hex digits s starts with.
func hexRun(s string) int {
	n := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] >= 'a' && s[n] <= 'f' || s[n] >= 'A' && s[n] <= 'F') {
		n++
	}
	return n
}

// patternQuote writes a character so that path.Match takes it as
// itself, within a [...] class too.
func patternQuote(s string) string {
	if strings.ContainsAny(s, `*?[]^-\`) {
		return `\` + s
	}
	return s
}

// matchName matches a name against a pattern (path.Match), without
// regard to letter case, as people type names (IMG_0042.JPG, img*): the
// whole name, its last path element (*.jpg), or a leading part of its
// path, so that DCIM/* takes in everything below DCIM/.
func matchName(pattern, name string) bool {
	pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	if ok, _ := path.Match(pattern, path.Base(name)); ok {
		return true
	}
	for p := name; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		if ok, _ := path.Match(pattern, p); ok {
			return true
		}
	}
	return false
}

// packageFor reports whether who is a prosecutor with a package sealed
// for them of the case.
func (v *Vault) packageFor(who Principal, caseID string) bool {
	if who.Role != RoleProsecutor {
		return false
	}
	for _, p := range v.state.allPackages() {
		// Sealed and stored: a sealing that never finished delivered
		// nothing, and the package list does not show it either.
		if p.Case == caseID && p.For == who.Name && p.Sealed != nil {
			return true
		}
	}
	return false
}

// ShowItem describes an item to its case's assigned investigators.
func (v *Vault) ShowItem(ctx context.Context, who Principal, itemID string) (*ItemDetail, error) {
	it, err := v.gatedItem(ctx, who, "item.show", itemID)
	if err != nil {
		return nil, err
	}
	d, err := v.depositRecord(ctx, it)
	if err != nil {
		return nil, err
	}
	known, err := v.hiddenBecause(ctx, it, &d)
	if err != nil {
		return nil, err
	}
	cl, err := v.statedClassification(ctx, it, newKnownChecks())
	if err != nil {
		return nil, err
	}
	c, _ := v.state.getCase(it.Case)
	return &ItemDetail{ID: it.ID, Case: it.Case, CaseDestroyed: c.Destroyed, Name: d.Name, Size: d.Size, SHA256: d.SHA256, MD5: d.MD5, SHA1: d.SHA1,
		Source: d.Source, Note: d.Note, DepositedBy: it.By, DepositedAt: it.At.Time(), Accesses: it.Accesses, Acquisition: d.Acquisition,
		Report: d.Report, Matches: d.Matches, Media: d.Media, Classification: cl, Known: known}, nil
}

// Packages lists the packages who may know: a prosecutor's own, those of
// an investigator's cases, all for custodians and auditors; oldest first.
func (v *Vault) Packages(who Principal) []PackageSummary {
	var out []PackageSummary
	for _, p := range v.state.allPackages() {
		c, _ := v.state.getCase(p.Case)
		if !(seesAllCases(who) || p.For == who.Name && receivesPackages(who.Role) || assigned(who, c)) {
			continue
		}
		s := PackageSummary{Package: p.ID, Case: p.Case, For: p.For, Purpose: p.Sealing.Purpose, Items: len(p.Sealing.Items), SealedAt: p.SealingAt,
			SealedBy: p.SealedBy, RequestedBy: p.Sealing.RequestedBy, Request: p.Sealing.Request, StoredAt: p.SealedAt, CaseDestroyed: c.Destroyed}
		if p.Sealed == nil {
			continue // being sealed, or the sealing never finished
		}
		s.Size, s.SHA256 = p.Sealed.Size, p.Sealed.SHA256
		if p.Receipt != nil {
			r := *p.Receipt
			s.Receipt = &r
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SealedAt.Before(out[j].SealedAt) })
	return out
}
