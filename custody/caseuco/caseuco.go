// Package caseuco writes a case's chain of custody (a custody.Record) as
// CASE 1.4.0 JSON-LD (https://caseontology.org, on UCO 1.4.0): the format
// digital-forensics tools exchange investigations in. Every fact it
// writes comes from the Record; docs/formats.md says which class and
// property carries which.
//
// An export conforms to the CASE 1.4.0 ontology and its SHACL shapes as
// the CASE project's validator checks them (no result of any severity, no
// term CASE/UCO does not define): scripts/shacl/validate.mjs checks every
// export the tests make.
package caseuco

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
)

// ErrExport marks a record that cannot be exported: no case id, a text
// that is not UTF-8, a hash (item, leaf or log key fingerprint) that is not
// hexadecimal, one event (one seq) shown twice with different contents, an
// item or a package listed twice, or a disclosure of an item the record
// does not hold.
// custody.Build never makes such a record.
var ErrExport = errors.New("caseuco export")

// The namespaces of the export's @context.
const (
	nsInvestigation = "https://ontology.caseontology.org/case/investigation/"
	nsAction        = "https://ontology.unifiedcyberontology.org/uco/action/"
	nsCore          = "https://ontology.unifiedcyberontology.org/uco/core/"
	nsIdentity      = "https://ontology.unifiedcyberontology.org/uco/identity/"
	nsObservable    = "https://ontology.unifiedcyberontology.org/uco/observable/"
	nsRole          = "https://ontology.unifiedcyberontology.org/uco/role/"
	nsTool          = "https://ontology.unifiedcyberontology.org/uco/tool/"
	nsTypes         = "https://ontology.unifiedcyberontology.org/uco/types/"
	nsXSD           = "http://www.w3.org/2001/XMLSchema#"
)

// ContentType is the media type of an export.
const ContentType = "application/ld+json"

// Export writes r as one CASE 1.4.0 JSON-LD document: a JSON object with
// an inline "@context" (no remote context is needed to read it) and a
// "@graph" array of nodes, UTF-8, indented by two spaces, ending in a
// newline. Node ids are IRIs under Base(r.Case.ID), derived from the
// record, so the same record always gives the same bytes. Times are
// xsd:dateTime in UTC with nanoseconds as recorded; sizes xsd:integer
// bytes; hashes xsd:hexBinary as recorded (lowercase). Text is written as
// the events recorded it; characters that are not graphic (U+202E, zero
// width characters, line separators, controls) are written as JSON \u
// escapes, which keep the value and show in any viewer.
//
// The graph holds (docs/formats.md has the table):
//   - the case as a case-investigation:Investigation;
//   - each item as a uco-observable:File with a FileFacet (name, size) and
//     a ContentDataFacet (size, SHA-256, SHA-1 and MD5 as uco-types:Hash),
//     and a case-investigation:ProvenanceRecord whose exhibit number is
//     the item id;
//   - each custody event, once, as a case-investigation:InvestigativeAction
//     (what was done, when, by whom in which role, on which items, for
//     which purpose) and a uco-observable:EventRecord, its entry in the
//     custody log (seq, type, RFC 6962 leaf hash);
//   - the package the record is of and the other packages that disclosed
//     its items, as uco-observable:ArchiveFile nodes, and each disclosure
//     as an action;
//   - the checkpoint as a signed uco-observable:Note, the log key, the
//     witnesses' cosignatures and the RFC 3161 time-stamps as actions on
//     it, and a uco-core:Annotation stating that every event of the
//     record is included in it.
//
// It fails with ErrExport (and writes nothing) when the record cannot be
// exported, or with w's error.
func Export(w io.Writer, r *custody.Record) error {
	b, err := Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal returns the bytes Export writes, or an error wrapping
// ErrExport.
func Marshal(r *custody.Record) ([]byte, error) {
	if r == nil || r.Case.ID == "" {
		return nil, fmt.Errorf("%w: the record has no case id", ErrExport)
	}
	x := &exporter{r: r, ids: ids{base: Base(r.Case.ID)}, roles: map[[2]string]bool{}, identities: map[string]bool{}}
	graph, err := x.graph()
	if err != nil {
		return nil, err
	}
	doc := obj{
		{"@context", obj{
			{"kb", x.ids.base},
			{"case-investigation", nsInvestigation},
			{"uco-action", nsAction},
			{"uco-core", nsCore},
			{"uco-identity", nsIdentity},
			{"uco-observable", nsObservable},
			{"uco-role", nsRole},
			{"uco-tool", nsTool},
			{"uco-types", nsTypes},
			{"xsd", nsXSD},
		}},
		{"@graph", graph},
	}
	var b bytes.Buffer
	if err := writeJSON(&b, doc, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

type exporter struct {
	r   *custody.Record
	ids ids

	// people: the identity, role and Has_Role relationship nodes, in the
	// order their people first act.
	people     []any
	identities map[string]bool
	roles      map[[2]string]bool
}

// action is one custody event and what the export adds to it.
type action struct {
	e            custody.Event
	items        []string // the record's items it is about, in record order
	participants []any
	instruments  []any
	objects      []any // other than the items: packages
	results      []any
	args         [][2]string
}

func dateTime(t time.Time) typed {
	return typed{"xsd:dateTime", t.UTC().Format(time.RFC3339Nano)}
}

func integer(n int64) typed { return typed{"xsd:integer", strconv.FormatInt(n, 10)} }

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (x *exporter) graph() ([]any, error) {
	r := x.r
	id := x.ids.id

	// The events, once each, by seq.
	events := map[uint64]*action{}
	var seqs []uint64
	addEvent := func(e custody.Event) (*action, error) {
		if a, ok := events[e.Seq]; ok {
			if !sameEvent(a.e, e) {
				return nil, fmt.Errorf("%w: event %d is shown twice, differently", ErrExport, e.Seq)
			}
			return a, nil
		}
		a := &action{e: e}
		events[e.Seq] = a
		seqs = append(seqs, e.Seq)
		return a, nil
	}
	present := func(e custody.Event) bool { return !sameEvent(e, custody.Event{}) }
	if present(r.Case.Opened) {
		if _, err := addEvent(r.Case.Opened); err != nil {
			return nil, err
		}
	}
	for _, e := range r.CaseEvents {
		if _, err := addEvent(e); err != nil {
			return nil, err
		}
	}
	if r.Report != nil {
		if _, err := addEvent(*r.Report); err != nil {
			return nil, err
		}
	}
	if r.Package != nil && present(r.Package.Sealing) {
		if _, err := addEvent(r.Package.Sealing); err != nil {
			return nil, err
		}
	}
	inRecord := map[string]bool{}
	for _, it := range r.Items {
		if inRecord[it.ID] {
			return nil, fmt.Errorf("%w: item %s is in the record twice", ErrExport, it.ID)
		}
		inRecord[it.ID] = true
		chain := it.Chain
		if present(it.Deposit) {
			chain = append([]custody.Event{it.Deposit}, chain...)
		}
		for _, e := range chain {
			a, err := addEvent(e)
			if err != nil {
				return nil, err
			}
			if len(a.items) == 0 || a.items[len(a.items)-1] != it.ID {
				a.items = append(a.items, it.ID)
			}
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })

	var tool string
	if r.Generator != "" {
		tool = id("tool", "", r.Generator)
	}
	fileID := func(item string) string { return id("file", item, item) }
	packageID := func(pkg string) string { return id("package", pkg, pkg) }

	// The items.
	var items []any
	for _, it := range r.Items {
		fileFacet := obj{{"@id", id("file-facet", it.ID, it.ID)}, {"@type", "uco-observable:FileFacet"}}
		fileFacet.add("uco-observable:fileName", it.Name)
		fileFacet.add("uco-observable:sizeInBytes", integer(it.Size))
		var hashes []any
		for _, h := range []struct{ method, value string }{{"SHA256", it.Hashes.SHA256}, {"SHA1", it.Hashes.SHA1}, {"MD5", it.Hashes.MD5}} {
			if h.value == "" {
				continue
			}
			if !isHex(h.value) {
				return nil, fmt.Errorf("%w: item %s: %s %q is not hexadecimal", ErrExport, it.ID, h.method, h.value)
			}
			hashes = append(hashes, obj{
				{"@id", id("hash", it.ID+"-"+strings.ToLower(h.method), it.ID, h.method)},
				{"@type", "uco-types:Hash"},
				{"uco-types:hashMethod", h.method},
				{"uco-types:hashValue", typed{"xsd:hexBinary", h.value}},
			})
		}
		content := obj{{"@id", id("content-facet", it.ID, it.ID)}, {"@type", "uco-observable:ContentDataFacet"}}
		content.add("uco-observable:sizeInBytes", integer(it.Size))
		content.add("uco-observable:hash", hashes)
		items = append(items, obj{
			{"@id", fileID(it.ID)},
			{"@type", "uco-observable:File"},
			{"uco-core:hasFacet", []any{fileFacet, content}},
		})
		prov := obj{
			{"@id", id("provenance", it.ID, it.ID)},
			{"@type", "case-investigation:ProvenanceRecord"},
			{"uco-core:name", "Exhibit " + it.ID},
		}
		desc := fmt.Sprintf("Evidence item %s (%q), deposited in custody by event %d", it.ID, it.Name, it.Deposit.Seq)
		if it.Path != "" {
			desc += fmt.Sprintf("; in the package as %s", it.Path)
		}
		prov.add("uco-core:description", desc)
		prov.add("case-investigation:exhibitNumber", it.ID)
		prov.add("uco-core:object", ref(fileID(it.ID)))
		items = append(items, prov)

		// The deposit: its result is the exhibit; the depositor's
		// acquisition hashes, source and note are its arguments.
		a := events[it.Deposit.Seq]
		if !present(it.Deposit) {
			a = &action{} // nowhere to put them: an item without its deposit
		}
		a.results = append(a.results, ref(id("provenance", it.ID, it.ID)))
		for _, arg := range [][2]string{
			{"acquisition SHA256", it.Acquisition.SHA256},
			{"acquisition SHA1", it.Acquisition.SHA1},
			{"acquisition MD5", it.Acquisition.MD5},
			{"acquisition hash list", it.AcquisitionList.Name},
			{"acquisition hash list SHA256", it.AcquisitionList.SHA256},
			{"acquisition hash list entry", it.AcquisitionList.Entry},
			{"source", it.Source},
			{"note", it.Note},
		} {
			if arg[1] != "" {
				a.args = append(a.args, arg)
			}
		}
	}

	// Packages: the record's own and the others that disclosed its
	// items. A package event names its package in its details.
	var packages, disclosures []any
	packageEvents := func(pkg string) []*action {
		var out []*action
		for _, s := range seqs {
			a := events[s]
			if strings.HasPrefix(a.e.Type, "package.") && namesPackage(a.e.Details, pkg) {
				out = append(out, a)
			}
		}
		return out
	}
	if p := r.Package; p != nil {
		pkg := obj{
			{"@id", packageID(p.ID)},
			{"@type", "uco-observable:ArchiveFile"},
			{"uco-core:name", p.ID},
			{"uco-core:description", fmt.Sprintf("Sealed package %s for %s, sealed by event %d", p.ID, personText(p.SealedFor), p.Sealing.Seq)},
		}
		packages = append(packages, pkg)
		a := events[p.Sealing.Seq]
		if !present(p.Sealing) {
			a = &action{}
		}
		if who := x.actor(p.SealedFor); who != "" {
			a.participants = append(a.participants, ref(who))
		}
		a.results = append(a.results, ref(packageID(p.ID)))
		if tool != "" {
			a.instruments = append(a.instruments, ref(tool))
		}
		for _, arg := range [][2]string{
			{"package purpose", differs(p.Purpose, a.e.Purpose)},
			{"age recipient", p.Recipient},
			{"request", p.Request},
			{"requested by", p.RequestedBy},
			{"discloses other packages", strconv.FormatBool(p.DisclosesOthers)},
		} {
			if arg[1] != "" {
				a.args = append(a.args, arg)
			}
		}
		for _, pa := range packageEvents(p.ID) {
			if pa.e.Seq != p.Sealing.Seq {
				pa.objects = append(pa.objects, ref(packageID(p.ID)))
			}
		}
	}
	seenPackage := map[string]bool{}
	if r.Package != nil {
		seenPackage[r.Package.ID] = true
	}
	for _, d := range r.Disclosures {
		if seenPackage[d.Package] {
			return nil, fmt.Errorf("%w: package %s is shown twice", ErrExport, d.Package)
		}
		seenPackage[d.Package] = true
		packages = append(packages, obj{
			{"@id", packageID(d.Package)},
			{"@type", "uco-observable:ArchiveFile"},
			{"uco-core:name", d.Package},
			{"uco-core:description", fmt.Sprintf("Sealed package %s for %s", d.Package, personText(d.SealedFor))},
		})
		var sub []any
		for _, pa := range packageEvents(d.Package) {
			pa.objects = append(pa.objects, ref(packageID(d.Package)))
			sub = append(sub, ref(id("action", strconv.FormatUint(pa.e.Seq, 10), strconv.FormatUint(pa.e.Seq, 10))))
		}
		desc := fmt.Sprintf("Package %s for %s carried %d of the record's items; sealed %s", d.Package, personText(d.SealedFor), len(d.Items), timeText(d.SealedAt))
		if d.Fetched.IsZero() {
			desc += "; not fetched"
		} else {
			desc += "; fetched " + timeText(d.Fetched)
		}
		if d.Received.IsZero() {
			desc += "; no receipt signed"
		} else {
			desc += "; receipt signed " + timeText(d.Received)
		}
		act := obj{
			{"@id", id("disclosure", d.Package, d.Package)},
			{"@type", "case-investigation:InvestigativeAction"},
			{"uco-core:name", "Disclosed in another package"},
			{"uco-core:description", desc},
		}
		if !d.SealedAt.IsZero() {
			act.add("uco-action:startTime", dateTime(d.SealedAt))
		}
		if who := x.actor(d.SealedFor); who != "" {
			act.add("uco-action:participant", ref(who))
		}
		var objs []any
		for _, item := range d.Items {
			if !inRecord[item] {
				return nil, fmt.Errorf("%w: package %s disclosed item %s, which is not in the record", ErrExport, d.Package, item)
			}
			objs = append(objs, ref(fileID(item)))
		}
		act.add("uco-action:object", objs)
		act.add("uco-action:result", ref(packageID(d.Package)))
		act.add("uco-action:subaction", sub)
		disclosures = append(disclosures, act)
	}
	if r.Report != nil && tool != "" {
		a := events[r.Report.Seq]
		a.instruments = append(a.instruments, ref(tool))
	}

	// The events: an action and a log entry each.
	var actions, entries []any
	for _, s := range seqs {
		a := events[s]
		seq := strconv.FormatUint(s, 10)
		entryID := id("log-entry", seq, seq)
		entry := obj{
			{"@id", entryID},
			{"@type", "uco-observable:EventRecord"},
			{"uco-core:name", "Custody log event " + seq},
		}
		facets := []any{}
		rec := obj{{"@id", id("log-entry-facet", seq, seq)}, {"@type", "uco-observable:EventRecordFacet"}}
		rec.add("uco-observable:eventRecordID", seq)
		rec.add("uco-observable:eventType", a.e.Type)
		if !a.e.Time.IsZero() {
			rec.add("uco-observable:observableCreatedTime", dateTime(a.e.Time))
		}
		rec.add("uco-observable:eventRecordServiceName", r.Checkpoint.Origin)
		facets = append(facets, rec)
		if a.e.LeafHash != "" {
			if !isHex(a.e.LeafHash) {
				return nil, fmt.Errorf("%w: event %d: leaf hash %q is not hexadecimal", ErrExport, s, a.e.LeafHash)
			}
			entry.add("uco-core:description", "Event "+seq+" of the custody log. Its content data is the event's RFC 6962 Merkle tree leaf (the byte 0x00 followed by the event's signed bytes), whose SHA-256 is the leaf hash the inclusion proof starts from.")
			facets = append(facets, obj{
				{"@id", id("log-entry-content", seq, seq)},
				{"@type", "uco-observable:ContentDataFacet"},
				{"uco-observable:hash", []any{obj{
					{"@id", id("leaf-hash", seq, seq)},
					{"@type", "uco-types:Hash"},
					{"uco-types:hashMethod", "SHA256"},
					{"uco-types:hashValue", typed{"xsd:hexBinary", a.e.LeafHash}},
				}}},
			})
		}
		entry.add("uco-core:hasFacet", facets)

		act := obj{{"@id", id("action", seq, seq)}, {"@type", "case-investigation:InvestigativeAction"}}
		name := a.e.Action
		if name == "" {
			name = a.e.Type
		}
		act.add("uco-core:name", name)
		act.add("uco-core:description", a.e.Details)
		if !a.e.Time.IsZero() {
			act.add("uco-action:startTime", dateTime(a.e.Time))
		}
		if who := x.actor(a.e.Actor); who != "" {
			act.add("uco-action:performer", ref(who))
		}
		act.add("uco-action:participant", a.participants)
		act.add("uco-action:instrument", a.instruments)
		var objs []any
		for _, item := range a.items {
			objs = append(objs, ref(fileID(item)))
		}
		act.add("uco-action:object", append(objs, a.objects...))
		act.add("uco-action:result", append(append([]any{}, a.results...), ref(entryID)))
		args := append([][2]string{{"purpose", a.e.Purpose}, {"authentication", a.e.Auth}}, a.args...)
		var argFacets []any
		for _, arg := range args {
			if arg[1] == "" {
				continue
			}
			argFacets = append(argFacets, obj{
				{"@id", id("argument", seq+"-"+strings.ReplaceAll(arg[0], " ", "-"), seq, arg[0])},
				{"@type", "uco-action:ActionArgumentFacet"},
				{"uco-action:argumentName", arg[0]},
				{"uco-action:value", arg[1]},
			})
		}
		act.add("uco-core:hasFacet", argFacets)
		actions = append(actions, act)
		entries = append(entries, entry)
	}

	// The checkpoint, when the record has one.
	var signed []any
	if cp := r.Checkpoint; cp.Text != "" || cp.Origin != "" || cp.Root != "" || cp.Size != 0 {
		var err error
		if signed, err = x.checkpoint(seqs); err != nil {
			return nil, err
		}
	}

	// The tool that made the record.
	var tools []any
	if tool != "" {
		tools = append(tools, obj{{"@id", tool}, {"@type", "uco-tool:Tool"}, {"uco-core:name", r.Generator}})
	}

	var rest []any
	for _, part := range [][]any{tools, signed, x.people, items, packages, actions, entries, disclosures} {
		rest = append(rest, part...)
	}

	// The case, first, compiling every other node.
	inv := obj{
		{"@id", id("investigation", "")},
		{"@type", "case-investigation:Investigation"},
		{"uco-core:name", r.Case.ID},
		{"uco-core:description", x.caseDescription()},
	}
	inv.add("case-investigation:focus", r.Case.Title)
	inv.add("case-investigation:investigationForm", "case")
	status := "open"
	switch {
	case r.Destroyed:
		status = "destroyed"
	case r.Held:
		status = "open, under legal hold"
	}
	inv.add("case-investigation:investigationStatus", status)
	if !r.Case.Opened.Time.IsZero() {
		inv.add("uco-core:startTime", dateTime(r.Case.Opened.Time))
	}
	var all []any
	for _, n := range rest {
		all = append(all, ref(n.(obj)[0].v.(string)))
	}
	inv.add("uco-core:object", all)
	return append([]any{inv}, rest...), nil
}

// checkpoint returns the nodes of the record's checkpoint: the signed
// note, the log key, the attestation that it covers the events of seqs,
// and the cosignatures and time-stamps.
func (x *exporter) checkpoint(seqs []uint64) ([]any, error) {
	id := x.ids.id
	cp := x.r.Checkpoint
	checkpoint := id("checkpoint", "")
	var signed []any
	note := obj{
		{"@id", checkpoint},
		{"@type", "uco-observable:Note"},
		{"uco-core:name", fmt.Sprintf("Checkpoint of %s at tree size %d", cp.Origin, cp.Size)},
		{"uco-core:description", fmt.Sprintf("Signed checkpoint (C2SP tlog-checkpoint) of the custody log %s: tree size %d, root hash %s (base64).", cp.Origin, cp.Size, cp.Root)},
	}
	noteFacets := []any{}
	if cp.Text != "" {
		sum := sha256.Sum256([]byte(cp.Text))
		noteFacets = append(noteFacets,
			obj{{"@id", id("checkpoint-text", "")}, {"@type", "uco-observable:NoteFacet"}, {"uco-observable:text", cp.Text}},
			obj{
				{"@id", id("checkpoint-content", "")},
				{"@type", "uco-observable:ContentDataFacet"},
				{"uco-observable:sizeInBytes", integer(int64(len(cp.Text)))},
				{"uco-observable:hash", []any{obj{
					{"@id", id("checkpoint-hash", "")},
					{"@type", "uco-types:Hash"},
					{"uco-types:hashMethod", "SHA256"},
					{"uco-types:hashValue", typed{"xsd:hexBinary", hex.EncodeToString(sum[:])}},
				}}},
			})
	}
	sig := obj{
		{"@id", id("checkpoint-signature", "")},
		{"@type", "uco-observable:DigitalSignatureInfoFacet"},
		{"uco-observable:signatureExists", true},
		{"uco-observable:signatureVerified", true},
		{"uco-observable:signatureDescription", fmt.Sprintf("C2SP signed-note signature of the custody log %s by its key %s (SHA-256 fingerprint %s); %d witness cosignature(s) verified.", cp.Origin, cp.LogKey, cp.LogKeyFingerprint, len(cp.Cosignatures))},
	}
	var logKey obj
	if cp.LogKey != "" {
		logKeyID := id("log-key", "")
		sig.add("uco-observable:certificateSubject", ref(logKeyID))
		content := obj{
			{"@id", id("log-key-content", "")},
			{"@type", "uco-observable:ContentDataFacet"},
			{"uco-observable:dataPayload", cp.LogKey},
			{"uco-observable:sizeInBytes", integer(int64(len(cp.LogKey)))},
		}
		if cp.LogKeyFingerprint != "" {
			if !isHex(cp.LogKeyFingerprint) {
				return nil, fmt.Errorf("%w: log key fingerprint %q is not hexadecimal", ErrExport, cp.LogKeyFingerprint)
			}
			content.add("uco-observable:hash", []any{obj{
				{"@id", id("log-key-hash", "")},
				{"@type", "uco-types:Hash"},
				{"uco-types:hashMethod", "SHA256"},
				{"uco-types:hashValue", typed{"xsd:hexBinary", cp.LogKeyFingerprint}},
			}})
		}
		logKey = obj{
			{"@id", logKeyID},
			{"@type", "uco-observable:ObservableObject"},
			{"uco-core:name", "Custody log key of " + cp.Origin},
			{"uco-core:description", "The note verifier key (C2SP signed-note) of the custody log; its SHA-256 is the log key fingerprint."},
			{"uco-core:hasFacet", []any{content}},
		}
	}
	noteFacets = append(noteFacets, sig)
	note.add("uco-core:hasFacet", noteFacets)
	signed = append(signed, note)
	if logKey != nil {
		signed = append(signed, logKey)
	}
	covered := []any{ref(checkpoint)}
	for _, s := range seqs {
		seq := strconv.FormatUint(s, 10)
		covered = append(covered, ref(id("log-entry", seq, seq)))
	}
	signed = append(signed, obj{
		{"@id", id("attestation", "")},
		{"@type", "uco-core:Annotation"},
		{"uco-core:name", "Inclusion of the record's custody events in the signed checkpoint"},
		{"uco-core:statement", fmt.Sprintf("Every custody event of this record (%d events) is included in the custody log %s at tree size %d, root hash %s, as the checkpoint signed by the log key with SHA-256 fingerprint %s shows; %d witness cosignature(s), %d RFC 3161 time-stamp(s).",
			len(seqs), cp.Origin, cp.Size, cp.Root, cp.LogKeyFingerprint, len(cp.Cosignatures), len(cp.Timestamps))},
		{"uco-core:object", covered},
	})
	var witnesses []any
	for i, c := range cp.Cosignatures {
		n := strconv.Itoa(i + 1)
		act := obj{
			{"@id", id("cosignature", n, n, c.Witness)},
			{"@type", "uco-action:Action"},
			{"uco-core:name", "Witness cosignature"},
			{"uco-core:description", "C2SP tlog-cosignature of the checkpoint by the witness " + c.Witness},
		}
		if !c.Time.IsZero() {
			act.add("uco-action:startTime", dateTime(c.Time))
		}
		if c.Witness != "" {
			wid := id("witness", "", c.Witness)
			if !x.identities[wid] {
				x.identities[wid] = true
				witnesses = append(witnesses, obj{{"@id", wid}, {"@type", "uco-identity:Identity"}, {"uco-core:name", c.Witness}})
			}
			act.add("uco-action:performer", ref(wid))
		}
		act.add("uco-action:object", ref(checkpoint))
		signed = append(signed, act)
	}
	for i, t := range cp.Timestamps {
		n := strconv.Itoa(i + 1)
		desc := "Time-stamp token serial number " + t.Serial + " over the checkpoint"
		if t.Authority != "" {
			desc += ", by " + t.Authority
		}
		act := obj{
			{"@id", id("timestamp", n, n, t.Serial)},
			{"@type", "uco-action:Action"},
			{"uco-core:name", "RFC 3161 time-stamp"},
			{"uco-core:description", desc},
		}
		if !t.Time.IsZero() {
			act.add("uco-action:startTime", dateTime(t.Time))
		}
		if t.Authority != "" {
			aid := id("time-stamping-authority", "", t.Authority)
			if !x.identities[aid] {
				x.identities[aid] = true
				witnesses = append(witnesses, obj{{"@id", aid}, {"@type", "uco-identity:Organization"}, {"uco-core:name", t.Authority}})
			}
			act.add("uco-action:performer", ref(aid))
		}
		act.add("uco-action:object", ref(checkpoint))
		signed = append(signed, act)
	}
	signed = append(signed, witnesses...)
	return signed, nil
}

// actor returns the node an actor acts as, adding their nodes the first
// time: the role node, which a Has_Role relationship ties to the person
// (CASE's pattern); the person when they have no role; "" when the event
// names no one. The system (role "system") is a uco-tool:Tool, not a
// person.
func (x *exporter) actor(p custody.Person) string {
	id := x.ids.id
	var person string
	if p.Name != "" {
		kind, typ := "person", "uco-identity:Person"
		if p.Role == "system" {
			kind, typ = "software", "uco-tool:Tool"
		}
		person = id(kind, "", p.Name)
		if !x.identities[person] {
			x.identities[person] = true
			x.people = append(x.people, obj{{"@id", person}, {"@type", typ}, {"uco-core:name", p.Name}})
		}
	}
	if p.Role == "" {
		return person
	}
	role := id("role", p.Role, p.Name, p.Role)
	if !x.roles[[2]string{p.Name, p.Role}] {
		x.roles[[2]string{p.Name, p.Role}] = true
		typ := "uco-role:Role"
		switch p.Role {
		case "investigator":
			typ = "case-investigation:Investigator"
		case "prosecutor", "defence":
			typ = "case-investigation:Attorney"
		}
		x.people = append(x.people, obj{{"@id", role}, {"@type", typ}, {"uco-core:name", p.Role}})
		if person != "" {
			x.people = append(x.people, obj{
				{"@id", id("has-role", "", p.Name, p.Role)},
				{"@type", "uco-core:Relationship"},
				{"uco-core:source", ref(person)},
				{"uco-core:target", ref(role)},
				{"uco-core:kindOfRelationship", "Has_Role"},
				{"uco-core:isDirectional", true},
			})
		}
	}
	return role
}

func (x *exporter) caseDescription() string {
	r := x.r
	var b strings.Builder
	fmt.Fprintf(&b, "Chain of custody of case %s", r.Case.ID)
	switch {
	case r.Package != nil:
		fmt.Fprintf(&b, ", as the report of package %s", r.Package.ID)
	case r.Report != nil:
		fmt.Fprintf(&b, ", as a report made on demand (event %d)", r.Report.Seq)
	}
	if r.Generator != "" {
		fmt.Fprintf(&b, ", made by %s", r.Generator)
	}
	b.WriteString(". Retention: ")
	if r.Retention != "" {
		b.WriteString(r.Retention)
	} else {
		b.WriteString("the vault's default")
	}
	b.WriteString(". Legal hold: ")
	b.WriteString(map[bool]string{true: "on", false: "none"}[r.Held])
	b.WriteString(". Destroyed: ")
	b.WriteString(map[bool]string{true: "yes", false: "no"}[r.Destroyed])
	b.WriteString(".")
	return b.String()
}

func personText(p custody.Person) string {
	switch {
	case p.Name == "":
		return p.Role
	case p.Role == "":
		return p.Name
	}
	return p.Name + " (" + p.Role + ")"
}

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// differs is a, or "" when it is b.
func differs(a, b string) string {
	if a == b {
		return ""
	}
	return a
}

// namesPackage reports whether an event's details name package pkg
// ("package pk_1, ...").
func namesPackage(details, pkg string) bool {
	for s := details; ; {
		i := strings.Index(s, "package "+pkg)
		if i < 0 {
			return false
		}
		s = s[i+len("package "+pkg):]
		if s == "" || !readable(s[:1]) {
			return true
		}
	}
}

func sameEvent(a, b custody.Event) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Type == b.Type && a.Action == b.Action && a.Actor == b.Actor &&
		a.Auth == b.Auth && a.Purpose == b.Purpose && a.Details == b.Details && a.Item == b.Item && a.LeafHash == b.LeafHash
}
