package web

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/vault"
)

// TestBrowserUploadFolder: a folder chosen in the folder field is
// uploaded file by file, each keeping its path below the folder.
func TestBrowserUploadFolder(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "FD-1")
	dir := filepath.Join(t.TempDir(), "phone")
	os.MkdirAll(filepath.Join(dir, "DCIM", "100APPLE"), 0o700)
	os.WriteFile(filepath.Join(dir, "DCIM", "100APPLE", "IMG_0001.JPG"), []byte("one"), 0o600)
	os.WriteFile(filepath.Join(dir, "chats.txt"), []byte("two"), 0o600)
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-1/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.done').length === 2`))
	items, err := bv.v.Items(context.Background(), inv, "FD-1", vault.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Name)
	}
	slices.Sort(names)
	if want := []string{"phone/DCIM/100APPLE/IMG_0001.JPG", "phone/chats.txt"}; !slices.Equal(names, want) {
		t.Fatalf("the folder's files were stored as %v, want %v", names, want)
	}
}

// TestBrowserFolderHashList: a sha256sum list made inside the chosen
// folder (names without the folder's own) checks every file of it; a
// file the list does not name stops the upload before anything is sent;
// and the same folder again is refused file by file unless asked for.
func TestBrowserFolderHashList(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "FD-2")
	dir := filepath.Join(t.TempDir(), "seized-phone")
	os.MkdirAll(filepath.Join(dir, "DCIM"), 0o700)
	files := map[string]string{"DCIM/IMG_0001.jpg": "one", "notes.txt": "two"}
	var list strings.Builder
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
		sum := sha256.Sum256([]byte(content))
		fmt.Fprintf(&list, "%x  %s\n", sum, name)
	}
	bv.signIn(t, ctx, "inv")
	// One file missing from the list: nothing is sent.
	first, _, _ := strings.Cut(list.String(), "\n")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-2/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.SendKeys(chromedp.ID("sums"), first+"\n"),
		chromedp.Click(chromedp.ID("start")),
		chromedp.WaitVisible(chromedp.CSS("#overall-text.error")))
	if got := text(t, ctx, "#overall-text"); !strings.Contains(got, "no hash for") {
		t.Fatalf("a file without a listed hash: the page says %q", got)
	} else if !strings.Contains(got, "\u2068") || !strings.Contains(got, "\u2069") {
		// Names listed one after another, each its own isolate: two
		// Hebrew names do not run together or change places.
		t.Errorf("the names the list lacks are not isolated: %q", got)
	}
	if items, _ := bv.v.Items(context.Background(), inv, "FD-2", vault.ItemFilter{}); len(items) != 0 {
		t.Fatalf("%d files were sent although the list lacked one", len(items))
	}
	// The whole list: every file is checked against it.
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-2/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.SendKeys(chromedp.ID("sums"), list.String()),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.done').length === 2`))
	for _, ev := range bv.events(t, vault.TypeItemDeposited) {
		var d vault.ItemDeposited
		json.Unmarshal(ev.Data, &d)
		if d.Acquisition == nil || d.Acquisition.SHA256 != d.SHA256 {
			t.Fatalf("%s was stored without its acquisition hash: %+v", d.Name, d.Acquisition)
		}
	}
	// The same folder again: each file said to be in the case already
	// (not a failure), nothing deposited, and nothing sent: the page
	// hashed each file and asked first, so no copy is left in the store.
	stored := countFiles(t, bv.objects)
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-2/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.already').length === 2`))
	if got := text(t, ctx, "#uploads li.already"); !strings.Contains(got, "already in the case as it_") {
		t.Fatalf("a file uploaded again says %q", got)
	}
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#uploads li.failed').length`)); n != 0 {
		t.Fatalf("%d files uploaded again are shown as failed", n)
	}
	if got := text(t, ctx, "#overall-text"); !strings.Contains(got, "0 of 2 files stored, 2 already in the case (not stored again)") {
		t.Fatalf("the summary of an upload of files the case holds says %q", got)
	}
	if n := len(bv.events(t, vault.TypeItemDeposited)); n != 2 {
		t.Fatalf("the same folder again made %d deposits in all", n)
	}
	if got := countFiles(t, bv.objects); got != stored {
		t.Fatalf("the same folder again left %d objects in the store, %d before: its copies were sent", got, stored)
	}
	if got := text(t, ctx, "#uploads li.already"); !strings.Contains(got, "not sent") {
		t.Fatalf("a file the case holds says %q", got)
	}

	// A file whose content differs from its line in a pasted list is
	// sent all the same, for the vault to refuse and say why, even where
	// the case holds a file of that name.
	bv.expectRefused(bv.url + "/app/cases/FD-2/items")
	wrong := strings.Replace(list.String(), fmt.Sprintf("%x", sha256.Sum256([]byte("two"))), strings.Repeat("0", 64), 1)
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-2/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.SendKeys(chromedp.ID("sums"), wrong),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.already').length === 1 && document.querySelectorAll('#uploads li.failed').length === 1`))
	if got := text(t, ctx, "#uploads li.failed"); !strings.Contains(got, "notes.txt") {
		t.Fatalf("the file that differs from its listed hash says %q", got)
	}

	// The same files from another exhibit (a second suspect's phone,
	// named in Source) are that exhibit's evidence: stored, not taken
	// for this folder uploaded again.
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-2/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.SendKeys(chromedp.ID("source"), "phone of the second suspect, exhibit JD/3"),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.done').length === 2`))
	if n := len(bv.events(t, vault.TypeItemDeposited)); n != 4 {
		t.Fatalf("the second exhibit's files made %d deposits in all, want 4", n)
	}
}

// countFiles is how many regular files are under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserUploadSaysKnownMaterial: an upload that matches a hash set
// of known material says so on the page, with the set, as the command
// line's deposit does, not only "stored".
func TestBrowserUploadSaysKnownMaterial(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "FD-3")
	content := []byte("a picture a partner hotline lists")
	sum := sha256.Sum256(content)
	importHashSet(t, bv.v, vault.HashSetImport{Name: "partner-list", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(fmt.Sprintf("%x  x.jpg\n", sum))})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "listed.jpg"), content, 0o600)
	os.WriteFile(filepath.Join(dir, "new.jpg"), []byte("nothing anyone lists"), 0o600)
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-3/upload"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{filepath.Join(dir, "listed.jpg"), filepath.Join(dir, "new.jpg")}),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.done').length === 2`))
	rows := value(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#uploads li.done')).map(li => li.textContent)`))
	var listed, fresh string
	for _, r := range rows {
		if strings.Contains(r, "listed.jpg") {
			listed = r
		} else {
			fresh = r
		}
	}
	if !strings.Contains(listed, "Matches hash set partner-list (baseline)") || !strings.Contains(listed, "Known material, hidden from review") {
		t.Fatalf("the listed file's row says %q", listed)
	}
	if strings.Contains(fresh, "Matches") || strings.Contains(fresh, "Known material") {
		t.Fatalf("the new file's row says %q", fresh)
	}
}

// TestBrowserReportReceivedEarlier: the analyst's "received at, if
// earlier" is typed on their own clock, and the page sends its time
// zone's offset for that date: the report is recorded as received then,
// in UTC, whatever zone the browser is in.
func TestBrowserReportReceivedEarlier(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.signIn(t, ctx, "ana")
	// Phnom Penh (UTC+7), not the machine's zone: the offset must come
	// from the browser.
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Phnom_Penh"}); err != nil {
		t.Fatal(err)
	}
	local := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	run(t, ctx, chromedp.Navigate(bv.url+"/app/triage"),
		chromedp.SendKeys(chromedp.ID("rurls"), "https://host.example/reported"),
		chromedp.SetValue(chromedp.ID("rat"), local.Format("2006-01-02T15:04")),
		chromedp.Click(chromedp.CSS(`form[action="/app/reports"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	// The browser's own offset for that date, as the page computed it.
	offset := value(t, ctx, chromedp.Evaluate[int](fmt.Sprintf(`0 - new Date(%q).getTimezoneOffset()`, local.Format("2006-01-02T15:04"))))
	want := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, time.FixedZone("", offset*60)).UTC()
	recv := bv.events(t, vault.TypeReportReceived)
	if len(recv) != 1 {
		t.Fatalf("%d reports recorded", len(recv))
	}
	var d vault.ReportReceived
	json.Unmarshal(recv[0].Data, &d)
	if offset != 7*60 {
		t.Fatalf("the browser's zone is %d minutes east, not Phnom Penh's", offset)
	}
	if got, err := time.Parse(time.RFC3339, d.At); err != nil || !got.Equal(want) {
		t.Fatalf("recorded as received at %q, want %s", d.At, want.Format(time.RFC3339))
	}
}

// uploadPageOfThree opens caseID and shows its upload page to the
// investigator, three files chosen and not yet sent.
func (bv *browserVault) uploadPageOfThree(t *testing.T, caseID string) {
	t.Helper()
	bv.openCase(t, caseID)
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"a.jpg", "b.jpg", "c.jpg"} {
		os.WriteFile(filepath.Join(dir, name), []byte("content of "+name), 0o600)
		files = append(files, filepath.Join(dir, name))
	}
	bv.signIn(t, bv.ctx, "inv")
	run(t, bv.ctx, chromedp.Navigate(bv.url+"/app/cases/"+caseID+"/upload"), chromedp.SetUploadFiles(chromedp.ID("files"), files))
}

// TestBrowserUploadStopsWhenTheCaseIsNoLongerTheirs: an investigator
// removed from the case while their upload page is open starts the
// upload: the page's first question is refused (and recorded), the page
// says so and sends nothing more, so the log holds one refusal, not one
// per file.
func TestBrowserUploadStopsWhenTheCaseIsNoLongerTheirs(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.uploadPageOfThree(t, "FD-4")
	if err := bv.v.RemoveMember(context.Background(), vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "FD-4", "inv", "moved to another unit"); err != nil {
		t.Fatal(err)
	}
	bv.expectRefused("/app/cases/FD-4/held")
	run(t, ctx, chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.getElementById('start').disabled === false && document.querySelectorAll('#uploads li.failed').length === 1`))
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#uploads li.done, #uploads li.already').length`)); n != 0 {
		t.Errorf("%d files stored after the case was no longer the investigator's", n)
	}
	if got := text(t, ctx, "#overall-text"); !strings.Contains(got, "0 of 3 files stored") {
		t.Errorf("the summary says %q", got)
	}
	refusals := bv.refusals(t)
	if len(refusals) != 1 || refusals[0].Action != "item.list" || refusals[0].Person != "inv" {
		t.Errorf("the refusals recorded: %v", refusals)
	}
}

// TestBrowserUploadStopsAtADestroyedCase: a case destroyed under a court
// order while an investigator's upload page is open: the page's first
// question is refused as the deposit would be (recorded once, as a
// refused deposit), the page says why and sends nothing more, so the log
// holds one refusal, not one per file.
func TestBrowserUploadStopsAtADestroyedCase(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.uploadPageOfThree(t, "FD-5")
	bg := context.Background()
	req, err := bv.v.RequestDestruction(bg, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "FD-5", "order 12/2026", "ordered by the court")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.ApproveDestruction(bg, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, "FD-5", req); err != nil {
		t.Fatal(err)
	}
	bv.expectRefused("/app/cases/FD-5/held")
	run(t, ctx, chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.getElementById('start').disabled === false && document.querySelectorAll('#uploads li.failed').length === 1`))
	if got := text(t, ctx, "#uploads li.failed"); !strings.Contains(got, "destroyed under a court order") {
		t.Errorf("the failed file says %q", got)
	}
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#uploads li.done, #uploads li.already').length`)); n != 0 {
		t.Errorf("%d files stored in a destroyed case", n)
	}
	refusals := bv.refusals(t)
	if len(refusals) != 1 || refusals[0].Action != "item.deposit" || refusals[0].Person != "inv" {
		t.Errorf("the refusals recorded: %v", refusals)
	}
}

// TestBrowserUploadRecordsWhatItDidNotStore: an upload of seized media
// that leaves content behind records it, as custos deposit does, in the
// depositor's statement (deposit.skipped): a file the browser could not
// read (here deleted after it was chosen; a file without read permission
// fails alike), which the page called a lost connection, one refused for
// its acquisition hash, and one the pasted list names that was not
// chosen. The page names every file not stored in its summary, and the
// statement's event.
func TestBrowserUploadRecordsWhatItDidNotStore(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "FD-6")
	dir := filepath.Join(t.TempDir(), "seized")
	os.MkdirAll(dir, 0o700)
	var list strings.Builder
	for name, content := range map[string]string{"a.txt": "one", "gone.txt": "two", "wrong.txt": "three", "extra.txt": "four"} {
		if name != "extra.txt" {
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
		}
		sum := sha256.Sum256([]byte(content))
		if name == "wrong.txt" {
			sum = sha256.Sum256([]byte("not three"))
		}
		fmt.Fprintf(&list, "%x  %s\n", sum, name)
	}
	bv.expectRefused(bv.url + "/app/cases/FD-6/items")
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-6/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.SendKeys(chromedp.ID("sums"), list.String()),
		chromedp.SendKeys(chromedp.ID("source"), "phone of the suspect, exhibit JD/1"))
	if err := os.Remove(filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.getElementById('upload').dataset.statement !== undefined`))
	summary := text(t, ctx, "#overall-text")
	for _, want := range []string{"1 of 3 files stored", "Not stored:", "seized/gone.txt", "seized/wrong.txt", "recorded in the custody log as your statement (event"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q: %s", want, summary)
		}
	}
	if got := text(t, ctx, "#uploads"); !strings.Contains(got, "this computer could not read the file") || strings.Contains(got, "connection to the vault was lost") {
		t.Errorf("the file that could not be read is said as: %s", got)
	}
	evs := bv.events(t, vault.TypeDepositSkipped)
	if len(evs) != 1 {
		t.Fatalf("%d statements recorded, want 1", len(evs))
	}
	var d vault.DepositSkipped
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, f := range d.Files {
		if !f.LeftBehind {
			t.Errorf("%s is not stated as content left behind", f.Path)
		}
		reasons[f.Path] = f.Reason
	}
	if d.Count != 3 || d.Deposited != 1 || d.Source != "phone of the suspect, exhibit JD/1" ||
		!strings.Contains(reasons["extra.txt"], "not among the files chosen") ||
		!strings.Contains(reasons["seized/gone.txt"], "could not be read") ||
		!strings.HasPrefix(reasons["seized/wrong.txt"], "refused: ") {
		t.Fatalf("the statement recorded: %+v", d)
	}
}
