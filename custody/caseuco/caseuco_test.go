package caseuco

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
)

var update = flag.Bool("update", false, "rewrite testdata/*.jsonld from the test records")

func records() map[string]func() *custody.Record {
	return map[string]func() *custody.Record{"report": reportRecord, "package": packageRecord, "bare": bareRecord, "small": smallRecord}
}

func marshal(t *testing.T, r *custody.Record) []byte {
	t.Helper()
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if err := Export(&w, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), b) {
		t.Fatal("Export and Marshal differ")
	}
	return b
}

// TestDeterministic: the same record gives the same bytes, and the
// package record's export is the one in testdata (go test -update
// rewrites it after a deliberate change; docs/formats.md shows it).
func TestDeterministic(t *testing.T) {
	for name, rec := range records() {
		a, b := marshal(t, rec()), marshal(t, rec())
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two exports of the same record differ", name)
		}
		if !json.Valid(a) || !bytes.HasSuffix(a, []byte("}\n")) {
			t.Errorf("%s: not one JSON document ending in a newline", name)
		}
	}
	golden := filepath.Join("testdata", "package-record.jsonld")
	got := marshal(t, packageRecord())
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the package record's export differs from %s (go test ./custody/caseuco -run TestDeterministic -update, after a deliberate change)", golden)
	}
}

// TestIDs: every node has an IRI under the case's base that ends with a
// UUID, and no two nodes share one.
func TestIDs(t *testing.T) {
	uuid := regexp.MustCompile(`^kb:[a-z-]+-([A-Za-z0-9._-]+-)?[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for name, rec := range records() {
		doc := parse(t, marshal(t, rec()))
		seen := map[string]bool{}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				if id, ok := x["@id"].(string); ok && len(x) > 1 {
					if !uuid.MatchString(id) {
						t.Errorf("%s: node id %q", name, id)
					}
					if seen[id] {
						t.Errorf("%s: node %s written twice", name, id)
					}
					seen[id] = true
				}
				for k, e := range x {
					if k != "@context" {
						walk(e)
					}
				}
			}
		}
		walk(doc.raw["@graph"])
		// Every reference is to a node of the graph.
		var refs func(v any)
		refs = func(v any) {
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					refs(e)
				}
			case map[string]any:
				if id, ok := x["@id"].(string); ok && len(x) == 1 && !seen[id] {
					t.Errorf("%s: reference to %s, which is not in the graph", name, id)
				}
				for _, e := range x {
					refs(e)
				}
			}
		}
		refs(doc.raw["@graph"])
	}
	if got := Base("c 1/ü"); got != "urn:custos:c%201%2F%C3%BC:" {
		t.Errorf("Base = %q", got)
	}
}

// TestText: names are written exactly, with the characters that would
// reorder or hide text escaped in the JSON (and only those).
func TestText(t *testing.T) {
	b := marshal(t, reportRecord())
	for _, bad := range []string{"\u202e", "\u202c", "\u200b", "\u2028", "\x01"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("the export holds %U unescaped", []rune(bad)[0])
		}
	}
	for _, esc := range []string{`\u202e`, `\u200b`, `\u2028`, `\u0001`, `\n`, `\"shared\"`} {
		if !bytes.Contains(b, []byte(esc)) {
			t.Errorf("the export does not hold %s", esc)
		}
	}
	for _, kept := range []string{"រូបថត/ឯកសារ", "😀", "✓", "«PO-7»"} {
		if !bytes.Contains(b, []byte(kept)) {
			t.Errorf("the export does not hold %q as it is", kept)
		}
	}
	doc := parse(t, b)
	if got := str(doc.byType("case-investigation:Investigation")[0], "case-investigation:focus"); got != titleTrick {
		t.Errorf("title read back %q", got)
	}
}

func TestErrors(t *testing.T) {
	for name, mutate := range map[string]func(r *custody.Record){
		"no case id":        func(r *custody.Record) { r.Case.ID = "" },
		"name not UTF-8":    func(r *custody.Record) { r.Items[0].Name = "a\xffb" },
		"hash not hex":      func(r *custody.Record) { r.Items[1].Hashes.SHA256 = "xyz0" },
		"odd hex":           func(r *custody.Record) { r.Items[0].Hashes.MD5 = "abc" },
		"leaf hash":         func(r *custody.Record) { r.Items[0].Chain[1].LeafHash = "not hex" },
		"fingerprint":       func(r *custody.Record) { r.Checkpoint.LogKeyFingerprint = "SHA256:abc" },
		"event differs":     func(r *custody.Record) { r.Items[0].Chain[0].Purpose = "other" },
		"item twice":        func(r *custody.Record) { r.Items = append(r.Items, r.Items[0]) },
		"disclosed unknown": func(r *custody.Record) { r.Disclosures[0].Items = []string{"it_nope"} },
		"package twice":     func(r *custody.Record) { r.Disclosures[1].Package = "pk_main" },
	} {
		r := reportRecord()
		if name == "disclosed unknown" || name == "package twice" {
			r = packageRecord()
		}
		mutate(r)
		var w bytes.Buffer
		err := Export(&w, r)
		if !errors.Is(err, ErrExport) {
			t.Errorf("%s: err = %v, want ErrExport", name, err)
		}
		if w.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, w.Len())
		}
	}
	if _, err := Marshal(nil); !errors.Is(err, ErrExport) {
		t.Errorf("nil record: %v", err)
	}
}

// TestReadBack parses each export back and compares it, fact by fact,
// with the record it was made from.
func TestReadBack(t *testing.T) {
	for name, rec := range records() {
		t.Run(name, func(t *testing.T) {
			r := rec()
			readBack(t, r, parse(t, marshal(t, r)))
		})
	}
}

// reporter is what readBack reports to: a *testing.T, or a recorder that
// shows readBack notices what it should.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

type recorder struct{ errs []string }

type stopped struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(stopped{})
}

// TestReadBackNotices: compared with a record that differs from the one
// exported in one fact, the read-back reports that fact.
func TestReadBackNotices(t *testing.T) {
	for name, mutate := range map[string]func(r *custody.Record){
		"hash":        func(r *custody.Record) { r.Items[0].Hashes.SHA1 = hashes("other").SHA1 },
		"size":        func(r *custody.Record) { r.Items[1].Size = 7 },
		"purpose":     func(r *custody.Record) { r.Items[0].Chain[1].Purpose = "other" },
		"person":      func(r *custody.Record) { r.Items[0].Chain[1].Actor.Name = "mallory" },
		"role":        func(r *custody.Record) { r.CaseEvents[1].Actor.Role = "auditor" },
		"time":        func(r *custody.Record) { r.Items[1].Chain[2].Time = r.Items[1].Chain[2].Time.Add(time.Nanosecond) },
		"acquisition": func(r *custody.Record) { r.Items[1].Acquisition.MD5 = "" },
		"seq":         func(r *custody.Record) { r.CaseEvents[2].Seq = 99 },
		"cosignature": func(r *custody.Record) { r.Checkpoint.Cosignatures[1].Witness = "w" },
		"serial":      func(r *custody.Record) { r.Checkpoint.Timestamps[0].Serial = "34" },
		"title":       func(r *custody.Record) { r.Case.Title += "." },
	} {
		doc := parse(t, marshal(t, reportRecord()))
		r := reportRecord()
		mutate(r)
		rec := &recorder{}
		func() {
			defer func() {
				if p := recover(); p != nil {
					if _, ok := p.(stopped); !ok {
						panic(p)
					}
				}
			}()
			readBack(rec, r, doc)
		}()
		if len(rec.errs) == 0 {
			t.Errorf("%s: a record that differs reads back as the export", name)
		}
	}
}

func readBack(t reporter, r *custody.Record, doc *graph) {
	t.Helper()
	inv := doc.byType("case-investigation:Investigation")
	if len(inv) != 1 {
		t.Fatalf("%d investigations", len(inv))
	}
	if got := str(inv[0], "uco-core:name"); got != r.Case.ID {
		t.Errorf("case name %q, want %q", got, r.Case.ID)
	}
	if got := str(inv[0], "case-investigation:focus"); got != r.Case.Title {
		t.Errorf("case focus %q, want %q", got, r.Case.Title)
	}
	if len(refs(inv[0], "uco-core:object")) != len(doc.raw["@graph"].([]any))-1 {
		t.Errorf("the investigation does not compile every other node")
	}

	// Items: file, facets, hashes, exhibit.
	exhibits := map[string]map[string]any{}
	for _, p := range doc.byType("case-investigation:ProvenanceRecord") {
		exhibits[str(p, "case-investigation:exhibitNumber")] = p
	}
	fileOf := map[string]string{} // item id by file node id
	for _, it := range r.Items {
		p := exhibits[it.ID]
		if p == nil {
			t.Errorf("item %s: no provenance record", it.ID)
			continue
		}
		files := refs(p, "uco-core:object")
		if len(files) != 1 {
			t.Fatalf("item %s: provenance record of %d objects", it.ID, len(files))
		}
		f := doc.node(files[0])
		if !hasType(f, "uco-observable:File") {
			t.Errorf("item %s: %v is not a File", it.ID, f["@type"])
		}
		fileOf[files[0]] = it.ID
		var name, size, csize string
		got := map[string]string{}
		for _, fc := range doc.nodes(f, "uco-core:hasFacet") {
			switch {
			case hasType(fc, "uco-observable:FileFacet"):
				name, size = str(fc, "uco-observable:fileName"), str(fc, "uco-observable:sizeInBytes")
			case hasType(fc, "uco-observable:ContentDataFacet"):
				csize = str(fc, "uco-observable:sizeInBytes")
				for _, h := range doc.nodes(fc, "uco-observable:hash") {
					if typ(h, "uco-types:hashValue") != "xsd:hexBinary" {
						t.Errorf("item %s: hash value typed %q", it.ID, typ(h, "uco-types:hashValue"))
					}
					got[str(h, "uco-types:hashMethod")] = str(h, "uco-types:hashValue")
				}
			}
		}
		if name != it.Name || size != strconv.FormatInt(it.Size, 10) || csize != size {
			t.Errorf("item %s: name %q size %s/%s, want %q %d", it.ID, name, size, csize, it.Name, it.Size)
		}
		want := map[string]string{}
		for m, v := range map[string]string{"SHA256": it.Hashes.SHA256, "SHA1": it.Hashes.SHA1, "MD5": it.Hashes.MD5} {
			if v != "" {
				want[m] = v
			}
		}
		if !equalMaps(got, want) {
			t.Errorf("item %s: hashes %v, want %v", it.ID, got, want)
		}
		// The deposit's result is the exhibit; its arguments the
		// acquisition hashes, source and note.
		dep := doc.action(it.Deposit.Seq)
		if dep == nil {
			t.Fatalf("item %s: no action for its deposit %d", it.ID, it.Deposit.Seq)
		}
		if !slices.Contains(refs(dep, "uco-action:result"), str(p, "@id")) {
			t.Errorf("item %s: the deposit's results %v do not include the exhibit", it.ID, refs(dep, "uco-action:result"))
		}
		args := doc.args(dep)
		for k, v := range map[string]string{"acquisition SHA256": it.Acquisition.SHA256, "acquisition SHA1": it.Acquisition.SHA1,
			"acquisition MD5": it.Acquisition.MD5, "source": it.Source, "note": it.Note} {
			if args[k] != v {
				t.Errorf("item %s: deposit argument %q = %q, want %q", it.ID, k, args[k], v)
			}
		}
		if it.Path != "" && !strings.Contains(str(p, "uco-core:description"), it.Path) {
			t.Errorf("item %s: its path %s is not in its provenance record", it.ID, it.Path)
		}
	}

	// Events: one action and one log entry each, every fact.
	want := map[uint64]custody.Event{}
	onItems := map[uint64][]string{}
	add := func(e custody.Event, item string) {
		want[e.Seq] = e
		if item != "" && !slices.Contains(onItems[e.Seq], item) {
			onItems[e.Seq] = append(onItems[e.Seq], item)
		}
	}
	if r.Case.Opened.Type != "" {
		add(r.Case.Opened, "")
	}
	for _, e := range r.CaseEvents {
		add(e, "")
	}
	for _, it := range r.Items {
		for _, e := range it.Chain {
			add(e, it.ID)
		}
	}
	if n := len(doc.byType("uco-observable:EventRecord")); n != len(want) {
		t.Errorf("%d log entries, want %d", n, len(want))
	}
	for seq, e := range want {
		a := doc.action(seq)
		if a == nil {
			t.Errorf("event %d: no action", seq)
			continue
		}
		wantName := e.Action
		if wantName == "" {
			wantName = e.Type // an event this version cannot describe
		}
		if got := str(a, "uco-core:name"); got != wantName {
			t.Errorf("event %d: name %q, want %q", seq, got, wantName)
		}
		if got := str(a, "uco-core:description"); got != e.Details {
			t.Errorf("event %d: description %q, want %q", seq, got, e.Details)
		}
		if tm, err := time.Parse(time.RFC3339Nano, str(a, "uco-action:startTime")); err != nil || !tm.Equal(e.Time) || typ(a, "uco-action:startTime") != "xsd:dateTime" {
			t.Errorf("event %d: start time %q (%v), want %v", seq, str(a, "uco-action:startTime"), err, e.Time)
		}
		if got := doc.performer(a); got != e.Actor {
			t.Errorf("event %d: performer %+v, want %+v", seq, got, e.Actor)
		}
		args := doc.args(a)
		if args["purpose"] != e.Purpose || args["authentication"] != e.Auth {
			t.Errorf("event %d: purpose %q, authentication %q; want %q, %q", seq, args["purpose"], args["authentication"], e.Purpose, e.Auth)
		}
		var items []string
		for _, o := range refs(a, "uco-action:object") {
			if id, ok := fileOf[o]; ok {
				items = append(items, id)
			}
		}
		sort.Strings(items)
		wantItems := slices.Clone(onItems[seq])
		sort.Strings(wantItems)
		if !slices.Equal(items, wantItems) {
			t.Errorf("event %d: on items %v, want %v", seq, items, wantItems)
		}
		entry := doc.entry(a)
		if entry == nil {
			t.Errorf("event %d: no log entry among its results", seq)
			continue
		}
		var rec, leaf map[string]any
		for _, fc := range doc.nodes(entry, "uco-core:hasFacet") {
			if hasType(fc, "uco-observable:EventRecordFacet") {
				rec = fc
			}
			if hasType(fc, "uco-observable:ContentDataFacet") {
				leaf = doc.nodes(fc, "uco-observable:hash")[0]
			}
		}
		if str(rec, "uco-observable:eventRecordID") != strconv.FormatUint(seq, 10) || str(rec, "uco-observable:eventType") != e.Type {
			t.Errorf("event %d: log entry %q of type %q", seq, str(rec, "uco-observable:eventRecordID"), str(rec, "uco-observable:eventType"))
		}
		if e.LeafHash != "" && str(leaf, "uco-types:hashValue") != e.LeafHash {
			t.Errorf("event %d: leaf hash %q, want %q", seq, str(leaf, "uco-types:hashValue"), e.LeafHash)
		}
	}

	// The package.
	if p := r.Package; p != nil {
		a := doc.action(p.Sealing.Seq)
		var pkg map[string]any
		for _, id := range refs(a, "uco-action:result") {
			if n := doc.node(id); hasType(n, "uco-observable:ArchiveFile") {
				pkg = n
			}
		}
		if str(pkg, "uco-core:name") != p.ID {
			t.Errorf("the sealing's result is package %q, want %s", str(pkg, "uco-core:name"), p.ID)
		}
		if got := doc.performerOf(refs(a, "uco-action:participant")[0]); got != p.SealedFor {
			t.Errorf("sealed for %+v, want %+v", got, p.SealedFor)
		}
		if doc.performer(a) != p.SealedBy {
			t.Errorf("sealed by %+v, want %+v", doc.performer(a), p.SealedBy)
		}
		args := doc.args(a)
		if args["age recipient"] != p.Recipient || args["request"] != p.Request || args["requested by"] != p.RequestedBy ||
			args["discloses other packages"] != strconv.FormatBool(p.DisclosesOthers) || args["purpose"] != p.Purpose {
			t.Errorf("sealing arguments %v", args)
		}
	}
	for _, d := range r.Disclosures {
		var act map[string]any
		for _, a := range doc.byType("case-investigation:InvestigativeAction") {
			for _, id := range refs(a, "uco-action:result") {
				if n := doc.node(id); hasType(n, "uco-observable:ArchiveFile") && str(n, "uco-core:name") == d.Package && str(a, "uco-core:name") == "Disclosed in another package" {
					act = a
				}
			}
		}
		if act == nil {
			t.Errorf("disclosure %s: no action", d.Package)
			continue
		}
		if got := doc.performerOf(refs(act, "uco-action:participant")[0]); got != d.SealedFor {
			t.Errorf("disclosure %s: for %+v, want %+v", d.Package, got, d.SealedFor)
		}
		if tm, _ := time.Parse(time.RFC3339Nano, str(act, "uco-action:startTime")); !tm.Equal(d.SealedAt) {
			t.Errorf("disclosure %s: sealed %v, want %v", d.Package, tm, d.SealedAt)
		}
		var items []string
		for _, o := range refs(act, "uco-action:object") {
			items = append(items, fileOf[o])
		}
		if !slices.Equal(items, d.Items) {
			t.Errorf("disclosure %s: items %v, want %v", d.Package, items, d.Items)
		}
		desc := str(act, "uco-core:description")
		for _, tm := range []time.Time{d.Fetched, d.Received} {
			if !tm.IsZero() && !strings.Contains(desc, tm.UTC().Format(time.RFC3339Nano)) {
				t.Errorf("disclosure %s: %q does not say %v", d.Package, desc, tm)
			}
		}
		// Its subactions are its package's events.
		for _, s := range refs(act, "uco-action:subaction") {
			if !strings.Contains(str(doc.node(s), "uco-core:description"), "package "+d.Package) {
				t.Errorf("disclosure %s: subaction %s is not of its package", d.Package, s)
			}
		}
	}

	// The checkpoint.
	cp := r.Checkpoint
	notes := doc.byType("uco-observable:Note")
	if cp.Text == "" {
		if len(notes) != 0 {
			t.Errorf("a checkpoint without text exported")
		}
		return
	}
	if len(notes) != 1 {
		t.Fatalf("%d checkpoint notes", len(notes))
	}
	note := notes[0]
	for _, fc := range doc.nodes(note, "uco-core:hasFacet") {
		switch {
		case hasType(fc, "uco-observable:NoteFacet"):
			if str(fc, "uco-observable:text") != cp.Text {
				t.Errorf("checkpoint text %q, want %q", str(fc, "uco-observable:text"), cp.Text)
			}
		case hasType(fc, "uco-observable:DigitalSignatureInfoFacet"):
			key := doc.node(refs(fc, "uco-observable:certificateSubject")[0])
			content := doc.nodes(key, "uco-core:hasFacet")[0]
			if str(content, "uco-observable:dataPayload") != cp.LogKey || str(doc.nodes(content, "uco-observable:hash")[0], "uco-types:hashValue") != cp.LogKeyFingerprint {
				t.Errorf("log key %q, fingerprint %q", str(content, "uco-observable:dataPayload"), str(doc.nodes(content, "uco-observable:hash")[0], "uco-types:hashValue"))
			}
		}
	}
	desc := str(note, "uco-core:description")
	for _, want := range []string{cp.Origin, strconv.FormatUint(cp.Size, 10), cp.Root} {
		if !strings.Contains(desc, want) {
			t.Errorf("checkpoint description %q does not say %q", desc, want)
		}
	}
	att := doc.byType("uco-core:Annotation")
	if len(att) != 1 || len(refs(att[0], "uco-core:object")) != len(want)+1 {
		t.Errorf("the attestation does not cover the checkpoint and every event")
	}
	var cosigs, stamps []map[string]any
	for _, a := range doc.byType("uco-action:Action") {
		switch str(a, "uco-core:name") {
		case "Witness cosignature":
			cosigs = append(cosigs, a)
		case "RFC 3161 time-stamp":
			stamps = append(stamps, a)
		}
	}
	if len(cosigs) != len(cp.Cosignatures) || len(stamps) != len(cp.Timestamps) {
		t.Fatalf("%d cosignatures, %d time-stamps", len(cosigs), len(stamps))
	}
	for i, c := range cp.Cosignatures {
		a := cosigs[i]
		tm, _ := time.Parse(time.RFC3339Nano, str(a, "uco-action:startTime"))
		if str(doc.node(refs(a, "uco-action:performer")[0]), "uco-core:name") != c.Witness || !tm.Equal(c.Time) || refs(a, "uco-action:object")[0] != str(note, "@id") {
			t.Errorf("cosignature %d: %v", i, a)
		}
	}
	for i, s := range cp.Timestamps {
		a := stamps[i]
		tm, _ := time.Parse(time.RFC3339Nano, str(a, "uco-action:startTime"))
		var by string
		if p := refs(a, "uco-action:performer"); len(p) > 0 {
			by = str(doc.node(p[0]), "uco-core:name")
		}
		if by != s.Authority || !tm.Equal(s.Time) || !strings.Contains(str(a, "uco-core:description"), "serial number "+s.Serial+" ") {
			t.Errorf("time-stamp %d: %v", i, a)
		}
	}
}

// graph is an export read back: every node object by id.
type graph struct {
	raw map[string]any
	ids map[string]map[string]any
}

func parse(t *testing.T, b []byte) *graph {
	t.Helper()
	g := &graph{ids: map[string]map[string]any{}}
	if err := json.Unmarshal(b, &g.raw); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if id, ok := x["@id"].(string); ok && len(x) > 1 {
				g.ids[id] = x
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(g.raw["@graph"])
	return g
}

func (g *graph) node(id string) map[string]any { return g.ids[id] }

func (g *graph) nodes(n map[string]any, key string) []map[string]any {
	var out []map[string]any
	for _, id := range refs(n, key) {
		out = append(out, g.ids[id])
	}
	return out
}

func (g *graph) byType(typ string) []map[string]any {
	var out []map[string]any
	for _, n := range g.raw["@graph"].([]any) {
		if m := n.(map[string]any); hasType(m, typ) {
			out = append(out, m)
		}
	}
	return out
}

// action is the InvestigativeAction whose log entry is event seq.
func (g *graph) action(seq uint64) map[string]any {
	for _, a := range g.byType("case-investigation:InvestigativeAction") {
		if e := g.entry(a); e != nil {
			for _, fc := range g.nodes(e, "uco-core:hasFacet") {
				if str(fc, "uco-observable:eventRecordID") == strconv.FormatUint(seq, 10) {
					return a
				}
			}
		}
	}
	return nil
}

func (g *graph) entry(a map[string]any) map[string]any {
	for _, id := range refs(a, "uco-action:result") {
		if n := g.node(id); hasType(n, "uco-observable:EventRecord") {
			return n
		}
	}
	return nil
}

func (g *graph) args(a map[string]any) map[string]string {
	out := map[string]string{}
	for _, fc := range g.nodes(a, "uco-core:hasFacet") {
		out[str(fc, "uco-action:argumentName")] = str(fc, "uco-action:value")
	}
	return out
}

// performer is the person and role an action names as its performer.
func (g *graph) performer(a map[string]any) custody.Person {
	p := refs(a, "uco-action:performer")
	if len(p) == 0 {
		return custody.Person{}
	}
	return g.performerOf(p[0])
}

// performerOf reads a performer node: a role, with the person who has it
// (a Has_Role relationship), or a person.
func (g *graph) performerOf(id string) custody.Person {
	n := g.node(id)
	if hasType(n, "uco-identity:Person") || hasType(n, "uco-tool:Tool") {
		return custody.Person{Name: str(n, "uco-core:name")}
	}
	p := custody.Person{Role: str(n, "uco-core:name")}
	for _, rel := range g.byType("uco-core:Relationship") {
		if str(rel, "uco-core:kindOfRelationship") == "Has_Role" && refs(rel, "uco-core:target")[0] == id {
			p.Name = str(g.node(refs(rel, "uco-core:source")[0]), "uco-core:name")
		}
	}
	return p
}

func hasType(n map[string]any, typ string) bool {
	switch x := n["@type"].(type) {
	case string:
		return x == typ
	case []any:
		return slices.Contains(x, any(typ))
	}
	return false
}

// str is a property's value as a string: a plain string, a typed
// literal's @value, a boolean, or a node's @id.
func str(n map[string]any, key string) string {
	switch x := n[key].(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		if v, ok := x["@value"].(string); ok {
			return v
		}
		s, _ := x["@id"].(string)
		return s
	}
	return ""
}

func typ(n map[string]any, key string) string {
	m, _ := n[key].(map[string]any)
	s, _ := m["@type"].(string)
	return s
}

func refs(n map[string]any, key string) []string {
	var out []string
	one := func(v any) {
		if m, ok := v.(map[string]any); ok {
			if id, ok := m["@id"].(string); ok {
				out = append(out, id)
			}
		}
	}
	switch x := n[key].(type) {
	case []any:
		for _, e := range x {
			one(e)
		}
	default:
		one(x)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
