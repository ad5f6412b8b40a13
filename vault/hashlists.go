package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/printable"
)

// Hash lists for partner agencies (docs/formats.md).
//
// A case's hash list is built from the deposit events of its items, then
// recorded (case.hashes.exported: format, item count, the list's size and
// SHA-256) before it is answered, so that the log says who exported which
// hashes of which case, and a list found later can be matched to its
// event.

// TypeHashesExported records a hash list of a case leaving the vault.
const TypeHashesExported = "case.hashes.exported"

// HashFormats are the formats of ExportHashes.
var HashFormats = []string{"sha256sum", "sha1sum", "md5sum", "csv", "vics"}

// HashesExported is the data of case.hashes.exported.
type HashesExported struct {
	Format string `json:"format"`
	Items  int    `json:"items"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// HashList is an exported hash list: its bytes, and the event that
// recorded it.
type HashList struct {
	Format string
	Body   []byte
	SHA256 string
	Event  uint64
	// Items is how many items it lists.
	Items int
}

// VICSDocument is a Project VIC (VICS 2.0) JSON document in its OData
// layout: an @odata.context and a value of cases, each with its media
// (docs/formats.md says which fields Custos fills, from what).
type VICSDocument struct {
	Context string     `json:"@odata.context"`
	Value   []VICSCase `json:"value"`
}

// VICSCase is one case of a VICS document.
type VICSCase struct {
	CaseNumber            string      `json:"CaseNumber"`
	SourceApplicationName string      `json:"SourceApplicationName"`
	Media                 []VICSMedia `json:"Media"`
}

// VICSMedia is one item: its MD5 and SHA-1 in upper-case hex (the
// model's convention; absent when the deposit computed none), its size in
// bytes and its file.
type VICSMedia struct {
	MediaID   int    `json:"MediaID"`
	MD5       string `json:"MD5,omitempty"`
	SHA1      string `json:"SHA1,omitempty"`
	MediaSize int64  `json:"MediaSize"`
	// Category and Series: the item's settled classification mapped
	// onto VICS (vicsCategory), and its series; absent when unsettled.
	Category   *int            `json:"Category,omitempty"`
	Series     string          `json:"Series,omitempty"`
	MediaFiles []VICSMediaFile `json:"MediaFiles"`
}

// vicsCategory maps an INHOPE category onto the VICS category numbers
// (docs/formats.md): baseline 1, national 2; not-illegal has none: VICS 0 is "uncategorised" to many readers, this
// vault's import among them (docs/hotline.md, section 4), which give such
// an entry the category its import names, so a 0 would list a file found
// not illegal as illegal at whoever imports the list.
func vicsCategory(c string) *int {
	n, ok := map[string]int{CategoryBaseline: 1, CategoryNational: 2}[c]
	if !ok {
		return nil
	}
	return &n
}

// itemSeries is the series an item's agreeing votes name (all the same),
// or that of the hash-set entry its category was inherited from.
func itemSeries(cl Classification) string {
	if cl.Source == "hashset" && cl.Inherit != nil {
		return cl.Inherit.Series
	}
	series := ""
	for _, v := range cl.Votes {
		if v.Category != cl.Category || v.Series == "" {
			continue
		}
		if series != "" && series != v.Series {
			return ""
		}
		series = v.Series
	}
	return series
}

// VICSMediaFile is where the item was found: the deposited name's last
// element and the folder before it.
type VICSMediaFile struct {
	FileName string `json:"FileName"`
	FilePath string `json:"FilePath"`
}

// vicsContext is the OData context of a Project VIC (VICS) 2.0 case list.
const vicsContext = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Cases"

// ExportHashes builds a case's hash list in format (one of HashFormats)
// for an investigator assigned to the case or a custodian, records it,
// and returns it. The plain formats need every item to have that hash
// (MD5 and SHA-1 are skipped at deposit with --no-legacy-hashes): an item
// without it fails the export, naming it.
func (v *Vault) ExportHashes(ctx context.Context, who Principal, caseID, format string) (*HashList, error) {
	if who.Role == RoleCustodian || handlesEvidence(who.Role) {
		// Told to who could export a case's hashes; anyone else is
		// refused below before the id is read (rule 9).
		if err := checkCaseID(caseID); err != nil {
			return nil, err
		}
	}
	c, ok := v.state.getCase(caseID)
	mayExport := func(c Case) bool { return who.Role == RoleCustodian || v.memberOf(who, c) }
	if !ok || !(who.Role == RoleCustodian || assigned(who, c)) {
		return nil, v.refuseUnseen(ctx, who, "case.hashes", "case", caseID, ok, "only the case's investigators and custodians export its hashes", "only the case's investigators and custodians export its hashes; "+assignsPeople)
	}
	// What was asked, once who may ask is decided (security.md rule 9).
	if !slices.Contains(HashFormats, format) {
		return nil, notOneOf("format", format, HashFormats)
	}
	pre := func(c Case, ok bool) error {
		if err := liveCase(caseID, c, ok); err != nil {
			return err
		}
		if !mayExport(c) {
			return refused(ErrForbidden, "only the case's investigators and custodians export its hashes")
		}
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return nil, v.refusedAs(ctx, who, "case.hashes", caseID, err)
	}
	var items []Item
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
			items = append(items, it)
		}
	}
	recorded, err := v.depositRecords(ctx, items)
	if err != nil {
		return nil, err
	}
	// A VICS list names each item's category: read once, for the body
	// and for what the event's check compares at its position, as a
	// report's forward does (a vote in between refuses the export, to be
	// repeated, rather than let it name a category the log replaced).
	// Categories are as exports state them (statedClassification).
	cls := map[string]Classification{}
	known := newKnownChecks()
	said := func(items []Item, k *knownChecks) (string, error) {
		var b strings.Builder
		if format == "vics" {
			for _, it := range items {
				cl, err := v.statedClassification(ctx, it, k)
				if err != nil {
					return "", err
				}
				if !k.atPosition {
					cls[it.ID] = cl
				}
				b.WriteString(exportedLine(it, cl))
			}
		}
		return b.String(), nil
	}
	exported, err := said(items, known)
	if err != nil {
		return nil, err
	}
	body, err := hashList(caseID, format, recorded, func(it Item) Classification { return cls[it.ID] })
	if err != nil {
		return nil, err
	}
	sum := sha256Hex(body)
	check := v.atPositionAfter(caseID, func(c Case, ok bool) error {
		if err := pre(c, ok); err != nil {
			return err
		}
		now := make([]Item, 0, len(items))
		for _, it := range items {
			cur, ok, err := v.state.getItem(it.ID)
			if err != nil {
				return err
			}
			if ok {
				now = append(now, cur)
			}
		}
		if at, err := said(now, &knownChecks{m: known.m, atPosition: true, sets: known.sets}); err != nil {
			return err
		} else if at != exported {
			return refused(ErrConflict, "an item of case %s was classified while its export was built; repeat", caseID)
		}
		return nil
	}, func(ev *events.Event) bool { return format == "vics" && changesCategories(ev) })
	evs, err := v.append(ctx, sequencer.Draft{Type: TypeHashesExported, Actor: who.actor(), Case: caseID,
		Data: HashesExported{Format: format, Items: len(items), Size: len(body), SHA256: sum}, Check: check})
	if err = v.refusedAs(ctx, who, "case.hashes", caseID, err); err != nil {
		return nil, fmt.Errorf("recording the export: %w", err)
	}
	return &HashList{Format: format, Body: body, SHA256: sum, Event: evs[0].Seq, Items: len(items)}, nil
}

// exportedLine is what an export names of an item whose category it
// gives, one line, which its event's check compares at its position
// (ForwardReport, ExportHashes): its id, category and series.
func exportedLine(it Item, cl Classification) string {
	return fmt.Sprintf("%s %s %q\n", it.ID, cl.Category, itemSeries(cl))
}

// hashList renders items in format; classify gives each item's
// classification (for VICS), or is nil.
func hashList(caseID, format string, items []recordedItem, classify func(Item) Classification) ([]byte, error) {
	var b bytes.Buffer
	switch format {
	case "sha256sum", "sha1sum", "md5sum":
		for _, it := range items {
			d := it.Record
			sum := map[string]string{"sha256sum": d.SHA256, "sha1sum": d.SHA1, "md5sum": d.MD5}[format]
			if sum == "" {
				return nil, fmt.Errorf("%w: item %s (%s) has no %s: it was deposited without MD5 and SHA-1 (--no-legacy-hashes); use sha256sum, csv or vics",
					ErrConflict, it.ID, truncate(d.Name), strings.TrimSuffix(format, "sum"))
			}
			b.WriteString(sumLine(sum, d.Name))
		}
	case "csv":
		writeCSVRow(&b, "item", "name", "size", "sha256", "sha1", "md5", "deposited_at", "deposit_event")
		for _, it := range items {
			d := it.Record
			writeCSVRow(&b, it.ID, csvText(d.Name), strconv.FormatInt(d.Size, 10), d.SHA256, d.SHA1, d.MD5, it.At.Time().Format(time.RFC3339Nano), strconv.FormatUint(it.DepositAt, 10))
		}
	case "vics":
		c := VICSCase{CaseNumber: caseID, SourceApplicationName: "Custos", Media: []VICSMedia{}}
		for i, it := range items {
			d := it.Record
			dir := path.Dir(d.Name)
			if dir == "." {
				dir = ""
			}
			m := VICSMedia{MediaID: i + 1, MD5: strings.ToUpper(d.MD5), SHA1: strings.ToUpper(d.SHA1), MediaSize: d.Size,
				MediaFiles: []VICSMediaFile{{FileName: path.Base(d.Name), FilePath: dir}}}
			if classify != nil {
				cl := classify(it.Item)
				m.Category, m.Series = vicsCategory(cl.Category), itemSeries(cl)
			}
			c.Media = append(c.Media, m)
		}
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(VICSDocument{Context: vicsContext, Value: []VICSCase{c}}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// sumLine is one line of the GNU coreutils checksum format (sha256sum,
// sha1sum, md5sum): the hash, two spaces, the name as the file is named
// on disk (a name's \xHH escapes, for bytes that are not UTF-8, are
// written as those bytes, as custos-verify --extract restores them). A
// name holding a backslash, a newline or a carriage return is escaped as
// coreutils escapes it (\\, \n, \r) and its line starts with a
// backslash, so that `sha256sum -c` reads it back.
func sumLine(sum, name string) string {
	if raw, ok := printable.Unescape(name); ok {
		name = string(raw)
	}
	if !strings.ContainsAny(name, "\\\n\r") {
		return sum + "  " + name + "\n"
	}
	r := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
	return "\\" + sum + "  " + r.Replace(name) + "\n"
}

// writeCSVRow writes one RFC 4180 row with every field quoted, so that a
// spreadsheet that splits on semicolons (the default in many European
// locales) or tabs still reads each field as one cell, never a formula
// after a separator inside a name.
func writeCSVRow(b *bytes.Buffer, fields ...string) {
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
	}
	b.WriteString("\r\n")
}

// csvText keeps a spreadsheet from taking a file name for a formula
// (OWASP "CSV injection"): a name that starts with =, +, -, @, a tab or
// a carriage return gets a leading apostrophe.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
