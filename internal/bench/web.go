package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
)

// WebCasePage measures the web application's case page of a case of n
// items: a `custos server --dev` gets n one-byte deposits (through the
// API, 16 at a time), then the first page, the last page and a search by
// SHA-256 are each fetched rounds times; the medians are the figures.
// They are timed from the client on loopback, so they bound the server's
// time from above.
func WebCasePage(custos, dir string, n, rounds int) ([]Metric, error) {
	s, err := startServer(custos, dir, nil, nil)
	if err != nil {
		return nil, err
	}
	defer func() { s.stop(); os.RemoveAll(s.data) }()
	if err := s.call("POST", "/v1/cases", map[string]string{"case": "WEB", "title": "web"}); err != nil {
		return nil, err
	}
	// 16 at a time, each on a kept-alive connection (the server bounds
	// the connections of one client address).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				src := &trailerSource{r: strings.NewReader(strconv.FormatInt(i, 10)), h: sha256.New()}
				req, _ := http.NewRequest("POST", s.url+"/v1/cases/WEB/items?name=DCIM/IMG_"+strconv.FormatInt(i, 10)+".JPG", src)
				req.Header.Set("Authorization", "Bearer "+s.token)
				req.ContentLength = -1
				req.Trailer = http.Header{"Custos-Content-Sha256": nil}
				src.trailer = req.Trailer
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Errorf("deposit %d: HTTP %d: %s", i, resp.StatusCode, msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	fill := time.Since(start)
	// The SHA-256 of one of the deposits (the 777th, or the middle one of
	// fewer), to search by.
	sum := sha256Hex([]byte(strconv.Itoa(min(777, (n+1)/2))))
	get := func(path string) (time.Duration, error) {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.AddCookie(&http.Cookie{Name: "custos_session", Value: s.token})
		t := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "IMG_") {
			return 0, fmt.Errorf("GET %s: HTTP %d, and no item in the page", path, resp.StatusCode)
		}
		return d, nil
	}
	median := func(path string) (float64, error) {
		var ds []time.Duration
		for range rounds {
			d, err := get(path)
			if err != nil {
				return 0, err
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000, nil
	}
	first, err := median("/app/cases/WEB")
	if err != nil {
		return nil, err
	}
	last, err := median(fmt.Sprintf("/app/cases/WEB?page=%d", (n+49)/50))
	if err != nil {
		return nil, err
	}
	search, err := median("/app/cases/WEB?q=" + sum)
	if err != nil {
		return nil, err
	}
	k := fmt.Sprintf("%dk", n/1000)
	return []Metric{
		{"web_case_fill_" + k + "_items_s", fill.Seconds(), "s"},
		{"web_case_page_first_" + k + "_items_ms", first, "ms"},
		{"web_case_page_last_" + k + "_items_ms", last, "ms"},
		{"web_case_search_sha256_" + k + "_items_ms", search, "ms"},
	}, nil
}

// WebUpload compares an upload of size bytes through the web
// application, in headless Chromium (the page's own script, as a person
// would use it), with `custos deposit` of the same file to the same
// server: web_upload_vs_cli_ratio is the browser's throughput over the
// CLI's (target: at least 0.8). Chromium is Debian's binary
// /usr/lib/chromium/chromium, or $CUSTOS_CHROMIUM.
func WebUpload(custos, dir string, size int64) ([]Metric, error) {
	browser := os.Getenv("CUSTOS_CHROMIUM")
	if browser == "" {
		browser = "/usr/lib/chromium/chromium"
	}
	if _, err := os.Stat(browser); err != nil {
		return nil, fmt.Errorf("no Chromium at %s (scripts/tools.sh installs it): %w", browser, err)
	}
	file := filepath.Join(dir, "upload.bin")
	if err := writeSource(file, size); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	s, err := startServer(custos, dir, nil, nil)
	if err != nil {
		return nil, err
	}
	defer func() { s.stop(); os.RemoveAll(s.data) }()
	if err := s.call("POST", "/v1/cases", map[string]string{"case": "UP", "title": "upload"}); err != nil {
		return nil, err
	}
	// The CLI, as a person runs it: the whole process.
	cmd := exec.Command(custos, "deposit", "--case", "UP", file)
	cmd.Env = append(os.Environ(), "CUSTOS_SERVER="+s.url, "CUSTOS_TOKEN="+devCredential(s.data))
	t := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("custos deposit: %v: %s", err, out)
	}
	cli := time.Since(t)

	profile, err := os.MkdirTemp(dir, "chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(browser), chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true)}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cred := devCredential(s.data)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/app/sign-in"),
		chromedp.SendKeys(chromedp.ID("credential"), cred),
		chromedp.Submit(chromedp.ID("credential")),
		chromedp.WaitVisible(chromedp.ID("cases")),
		chromedp.Navigate(s.url+"/app/cases/UP/upload"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{file}),
		// The case holds the file already (the CLI's deposit above):
		// the page skips a file the case holds unless asked to deposit
		// it again.
		chromedp.Click(chromedp.ID("again")),
	); err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	// The page times its own upload, from the click to the vault's
	// answer, and shows it (data-elapsed-ms on the form).
	// The file's line ends done, already (skipped: the case holds it) or
	// failed: only done is an upload to time.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("start")),
		chromedp.WaitVisible(chromedp.CSS("#uploads li.done, #uploads li.already, #uploads li.failed")),
	); err != nil {
		return nil, fmt.Errorf("browser upload: %w", err)
	}
	class, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#uploads li"), "class"))
	if err != nil {
		return nil, fmt.Errorf("browser upload: %w", err)
	}
	if !slices.Contains(strings.Fields(class.Value), "done") {
		return nil, fmt.Errorf("browser upload: the page ended the file's upload as %q, not done", class.Value)
	}
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("#upload[data-elapsed-ms]"))); err != nil {
		return nil, fmt.Errorf("browser upload: %w", err)
	}
	ms, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("upload"), "data-elapsed-ms"))
	if err != nil {
		return nil, err
	}
	msv, err := strconv.ParseFloat(ms.Value, 64)
	if err != nil {
		return nil, fmt.Errorf("the page's upload time %q: %w", ms.Value, err)
	}
	web := time.Duration(msv * float64(time.Millisecond))
	mb := float64(size) / 1e6
	return []Metric{
		{"web_upload_mb_per_s", mb / web.Seconds(), "MB/s"},
		{"web_cli_deposit_mb_per_s", mb / cli.Seconds(), "MB/s"},
		{"web_upload_vs_cli_ratio", cli.Seconds() / web.Seconds(), "ratio"},
	}, nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// devCredential is the investigator's local credential a dev server
// wrote to its investigator.env.
func devCredential(data string) string {
	b, _ := os.ReadFile(filepath.Join(data, "dev", "investigator.env"))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "export CUSTOS_TOKEN="); ok {
			return v
		}
	}
	return ""
}
