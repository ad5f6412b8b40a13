package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
)

// TestOneVoteNeverClearsKnownMaterialForOthers: one analyst's not-illegal
// vote, where the case's policy settles with one vote, leaves known
// material hidden (TestOneVoteNeverUnhidesKnownMaterial); it must not
// clear it either in what the vault says of it to others: the VICS
// document a partner hotline imports as a hash set, the csv the police
// receive, the case's VICS export, the item lists and the figures. The
// class: material a known-illegal set lists, material whose votes once
// settled it illegal, a copy of an item held illegal. Two people
// assigned to the case agreeing clear it, in all of them at once.
func TestOneVoteNeverClearsKnownMaterialForOthers(t *testing.T) {
	for _, tc := range []struct {
		name string
		// known makes the deposited item known material and returns its
		// id, and the category the vault states for it after one
		// not-illegal vote ("" for a copy: unsettled).
		known func(t *testing.T, h *hotline, rp string) (string, string)
	}{
		{"a set lists it", func(t *testing.T, h *hotline, rp string) (string, string) {
			return h.deposit(t, h.a1, "listed.jpg", h.listedBaseline(t), rp).ID, CategoryBaseline
		}},
		{"its votes once settled it", func(t *testing.T, h *hotline, rp string) (string, string) {
			d := h.deposit(t, h.a1, "judged.jpg", []byte("material one analyst settled as national"), rp)
			if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryNational}); err != nil {
				t.Fatal(err)
			}
			return d.ID, CategoryNational
		}},
		{"it copies an item held illegal", func(t *testing.T, h *hotline, rp string) (string, string) {
			return h.copyOfBaseline(t, rp), ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
			rp, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", ""); err != nil {
				t.Fatal(err)
			}
			id, held := tc.known(t, h, rp)
			cl, err := h.v.Classify(h.ctx, h.a1, id, ClassifyRequest{Category: CategoryNotIllegal})
			if err != nil {
				t.Fatal(err)
			}
			if cl.Known() == "" {
				t.Fatalf("the item is not known material after one vote: %+v", cl)
			}
			stated := func(who string) {
				t.Helper()
				items, err := h.v.Items(h.ctx, h.a2, "HL-1", ItemFilter{})
				if err != nil {
					t.Fatal(err)
				}
				var got *ItemSummary
				for i := range items {
					if items[i].ID == id {
						got = &items[i]
					}
				}
				d, err := h.v.ShowItem(h.ctx, h.a2, id)
				if err != nil {
					t.Fatal(err)
				}
				cat := held
				if who == "two" {
					cat = CategoryNotIllegal
				}
				if got == nil || got.Category != cat || d.Classification.Category != cat {
					t.Fatalf("after %s vote(s) the list says %+v, the item %+v; want category %q", who, got, d.Classification, cat)
				}
				if (who == "one") != strings.Contains(d.Classification.NotSettledBecause, "only when 2 people assigned to the case agree (1 does)") {
					t.Fatalf("after %s vote(s), why it is not settled: %q", who, d.Classification.NotSettledBecause)
				}
				s, err := h.v.Statistics(h.ctx, h.cust, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if n := s.ByCategory[CategoryNotIllegal]; (n == 1) != (who == "two") {
					t.Fatalf("after %s vote(s) the figures count %d not illegal: %+v", who, n, s.ByCategory)
				}
				police, err := h.v.ForwardReport(h.ctx, h.a1, rp, "police", "police", "csv")
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(police.Body), `"`+CategoryNotIllegal+`"`) != (who == "two") {
					t.Fatalf("after %s vote(s) the police csv says:\n%s", who, police.Body)
				}
				partner, err := h.v.ForwardReport(h.ctx, h.a1, rp, "partner hotline", "hotline", "vics")
				if held != "" && who == "one" && (err != nil || !strings.Contains(string(partner.Body), "MediaID")) {
					t.Fatalf("after one vote the partner's VICS document leaves the item out: %v\n%v", err, partner)
				}
				if who == "two" && err == nil && strings.Contains(string(partner.Body), "MediaID") {
					t.Fatalf("after two votes the partner's VICS document still lists it:\n%s", partner.Body)
				}
				export, err := h.v.ExportHashes(h.ctx, h.cust, "HL-1", "vics")
				if err != nil {
					t.Fatal(err)
				}
				if held != "" && who == "one" && strings.Count(string(export.Body), `"Category": `+map[string]string{CategoryBaseline: "1", CategoryNational: "2"}[held]) < 1 {
					t.Fatalf("after one vote the case's VICS export does not give the item category %s:\n%s", held, export.Body)
				}
			}
			stated("one")
			if _, err := h.v.Classify(h.ctx, h.a2, id, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
				t.Fatal(err)
			}
			stated("two")
		})
	}
}

// TestCustodyReportSaysAnItemsClassification: a custody report (and so
// a package's) says of each item what its chain records of its
// classification: each person's latest vote, with its event, and the
// known-material hash-set entries its deposit matched, and the hotline
// report it was deposited for; a prosecutor reads them there, not among
// the events' details.
func TestCustodyReportSaysAnItemsClassification(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	listed := h.listedBaseline(t)
	rp, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	d := h.deposit(t, h.a1, "listed.jpg", listed, rp)
	plain := h.deposit(t, h.a1, "chat.txt", []byte("a chat nobody classified"), "")
	for _, v := range []struct {
		who Principal
		cat string
	}{{h.a1, CategoryNational}, {h.a2, CategoryBaseline}, {h.a1, CategoryBaseline}} {
		if _, err := h.v.Classify(h.ctx, v.who, d.ID, ClassifyRequest{Category: v.cat}); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := h.v.CustodyDocument(h.ctx, h.cust, DocumentRequest{Case: "HL-1", Format: FormatText, Purpose: "review"})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := h.v.state.hashSet("caid")
	tables := set.TableSHA256
	text := string(doc.Body)
	at := strings.Index(text, "Item "+d.ID)
	end := strings.Index(text, "Item "+plain.ID)
	if at < 0 || end < at {
		t.Fatalf("the report lacks the items:\n%s", text)
	}
	item := text[at:end]
	for _, want := range []string{"Hotline report:        " + rp,
		"votes, each person's latest: baseline by ana2 (analyst) (event ", ", baseline by ana1 (analyst) (event ",
		"matched at deposit: entry 0 of hash set caid (sha256, baseline), whose tables as imported had SHA-256 " + tables + " (as recorded"} {
		if !strings.Contains(item, want) {
			t.Errorf("the item's section lacks %q:\n%s", want, item)
		}
	}
	if strings.Contains(item, "national by ana1") {
		t.Errorf("a vote its voter replaced is given as theirs:\n%s", item)
	}
	if rest := text[end:]; strings.Contains(rest[:strings.Index(rest, "Chain of custody")], "Classification:") {
		t.Errorf("an item nobody classified has a classification line:\n%s", rest)
	}
}

// TestAPackageCarriesItsReportsTakedown: a package of a hotline case
// carries its reports' work while in the case (assessed, the notice of
// each URL, to whom and how, its acknowledgement and the removal), which
// its report shows and its verifier checks like any event; never the
// report's receipt (what the reporter wrote, their sealed contact) nor
// that an analyst opened the contact.
func TestAPackageCarriesItsReportsTakedown(t *testing.T) {
	h := newHotline(t)
	pros := enrolled(t, h.v, "pros", RoleProsecutor)
	id, _ := age.GenerateX25519Identity()
	if _, _, err := h.v.SetRecipient(h.ctx, pros, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	rp, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/abuse", "https://early.example/v.mp4"}, Description: "the reporter's own words",
		Contact: "reporter@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	// A notice sent before the report came into the case is no case's:
	// its acknowledgement, recorded in the case, says that its notice is
	// not in the record.
	if err := h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: "https://early.example/v.mp4", To: "Early Host", Via: "web-form"}); err != nil {
		t.Fatal(err)
	}
	if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", "confirmed"); err != nil {
		t.Fatal(err)
	}
	if err := h.v.NoticeProgressed(h.ctx, h.a1, rp, "https://early.example/v.mp4", false, "", ""); err != nil {
		t.Fatal(err)
	}
	h.deposit(t, h.a1, "capture.png", []byte("a capture of the page"), rp)
	if err := h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: "https://host.example/abuse", To: "Example Hosting abuse desk", Via: "email", Reference: "T-42", Country: "NL"}); err != nil {
		t.Fatal(err)
	}
	if err := h.v.NoticeProgressed(h.ctx, h.a1, rp, "https://host.example/abuse", true, "gone at 10:02", ""); err != nil {
		t.Fatal(err)
	}
	sealed, err := h.v.SealPackage(h.ctx, h.cust, SealRequest{Case: "HL-1", For: "pros", Purpose: "trial"})
	if err != nil || sealed.Request != nil {
		t.Fatalf("sealing: %+v %v", sealed, err)
	}
	pkg := fetchedPackage(t, h.v, pros, sealed.ID)
	byType := verifiedPackageEvents(t, h.v, pkg, id)
	for _, typ := range []string{TypeReportAssessing, TypeNoticeSent, TypeContentRemoved} {
		if byType[typ] == nil {
			t.Errorf("the package lacks its report's %s", typ)
		}
	}
	for _, typ := range []string{TypeReportReceived, TypeReportContactOpened} {
		if byType[typ] != nil {
			t.Errorf("the package carries %s", typ)
		}
	}
	var report string
	for _, m := range testenv.TarMembers(t, bytes.NewReader(pkg)) {
		if m.Name == pkgformat.ReportName {
			report = string(m.Data)
		}
		if strings.Contains(string(m.Data), "the reporter's own words") || strings.Contains(string(m.Data), "reporter@example.org") {
			t.Errorf("%s holds the reporter's words or contact", m.Name)
		}
	}
	if n := strings.Count(report, "its notice was sent before"); n != 1 {
		t.Errorf("%d events say their notice is not in the record, want 1 (the early URL's acknowledgement)", n)
	}
	for _, want := range []string{"Notice and takedown sent", "https://host.example/abuse", "Example Hosting abuse desk", "Content reported removed",
		"https://early.example/v.mp4; its notice was sent before the report was assessed into this case, and is not in this record"} {
		if !strings.Contains(report, want) {
			t.Errorf("the package's report lacks %q", want)
		}
	}
}

// TestAPolicyRaisedAndLoweredDoesNotLetOneVoteClear: votes settled an
// item as baseline; a custodian raises the case's policy, which sends it
// back for review (visible, unsettled); one analyst votes not-illegal;
// the custodian lowers the policy again. One person's vote must not then
// settle as not illegal what votes once held illegal: the item stays
// unsettled, visible for review, and says why, until a second person
// agrees. A voter suspended and reinstated is the same class: the
// reinstatement settles it as illegal again, and the mark holds again.
func TestAPolicyRaisedAndLoweredDoesNotLetOneVoteClear(t *testing.T) {
	h := newHotline(t)
	d := h.deposit(t, h.a1, "judged.jpg", []byte("material one analyst settled as baseline"), "")
	if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	if ch, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", 2, ""); err != nil || ch.Effect.Unsettled != 1 {
		t.Fatalf("raising the policy: %+v %v", ch, err)
	}
	if _, err := h.view(h.a2, d.ID, false); err != nil {
		t.Fatalf("an item sent back for review is not shown for review: %v", err)
	}
	if _, err := h.v.Classify(h.ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	h.lowerPolicy(t, 1)
	show := func() Classification {
		t.Helper()
		detail, err := h.v.ShowItem(h.ctx, h.a2, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return detail.Classification
	}
	if cl := show(); cl.Category != "" || !strings.Contains(cl.NotSettledBecause, "sent it back for review") {
		t.Fatalf("one vote after the policy was lowered again: %+v", cl)
	}
	if _, err := h.view(h.a2, d.ID, false); err != nil {
		t.Fatalf("the item under review was hidden: %v", err)
	}
	if diff := diffFromReplay(t, h.v); diff != "" {
		t.Fatalf("replaying the log gives another state: %s", diff)
	}
	if _, err := h.v.Classify(h.ctx, h.a2, d.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	if cl := show(); cl.Category != CategoryNotIllegal || cl.NotSettledBecause != "" {
		t.Fatalf("two people agreeing did not settle it: %+v", cl)
	}
	// Settled illegal again, then a policy lowered after a raise: the
	// mark holds again.
	e := h.deposit(t, h.a1, "again.jpg", []byte("material settled, released, settled again"), "")
	if _, err := h.v.Classify(h.ctx, h.a1, e.ID, ClassifyRequest{Category: CategoryNational}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	h.lowerPolicy(t, 1)
	if _, err := h.view(h.a2, e.ID, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("settled illegal again by the policy lowered, the item was shown: %v", err)
	}
	if _, err := h.v.Classify(h.ctx, h.a1, e.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.view(h.a2, e.ID, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("one vote changed unhid an item settled illegal again: %v", err)
	}
	if diff := diffFromReplay(t, h.v); diff != "" {
		t.Fatalf("replaying the log gives another state: %s", diff)
	}
}

// TestItemListCountsTheVotesKnownMaterialNeeds: a known copy with one
// not-illegal vote is listed as one of the two votes that clear it, not
// "1 of 1" under a one-vote policy.
func TestItemListCountsTheVotesKnownMaterialNeeds(t *testing.T) {
	h := newHotline(t)
	copied := h.copyOfBaseline(t, "")
	if _, err := h.v.Classify(h.ctx, h.a1, copied, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	items, err := h.v.Items(h.ctx, h.a3, "HL-1", ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == copied && (it.Category != "" || it.Voted != CategoryNotIllegal || it.Votes != 1 || it.Needed != 2 || it.Known == "") {
			t.Fatalf("the known copy with one not-illegal vote is listed as %+v; want 1 of 2 votes for not-illegal, known", it)
		}
	}
	d, err := h.v.ShowItem(h.ctx, h.a3, copied)
	if err != nil {
		t.Fatal(err)
	}
	if cl := d.Classification; cl.UndecidedVotes() != 1 || cl.UndecidedNeeded() != 2 || cl.UndecidedCategory() != CategoryNotIllegal {
		t.Fatalf("the item page would say %d of %d votes for %q", cl.UndecidedVotes(), cl.UndecidedNeeded(), cl.UndecidedCategory())
	}
}

// listedBaseline imports a known-illegal hash set, caid, whose one entry
// (0, baseline, by SHA-256) lists the content it returns.
func (h *hotline) listedBaseline(t *testing.T) []byte {
	t.Helper()
	listed := []byte("material a known-illegal set lists")
	_, _, sha := sums(listed)
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "caid", Format: "sha256sum", Category: CategoryBaseline,
		Body: strings.NewReader(sha + "  x\n")}); err != nil {
		t.Fatal(err)
	}
	return listed
}

// TestAnExportsKnownChecksGoStaleWithTheSets: what an export states of an
// item whose one not-illegal vote rests on a known-material check is
// compared at the export event's position from the check made before;
// a hash set imported in between makes that check stale, and the export
// is refused, to be repeated, rather than state what the sets no longer
// say.
func TestAnExportsKnownChecksGoStaleWithTheSets(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	copied := h.copyOfBaseline(t, "")
	if _, err := h.v.Classify(h.ctx, h.a1, copied, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	it, _, _ := h.v.state.getItem(copied)
	k := newKnownChecks()
	if cl, err := h.v.statedClassification(h.ctx, it, k); err != nil || cl.Category != "" || cl.NotSettledBecause == "" {
		t.Fatalf("the copy is stated %+v %v", cl, err)
	}
	at := &knownChecks{m: k.m, atPosition: true, sets: k.sets}
	if _, err := h.v.statedClassification(h.ctx, it, at); err != nil {
		t.Fatalf("at the position, nothing changed: %v", err)
	}
	h.listedBaseline(t)
	if _, err := h.v.statedClassification(h.ctx, it, at); !errors.Is(err, ErrConflict) {
		t.Fatalf("a set imported since the check: %v, want a conflict", err)
	}
}

// TestACopyJudgedInAnotherCaseIsNamedToItsAnalysts: an analyst of two
// cases who settled a file in one is told, in the other's list, that an
// item there is the same file, with its case, so that they vote without
// opening it again; an analyst of the second case alone is not told of
// the first case's item.
func TestACopyJudgedInAnotherCaseIsNamedToItsAnalysts(t *testing.T) {
	h := newHotline(t)
	file := []byte("an adult's holiday photo, assessed not illegal")
	first := h.deposit(t, h.a1, "holiday.jpg", file, "")
	if _, err := h.v.Classify(h.ctx, h.a1, first.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	if err := h.v.OpenCase(h.ctx, h.a1, "HL-2", "another report's case"); err != nil {
		t.Fatal(err)
	}
	only := enrolled(t, h.v, "ana4", RoleAnalyst)
	req, err := h.v.AddMember(h.ctx, h.cust, "HL-2", "ana4", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.Approve(h.ctx, h.cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	second, err := h.v.Deposit(h.ctx, h.a1, DepositRequest{Case: "HL-2", Name: "copy.jpg", Body: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	sameAs := func(who Principal) *SettledCopy {
		t.Helper()
		items, err := h.v.Items(h.ctx, who, "HL-2", ItemFilter{})
		if err != nil || len(items) != 1 || items[0].ID != second.ID {
			t.Fatalf("HL-2's items as %s: %+v %v", who.Name, items, err)
		}
		return items[0].SameAs
	}
	if c := sameAs(h.a1); c == nil || c.Item != first.ID || c.Case != "HL-1" || c.Category != CategoryNotIllegal {
		t.Fatalf("to an analyst of both cases the copy is named as %+v", c)
	}
	if c := sameAs(only); c != nil {
		t.Fatalf("to an analyst of HL-2 alone, HL-1's item is named: %+v", c)
	}
}

// copyOfBaseline deposits a file whose first copy ana2 classified
// baseline, and returns the second copy's id (deposited for report rp,
// if any): known material, as identical to an item held illegal.
func (h *hotline) copyOfBaseline(t *testing.T, rp string) string {
	t.Helper()
	file := []byte("material classified baseline, and its copy")
	orig := h.deposit(t, h.a1, "orig.jpg", file, "")
	if _, err := h.v.Classify(h.ctx, h.a2, orig.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	return h.deposit(t, h.a1, "copy.jpg", file, rp).ID
}

// TestACustodiansDecisionInOneCaseDoesNotClearACopyInAnother: two
// analysts of HL-1 settle an item as baseline, which holds its identical
// copy in HL-2 (one vote settles there) as known material, and the one
// not-illegal vote cast on the copy does not clear it. A custodian's
// decision in HL-1 alone sends HL-1's item back for review there: a
// policy raised, or one of the two voters suspended. Neither lets the
// single vote in HL-2 clear the copy: it stays hidden, and is not stated
// not illegal, until two people clear it.
func TestACustodiansDecisionInOneCaseDoesNotClearACopyInAnother(t *testing.T) {
	for name, decide := range map[string]func(h *hotline) error{
		"a policy raised": func(h *hotline) error {
			_, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", 4, "")
			return err
		},
		"a voter suspended": func(h *hotline) error {
			_, err := h.v.Suspend(h.ctx, h.cust, "ana2", "under review")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHotline(t)
			v, ctx := h.v, h.ctx
			if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, ""); err != nil {
				t.Fatal(err)
			}
			body := []byte("material two analysts of HL-1 settled as baseline")
			d := h.deposit(t, h.a1, "d.jpg", body, "")
			for _, p := range []Principal{h.a1, h.a2} {
				if _, err := v.Classify(ctx, p, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
					t.Fatal(err)
				}
			}
			own := newOwnCase(t, h, body)
			own.vote(t, own.mallory, CategoryNotIllegal)
			held := func(when string) {
				t.Helper()
				if _, err := v.Open(ctx, own.mallory, RevealRequest{Item: own.x.ID, Purpose: "review"}); !errors.Is(err, ErrForbidden) {
					t.Fatalf("%s: the copy is shown for review on one not-illegal vote: %v", when, err)
				}
				detail, err := v.ShowItem(ctx, own.mallory, own.x.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cl := detail.Classification; cl.Category == CategoryNotIllegal {
					t.Fatalf("%s: the copy is stated not illegal on one vote: %+v", when, cl)
				}
			}
			held("before the decision")
			if err := decide(h); err != nil {
				t.Fatal(err)
			}
			if detail, err := v.ShowItem(ctx, h.a3, d.ID); err != nil || detail.Classification.Category != "" {
				t.Fatalf("HL-1's item is not back for review: %+v %v", detail, err)
			}
			held("after the decision in HL-1")
			if diff := diffFromReplay(t, v); diff != "" {
				t.Fatalf("replaying the log gives another state: %s", diff)
			}
			// A second person of HL-2 agreeing clears the copy.
			own.addVoter(t, "m2")
			own.vote(t, Principal{Name: "m2", Role: RoleAnalyst}, CategoryNotIllegal)
			detail, err := v.ShowItem(ctx, own.mallory, own.x.ID)
			if err != nil || detail.Classification.Category != CategoryNotIllegal {
				t.Fatalf("two people clearing the copy: %+v %v", detail.Classification, err)
			}
		})
	}
}

// TestADiscountedSettlementStillKeepsOneVoteFromClearingACopy: an
// analyst alone settles an item as baseline (one vote settles in her
// case), which makes its identical copy, in another case or in the same
// one, known material. A custodian then suspends or removes her, alone:
// her vote no longer counts, and the copy is shown for review again. One
// analyst's not-illegal vote on the copy, cast before or after, still
// does not settle it in what the vault states (lists, item show, the
// case's hash export): two people must agree, as for the item itself.
func TestADiscountedSettlementStillKeepsOneVoteFromClearingACopy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sameCase bool
		decide   func(h *hotline) error
	}{
		{"a voter suspended, the copy in another case", false, func(h *hotline) error {
			_, err := h.v.Suspend(h.ctx, h.cust, "ana2", "under review")
			return err
		}},
		{"a voter removed, the copy in another case", false, func(h *hotline) error {
			_, err := h.v.Remove(h.ctx, h.cust, "ana2", "left the hotline")
			return err
		}},
		{"a voter suspended, the copy in the same case", true, func(h *hotline) error {
			_, err := h.v.Suspend(h.ctx, h.cust, "ana2", "under review")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHotline(t)
			v, ctx := h.v, h.ctx
			body := []byte("material one analyst settled as baseline")
			d := h.deposit(t, h.a2, "d.jpg", body, "")
			if _, err := v.Classify(ctx, h.a2, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
				t.Fatal(err)
			}
			voter, copyID := h.a1, ""
			if tc.sameCase {
				copyID = h.deposit(t, h.a1, "copy.jpg", body, "").ID
			} else {
				own := newOwnCase(t, h, body)
				voter, copyID = own.mallory, own.x.ID
			}
			if _, err := v.Classify(ctx, voter, copyID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
				t.Fatal(err)
			}
			if err := tc.decide(h); err != nil {
				t.Fatal(err)
			}
			detail, err := v.ShowItem(ctx, voter, copyID)
			if err != nil {
				t.Fatal(err)
			}
			if cl := detail.Classification; cl.Category == CategoryNotIllegal || !strings.Contains(cl.NotSettledBecause, "since discounted by a custodian's decision, settled it as baseline") {
				t.Fatalf("the copy is stated %+v after one not-illegal vote", cl)
			}
			caseID := map[bool]string{true: "HL-1", false: "HL-2"}[tc.sameCase]
			page, err := v.ItemsPage(ctx, voter, caseID, ItemFilter{}, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if it.ID == copyID && it.Category == CategoryNotIllegal {
					t.Fatalf("the list states the copy not illegal: %+v", it)
				}
			}
		})
	}
}

// TestAHashSetOutOfUseIsNeverTakenForNoMatchInWhatIsStated: a set lists
// an item (imported after its deposit) on which one analyst voted not
// illegal. The set's files are altered on disk, and it is out of use: the
// item stays hidden, as before, and what the vault states of it does not
// take the set's silence for "no match": its one vote does not settle it.
func TestAHashSetOutOfUseIsNeverTakenForNoMatchInWhatIsStated(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	body := []byte("material a partner's list names")
	it := h.deposit(t, h.a1, "z3.bin", body, "")
	sum := sha256.Sum256(body)
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner2", Format: "sha256sum", Category: CategoryNational,
		Body: strings.NewReader(hex.EncodeToString(sum[:]) + "  z3\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Classify(ctx, h.a1, it.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	alterHashSetTable(t, filepath.Join(dir, "hashsets"), "partner2")
	if res, err := v.Scrub(ctx, enrolled(t, v, "aud", RoleAuditor)); err != nil || res.OK {
		t.Fatalf("the scrub did not find the set altered: %+v %v", res, err)
	}
	detail, err := v.ShowItem(ctx, h.a2, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cl := detail.Classification; cl.Category == CategoryNotIllegal || !strings.Contains(cl.NotSettledBecause, "hash set partner2, which may list it, is out of use") {
		t.Fatalf("with the set out of use, one vote is stated as %+v", cl)
	}
	it0, _, _ := v.state.getItem(it.ID)
	st, err := v.Statistics(ctx, h.cust, it0.At.Time().Add(-time.Minute), it0.At.Time().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if st.ByCategory[CategoryNotIllegal] != 0 {
		t.Fatalf("statistics count %d not-illegal items", st.ByCategory[CategoryNotIllegal])
	}
}
