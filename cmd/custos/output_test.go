package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/rivo/uniseg"
)

// TestOutputKeyOrder checks that the objects the verbs print (and those
// they pass on from the vault) encode byte for byte as a map with the
// same keys would: top-level keys in sorted order. These objects were printed as
// maps before they were types, and scripts may compare the bytes.
func TestOutputKeyOrder(t *testing.T) {
	size := uint64(7)
	for _, v := range []any{
		depositOutput{Items: []api.DepositResponse{{ID: "it_1", Name: "a", Size: 1, SHA256: "00", Event: 3}}},
		getOutput{File: "f", ID: "it_1", SHA256: "00", Size: 1},
		fetchOutput{File: "f", Package: "pk_1", SHA256: "00", Size: 1},
		verifyOutput{Checkpoints: 1, Events: 2, ExtendsCheckpoint: &size, Fingerprint: "fp", Key: "k", OK: true, Origin: "o", Root: "r"},
		verifyOutput{Checkpoints: 1, Events: 2, Fingerprint: "fp", Key: "k", OK: true, Origin: "o", Root: "r"},
		verifyOutput{Checkpoints: 1, Events: 2, Fingerprint: "fp", Key: "k", OK: true, Origin: "o", Root: "r", RootBase64: "b", StickyHeadCompared: new(bool),
			Timestamps: []timestampOutput{{Size: 2, Time: "t", Accuracy: "0s", TSA: "a"}}, Warnings: []string{"w"}, Witnessed: &witnessedOutput{Size: 2}},
		verifyFailure{Error: "e", Event: new(uint64), Events: 2},
		keyOutput{Fingerprint: "fp", Key: "k", Origin: "o"},
		logExportOutput{Checkpoints: 1, Dir: "d", Events: 2, KeyFingerprint: "fp"},
		timestampsOutput{Dir: "d", Failures: []string{"f"}, First: "t", KeyPinned: true, Last: "t", NotCounted: []string{"n"}, Notes: 1, OK: true, Tokens: 2, TokensChecked: true, Verified: 2},
		migrateOutput{Events: 2, OK: true},
		api.CaseResponse{Case: "C"},
		api.MemberResponse{Case: "C", Person: "p"},
		api.HoldResponse{Case: "C", Held: true, Objects: 2},
		api.DestructionResponse{Case: "C", Request: "r"},
		api.RequestResponse{Request: "rq_1", Kind: "person.enroll", By: "c"},
		api.RedeemResponse{Name: "n", Credential: "c"},
		api.WhoAmIResponse{Name: "n", Role: "r", Auth: "oidc", Session: "s", Issuer: "i", Subject: "s", ACR: "a", AMR: []string{"pwd"}, Certificate: "c"},
		api.PersonsResponse{},
		vault.PersonInfo{Name: "n", Role: "r", Status: "active", OIDC: "o", Certificate: "c", HasRecipient: true},
		api.RequestsResponse{},
		vault.Request{ID: "rq", Kind: "k", Case: "c", Person: "p", Params: []byte("{}"), By: "b", ByRole: "r"},
		api.PersonStatusResponse{Person: "p", Status: "suspended"},
		api.PolicyResponse{Case: "c", ExportApproval: "required"},
		api.EndSessionResponse{Session: "s", Ended: true},
		vault.CaseSummary{Case: "c", Title: "t", Items: 1, Held: true},
		vault.CaseDetail{Case: "c", Title: "t", Members: []string{"m"}, Retention: "1h", VaultRetention: "2h", OpenedBy: "o"},
		vault.ItemSummary{ID: "i", Name: "n", SHA256: "s", Size: 1},
		vault.ItemDetail{ID: "i", Case: "c", Name: "n", SHA256: "s", MD5: "m", SHA1: "h", Source: "u", Note: "x", DepositedBy: "d", Accesses: 1},
		vault.PackageSummary{Package: "p", Case: "c", For: "f", Purpose: "p", Items: 1, SHA256: "s", Size: 1, SealedAt: time.Unix(1, 0)},
		api.RecipientResponse{Recipient: "age1x"},
		api.ErrorResponse{Error: "e"},
	} {
		var typed, asMap bytes.Buffer
		if err := json.NewEncoder(&typed).Encode(v); err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage // nested values were types already
		if err := json.Unmarshal(typed.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(&asMap).Encode(m)
		if typed.String() != asMap.String() {
			t.Errorf("%s prints\n%s not, as a map would,\n%s", reflect.TypeOf(v), typed.String(), asMap.String())
		}
	}
}

// TestPrepareOutputSweepsWhatAKillLeft: a fetch killed beyond catching
// (SIGKILL) left its unfinished copy beside the output; the next fetch
// to the same name removes it (it has not been written to for a minute),
// and leaves a live fetch's copy and other names alone.
func TestPrepareOutputSweepsWhatAKillLeft(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	stale := filepath.Join(dir, ".view.bin.partial-111")
	live := filepath.Join(dir, ".view.bin.partial-222")
	other := filepath.Join(dir, ".other.bin.partial-333")
	for _, p := range []string{stale, live, other} {
		if err := os.WriteFile(p, []byte("plaintext so far"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Chtimes(stale, old, old)
	os.Chtimes(other, old, old)
	tmp, err := prepareOutput(filepath.Join(dir, "view.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	os.Remove(tmp.Name())
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the copy a killed fetch left is still there: %v", err)
	}
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// The output is there now (a retry succeeded); a leftover of a fetch
	// killed before it is removed by the next fetch to that name, though
	// that fetch is refused.
	if err := os.WriteFile(filepath.Join(dir, "view.bin"), []byte("the verified copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(stale, []byte("plaintext so far"), 0o600)
	os.Chtimes(stale, old, old)
	if _, err := prepareOutput(filepath.Join(dir, "view.bin")); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a fetch over an existing file: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a leftover beside an existing output is still there: %v", err)
	}
}

// A hash-set match found by PDQ says how near it is: item show and a
// deposit's answer read "pdq, distance 16 of 256 bits", as similar does.
func TestHashSetMatchLinesSayThePDQDistance(t *testing.T) {
	lines := hotlineLines(api.ItemDetailResponse{Matches: []vault.HashSetMatch{
		{Set: "projectvic", Entry: 3, Algorithm: "pdq", Distance: 16, Category: "baseline"},
		{Set: "partner", Entry: 7, Algorithm: "sha256", Category: "national"},
	}})
	got := strings.Join(lines, "\n")
	for _, want := range []string{"hash set projectvic, entry 3 (pdq, distance 16 of 256 bits, baseline)", "hash set partner, entry 7 (sha256, national)"} {
		if !strings.Contains(got, want) {
			t.Errorf("item show's lines lack %q:\n%s", want, got)
		}
	}
}

// A series a hash set gave (text from outside the vault; a set imported
// before its entries' text was checked may hold anything) reaches the
// terminal escaped: no line of its own, no escape sequence, no override.
func TestAMatchsSeriesIsShownEscaped(t *testing.T) {
	lines := hotlineLines(api.ItemDetailResponse{Matches: []vault.HashSetMatch{
		{Set: "partner", Entry: 7, Algorithm: "sha1", Category: "baseline", Series: "S1)\ncategory:   not-illegal\x1b[8m\u202egpj"},
	}})
	got := strings.Join(lines, "\n")
	if len(lines) != 2 || strings.Count(got, "\n") != 1 || strings.ContainsAny(got, "\x1b\u202e") || !strings.Contains(got, `series S1)\u000acategory:   not-illegal\u001b[8m\u202egpj)`) {
		t.Fatalf("item show's lines: %q", lines)
	}
}

// TestRequestsShowLongRecipientsShort: a request to replace a recipient
// with a post-quantum one (about 1,960 characters) is listed by the
// recipient's ends and SHA-256, what its owner was shown when they set it,
// not as a page of characters no one compares.
func TestRequestsShowLongRecipientsShort(t *testing.T) {
	long := "age1pq1" + strings.Repeat("q", 1952)
	params, _ := json.Marshal(map[string]string{"recipient": long})
	got := describeRequest(vault.Request{Kind: vault.KindRecipient, Person: "pros", Params: params}, "")
	if len(got) > 200 || !strings.Contains(got, "1959 characters; SHA-256 ") || !strings.HasPrefix(got, "pros's recipient becomes age1pq1") {
		t.Fatalf("the request is described as %q", got)
	}
}

// TestRequestsNameTheItemsOfASealing: a package.seal request is listed
// with how many items it asks, their size, and the first of them by
// name, size, classification, SHA-256 and id, and how many of each
// category, so that the approving custodian sees what leaves the vault,
// and how many more there are.
func TestRequestsNameTheItemsOfASealing(t *testing.T) {
	a := vault.AskedItems{Count: 21, Size: 3 << 20, Classified: map[string]int{"baseline": 19, "national": 1}, Unclassified: 1, First: []vault.ItemSummary{
		{ID: "it_0123456789abcdef01234567", Name: "DCIM/IMG 0001.JPG", Size: 2048, SHA256: strings.Repeat("ab", 32), Category: "baseline"},
		{ID: "it_0123456789abcdef01234568", Name: "chat.txt", Size: 10, SHA256: strings.Repeat("cd", 32), Disputed: true},
	}}
	got := askedItemsText(a)
	for _, want := range []string{"21 items, 3,145,728 bytes in all (baseline 19, national 1, not classified 1)", `"DCIM/IMG 0001.JPG" (2,048 bytes, baseline, sha256 ` + strings.Repeat("ab", 32) + ", it_0123456789abcdef01234567)",
		`"chat.txt" (10 bytes, not classified: the votes disagree, sha256`, "and 19 more"} {
		if !strings.Contains(got, want) {
			t.Errorf("the items are described as %q, without %q", got, want)
		}
	}
}

// TestRequestsSayASealingDisclosesOthers: the approver of a sealing is
// told that its report will state the other packages of its items (for
// whom, when), which the requester chose.
func TestRequestsSayASealingDisclosesOthers(t *testing.T) {
	params := []byte(`{"for":"pros","purpose":"trial","items":["it_0123456789abcdef01234567"],"disclose_others":true}`)
	got := describeRequest(vault.Request{Kind: vault.KindSeal, Case: "C-1", Params: params}, "")
	if !strings.Contains(got, "its report states the other packages of these items") {
		t.Errorf("the request is described as %q", got)
	}
	params = []byte(`{"for":"pros","purpose":"trial","items":["it_0123456789abcdef01234567"]}`)
	if got := describeRequest(vault.Request{Kind: vault.KindSeal, Case: "C-1", Params: params}, ""); strings.Contains(got, "other packages") {
		t.Errorf("a request that discloses nothing is described as %q", got)
	}
}

// A sealing's request names whom the package is for with their role in
// words, so that a person named after a role reads clearly: "for defence
// (defence counsel)", never "defence is defence".
func TestRequestsNameTheRecipientAndRole(t *testing.T) {
	params := []byte(`{"for":"defence","purpose":"disclosure","items":["it_0123456789abcdef01234567"]}`)
	for role, want := range map[string]string{
		"defence":    `a package of C-1 for defence (defence counsel): "disclosure"`,
		"prosecutor": `a package of C-1 for defence (prosecutor): "disclosure"`,
		"":           `a package of C-1 for defence: "disclosure"`,
	} {
		if got := describeRequest(vault.Request{Kind: vault.KindSeal, Case: "C-1", Params: params}, role); !strings.HasPrefix(got, want) {
			t.Errorf("role %q: the request is described as %q, want %q", role, got, want)
		}
	}
}

// TestOutputMistakesAreInputMistakes: an -o that names an existing file,
// a folder, or a file in a folder that does not exist is a mistake in
// the command (exit 2, errInput), which a script tells apart from a
// fetch whose bytes failed their check (exit 1); it creates nothing.
func TestOutputMistakesAreInputMistakes(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "view.bin")
	os.WriteFile(existing, []byte("kept"), 0o600)
	for _, c := range []struct{ out, want string }{
		{existing, "exists"},
		{dir, "is a folder"},
		{filepath.Join(dir, "no", "view.bin"), "does not exist"},
	} {
		_, err := prepareOutput(c.out)
		if !errors.Is(err, errInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("-o %s: %v, want an input mistake saying %q", c.out, err, c.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the refusals left %d entries, want only the existing file", len(ents))
	}
	if b, _ := os.ReadFile(existing); string(b) != "kept" {
		t.Errorf("the existing file now holds %q", b)
	}
}

// TestOutputFailuresOfTheFileSystemAreNotMistakes: a folder the user may
// not write in is a mistake in the command (exit 2); a file system that
// is full, read-only or failing is not (exit 1).
func TestOutputFailuresOfTheFileSystemAreNotMistakes(t *testing.T) {
	msg := errors.New("cannot write x")
	for cause, mistake := range map[error]bool{
		&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}: true,
		&os.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}: true,
		&os.PathError{Op: "open", Path: "x", Err: syscall.ENOSPC}: false,
		&os.PathError{Op: "open", Path: "x", Err: syscall.EROFS}:  false,
		&os.PathError{Op: "open", Path: "x", Err: syscall.EIO}:    false,
	} {
		if got := errors.Is(outputErr(msg, cause), errInput); got != mistake {
			t.Errorf("%v: an input mistake %v, want %v", cause, got, mistake)
		}
	}
}

// A report shown names the analyst who entered it as the one who
// recorded it, not as its sender: an anonymous report has none.
func TestReportShowsWhoRecordedIt(t *testing.T) {
	var out bytes.Buffer
	printReport(&out, vault.ReportView{Report: "rp_1", Status: "received", Channel: "email", ReceivedBy: "sok.dara",
		ReceivedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), Anonymous: true}, false)
	if s := out.String(); !strings.Contains(s, "by email, recorded by sok.dara") || strings.Contains(s, "from sok.dara") {
		t.Errorf("report shown as:\n%s", s)
	}
}

// A report shown to its case's analyst names its items and says how each
// one's category stands; to anyone else, its items are ids alone.
func TestReportShowsItsCaptures(t *testing.T) {
	r := vault.ReportView{Report: "rp_1", Status: "assessing", Channel: "email", ReceivedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC),
		Items: []string{"it_1", "it_2", "it_3"}}
	var ids bytes.Buffer
	printReport(&ids, r, false)
	if s := ids.String(); !strings.Contains(s, "items: it_1, it_2, it_3") {
		t.Errorf("a report without captures shown as:\n%s", s)
	}
	r.Captures = []vault.CaptureView{
		{ID: "it_1", Name: "chat export.txt", Category: vault.CategoryNotIllegal, Classification: "votes"},
		{ID: "it_2", Name: "photo.png", Classification: "disputed"},
		{ID: "it_3", Name: "page.html", Classification: "unclassified"},
	}
	var named bytes.Buffer
	printReport(&named, r, false)
	for _, want := range []string{"items (3):", "it_1  chat export.txt  not-illegal (settled by votes)", "it_2  photo.png  disputed", "it_3  page.html  not classified"} {
		if !strings.Contains(named.String(), want) {
			t.Errorf("a report with captures shown without %q:\n%s", want, named.String())
		}
	}
}

// A report's captures are shown under the reported URL each was captured
// from (deposit --source, in any spelling the URL is known by), the
// others after them; known material says so, with why, and votes as
// item list gives them.
func TestReportShowsCapturesUnderTheirURL(t *testing.T) {
	r := vault.ReportView{Report: "rp_1", Status: "assessing", Channel: "email", ReceivedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC),
		URLs: []string{"https://imgshare.example/g/7781", "https://paste.example/x"}, Items: []string{"it_1", "it_2", "it_3"},
		Captures: []vault.CaptureView{
			{ID: "it_1", Name: "gallery-01.jpg", Source: "http://www.imgshare.example/g/7781", Classification: "voting", Votes: 1, Needed: 3, Voted: "baseline"},
			{ID: "it_2", Name: "paste.txt", Source: "https://paste.example/x", Classification: "unclassified"},
			{ID: "it_3", Name: "gallery-02.jpg", Classification: "unclassified", Known: "it looks like (PDQ distance 2) item it_1 of this case, classified baseline"},
		}}
	var out bytes.Buffer
	printReport(&out, r, false)
	want := "  items (3):\n    from https://imgshare.example/g/7781:\n      it_1  gallery-01.jpg  unsettled: 1 of 3 votes for baseline\n" +
		"    from https://paste.example/x:\n      it_2  paste.txt  not classified\n" +
		"    from no reported URL (deposit --source names none of them):\n      it_3  gallery-02.jpg  known material, not classified (it looks like (PDQ distance 2) item it_1 of this case, classified baseline)\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the report shown as:\n%s\nwant within it:\n%s", out.String(), want)
	}
}

// TestNamesAndTextReadAsWritten: the command line shows Khmer (marks and
// the zero-width spaces between its words) and emoji as written, and
// escapes what makes look-alikes: a mark on a Latin letter, a joiner
// between Latin letters, a stray variation selector; whatever the vault
// answers, printResult's text holds nothing hidden but the joiners
// writing needs.
func TestNamesAndTextReadAsWritten(t *testing.T) {
	for name, want := range map[string]string{
		"DCIM/ឯកសារ/ខ្ញុំ\u200bស្រលាញ់.jpg":  "DCIM/ឯកសារ/ខ្ញុំ\u200bស្រលាញ់.jpg",
		"👨\u200d👩\u200d👧.jpg":                "👨\u200d👩\u200d👧.jpg",
		"\u2764\ufe0f.jpg":                   "\u2764\ufe0f.jpg",
		"DCIM/ឯកសារ/e\u0301.txt":             `DCIM/ឯកសារ/e\u0301.txt`,
		"fi\u0307le.jpg":                     `fi\u0307le.jpg`,
		"ph\u200boto.jpg":                    `ph\u200boto.jpg`,
		"photo\ufe00.jpg":                    `photo\ufe00.jpg`,
		"ภาพถ่าย.jpg":                        "ภาพถ่าย.jpg",
		"ប្រវត្តិរូប-re\u0301sume\u0301.txt": `ប្រវត្តិរូប-re\u0301sume\u0301.txt`,
		"a=\ufe0f\u0338b.txt":                `a=\ufe0f\u0338b.txt`,
		"a$\ufe0f.jpg":                       `a$\ufe0f.jpg`,
	} {
		if got := displayName(name); got != want {
			t.Errorf("displayName(%+q) = %+q, want %+q", name, got, want)
		}
	}
	var b strings.Builder
	printResult(&b, false, nil, "CASE\tTITLE\nC-1\tOp Ha\u200bwk \x1b[2J\u202e\nC-2\tការ\u200bរំលោភ")
	got := b.String()
	if strings.ContainsAny(got, "\x1b\u202e") || !strings.Contains(got, `Op Ha\u200bwk \u001b[2J\u202e`) || !strings.Contains(got, "ការ\u200bរំលោភ") {
		t.Errorf("printResult's text:\n%q", got)
	}
}

// TestTableColumnsByWidth: a table's columns line up as a terminal draws
// them: a Thai name with its marks, a Khmer one with its subscripts, a
// name in CJK (two columns a character) and an emoji sequence are
// measured by the columns they take, not by their runes.
func TestTableColumnsByWidth(t *testing.T) {
	out := table([]string{"ID", "NAME", "SIZE"}, [][]string{
		{"it_1", "ภาพที่ถ่าย.jpg", "1 KiB"},
		{"it_2", "ស្រីពៅ.jpg", "2 KiB"},
		{"it_3", "照片.jpg", "3 KiB"},
		{"it_4", "👨‍👩‍👧.jpg", "4 KiB"},
		{"it_5", "plain.jpg", "5 KiB"},
	})
	lines := strings.Split(out, "\n")
	col := -1
	for _, l := range lines {
		i := strings.LastIndex(l, "  ")
		w := uniseg.StringWidth(l[:i+2])
		if col == -1 {
			col = w
		} else if w != col {
			t.Errorf("the last column starts at %d in %q, at %d above:\n%s", w, l, col, out)
		}
	}
}

// An item held by a set's listing, on which one person voted not
// illegal, says the set's category, and why the vote does not settle it.
func TestItemShowSaysWhyOneVoteDoesNotSettle(t *testing.T) {
	why := "it matches entry 0 of hash set caid (baseline), and known material is settled as not illegal only when 2 people assigned to the case agree (1 does)"
	lines := hotlineLines(api.ItemDetailResponse{Classification: vault.Classification{Category: "baseline", Source: "hashset", NotSettledBecause: why,
		Needed: 1, Tally: map[string]int{"not-illegal": 1}, Votes: []vault.VoteView{{By: "ana1", Category: "not-illegal", At: "2026-12-07T08:00:00Z"}},
		Inherit: &vault.InheritView{Category: "baseline", Set: "caid"}}})
	got := strings.Join(lines, "\n")
	for _, want := range []string{"category:   baseline (inherited from hash set caid, entry 0)", "not settled as not-illegal: " + why, "vote:     not-illegal by ana1"} {
		if !strings.Contains(got, want) {
			t.Errorf("item show's lines lack %q:\n%s", want, got)
		}
	}
	lines = hotlineLines(api.ItemDetailResponse{Classification: vault.Classification{Category: "national", Source: "once-settled", Needed: 1, Tally: map[string]int{"not-illegal": 1}}})
	if got := strings.Join(lines, "\n"); !strings.Contains(got, "national (votes settled it so; the not-illegal votes since do not clear it)") {
		t.Errorf("a category once settled reads:\n%s", got)
	}
}

// An image whose PDQ hash is too poor to compare says that its
// near-copies are not searched for; one good enough does not.
func TestItemShowSaysALowQualityImageIsNotSearched(t *testing.T) {
	for q, unsearched := range map[int]bool{3: true, 49: true, 50: false, 100: false} {
		lines := hotlineLines(api.ItemDetailResponse{Media: &vault.MediaInfo{Kind: "image", Format: "jpeg", Width: 8, Height: 8, PDQ: strings.Repeat("0", 64), Quality: q}})
		got := strings.Join(lines, "\n")
		if strings.Contains(got, "near-copies are not searched for") != unsearched {
			t.Errorf("quality %d:\n%s", q, got)
		}
	}
}

// A vote that does not settle known material does not say it is one of
// the votes that settle it under the case's policy ("1 of the 1"): it
// says why it does not settle, and that the item stays hidden.
func TestClassifySaysWhyAVoteDoesNotClear(t *testing.T) {
	why := "it matches entry 0 of hash set caid (baseline), and known material is settled as not illegal only when 2 people assigned to the case agree (1 does)"
	got := classifyText(api.ClassifyResponse{Item: "it_1", Category: "not-illegal", Votes: 1, Needed: 1, Settled: "baseline",
		Classification: vault.Classification{Category: "baseline", Source: "hashset", NotSettledBecause: why}, Known: "it matches entry 0 of hash set caid (baseline)"})
	if strings.Contains(got, "1 of the 1") || strings.Contains(got, "settled as baseline") || !strings.Contains(got, "not settled as not-illegal: "+why) ||
		!strings.Contains(got, "still hidden from review as known material") {
		t.Errorf("classify says:\n%s", got)
	}
	got = classifyText(api.ClassifyResponse{Item: "it_2", Category: "baseline", Votes: 1, Needed: 1, Settled: "baseline"})
	if !strings.Contains(got, "agreeing votes: 1 of the 1 that settle it; settled as baseline") {
		t.Errorf("a vote on new material: %s", got)
	}
}

// A near-duplicate search names each match the reader may see by its
// name (and its case, where another), another case's by its category
// alone, the images not searched by name, and what a distance is.
func TestSimilarTextNamesMatchesAndSaysWhatADistanceIs(t *testing.T) {
	zero := uint64(0)
	out := api.SimilarResponse{Items: []vault.SimilarItems{
		{Item: "it_1", Name: "gallery-01.jpg", Matches: []vault.SimilarMatch{
			{Item: "it_2", Name: "gallery-02.jpg", Case: "KH-1", Distance: 2},
			{Item: "it_3", Name: "old.jpg", Case: "KH-0", Category: "baseline", Distance: 9},
			{Category: "national", Distance: 12},
			{Set: "caid", Entry: &zero, Category: "baseline", Distance: 20},
		}},
		{Item: "it_4", Name: "page.html", NotSearched: "not an image"},
		{Item: "it_5", Name: "chat.txt", NotSearched: "not an image"},
	}}
	got := similarText(out, "KH-1", 0)
	for _, want := range []string{
		"it_1  gallery-01.jpg:\n    distance  2  it_2  gallery-02.jpg\n",
		"    distance  9  it_3  old.jpg (case KH-0), baseline\n",
		"    distance 12  an item of another case, national\n",
		"    distance 20  hash set caid, entry 0, baseline\n",
		"2 items not searched: not an image: it_4 page.html, it_5 chat.txt\n",
		"0 is the same picture, and near-duplicates are those within the vault's threshold)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("similar's text lacks %q:\n%s", want, got)
		}
	}
}

// The notes of an acknowledgement and a removal are shown under their
// URL, quoted.
func TestReportShowsNoticeNotes(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	later := at.Add(3 * time.Hour)
	r := vault.ReportView{Report: "rp_1", Status: "actioned", Channel: "email", ReceivedAt: at, URLs: []string{"https://x.example/a"},
		Notices: []vault.NoticeView{{URL: "https://x.example/a", To: "host", Via: "email", SentAt: at, AcknowledgedAt: &at, AcknowledgedNote: "ticket 5521",
			RemovedAt: &later, RemovedNote: "checked: 404"}}}
	var out bytes.Buffer
	printReport(&out, r, false)
	for _, want := range []string{`acknowledged at 2026-12-05 09:00:00 UTC: "ticket 5521"`, `removed at 2026-12-05 12:00:00 UTC (3.0 h after the first notice): "checked: 404"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}
