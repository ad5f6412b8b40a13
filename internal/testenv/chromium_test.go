package testenv

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestChromium checks the test browser itself: its console messages and
// exceptions are kept, a download lands in DownloadDir, a screenshot is a
// PNG as wide as the window, and no process of it outlives the test.
func TestChromium(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>t</title><p id=p>hello</p><a id=dl href="/file">file</a><script src="/page.js"></script>`))
	})
	mux.HandleFunc("/page.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte("console.log('all well', 7);\nconsole.error('something broke');\nsetTimeout(function () { throw new Error('thrown on purpose'); }, 0);\n"))
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="report.bin"`)
		w.Write([]byte("downloaded bytes"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var dir string
	t.Run("browser", func(t *testing.T) {
		b := Chromium(t)
		dir = b.dir
		if len(processesNaming(dir)) == 0 {
			t.Fatal("no chromium process names the browser's folder")
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(b.pid), "cmdline"))
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		t.Logf("chromium command line: %q", args)
		for _, f := range append(ChromiumFlags, "window-size=1280,900", "user-data-dir="+filepath.Join(dir, "profile")) {
			if !slices.Contains(args, "--"+f) {
				t.Errorf("chromium runs without --%s", f)
			}
		}
		ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("p"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the exception", func() bool { return len(b.Errors()) >= 2 })
		var texts []string
		for _, m := range b.Console() {
			texts = append(texts, m.String())
		}
		all := strings.Join(texts, "\n")
		for _, want := range []string{"console log: all well 7", "console error: something broke", "exception error: Uncaught", "thrown on purpose"} {
			if !strings.Contains(all, want) {
				t.Errorf("console lacks %q:\n%s", want, all)
			}
		}
		if len(b.Errors()) != 2 {
			t.Errorf("errors: %v", b.Errors())
		}
		b.ClearConsole()
		if len(b.Console()) != 0 {
			t.Error("ClearConsole kept messages")
		}

		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("dl"))); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(b.DownloadDir, "report.bin")
		waitFor(t, ctx, "the download", func() bool {
			got, err := os.ReadFile(file)
			return err == nil && string(got) == "downloaded bytes"
		})

		path := Screenshot(t, ctx, "page")
		if !strings.HasSuffix(path, "TestChromium_browser-page.png") {
			t.Errorf("screenshot path %s", path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w != ChromiumWidth {
			t.Errorf("screenshot is %d pixels wide, want %d", w, ChromiumWidth)
		}
	})
	if dir == "" {
		return // skipped
	}
	if left := processesNaming(dir); len(left) > 0 {
		t.Errorf("chromium processes left after the test: %v", left)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
