package custody

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
)

// ErrRecord marks events that do not make a chain of custody: an event
// that does not decode, a case or item the events do not open or deposit,
// an event of another case.
var ErrRecord = errors.New("custody record")

// Raw is one custody event exactly as stored, with its position in the
// log.
type Raw struct {
	Seq   uint64
	Bytes []byte
}

// Input is what Build makes a Record from. Every event in Events must
// already be proven included in Checkpoint by the caller (the vault reads
// them through its verified tree; a verifier checks the package's
// proofs): Build trusts the events' bytes and nothing else.
type Input struct {
	// Case is the case's id; every event must be of this case.
	Case string
	// Events are the case's custody events, in any order. They must
	// include the case.opened event and the item.deposited event of
	// every item reported.
	Events []Raw
	// Items are the ids of the items to report, in order; empty means
	// every item deposited in Events, in log order.
	Items []string
	// Sealing is the seq of the package.sealing event when the record is
	// a package's report; Report the seq of the custody.report event when
	// it is a report made on demand. Exactly one is set (seq 0 is the
	// log's opening, never either).
	Sealing, Report uint64
	// Paths are the items' files in the package, by item id.
	Paths map[string]string
	// Checkpoint is the checkpoint that covers every event.
	Checkpoint Checkpoint
	// Generator names the software making the record.
	Generator string
	// VaultRetention is the vault's default retention when the record
	// is made (its configuration, not a signed fact; 0: not said), for
	// a case that keeps the default.
	VaultRetention time.Duration
}

// Event types the record reads (docs/custody-log.md, section 8, "Event
// types"; vault's tests check that the vault writes each).
const (
	typeCaseOpened           = "case.opened"
	typeItemDeposited        = "item.deposited"
	typeHoldPlaced           = "case.hold.placed"
	typeHoldLifted           = "case.hold.lifted"
	typeDestroyApproved      = "case.destruction.approved"
	typeCaseDestroyed        = "case.destroyed"
	typePackageSealing       = "package.sealing"
	typePackageSealed        = "package.sealed"
	typePackageFetched       = "package.fetched"
	typePackageFetchDone     = "package.fetch.completed"
	typePackageReceived      = "package.received"
	typeReport               = "custody.report"
	typeItemAccessed         = "item.accessed"
	typeAccessCompleted      = "item.access.completed"
	typeIntegrityFailed      = "integrity.failed"
	typeAccessRefused        = "access.refused"
	typeItemClassified       = "item.classified"
	typeNoticeSent           = "report.notice.sent"
	typeNoticeAcknowledged   = "report.notice.acknowledged"
	typeContentRemoved       = "report.content.removed"
	typeMemberAdded          = "case.member.added"
	typeMemberRemoved        = "case.member.removed"
	typePolicySet            = "case.policy.set"
	typeClassificationPolicy = "case.classification.policy"
	typeDestroyRequested     = "case.destruction.requested"
	typeHashesExported       = "case.hashes.exported"
	typeCaseUCOExported      = "case.caseuco.exported"
	typeCaseKeyFailed        = "case.key.failed"
)

// data is the union of the event data fields the record reads; each
// event type fills its own (docs/custody-log.md, section 8).
type data struct {
	Title     string   `json:"title"`
	Retention string   `json:"retention"`
	Members   []string `json:"members"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	// Params are what a request asks (request.opened), of which are
	// said a sealing's purpose, a case.classification.policy request's
	// votes and those in force when asked (from), and a case.policy
	// request's export approval.
	Params struct {
		Purpose        string `json:"purpose"`
		Votes          int    `json:"votes"`
		From           int    `json:"from"`
		ExportApproval string `json:"export_approval"`
	} `json:"params"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	SHA1        string `json:"sha1"`
	MD5         string `json:"md5"`
	Acquisition struct {
		SHA256 string `json:"sha256"`
		SHA1   string `json:"sha1"`
		MD5    string `json:"md5"`
		List   struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
			Entry  string `json:"entry"`
		} `json:"list"`
	} `json:"acquisition"`
	Source          string          `json:"source"`
	Note            string          `json:"note"`
	Purpose         string          `json:"purpose"`
	Access          string          `json:"access"`
	AccessEvent     string          `json:"access_event"`
	FetchEvent      string          `json:"fetch_event"`
	Aborted         string          `json:"aborted"`
	Bytes           int64           `json:"bytes"`
	Reason          string          `json:"reason"`
	Package         string          `json:"package"`
	For             string          `json:"for"`
	ForRole         string          `json:"for_role"`
	Recipient       string          `json:"recipient"`
	Items           json.RawMessage `json:"items"`
	Request         string          `json:"request"`
	RequestedBy     string          `json:"requested_by"`
	DisclosesOthers bool            `json:"discloses_others"`
	Action          string          `json:"action"`
	Grounds         string          `json:"grounds"`
	Target          string          `json:"target"`
	Count           int64           `json:"count"`
	Files           []skippedFile   `json:"files"` // of a deposit.skipped
	Deposited       int64           `json:"deposited"`
	Already         int64           `json:"already"`
	First           string          `json:"first"` // of a summary of refusals: when the first happened (RFC 3339)
	Last            string          `json:"last"`  // and the last; the summary is written after them
	Person          string          `json:"person"`
	Order           string          `json:"order"`
	ExportApproval  string          `json:"export_approval"`
	Format          string          `json:"format"`
	Fingerprint     string          `json:"fingerprint"`
	Kind            string          `json:"kind"`
	// Hotline events (docs/hotline.md).
	Category string          `json:"category"`
	AgeGroup string          `json:"age_group"`
	Sex      string          `json:"sex"`
	Series   string          `json:"series"`
	Votes    int             `json:"votes"`
	Report   string          `json:"report"`
	Channel  string          `json:"channel"`
	URL      string          `json:"url"`
	URLs     json.RawMessage `json:"urls"`
	To       string          `json:"to"`
	Via      string          `json:"via"`
	Country  string          `json:"country"`
	// StatedAt is when a hotline event says it happened, where an
	// analyst recorded it later (RFC 3339).
	StatedAt string `json:"at"`
	// Override is, for a view of known material, why the item counted
	// as known (the reveal was explicit).
	Override string `json:"override"`
	// Matches are the hash-set entries a deposit matched.
	Matches []Match `json:"matches"`
	// Of server.started: the command that opened the vault with the
	// server stopped, the program's build, and the state snapshots the
	// start set aside.
	Run string `json:"run"`
	// Sealer is, of a server.started, the reference of the key sealer
	// that holds the vault's keys (its kind before the first colon).
	Sealer string `json:"sealer"`
	// Of server.stopped: the position of the stopping server's own
	// server.started.
	Started            uint64 `json:"started"`
	Build              string `json:"build"`
	SnapshotsDiscarded string `json:"state_snapshots_discarded"`
	// Of a server.started: the configuration that decides what is
	// known material and who decides it.
	PDQMaxDistance  string `json:"pdq_max_distance"`
	HashSetApproval string `json:"hashset_approval"`
	HashSetRemoval  string `json:"hashset_removal"`
	SessionTTL      string `json:"session_ttl"`
	LocalAccounts   string `json:"local_accounts"`
}

// itemList is the items field of a package.sealing or custody.report
// event: a list of ids (an export's count is a number, read as none).
func (d *data) itemList() []string {
	var ids []string
	if json.Unmarshal(d.Items, &ids) != nil {
		return nil
	}
	return ids
}

type decoded struct {
	ev *events.Event
	d  data
	e  Event
	// clauses are e.Details before they are joined with "; ".
	clauses []string
}

// skippedFile is one file or folder a deposit.skipped event lists.
type skippedFile struct {
	Path       string `json:"path"`
	Reason     string `json:"reason"`
	LeftBehind bool   `json:"left_behind"`
}

// Build reads a Record out of the events of one case (see Input). It
// fails with ErrRecord when an event does not decode or names another
// case, when the case.opened event, an item's deposit, or the
// sealing or report event is missing.
func Build(in Input) (*Record, error) {
	if (in.Sealing == 0) == (in.Report == 0) {
		return nil, fmt.Errorf("%w: a record is either a package's (Sealing) or a report's (Report)", ErrRecord)
	}
	evs := make([]decoded, 0, len(in.Events))
	for _, raw := range in.Events {
		ev, err := events.Decode(raw.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: %v", ErrRecord, raw.Seq, err)
		}
		if ev.Seq != raw.Seq {
			return nil, fmt.Errorf("%w: the event at %d says it is event %d", ErrRecord, raw.Seq, ev.Seq)
		}
		if ev.Case != in.Case {
			return nil, fmt.Errorf("%w: event %d is of case %q, not %s", ErrRecord, ev.Seq, ev.Case, in.Case)
		}
		var d data
		if err := ev.DecodeData(&d); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRecord, err)
		}
		t, err := time.Parse(time.RFC3339Nano, ev.Time)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: time %q: %v", ErrRecord, ev.Seq, ev.Time, err)
		}
		evs = append(evs, decoded{ev: ev, d: d, e: Event{
			Seq: ev.Seq, Time: t.UTC(), Type: ev.Type, Actor: Person{Name: ev.Actor.Person, Role: ev.Actor.Role},
			Auth: Authentication(ev.Actor), Item: ev.Item, LeafHash: events.LeafHash(raw.Bytes).String(),
		}})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ev.Seq < evs[j].ev.Seq })
	for i := 1; i < len(evs); i++ {
		if evs[i].ev.Seq == evs[i-1].ev.Seq {
			return nil, fmt.Errorf("%w: event %d given twice", ErrRecord, evs[i].ev.Seq)
		}
	}

	r := &Record{Checkpoint: in.Checkpoint, Generator: in.Generator, VaultRetention: in.VaultRetention}
	// The packages the events show, by id: their sealing data.
	packages := map[string]*decoded{}
	for i := range evs {
		x := &evs[i]
		describe(x)
		switch x.ev.Type {
		case typeCaseOpened:
			if r.Case.ID == "" {
				r.Case = Case{ID: x.ev.Case, Title: x.d.Title, Opened: x.e}
				r.Retention = x.d.Retention
			}
		case typePackageSealing:
			packages[x.d.Package] = x
		}
		if x.ev.Seq == in.Sealing && x.ev.Type == typePackageSealing {
			r.Package = &Package{ID: x.d.Package, SealedBy: x.e.Actor, SealedFor: Person{Name: x.d.For, Role: x.d.ForRole},
				Recipient: x.d.Recipient, Purpose: x.d.Purpose, SealedAt: x.e.Time, Sealing: x.e,
				Request: x.d.Request, RequestedBy: x.d.RequestedBy, DisclosesOthers: x.d.DisclosesOthers}
			if r.Package.SealedFor.Role == "" {
				r.Package.SealedFor.Role = "prosecutor" // sealings before defence counsel were prosecutors'
			}
		}
		if x.ev.Seq == in.Report && (x.ev.Type == typeReport || x.ev.Type == typeCaseUCOExported) {
			e := x.e
			r.Report = &e
		}
	}
	switch {
	case r.Case.ID == "":
		return nil, fmt.Errorf("%w: no case.opened event of case %s", ErrRecord, in.Case)
	case in.Sealing != 0 && r.Package == nil:
		return nil, fmt.Errorf("%w: no package.sealing event at %d", ErrRecord, in.Sealing)
	case in.Report != 0 && r.Report == nil:
		return nil, fmt.Errorf("%w: no custody.report or case.caseuco.exported event at %d", ErrRecord, in.Report)
	}

	// The items, in the order asked for.
	deposits := map[string]*decoded{}
	var order []string
	for i := range evs {
		if x := &evs[i]; x.ev.Type == typeItemDeposited && x.ev.Item != "" {
			if _, dup := deposits[x.ev.Item]; dup {
				return nil, fmt.Errorf("%w: item %s deposited twice", ErrRecord, x.ev.Item)
			}
			deposits[x.ev.Item] = x
			order = append(order, x.ev.Item)
		}
	}
	if len(in.Items) > 0 {
		order = in.Items
		r.Chosen = in.Report != 0
	}
	index := map[string]int{}
	for _, id := range order {
		x, ok := deposits[id]
		if !ok {
			return nil, fmt.Errorf("%w: no item.deposited event of item %q", ErrRecord, id)
		}
		if _, dup := index[id]; dup {
			return nil, fmt.Errorf("%w: item %s asked for twice", ErrRecord, id)
		}
		index[id] = len(r.Items)
		r.Items = append(r.Items, Item{
			ID: id, Name: x.d.Name, Path: in.Paths[id], Size: x.d.Size,
			Hashes:          Hashes{SHA256: x.d.SHA256, SHA1: x.d.SHA1, MD5: x.d.MD5},
			Acquisition:     Hashes{SHA256: x.d.Acquisition.SHA256, SHA1: x.d.Acquisition.SHA1, MD5: x.d.Acquisition.MD5},
			AcquisitionList: HashList{Name: x.d.Acquisition.List.Name, SHA256: x.d.Acquisition.List.SHA256, Entry: x.d.Acquisition.List.Entry},
			Source:          x.d.Source, Note: x.d.Note, Deposit: x.e, Report: x.d.Report, Matches: x.d.Matches,
		})
	}

	// shown: whether a package's events belong in the record. A
	// package's report shows its own package, and the others that carry
	// its items only when the sealer chose to say so; a report on demand
	// shows every package of its items.
	carried := func(p *decoded) []string {
		var ids []string
		for _, id := range p.d.itemList() {
			if _, ok := index[id]; ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
	sealedCount := func(p *decoded) int { return len(p.d.itemList()) }
	shown := func(pkg string) (*decoded, []string, bool) {
		p, ok := packages[pkg]
		if !ok {
			return nil, nil, false
		}
		ids := carried(p)
		switch {
		case r.Package != nil && pkg == r.Package.ID:
			return p, ids, true
		case len(ids) == 0:
			return nil, nil, false
		case r.Package != nil && !r.Package.DisclosesOthers:
			return nil, nil, false
		}
		return p, ids, true
	}
	disclosures := map[string]*Disclosure{}
	noticed := map[string]bool{} // the notices of the record so far, by report and URL
	var sealedIn []string        // the disclosures' packages, in log order
	for i := range evs {
		x := &evs[i]
		switch x.ev.Type {
		case typePackageSealing, typePackageSealed, typePackageFetched, typePackageFetchDone, typePackageReceived:
			p, ids, ok := shown(x.d.Package)
			if !ok {
				continue
			}
			for _, id := range ids {
				it := &r.Items[index[id]]
				it.Chain = append(it.Chain, x.e)
			}
			if r.Package != nil && x.d.Package == r.Package.ID {
				continue
			}
			dc := disclosures[x.d.Package]
			if dc == nil {
				dc = &Disclosure{Package: x.d.Package, SealedFor: Person{Name: p.d.For, Role: p.d.ForRole}, SealedAt: p.e.Time, Items: ids, Carried: sealedCount(p)}
				if dc.SealedFor.Role == "" {
					dc.SealedFor.Role = "prosecutor"
				}
				disclosures[x.d.Package] = dc
				sealedIn = append(sealedIn, x.d.Package)
			}
			switch x.ev.Type {
			case typePackageFetched:
				if dc.Fetched.IsZero() {
					dc.Fetched = x.e.Time
				}
			case typePackageReceived:
				if dc.Received.IsZero() {
					dc.Received = x.e.Time
				}
			}
			continue
		}
		if x.ev.Item != "" {
			if j, ok := index[x.ev.Item]; ok {
				r.Items[j].Chain = append(r.Items[j].Chain, x.e)
				if x.ev.Type == typeItemClassified {
					// A person's later vote replaces their earlier one.
					it := &r.Items[j]
					it.Votes = slices.DeleteFunc(it.Votes, func(v Vote) bool { return v.By.Name == x.e.Actor.Name })
					it.Votes = append(it.Votes, Vote{By: x.e.Actor, Category: x.d.Category, Seq: x.ev.Seq})
				}
			}
			continue
		}
		switch x.ev.Type {
		case typeHoldPlaced:
			r.Held, r.Hold = true, &x.e
		case typeHoldLifted:
			r.Held, r.Hold = false, nil
		case typeDestroyApproved, typeCaseDestroyed:
			r.Destroyed = true
		case typePolicySet:
			// Read as the vault reads it: only "none" drops the approval
			// (docs/custody-log.md, case.policy.set).
			r.ExportApproval = x.d.ExportApproval != "none"
		case typeClassificationPolicy:
			r.ClassificationPolicy, r.ClassificationVotes = &x.e, x.d.Votes
		}
		if (x.ev.Type == typeNoticeAcknowledged || x.ev.Type == typeContentRemoved) && !noticed[x.d.Report+"\x00"+x.d.URL] {
			// A notice sent before its report came into the case is no
			// case's, and not in the record: said, so that an
			// acknowledgement does not read as of a notice never sent.
			x.clauses = append(x.clauses, "its notice was sent before the report was assessed into this case, and is not in this record")
			x.e.Details = strings.Join(x.clauses, "; ")
		}
		if x.ev.Type == typeNoticeSent {
			noticed[x.d.Report+"\x00"+x.d.URL] = true
		}
		r.CaseEvents = append(r.CaseEvents, x.e)
	}
	for _, pkg := range sealedIn {
		r.Disclosures = append(r.Disclosures, *disclosures[pkg])
	}
	return r, nil
}

// Authentication says in words how an event's actor authenticated
// (docs/custody-log.md, section 2.1: the actor's credential fields).
func Authentication(a events.Actor) string {
	switch a.Auth {
	case "oidc":
		s := "single sign-on (OpenID Connect) at " + a.Issuer + " as " + a.Subject
		if len(a.AMR) > 0 {
			s += ", methods " + strings.Join(a.AMR, "+")
		}
		return s
	case "certificate":
		fp := a.Certificate
		if len(fp) > 16 {
			fp = fp[:16] + "..."
		}
		return "client certificate " + a.Subject + " (SHA-256 " + fp + ") issued by " + a.Issuer
	case "local":
		return "vault credential, session " + a.Session
	case "":
		if a.Person == "" {
			return "not authenticated"
		}
		return "credential (before sessions were recorded)"
	}
	return a.Auth
}
