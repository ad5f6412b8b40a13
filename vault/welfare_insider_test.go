package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/image/draw"
)

// TestNearCopyOfAnItemListedLater: a hash set imported after an item's
// deposit lists it (by its cryptographic hashes); a rotated copy of it,
// deposited before or after the import, is known material too, as it
// would be had the set been imported first.
func TestNearCopyOfAnItemListedLater(t *testing.T) {
	for _, when := range []string{"copy after the import", "copy before the import"} {
		t.Run(when, func(t *testing.T) {
			h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
			photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
			orig := h.deposit(t, h.a1, "orig.jpg", photo, "")
			var turned *DepositResult
			if when == "copy before the import" {
				turned = h.deposit(t, h.a1, "turned.jpg", testenv.RotatedJPEG(t, photo), "")
			}
			md5sum, _, _ := sums(photo)
			if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "md5sum", Category: CategoryBaseline,
				Body: strings.NewReader(md5sum + "  x.jpg\n")}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.view(h.a2, orig.ID, false); !errors.Is(err, ErrForbidden) {
				t.Fatalf("the listed item itself is shown: %v", err)
			}
			if turned == nil {
				turned = h.deposit(t, h.a1, "turned.jpg", testenv.RotatedJPEG(t, photo), "")
			}
			_, err := h.view(h.a2, turned.ID, false)
			if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "hash set caid lists") {
				t.Fatalf("a rotated copy of an item a set lists was shown without the override: %v", err)
			}
			if strings.Contains(err.Error(), orig.ID) || strings.Contains(err.Error(), "HL-1") {
				t.Fatalf("the reason names another item or case: %v", err)
			}
			// Refused on what the record says of the item, not on the
			// analyst's permission (a custody report words the grounds).
			if g := lastOfType(t, h.v, TypeAccessRefused)["grounds"]; g != GroundsState {
				t.Fatalf("the refusal's grounds: %q", g)
			}
			if _, err := h.view(h.a2, turned.ID, true); err != nil {
				t.Fatalf("the override: %v", err)
			}
		})
	}
}

// TestOneVoteNeverUnhidesKnownMaterial: what someone judged illegal, or
// a known-illegal set lists, stays hidden whatever one person does: a
// vote changed to dissent, one not-illegal vote under a one-vote policy,
// or a policy raised so that one vote no longer settles. Two people
// agreeing that it is not illegal unhide it.
func TestOneVoteNeverUnhidesKnownMaterial(t *testing.T) {
	t.Run("a dissenting vote", func(t *testing.T) {
		h := newHotline(t)
		if _, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", 3, ""); err != nil {
			t.Fatal(err)
		}
		file := []byte("material three analysts classified")
		orig := h.deposit(t, h.a1, "orig.jpg", file, "")
		copied := h.deposit(t, h.a1, "copy.jpg", file, "")
		for _, p := range []Principal{h.a1, h.a2, h.a3} {
			if _, err := h.v.Classify(h.ctx, p, orig.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.v.Classify(h.ctx, h.a3, orig.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{orig.ID, copied.ID} {
			if _, err := h.view(h.a2, id, false); !errors.Is(err, ErrForbidden) {
				t.Fatalf("after one vote changed to not-illegal, %s was shown: %v", id, err)
			}
		}
	})
	t.Run("one not-illegal vote against a set", func(t *testing.T) {
		h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
		d := h.deposit(t, h.a1, "listed.jpg", h.listedBaseline(t), "")
		cl, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryNotIllegal})
		if err != nil {
			t.Fatal(err)
		}
		// The vote is counted, and does not settle: the set's category
		// stands, and the answer says why.
		if cl.Category != CategoryBaseline || cl.Source != "hashset" || cl.Tally[CategoryNotIllegal] != 1 ||
			!strings.Contains(cl.NotSettledBecause, "2 people assigned to the case agree (1 does)") || !strings.Contains(cl.Known(), "hash set caid") {
			t.Fatalf("the vote's answer does not say the item stays hidden: %+v, known %q", cl, cl.Known())
		}
		if _, err := h.view(h.a2, d.ID, false); !errors.Is(err, ErrForbidden) {
			t.Fatalf("one not-illegal vote unhid listed material: %v", err)
		}
		if cl, err := h.v.Classify(h.ctx, h.a2, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil || cl.Known() != "" {
			t.Fatalf("the second vote: known %q, %v", cl.Known(), err)
		}
		if _, err := h.view(h.a3, d.ID, false); err != nil {
			t.Fatalf("two analysts agreeing it is not illegal did not unhide it: %v", err)
		}
	})
	t.Run("the voter changes their vote", func(t *testing.T) {
		h := newHotline(t)
		d := h.deposit(t, h.a1, "new.jpg", []byte("material one analyst classified"), "")
		copied := h.deposit(t, h.a1, "copy.jpg", []byte("material one analyst classified"), "")
		if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{d.ID, copied.ID} {
			_, err := h.view(h.a2, id, false)
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("a vote changed by the one who settled it unhid %s: %v", id, err)
			}
		}
	})
}

// TestVICSListsNeverMakeCleanFilesKnown: a VICS list the vault writes is
// read by its receivers as a hash set. A file settled not-illegal must not
// come out of it as known-illegal material at a partner who imports it
// with a category, as the forward's receiver does: the report's forward
// leaves such items out, and the case's export gives them no category.
func TestVICSListsNeverMakeCleanFilesKnown(t *testing.T) {
	h := newHotline(t)
	rp, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	ordinary := []byte("an adult's holiday photo, assessed not illegal")
	abuse := []byte("abuse material, assessed baseline")
	it1 := h.deposit(t, h.a1, "holiday.jpg", ordinary, rp)
	it2 := h.deposit(t, h.a1, "abuse.jpg", abuse, rp)
	for _, p := range []Principal{h.a1, h.a2} {
		if _, err := h.v.Classify(h.ctx, p, it1.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.v.Classify(h.ctx, h.a1, it2.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	forward, err := h.v.ForwardReport(h.ctx, h.a1, rp, "partner hotline", "hotline", "vics")
	if err != nil {
		t.Fatal(err)
	}
	export, err := h.v.ExportHashes(h.ctx, h.cust, "HL-1", "vics")
	if err != nil {
		t.Fatal(err)
	}
	// The case's custody report shows the forward (it carries the items'
	// hashes out of the vault) beside the hash list's export.
	custodyDoc, err := h.v.CustodyDocument(h.ctx, h.cust, DocumentRequest{Case: "HL-1", Format: FormatText, Purpose: "review"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Report forwarded", "Hash list exported"} {
		if !strings.Contains(string(custodyDoc.Body), want) {
			t.Fatalf("the case's custody report lacks %q:\n%s", want, custodyDoc.Body)
		}
	}
	for _, list := range []*HashList{forward, export} {
		if strings.Contains(string(list.Body), `"Category": 0`) {
			t.Fatalf("a VICS list says category 0:\n%s", list.Body)
		}
	}
	p := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	if _, err := importSet(t, p.v, p.ctx, p.cust, HashSetImport{Name: "from-partner", Format: "vics", Category: CategoryNational, Body: strings.NewReader(string(forward.Body))}); err != nil {
		t.Fatal(err)
	}
	if d := p.deposit(t, p.a1, "holiday.jpg", ordinary, ""); d.Known != "" {
		t.Fatalf("a file the sender settled as not illegal is known material at the partner: %q", d.Known)
	}
	if d := p.deposit(t, p.a1, "abuse.jpg", abuse, ""); d.Known == "" {
		t.Fatal("the baseline file is not known at the partner")
	}
	// The case's export lists every item, those without a category too:
	// imported with a category, it is refused (nothing imported or
	// recorded); without one, only the entries naming a category count.
	q := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	before := countType(t, q.v, TypeHashSetImported)
	var doc map[string]any
	if err := json.Unmarshal(export.Body, &doc); err != nil {
		t.Fatal(err)
	}
	sorted, _ := json.Marshal(doc) // members sorted, as jq -S writes them: Media before SourceApplicationName
	for name, body := range map[string]string{
		"as exported":    string(export.Body),
		"members sorted": string(sorted),
		"another writer": strings.Replace(string(export.Body), `"Custos"`, `"Griffeye"`, 1),
	} {
		if _, err := importSet(t, q.v, q.ctx, q.cust, HashSetImport{Name: "case-list", Format: "vics", Category: CategoryNational, Body: strings.NewReader(body)}); !errors.Is(err, ErrBadInput) {
			t.Fatalf("a case's VICS hash list (%s) imported with a category: %v", name, err)
		}
	}
	if sets, _ := q.v.HashSets(q.ctx, q.cust); countType(t, q.v, TypeHashSetImported) != before || len(sets) != 0 {
		t.Fatal("the refused import changed something")
	}
	// The case's plain list, imported where it was exported, is refused
	// too: its lines carry no category, and each would take the import's.
	sums, err := p.v.ExportHashes(p.ctx, p.cust, "HL-1", "sha256sum")
	if err != nil {
		t.Fatal(err)
	}
	hb := countType(t, p.v, TypeHashSetImported)
	if _, err := importSet(t, p.v, p.ctx, p.cust, HashSetImport{Name: "case-sums", Format: "sha256sum", Category: CategoryBaseline, Body: strings.NewReader(string(sums.Body))}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), fmt.Sprintf("event %d", sums.Event)) {
		t.Fatalf("a case's sha256sum list imported with a category where it was exported: %v", err)
	}
	if countType(t, p.v, TypeHashSetImported) != hb {
		t.Fatal("the refused import recorded something")
	}
	if _, err := importSet(t, q.v, q.ctx, q.cust, HashSetImport{Name: "case-list", Format: "vics", Body: strings.NewReader(string(export.Body))}); err != nil {
		t.Fatal(err)
	}
	if d := q.deposit(t, q.a1, "holiday.jpg", ordinary, ""); d.Known != "" {
		t.Fatalf("a file the case settled as not illegal is known material through its hash list: %q", d.Known)
	}
	if d := q.deposit(t, q.a1, "abuse.jpg", abuse, ""); d.Known == "" {
		t.Fatal("the baseline file is not known through the case's hash list")
	}
}

// TestNearCopyRecordsAreNotReadAtTheEventsPosition: the known-material
// check made again at an access event's position runs in the sequencer,
// where the store is not read: it decides from the answers the first
// check had for the near-copies (whether the cache gave them or a read),
// also once the cache was emptied, and refuses (the request is repeated)
// when it would need a read.
func TestNearCopyRecordsAreNotReadAtTheEventsPosition(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
	orig := h.deposit(t, h.a1, "orig.jpg", photo, "")
	md5sum, _, _ := sums(photo)
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "md5sum", Category: CategoryBaseline,
		Body: strings.NewReader(md5sum + "  x.jpg\n")}); err != nil {
		t.Fatal(err)
	}
	turned := h.deposit(t, h.a1, "turned.jpg", testenv.RotatedJPEG(t, photo), "")
	it, _, err := h.v.state.getItem(turned.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.v.depositRecord(h.ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	forget := func() { // the listings cache, emptied as a change of the sets would
		h.v.listed.mu.Lock()
		h.v.listed.m = nil
		h.v.listed.mu.Unlock()
	}
	forget()
	near := &neighbourRecords{}
	first, err := h.v.hiddenWith(h.ctx, it, &rec, near)
	if err != nil || first == "" {
		t.Fatalf("the first check: %q %v", first, err)
	}
	if a, ok := near.m[orig.ID]; !ok || a.m == nil {
		t.Fatalf("the first check kept no answer for the near-copy it read: %v", near.m)
	}
	forget()
	again, err := h.v.hiddenWith(h.ctx, it, &rec, near.frozenCopy())
	if err != nil || again != first {
		t.Fatalf("at the event's position, from the records read: %q %v, want %q", again, err, first)
	}
	forget()
	if _, err := h.v.hiddenWith(h.ctx, it, &rec, &neighbourRecords{frozen: true}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a check that would read a record at the event's position: %v", err)
	}
}

// likeImages makes n PNG images that differ in one pixel each: PDQ
// near-copies of one another, as a burst of captures is.
func likeImages(t *testing.T, n int) [][]byte {
	src, _, err := image.Decode(bytes.NewReader(readPhoto(t, "bridge-mods/aaa-orig.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	base := image.NewRGBA(image.Rect(0, 0, 160, 120))
	draw.ApproxBiLinear.Scale(base, base.Bounds(), src, src.Bounds(), draw.Over, nil)
	var out [][]byte
	for i := range n {
		img := image.NewRGBA(base.Bounds())
		copy(img.Pix, base.Pix)
		img.Set(i%160, (i/160)%120, color.RGBA{uint8(i), uint8(i >> 8), 7, 255})
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// TestNearCopiesCheckedOncePerItem: with a hash set in use, a series of
// like images (a burst of captures) is checked for near-copies that the
// set lists by reading and matching each image's record once, not once
// for each pair: a list of the series holds each image's answer once in
// the cache, and the answers are the same when read from it.
func TestNearCopiesCheckedOncePerItem(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "md5sum", Category: CategoryBaseline,
		Body: strings.NewReader("0123456789abcdef0123456789abcdef  unrelated.jpg\n")}); err != nil {
		t.Fatal(err)
	}
	const n = 24
	for i, b := range likeImages(t, n) {
		if d := h.deposit(t, h.a1, fmt.Sprintf("burst-%02d.png", i), b, ""); d.Media == nil || d.Media.Quality < pdqMinQuality {
			t.Fatalf("no usable PDQ hash: %+v", d.Media)
		}
	}
	page, err := h.v.ItemsPage(h.ctx, h.a1, "HL-1", ItemFilter{Unclassified: true}, 0, n)
	if err != nil || page.Total != n {
		t.Fatalf("the unclassified list: %+v %v", page, err)
	}
	if got := len(h.v.listed.m); got != n {
		t.Fatalf("%d items' listings cached after a list of %d like images", got, n)
	}
	again, err := h.v.ItemsPage(h.ctx, h.a1, "HL-1", ItemFilter{Unclassified: true}, 0, n)
	if err != nil || again.Total != page.Total {
		t.Fatalf("the list again: %+v %v", again, err)
	}
}

// TestCustodiansDecisionsUnhideOnlyWhatTheyUnsettle: a custodian's
// decision sends back for review the items it unsettles (a policy
// raised, the only voter suspended), and nothing else: an item held
// because its votes once settled it as illegal stays held when its
// dissenter is suspended and reinstated, or the policy is lowered.
func TestCustodiansDecisionsUnhideOnlyWhatTheyUnsettle(t *testing.T) {
	t.Run("a dissenter suspended and reinstated", func(t *testing.T) {
		h := newHotline(t)
		d := h.deposit(t, h.a1, "x.jpg", []byte("material ana1 settled baseline"), "")
		if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.v.Classify(h.ctx, h.a2, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.v.Suspend(h.ctx, h.cust, "ana2", "on leave"); err != nil {
			t.Fatal(err)
		}
		req, err := h.v.Reinstate(h.ctx, h.cust, "ana2", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.v.Approve(h.ctx, h.cust2, req.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.view(h.a3, d.ID, false); !errors.Is(err, ErrForbidden) {
			t.Fatalf("the dissenter back, material settled baseline and never cleared is shown: %v", err)
		}
	})
	t.Run("the policy lowered over a dispute", func(t *testing.T) {
		h := newHotline(t)
		d := h.deposit(t, h.a1, "x.jpg", []byte("material two analysts settled baseline"), "")
		if _, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", 2, ""); err != nil {
			t.Fatal(err)
		}
		for _, p := range []Principal{h.a1, h.a2} {
			if _, err := h.v.Classify(h.ctx, p, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.v.Classify(h.ctx, h.a3, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
			t.Fatal(err)
		}
		eff := h.lowerPolicy(t, 1)
		if _, err := h.view(h.a1, d.ID, false); !errors.Is(err, ErrForbidden) {
			t.Fatalf("lowering the policy (%+v) unhid material held illegal: %v", eff, err)
		}
	})
	t.Run("the only voter suspended", func(t *testing.T) {
		h := newHotline(t)
		d := h.deposit(t, h.a1, "x.jpg", []byte("material ana2 alone settled baseline"), "")
		if _, err := h.v.Classify(h.ctx, h.a2, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.v.Suspend(h.ctx, h.cust, "ana2", "under investigation"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.view(h.a3, d.ID, false); err != nil {
			t.Fatalf("the decision that unsettled it did not send it back for review: %v", err)
		}
	})
}

// TestViewsDecideFromTheirOwnAnswers: a view of an image in a series of
// like images, nothing having changed, is decided at its event's position
// from the answers its first check had, though the listings cache was
// emptied in between (by the lists and statistics of a large vault).
func TestViewsDecideFromTheirOwnAnswers(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "md5sum", Category: CategoryBaseline,
		Body: strings.NewReader("0123456789abcdef0123456789abcdef  unrelated.jpg\n")}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, b := range likeImages(t, 8) {
		ids = append(ids, h.deposit(t, h.a1, fmt.Sprintf("burst-%02d.png", i), b, "").ID)
	}
	if _, err := h.v.ItemsPage(h.ctx, h.a1, "HL-1", ItemFilter{}, 0, 50); err != nil {
		t.Fatal(err)
	}
	it, _, err := h.v.state.getItem(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.v.depositRecord(h.ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	near := &neighbourRecords{}
	if k, err := h.v.hiddenWith(h.ctx, it, &rec, near); err != nil || k != "" {
		t.Fatalf("the first check: %q %v", k, err)
	}
	h.v.listed.mu.Lock()
	h.v.listed.m = nil // emptied, the sets unchanged
	h.v.listed.mu.Unlock()
	if k, err := h.v.hiddenWith(h.ctx, it, &rec, near.frozenCopy()); err != nil || k != "" {
		t.Fatalf("at the event's position, nothing changed: %q %v", k, err)
	}
	if _, err := h.view(h.a2, ids[1], false); err != nil {
		t.Fatalf("a view: %v", err)
	}
}

// TestClearingNeedsVotersStillOnTheCase: two people's not-illegal votes
// unhide known material only while both are assigned to the item's case.
// Once a custodian removes one of them from the case (for cause, or
// because they moved on), the item is hidden again, whether a hash set
// lists it or votes once settled it as illegal, and its category is
// again what holds it; their vote is still counted, and the
// classification says why it no longer clears. Restarting replays the
// same.
func TestClearingNeedsVotersStillOnTheCase(t *testing.T) {
	for _, known := range []string{"listed by a set", "once settled illegal"} {
		t.Run(known, func(t *testing.T) {
			dir := t.TempDir()
			h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
			file := []byte("material that is known: " + known)
			if known == "listed by a set" {
				_, _, sha := sums(file)
				if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "sha256sum", Category: CategoryBaseline,
					Body: strings.NewReader(sha + "  x\n")}); err != nil {
					t.Fatal(err)
				}
			}
			d := h.deposit(t, h.a1, "item.jpg", file, "")
			if known == "once settled illegal" {
				if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryNational}); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range []Principal{h.a1, h.a2} {
				if _, err := h.v.Classify(h.ctx, p, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.view(h.a3, d.ID, false); err != nil {
				t.Fatalf("two assigned analysts' not-illegal votes did not unhide it: %v", err)
			}
			if err := h.v.RemoveMember(h.ctx, h.cust, "HL-1", "ana2", "left the hotline's review team"); err != nil {
				t.Fatal(err)
			}
			if _, err := h.view(h.a3, d.ID, false); !errors.Is(err, ErrForbidden) {
				t.Fatalf("after a clearing voter left the case the item was shown: %v", err)
			}
			// Their vote is still counted; the category is again what
			// holds the item (the set's, or the one the votes once
			// settled), and says why the votes do not settle it.
			it, _, _ := h.v.state.getItem(d.ID)
			cl := h.v.classification(it)
			want := map[string]string{"listed by a set": CategoryBaseline, "once settled illegal": CategoryNational}[known]
			if cl.Category != want || cl.Tally[CategoryNotIllegal] != 2 || !strings.Contains(cl.NotSettledBecause, "(1 does)") {
				t.Errorf("after a clearing voter left the case, the classification is %+v; want category %s, the two votes counted, and why", cl, want)
			}
			var said bool
			for _, vt := range cl.Votes {
				said = said || vt.By == "ana2" && strings.Contains(vt.NotClearing, "no longer assigned")
			}
			if !said {
				t.Errorf("the classification does not say why ana2's vote no longer clears: %+v", cl.Votes)
			}
			if diff := diffFromReplay(t, h.v); diff != "" {
				t.Fatalf("replaying the log gives another state: %s", diff)
			}
			if _, held := h.v.state.hot.settled[d.ID]; known == "once settled illegal" && !held {
				t.Error("the clearing dropped the mark that holds the item once the clearing lapses")
			}
			// A third analyst on the case agreeing clears it again.
			if _, err := h.v.Classify(h.ctx, h.a3, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.view(h.a3, d.ID, false); err != nil {
				t.Fatalf("two assigned analysts agreeing again did not unhide it: %v", err)
			}
		})
	}
}
