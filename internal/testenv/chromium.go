package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium binary itself (scripts/tools.sh
// installs the package). /usr/bin/chromium is a launcher script that adds
// switches of its own; the binary gets exactly ChromiumFlags. The
// launcher is used only where the binary is not there.
const ChromiumPath = "/usr/lib/chromium/chromium"

// ChromiumFlags are the command-line switches every test browser starts
// with, besides --user-data-dir and --window-size (and the
// --remote-debugging-pipe chromedp adds to drive it): headless, no
// sandbox (tests run as root in CI), no GPU, and nothing that talks to
// the network on its own.
var ChromiumFlags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// Window size of every test browser, in CSS pixels.
const (
	ChromiumWidth  = 1280
	ChromiumHeight = 900
)

// chromiumStart bounds how long Chromium may take to start and answer.
const chromiumStart = time.Minute

// ChromiumTimeout is how long a test may drive its browser: Browser.Ctx
// ends then (or 10 seconds before the test binary's deadline, if that is
// sooner), so that a page that never comes fails the test instead of
// hanging it.
const ChromiumTimeout = 3 * time.Minute

// Browser is a headless Chromium for one test, with one tab, its own
// profile and download folder, and the messages of its pages' consoles.
// The browser, and every process it started, is killed when the test
// ends.
type Browser struct {
	// Ctx is the tab's context for chromedp.Do, Run and Call. It ends at
	// the latest ChromiumTimeout after the start; derive shorter ones from
	// it with context.WithTimeout.
	Ctx context.Context
	// DownloadDir is where the browser saves a download, under the name
	// the server gave, without asking.
	DownloadDir string

	dir string // the browser's folder: profile, downloads, output
	pid int    // the main process

	mu   sync.Mutex
	msgs []ConsoleMessage
}

// ConsoleMessage is one message of a page's console: a call of the
// console API, an uncaught exception, or an entry of the browser's own
// log (a Content-Security-Policy violation, a resource that failed to
// load).
type ConsoleMessage struct {
	// Kind is "console", "exception" or "log".
	Kind string
	// Level is the console call's type (log, info, warning, error,
	// assert, ...), "error" for an exception, or the log entry's level
	// (verbose, info, warning, error).
	Level string
	// Source is the log entry's source (network, security, javascript,
	// ...); empty for the other kinds.
	Source string
	Text   string
	// URL and Line (from 1; 0 if unknown) say where it came from.
	URL  string
	Line int64
}

func (m ConsoleMessage) String() string {
	where := m.URL
	if m.Line > 0 {
		where += ":" + strconv.FormatInt(m.Line, 10)
	}
	kind := m.Kind
	if m.Source != "" {
		kind += "/" + m.Source
	}
	return fmt.Sprintf("%s %s: %s (%s)", kind, m.Level, m.Text, where)
}

// IsError reports whether the message shows something broke: an uncaught
// exception, console.error or console.assert, or a log entry of level
// error.
func (m ConsoleMessage) IsError() bool {
	return m.Kind == "exception" || m.Level == "error" || m.Level == "assert"
}

// Chromium starts Debian's Chromium headless (ChromiumFlags, a fresh
// profile in a temporary folder, a ChromiumWidth x ChromiumHeight window)
// through chromedp, with downloads allowed into Browser.DownloadDir, and
// kills it, and everything it started, when the test ends. A missing
// Chromium skips the test (fails it under `make test`).
func Chromium(t testing.TB) *Browser {
	t.Helper()
	bin := ChromiumPath
	if !isExec(bin) {
		p, err := exec.LookPath("chromium")
		if err != nil {
			Missing(t, "chromium is not installed (run `make tools`, or apt-get install chromium)")
			return nil
		}
		bin = p
	}
	b := &Browser{dir: t.TempDir()}
	profile := filepath.Join(b.dir, "profile")
	b.DownloadDir = filepath.Join(b.dir, "downloads")
	for _, d := range []string{profile, b.DownloadDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	out, err := os.Create(filepath.Join(b.dir, "chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin)}
	for _, f := range ChromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(ChromiumWidth, ChromiumHeight),
		chromedp.CombinedOutput(out),
		// Its own process group, so that cleanup can kill every process
		// it started; killed with the test binary should that die first.
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		}),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, tabCancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.note))

	t.Cleanup(func() {
		// A graceful close first, then the allocator kills what is left of
		// the main process, then every process of its group or naming its
		// folder (renderers, zygote, crash handler).
		closeCtx, cancel := context.WithTimeout(tabCtx, 5*time.Second)
		chromedp.Cancel(closeCtx)
		cancel()
		tabCancel()
		allocCancel()
		out.Close()
		if left := killBrowser(b.pid, b.dir); len(left) > 0 {
			t.Errorf("chromium processes still running after the test: %v", left)
		}
	})

	// The first Do starts the browser and binds its life to tabCtx, which
	// has no deadline; the start itself is bounded here.
	started := make(chan error, 1)
	go func() {
		started <- chromedp.Do(tabCtx)
	}()
	select {
	case err = <-started:
	case <-time.After(chromiumStart):
		allocCancel()
		err = fmt.Errorf("no answer after %v", chromiumStart)
	}
	if err != nil {
		out.Sync()
		t.Fatalf("starting %s: %v\n%s", bin, err, tail(out.Name()))
	}
	if p := chromedp.FromContext(tabCtx).Browser.Process(); p != nil {
		b.pid = p.Pid
	}
	setupCtx, cancel := context.WithTimeout(tabCtx, 30*time.Second)
	defer cancel()
	_, err = chromedp.CallBrowser(setupCtx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: b.DownloadDir, EventsEnabled: ptr(true)})
	if err != nil {
		t.Fatalf("chromium: setting the download folder: %v", err)
	}

	limit := ChromiumTimeout
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok && time.Until(end)-10*time.Second < limit {
			limit = max(time.Until(end)-10*time.Second, time.Second)
		}
	}
	ctx, cancelCtx := context.WithTimeout(tabCtx, limit)
	t.Cleanup(cancelCtx)
	b.Ctx = ctx
	return b
}

func ptr[T any](v T) *T { return &v }

// note keeps a console message. It runs in the tab's event loop: it must
// return fast and send no command.
func (b *Browser) note(ev any) {
	var m ConsoleMessage
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		m = ConsoleMessage{Kind: "console", Level: string(ev.Type), Text: consoleArgs(ev.Args)}
		if ev.StackTrace != nil && len(ev.StackTrace.CallFrames) > 0 {
			f := ev.StackTrace.CallFrames[0]
			m.URL, m.Line = f.URL, f.LineNumber+1
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		m = ConsoleMessage{Kind: "exception", Level: "error", Text: d.Text, URL: d.URL, Line: d.LineNumber + 1}
		if d.Exception != nil && d.Exception.Description != "" {
			m.Text += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil {
			return
		}
		m = ConsoleMessage{Kind: "log", Level: string(e.Level), Source: string(e.Source), Text: e.Text, URL: e.URL, Line: e.LineNumber}
	default:
		return
	}
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
}

// consoleArgs is the text of a console call's arguments, roughly as the
// DevTools console shows it.
func consoleArgs(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a == nil:
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			if err := json.Unmarshal(a.Value, &s); err == nil {
				parts = append(parts, s)
				continue
			}
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// Console returns every message the browser's pages wrote so far, in
// order.
func (b *Browser) Console() []ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ConsoleMessage(nil), b.msgs...)
}

// Errors returns the messages that show something broke (see IsError).
func (b *Browser) Errors() []ConsoleMessage {
	var errs []ConsoleMessage
	for _, m := range b.Console() {
		if m.IsError() {
			errs = append(errs, m)
		}
	}
	return errs
}

// ClearConsole forgets the messages kept so far.
func (b *Browser) ClearConsole() {
	b.mu.Lock()
	b.msgs = nil
	b.mu.Unlock()
}

// NoErrors fails the test for each error message (see Errors) that
// ignore (if not nil) does not accept: a page script that threw, called
// console.error, or broke the Content-Security-Policy, or a resource that
// failed to load. A test that makes the server refuse a request on
// purpose ignores the browser's report of that one (Kind "log", Source
// "network", its URL).
func (b *Browser) NoErrors(t testing.TB, ignore func(ConsoleMessage) bool) {
	t.Helper()
	for _, m := range b.Errors() {
		if ignore == nil || !ignore(m) {
			t.Errorf("browser console: %s", m)
		}
	}
}

// Screenshot saves a PNG of the whole page of ctx's tab (beyond the
// window, to the bottom) as $CUSTOS_ARTIFACTS/screenshots/TEST-NAME.png,
// TEST being the test's name, or into a temporary folder when
// CUSTOS_ARTIFACTS is not set, and returns the file's path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("CUSTOS_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, fileName(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// fileName makes s safe as a file name: a subtest's slashes and any
// other character outside [A-Za-z0-9._-] become '_'.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// killBrowser kills the process group of pid and every process whose
// command line names dir (each of Chromium's processes carries
// --user-data-dir), looking again until it finds none three times in a
// row, for at most five seconds; it returns those still running then.
func killBrowser(pid int, dir string) []int {
	if pid > 0 {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left := processesNaming(dir)
		if len(left) == 0 {
			quiet++
			continue
		}
		quiet = 0
		for _, p := range left {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
	return processesNaming(dir)
}

// processesNaming lists the live processes (not zombies) with an argument
// that contains dir.
func processesNaming(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
				continue
			}
		}
		found = append(found, pid)
	}
	return found
}
