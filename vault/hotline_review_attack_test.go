package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/custos-vault/custos/events"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAttackHashSetManifestEditFlipsCategory: the table digest recorded in
// hashset.imported covers the six data files but not manifest.json, whose
// known_good and default_category decide what a match means. A file-system
// administrator who sets known_good (or clears default_category) in the
// manifest of a baseline sha256sum set keeps the set "in use" after a
// restart, and its matches stop being known material.
func TestAttackHashSetManifestEditFlipsCategory(t *testing.T) {
	v, hsDir, cust, anaTok := restartableHashSetVault(t)
	ctx := context.Background()
	file := []byte("known illegal content listed by a partner")
	_, _, sum := sums(file)
	if _, err := importSet(t, v, ctx, cust, HashSetImport{Name: "baseline", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(sum + "  a\n")}); err != nil {
		t.Fatal(err)
	}
	// The administrator's edit: the manifest only, the data files intact.
	mp := filepath.Join(hsDir, "baseline", "manifest.json")
	mb, err := os.ReadFile(mp)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	m["known_good"] = true
	m["default_category"] = ""
	mb, _ = json.Marshal(m)
	os.Chmod(mp, 0o600)
	if err := os.WriteFile(mp, mb, 0o600); err != nil {
		t.Fatal(err)
	}
	v.Close()
	v2, err := Open(ctx, v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	ana2, err := signIn(v2, anaTok)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := v2.HashSets(ctx, cust)
	res, err := v2.Deposit(ctx, ana2, DepositRequest{Case: "HL-1", Name: "f.jpg", Body: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 1 && list[0].Status == "in use" && res.Known == "" {
		t.Fatalf("a set whose manifest was edited on disk is still in use (%q) and its baseline match now reads %+v; the item is not known material", list[0].Status, res.Matches)
	}
}

// TestAttackForwardLeaksOtherCase: an analyst who is not assigned to the
// case a report was assessed into forwards the report and receives the
// names and hashes of that case's items (DESIGN: analysts may not read
// other hotline cases).
func TestAttackForwardLeaksOtherCase(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst) // not a member of HL-1
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	it := h.deposit(t, h.a1, "victim-firstname-lastname.jpg", []byte("capture"), rp)
	// Even the report's detail names the other case and its items.
	if rv, err := v.ReportDetail(ctx, outsider, rp); err == nil && (rv.Case != "" || len(rv.Items) > 0) {
		t.Errorf("an analyst outside case HL-1 reads its case id and item ids through the report: case %q items %v", rv.Case, rv.Items)
	}
	list, err := v.ForwardReport(ctx, outsider, rp, "partner", "police", "csv")
	if err == nil && (bytes.Contains(list.Body, []byte(it.SHA256)) || bytes.Contains(list.Body, []byte("victim-firstname"))) {
		t.Fatalf("an analyst outside case HL-1 exported its items' names and hashes:\n%s", list.Body)
	}
}

// TestAttackSlowProbeBlocksDeposit: the deposit tees its plaintext into
// the media probe through a synchronous io.Pipe, so a probe that is slow
// to read (a decoder busy on a pathological image: see
// pdq.TestAttackProgressiveJPEGScansStallDeposit, ~50 ms of decoding per
// 90-byte JPEG scan) blocks the deposit's own read. The one-minute
// timeout in mediaProbe.result is never reached: it is only armed after
// the encryption has read the whole body.
func TestAttackSlowProbeBlocksDeposit(t *testing.T) {
	h := newHotline(t)
	release := make(chan struct{})
	defer close(release)
	h.v.probeGrace = time.Second
	h.v.hashImage = func(r io.Reader) *MediaInfo {
		var b [1]byte
		r.Read(b[:])
		<-release // a decoder that does not come back for a long time
		return &MediaInfo{Kind: "image", NotHashed: "slow"}
	}
	body := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 256<<10)...)
	done := make(chan error, 1)
	go func() {
		_, err := h.v.Deposit(h.ctx, h.a1, DepositRequest{Case: "HL-1", Name: "slow.png", Body: bytes.NewReader(body)})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the deposit of a 256 KiB file is still blocked after 20 s by a probe that does not read: the probe blocks the deposit")
	}
}

// TestAttackOversizedVICSEntryHidesItsMatch: the VICS reader bounds no
// member's length, so an entry whose PhotoDNA (or Series, FileName) is
// over 1 MiB is imported and written, but Set.Entry refuses to read a
// record over maxRecord (1 MiB) as corrupt; Set.Lookup then fails, and
// hashSets.match logs the error and lets the deposit go on without the
// match. A file listed in the set is deposited without being known
// material, while the import reported the entry as imported.
func TestAttackOversizedVICSEntryHidesItsMatch(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	file := []byte("listed abuse material")
	other := []byte("another listed file")
	md5hex, _, _ := sums(file)
	otherMD5, _, _ := sums(other)
	vics := `{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media","value":[` +
		`{"MediaID":1,"Category":1,"MD5":"` + md5hex + `","PhotoDNA":"` + strings.Repeat("A", 1<<20+16) + `"},` + "\n" +
		`{"MediaID":2,"Category":1,"MD5":"` + otherMD5 + `"}]}`
	res, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "pv", Format: "vics", Body: strings.NewReader(vics)})
	if err != nil {
		t.Fatal(err)
	}
	// The oversized entry is rejected at import, with its line and why,
	// rather than counted and then never matched.
	if res.Imported != 1 || res.Rejected != 1 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Reason, "PhotoDNA") {
		t.Fatalf("import of an oversized entry: %+v", res)
	}
	if d := h.deposit(t, h.a1, "other.jpg", other, ""); len(d.Matches) != 1 || d.Known == "" {
		t.Fatalf("the valid entry does not match: %+v", d)
	}
}

// TestAttackOneVoteUnhidesKnownMaterial: knownBecause stops at the first
// vote (len(cl.Tally) > 0) before the hash-set rule. In a case whose
// policy needs two votes, an analyst casts one vote, even "baseline",
// on an item that matched a known-illegal set, and then views it
// without --reveal-known: the access event carries no override and the
// exposure counts no override.
func TestAttackOneVoteUnhidesKnownMaterial(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	file := []byte("listed abuse material, known to the partner hotline")
	_, _, sha := sums(file)
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(sha + "  x\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	d := h.deposit(t, h.a1, "listed.jpg", file, "")
	if d.Known == "" {
		t.Fatal("setup: the item is not known")
	}
	if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.view(h.a1, d.ID, false); err == nil {
		t.Fatal("a hash-set baseline item was shown without the override after its viewer cast one baseline vote")
	}
}

// TestAttackAuditorReadsReporterContact: docs/hotline.md gives auditors
// and custodians reports "without the reporter's contact", but the
// contact is stored in clear in report.received, which every auditor
// reads through the log routes (Timeline, /v1/log/events), and which the
// log store's administrator reads directly.
func TestAttackAuditorReadsReporterContact(t *testing.T) {
	h := newHotline(t)
	aud := enrolled(t, h.v, "aud", RoleAuditor)
	if _, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/a"}, Contact: "+855 12 345 678 (mother of the child)"}); err != nil {
		t.Fatal(err)
	}
	var leaked bool
	err := h.v.Timeline(h.ctx, aud, "", "", func(r events.Record, _ *events.Event) error {
		if bytes.Contains(r.Bytes, []byte("+855 12 345 678")) {
			leaked = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if leaked {
		t.Fatal("an auditor read the reporter's contact from the custody log")
	}
	// Sealed, it is still the analysts': one report's detail opens it,
	// recorded by name before it is shown; a list never does.
	list, err := h.v.Reports(h.ctx, h.a1, "")
	if err != nil || len(list) != 1 || list[0].Contact != "" || !list[0].ContactWithheld {
		t.Fatalf("the analyst's list shows the contact: %+v %v", list, err)
	}
	before := h.v.log.Size()
	detail, err := h.v.ReportDetail(h.ctx, h.a1, list[0].Report)
	if err != nil || detail.Contact != "+855 12 345 678 (mother of the child)" {
		t.Fatalf("the analyst's view of the contact: %+v %v", detail, err)
	}
	opened := logged(t, h.v)[before:]
	if len(opened) != 1 || opened[0].Type != TypeReportContactOpened || opened[0].Actor.Person != "ana1" || bytes.Contains(opened[0].Data, []byte("+855")) {
		t.Fatalf("the opening of the contact was not recorded by name, without the contact: %+v", opened)
	}
	if last := detail.History[len(detail.History)-1]; last.Type != TypeReportContactOpened || last.By != "ana1" {
		t.Fatalf("the report's history does not end with the opening: %+v", detail.History)
	}
	// The answer to a decision about the report does not open it.
	after, err := h.v.ReportAfter(h.ctx, h.a1, list[0].Report)
	if err != nil || after.Contact != "" || !after.ContactWithheld || h.v.log.Size() != before+1 {
		t.Fatalf("the report after a decision: %+v %v (log %d, want %d)", after, err, h.v.log.Size(), before+1)
	}
	// The auditor reads that it was opened, and by whom, not the contact.
	audView, err := h.v.ReportDetail(h.ctx, aud, list[0].Report)
	if err != nil || audView.Contact != "" || !audView.ContactWithheld || audView.History[len(audView.History)-1].Type != TypeReportContactOpened {
		t.Fatalf("the auditor's view of the report: %+v %v", audView, err)
	}
	if h.v.log.Size() != before+1 {
		t.Fatalf("the auditor's reading recorded an opening")
	}
}

// On a halted log, where its opening cannot be recorded, a report is
// still read, without the reporter's contact.
func TestReportOnAHaltedLogWithholdsTheContact(t *testing.T) {
	h := newHotline(t)
	id, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/h"}, Contact: "reporter@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	h.v.log.Halt(errors.New("a check failed"))
	view, err := h.v.ReportDetail(h.ctx, h.a1, id)
	if err != nil || view.Contact != "" || !view.ContactWithheld {
		t.Fatalf("a report read on a halted log: %+v %v, want it without the contact", view, err)
	}
}
