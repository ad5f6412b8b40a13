package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	iofs "io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/hashset"
	"github.com/custos-vault/custos/internal/inputfile"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/internal/tempfiles"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func runCaseOpen(args []string, stdout io.Writer) error {
	fs := newFlags("case open")
	title := fs.String("title", "", "the case's title")
	retention := fs.String("retention", "", "how long the case's evidence stays write-once: 10y, 3650d or 87600h (default: the vault's)")
	yes := fs.Bool("yes", false, "confirm a --retention shorter than a year")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("case open takes one CASE")
	}
	if strings.TrimSpace(*title) == "" {
		return usageErr("case open needs --title TEXT (what the case is about, as people will read it)")
	}
	if *retention != "" {
		d, err := parseDuration(*retention)
		if err != nil {
			return usageErr("--retention: %v", err)
		}
		if d < shortRetention && !*yes {
			return usageErr("--retention %s is shorter than a year: evidence may be deletable before a trial ends; add --yes if that is intended", strings.TrimSpace(*retention))
		}
		*retention = d.String()
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.CaseResponse
	if err := c.call("POST", "/v1/cases", nil, api.CaseRequest{Case: pos[0], Title: *title, Retention: *retention}, &out); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, "opened case "+out.Case)
}

// hashingReader hashes and counts what is read through it and, at EOF,
// sets the deposit's SHA-256 trailer so the vault can refuse a body that
// does not match what the client sent.
type hashingReader struct {
	r       io.Reader
	h       hash.Hash
	n       int64
	trailer http.Header
	bar     io.Writer
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	h.bar.Write(p[:n])
	if err == io.EOF && h.trailer != nil {
		h.trailer.Set(api.HeaderContentSHA256, hex.EncodeToString(h.h.Sum(nil)))
	}
	return n, err
}

// upload is one thing to deposit: a file (path) or standard input
// (path ""), under its item name.
type upload struct {
	path   string
	name   string
	expect api.Hashes
	// list names the --expect-from file expect was read from.
	list *vault.AcquisitionList
	// inFolder: found by walking a folder given, so checked against what
	// the case already holds (a deposit resumed).
	inFolder bool
}

// skipped is a file a folder deposit did not store, and why. LeftBehind
// marks content the vault does not hold for it: a folder that could not
// be read (its files unknown) or a file whose name no file system the
// package may be opened on can hold. A link, a device or a pipe is no
// content of its own and is only reported.
type skipped struct {
	Path       string `json:"path"`
	Reason     string `json:"reason"`
	LeftBehind bool   `json:"left_behind,omitempty"`
	// name is its name as the case would have recorded it (relative to
	// the folder given, escaped as item names are), which the custody
	// log's statement uses: it matches the items' names, and names no
	// folder of the examiner's machine.
	name string
}

// statedName is sk's name in the custody log's statement of it.
func (sk skipped) statedName() string {
	if sk.name != "" {
		return sk.name
	}
	return sk.Path
}

// caseName is the name a file at path, found under the folder root
// given, would have in the case ("." for root itself).
func caseName(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return ""
	}
	return vault.EscapeName([]byte(filepath.ToSlash(rel)))
}

// already is a file found deposited before, with the same name and
// SHA-256.
type already struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func runDeposit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("deposit")
	caseID := fs.String("case", "", "the case to deposit into")
	source := fs.String("source", "", "where the evidence came from (URL or description; a folder's files already deposited from the same source are skipped, from another source deposited as that exhibit's)")
	note := fs.String("note", "", "a note kept with the deposit")
	report := fs.String("report", "", "the hotline report the files were captured for (assessed into --case)")
	name := fs.String("name", "", "the item's name when depositing standard input (-)")
	var expect api.Hashes
	fs.StringVar(&expect.SHA256, "expect-sha256", "", "the acquisition SHA-256 the content must have (one file or -)")
	fs.StringVar(&expect.MD5, "expect-md5", "", "the acquisition MD5 the content must have (one file or -)")
	fs.StringVar(&expect.SHA1, "expect-sha1", "", "the acquisition SHA-1 the content must have (one file or -)")
	expectFrom := fs.String("expect-from", "", "a sha256sum, sha1sum or md5sum file with the acquisition hash of every file")
	again := fs.Bool("again", false, "deposit files found in a folder even if the case already has an item of the same name, SHA-256 and --source (files named one by one are always deposited)")
	asJSON := fs.Bool("json", false, "print JSON")
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	// "Phone A " and "Phone A" read alike on paper: one source. (The
	// upload page trims it too.)
	*source = strings.TrimSpace(*source)
	if *caseID == "" || len(paths) == 0 {
		return usageErr("deposit needs --case CASE and at least one FILE, DIR or -")
	}
	if expect != (api.Hashes{}) && len(paths) != 1 {
		return usageErr("--expect-sha256, --expect-md5 and --expect-sha1 go with one file or -; use --expect-from FILE for many")
	}
	uploads, skips, err := collectUploads(paths, *name)
	if err != nil {
		return err
	}
	for _, sk := range skips {
		fmt.Fprintf(stderr, "custos: skipped %s: %s\n", cut(sk.Path, 120), sk.Reason)
	}
	missing, err := assignExpected(uploads, expect, *expectFrom)
	if err != nil {
		return err
	}
	for _, sk := range missing {
		fmt.Fprintf(stderr, "custos: skipped %s: %s\n", cut(sk.Path, 120), sk.Reason)
	}
	skips = append(skips, missing...)
	c, err := newClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sending := ""
	var mu sync.Mutex
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; !ok {
			return
		}
		// Ctrl-C: the upload stops, so the vault keeps nothing of the
		// file being sent. A read of standard input cannot be
		// interrupted, so the process ends here if the request does not
		// end by itself at once.
		cancel()
		time.Sleep(2 * time.Second)
		mu.Lock()
		fmt.Fprintf(stderr, "custos: error: cancelled: %s was not stored (nothing of it is kept)\n", sending)
		os.Exit(130)
	}()
	out := depositOutput{Items: []api.DepositResponse{}}
	// stop ends the deposit early with err, the answer so far printed
	// first with --json: a script learns what was deposited from it.
	stop := func(err error) error {
		if *asJSON {
			out.Skipped = skips
			printResult(stdout, true, out, "")
		}
		return err
	}
	// leaveBehind: a file that cannot be read is left behind as an
	// unreadable folder is; the rest goes on.
	leaveBehind := func(u upload, e *unreadable) {
		sk := skipped{Path: describe(u), Reason: "could not be read: " + unwrapPath(e.err).Error(), LeftBehind: true, name: u.name}
		skips = append(skips, sk)
		fmt.Fprintf(stderr, "custos: skipped %s: %s\n", cut(sk.Path, 120), sk.Reason)
	}
	earlier := earlierItems{names: map[string]bool{}, source: map[string]string{}}
	for _, u := range uploads {
		earlier.names[u.name] = true
	}
	// storedNow: the items this run stored, which a file of it is never
	// skipped for: two folders given may hold the same name and content
	// (DCIM/IMG_0001.jpg on two cards), each a file of the media.
	storedNow := map[string]bool{}
	for n, u := range uploads {
		if u.inFolder && !*again {
			var unread *unreadable
			if id, err := depositedBefore(c, *caseID, u, *source, storedNow); errors.As(err, &unread) {
				leaveBehind(u, unread)
				continue
			} else if err != nil {
				return stop(err)
			} else if id != "" {
				out.Already = append(out.Already, already{ID: id, Name: u.name})
				if !*asJSON {
					fmt.Fprintf(stdout, "%s  %s  already deposited as %s (--again deposits it once more)\n", id, displayName(u.name), id)
				}
				continue
			}
		}
		mu.Lock()
		sending = describe(u)
		mu.Unlock()
		of := ""
		if len(uploads) > 1 {
			of = fmt.Sprintf("%d/%d", n+1, len(uploads))
		}
		res, err := depositOne(ctx, c, stderr, *caseID, u, depositMeta{*source, *note, *report, of}, *asJSON)
		var unread *unreadable
		switch {
		case err != nil && errors.As(err, &unread) && len(uploads) > 1:
			leaveBehind(u, unread)
			continue
		case err != nil && notExpected(err) && len(uploads) > 1:
			// Its content is not what its acquisition hash says: refused,
			// nothing of it kept, the refusal recorded; the rest goes on.
			r := skipped{Path: describe(u), Reason: strings.TrimPrefix(err.Error(), "bad request: "), name: u.name}
			out.Refused = append(out.Refused, r)
			fmt.Fprintf(stderr, "custos: refused %s: %s (nothing of it was kept; the refusal is recorded)\n", r.Path, r.Reason)
			continue
		}
		if err != nil {
			wasRefused := refused(err)
			hint := rerunHint(uploads[:n], len(out.Items) > 0)
			switch {
			case notExpected(err):
				hint = notExpectedAdvice
			case wasRefused:
				// Running it again as it is cannot help: what the
				// refusal asks for comes first.
				hint = "once what it says is put right, " + hint
			}
			if notExpected(err) {
				err = fmt.Errorf("%s: %w", describe(u), err) // the advice says what became of it
			} else {
				err = depositFailure(describe(u), err, ctx.Err() != nil)
			}
			if rest := len(uploads) - n - 1; rest > 0 {
				err = fmt.Errorf("%w; %s after it not deposited", err, plural(rest, "file"))
			}
			if len(out.Items) > 0 {
				err = fmt.Errorf("%w (deposited before it: %s)", err, depositedList(out.Items))
			}
			return stop(fmt.Errorf("%w; %s", err, hint))
		}
		out.Items = append(out.Items, *res)
		storedNow[res.ID] = true
		before, err := earlier.otherContent(c, *caseID, res, *source)
		if err != nil {
			out.OtherContentUnchecked = append(out.OtherContentUnchecked, res.ID)
			fmt.Fprintf(stderr, "custos: %s was deposited as %s; whether the case holds its name from this source with other content could not be checked (other_content_unchecked): %v\n", displayName(res.Name), res.ID, err)
		} else if len(before) > 0 {
			out.OtherContent = append(out.OtherContent, otherContent{Earlier: before, ID: res.ID, Name: res.Name})
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "%s  %s  %s  sha256 %s\n", res.ID, displayName(res.Name), size(res.Size), res.SHA256)
			for _, m := range res.Matches {
				fmt.Fprintf(stdout, "    matches hash set %s, entry %d (%s%s)\n", m.Set, m.Entry, matchHow(m), prefixed(", ", m.Category))
			}
			if res.Known != "" {
				fmt.Fprintf(stdout, "    known material, hidden from review: %s\n", res.Known)
			}
			if len(before) > 0 {
				fmt.Fprintf(stdout, "    the case holds %s under this name from this source with other content: both are kept (has the file changed since?)\n", strings.Join(before, ", "))
			}
			switch {
			case res.Again == "":
			case storedNow[res.Again]:
				fmt.Fprintf(stdout, "    the same name and content as %s, which this deposit stored from another file given: deposited as its own\n", res.Again)
			case u.inFolder && !*again:
				fmt.Fprintf(stdout, "    the case holds %s with the same name and content from another source: deposited again for this one\n", res.Again)
			case u.inFolder:
				fmt.Fprintf(stdout, "    a repeat of %s (same name and content, already in the case): deposited again, as --again asks\n", res.Again)
			default:
				fmt.Fprintf(stdout, "    a repeat of %s (same name and content, already in the case): files named one by one are always deposited\n", res.Again)
			}
		}
	}
	out.Skipped = skips
	var recordErr error
	if len(skips) > 0 || len(out.Refused) > 0 {
		// What the media held and the case does not is said in the
		// custody log, under the depositor's name (deposit.skipped).
		out.SkippedEvent, recordErr = recordSkipped(c, *caseID, skippedRequest(*source, skips, out.Refused, len(out.Items), len(out.Already)))
	}
	if *asJSON {
		if err := printResult(stdout, true, out, ""); err != nil {
			return err
		}
	} else if len(uploads) > 1 || len(skips) > 0 {
		summary := fmt.Sprintf("%s deposited, %d already there, %d skipped", plural(len(out.Items), "item"), len(out.Already), len(skips))
		if left := len(slices.DeleteFunc(slices.Clone(skips), func(sk skipped) bool { return !sk.LeftBehind })); left > 0 {
			summary += fmt.Sprintf(" (%d of them left behind)", left)
		}
		if len(out.Refused) > 0 {
			summary += fmt.Sprintf(", %d refused", len(out.Refused))
		}
		fmt.Fprintln(stdout, summary)
		if n := len(out.OtherContent); n > 0 {
			fmt.Fprintf(stdout, "%s of this source the case held under the same name with other content: both are kept: compare them (custos item show ITEM), and write in your examination notes why they differ\n", plural(n, "file"))
		}
	} else {
		fmt.Fprintf(stdout, "%s deposited\n", plural(len(out.Items), "item"))
	}
	if !*asJSON && out.SkippedEvent != 0 {
		fmt.Fprintf(stdout, "what was found and not deposited (skipped, left behind or refused) is recorded in the custody log as your statement (event %d)\n", out.SkippedEvent)
	}
	err = notAllDeposited(skips, out.Refused)
	if recordErr != nil {
		recordErr = fmt.Errorf("what was deposited is in the case, but the custody log does not record what was skipped: %w", recordErr)
		if err != nil {
			return fmt.Errorf("%w; and %w", err, recordErr)
		}
		return recordErr
	}
	return err
}

// recordSkipped sends a deposit's statement of what it skipped
// (skippedRequest) to the vault, to be recorded as a deposit.skipped
// event, and returns the event's sequence number.
func recordSkipped(c *client, caseID string, req api.SkippedRequest) (uint64, error) {
	var res api.SkippedResponse
	if err := c.call("POST", "/v1/cases/"+url.PathEscape(caseID)+"/skipped", nil, req, &res); err != nil {
		return 0, err
	}
	return res.Event, nil
}

// skippedRequest is a deposit's statement of what it did not store: what
// it skipped and the files refused for their acquisition hash (content
// the case does not hold, so listed as left behind), the content left
// behind first, then links and the like; as many as fit one event
// (vault.MaxSkippedListed, vault.MaxSkippedBytes), each path and reason
// cut to the vault's limits, with the count of all and of what the run
// deposited and found deposited already.
func skippedRequest(source string, skips, refusedFiles []skipped, deposited, already int) api.SkippedRequest {
	var all []skipped
	for _, r := range refusedFiles {
		all = append(all, skipped{Path: r.Path, Reason: "refused: " + r.Reason, LeftBehind: true, name: r.name})
	}
	all = append(all, skips...)
	slices.SortStableFunc(all, func(a, b skipped) int {
		switch {
		case a.LeftBehind == b.LeftBehind:
			return 0
		case a.LeftBehind:
			return -1
		}
		return 1
	})
	req := api.SkippedRequest{Source: source, Count: len(all), Deposited: deposited, Already: already}
	size := 2 // the list's brackets, as JSON
	for _, sk := range all {
		f := vault.SkippedFile{Path: cutBytes(sk.statedName(), 4000), Reason: cutBytes(sk.Reason, 1000), LeftBehind: sk.LeftBehind}
		b, err := json.Marshal(f)
		if err != nil || len(req.Files) == vault.MaxSkippedListed || size+len(b)+1 > vault.MaxSkippedBytes {
			break // the first ones; Count says how many in all
		}
		req.Files = append(req.Files, f)
		size += len(b) + 1
	}
	return req
}

// cutBytes is s cut to at most n bytes at a character's start, with "…"
// (3 bytes, within n) where it was cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// unreadable is a file of a deposit that could not be opened or read
// before anything of it was sent.
type unreadable struct{ err error }

func (e *unreadable) Error() string { return e.err.Error() }
func (e *unreadable) Unwrap() error { return e.err }

// notExpected reports whether err is the vault's refusal of a file whose
// content does not have the acquisition hash given for it
// (vault/deposit.go's errNotExpected, said "..., not the expected ...").
func notExpected(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code == http.StatusBadRequest && strings.Contains(se.msg, ", not the expected ")
}

// notExpectedAdvice is what to do about a file refused for its
// acquisition hash: no run of the command can put it right.
const notExpectedAdvice = "nothing of it was kept and the refusal is recorded; compare the file with the exhibit and its acquisition record (never change the list to match the file)"

// notAllDeposited is the error a deposit ends with when content it found
// was not stored: left behind (skipped.LeftBehind) or refused for its
// acquisition hash. What was deposited stays deposited, but a script, or
// an investigator reading only the last line, must not take the folder
// for deposited whole. Links, devices and pipes alone are no such
// failure.
func notAllDeposited(skips, refusedFiles []skipped) error {
	var left []string
	for _, sk := range skips {
		if sk.LeftBehind {
			left = append(left, sk.Path)
		}
	}
	var parts []string
	if len(left) > 0 {
		parts = append(parts, fmt.Sprintf("%s left behind (%s), each listed as skipped with why; once that is put right, run the same command again: files of a folder already deposited are skipped",
			count(len(left), "file or folder", "files or folders"), listed(left)))
	}
	if len(refusedFiles) > 0 {
		var paths []string
		for _, r := range refusedFiles {
			paths = append(paths, r.Path)
		}
		parts = append(parts, fmt.Sprintf("%s refused (%s), each listed as refused with why: its content is not what its acquisition hash says; nothing of it was kept and each refusal is recorded; compare each with the exhibit and its acquisition record (never change the list to match a file)", count(len(refusedFiles), "file", "files"), listed(paths)))
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("not all of it was deposited: %s", strings.Join(parts, "; "))
}

// count is n things in words, with the plural given.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// listed names at most three paths, each cut to 120 characters (a path
// may run to 4 KiB), and how many more.
func listed(paths []string) string {
	var shown []string
	for i, p := range paths {
		if i == 3 {
			shown = append(shown, fmt.Sprintf("and %d more", len(paths)-3))
			break
		}
		shown = append(shown, cut(p, 120))
	}
	return strings.Join(shown, ", ")
}

// kindOf names what a file that is not a regular file is.
func kindOf(m iofs.FileMode) string {
	switch {
	case m&iofs.ModeSymlink != 0:
		return "a symbolic link (not followed)"
	case m&iofs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&iofs.ModeSocket != 0:
		return "a socket"
	case m&iofs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

func describe(u upload) string {
	if u.path == "" {
		return "standard input"
	}
	return shownPath(u.path)
}

// shownPath is a file-system path or an item name as it may reach the
// terminal (printable.Readable: nothing hidden but the joiners writing
// needs): the names on seized media are chosen by the other side.
func shownPath(p string) string { return printable.Readable(p) }

// collectUploads turns the arguments into uploads: files by their base
// name, folders walked with each file under its path relative to the
// folder (special files and symbolic links are reported, never followed
// or skipped silently), and "-" (standard input) under --name. Names that
// are not UTF-8 are kept as their exact bytes, escaped (vault.EscapeName).
func collectUploads(paths []string, stdinName string) ([]upload, []skipped, error) {
	var ups []upload
	var skips []skipped
	stdin := false
	for _, p := range paths {
		if p == "-" {
			if stdin {
				return nil, nil, usageErr("deposit reads standard input (-) once")
			}
			if stdinName == "" {
				return nil, nil, usageErr("deposit - needs --name NAME for what standard input holds")
			}
			stdin = true
			ups = append(ups, upload{name: stdinName})
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v (nothing was deposited)", shownPath(p), unwrapPath(err))
		}
		switch {
		case fi.Mode().IsRegular():
			name := vault.EscapeName([]byte(filepath.Base(p)))
			if err := vault.CheckItemName(name); err != nil {
				return nil, nil, fmt.Errorf("%s: %s (nothing was deposited)", shownPath(p), strings.TrimPrefix(err.Error(), "bad request: "))
			}
			ups = append(ups, upload{path: p, name: name})
		case fi.IsDir():
			err := filepath.WalkDir(p, func(path string, d iofs.DirEntry, err error) error {
				if err != nil {
					what := "could not be read"
					if d != nil && d.IsDir() {
						what = "a folder that could not be read: none of its files was deposited"
					}
					why := unwrapPath(err).Error()
					if errors.Is(err, syscall.ENAMETOOLONG) {
						why = "it lies deeper than this system's limit on a path (4,096 bytes): deposit what it holds from inside it (cd there first), saying in --source where it lies"
					}
					skips = append(skips, skipped{Path: shownPath(path), Reason: what + ": " + why, LeftBehind: true, name: caseName(p, path)})
					return nil
				}
				if d.IsDir() {
					return nil
				}
				rel, err := filepath.Rel(p, path)
				if err != nil {
					return err
				}
				if !d.Type().IsRegular() {
					why := kindOf(d.Type())
					if target, err := os.Readlink(path); err == nil {
						// Where it pointed is a fact of the media.
						why = "a symbolic link to " + shownPath(target) + " (not followed)"
					}
					skips = append(skips, skipped{Path: shownPath(path), Reason: why, name: caseName(p, path)})
					return nil
				}
				name := vault.EscapeName([]byte(filepath.ToSlash(rel)))
				if err := vault.CheckItemName(name); err != nil {
					skips = append(skips, skipped{Path: shownPath(path), Reason: "a name the vault does not accept: " + strings.TrimPrefix(err.Error(), "bad request: "), LeftBehind: true, name: cutBytes(name, 4000)})
					return nil
				}
				ups = append(ups, upload{path: path, name: name, inFolder: true})
				return nil
			})
			if err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, fmt.Errorf("%s is %s: give a file or a folder (nothing was deposited)", shownPath(p), kindOf(fi.Mode().Type()))
		}
	}
	if stdinName != "" && !stdin {
		return nil, nil, usageErr("--name is for standard input (-)")
	}
	return ups, skips, nil
}

// maxExpectFrom bounds an --expect-from file: a hash list of some
// million files (a line of about 100 bytes each).
const maxExpectFrom = 256 << 20

// assignExpected gives each upload its acquisition hashes: the --expect
// flags (one upload only), or the entries of a sha256sum/sha1sum/md5sum
// file, which must list every file. It returns, as left behind, the
// files the list names inside a folder given that are not there: the
// acquisition holds them, this deposit does not.
func assignExpected(ups []upload, flags api.Hashes, from string) ([]skipped, error) {
	given := flags != (api.Hashes{})
	if given && len(ups) != 1 {
		return nil, usageErr("--expect-sha256, --expect-md5 and --expect-sha1 go with one file or -; use --expect-from FILE for many")
	}
	if given && from != "" {
		return nil, usageErr("give --expect-* or --expect-from, not both")
	}
	if given {
		for _, h := range []struct{ flag, v string }{{"--expect-sha256", flags.SHA256}, {"--expect-md5", flags.MD5}, {"--expect-sha1", flags.SHA1}} {
			if h.v != "" && !isDigest(h.v, h.flag) {
				return nil, usageErr("%s %q is not a %s: %d hex digits", h.flag, cut(h.v, 80), strings.ToUpper(strings.TrimPrefix(h.flag, "--expect-")), digestLen[h.flag])
			}
		}
		ups[0].expect = flags
		return nil, nil
	}
	if from == "" {
		return nil, nil
	}
	b, err := inputfile.ReadFile(from, maxExpectFrom)
	if err != nil {
		return nil, inputErr("--expect-from", fmt.Errorf("%w (nothing was deposited)", err))
	}
	list := hashList(from, b)
	listFile, _ := os.Stat(from)
	sums := map[string]api.Hashes{}
	// entries: each name's entry as the list writes it.
	entries := map[string]string{}
	for n, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		// A name's own trailing spaces are the name's.
		line = strings.TrimLeft(line, " \t")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// GNU coreutils starts the line of a name holding a backslash, a
		// newline or a carriage return with a backslash, and writes
		// those as \\, \n and \r.
		escaped := strings.HasPrefix(line, `\`)
		sum, file, ok := strings.Cut(strings.TrimPrefix(line, `\`), " ")
		file = strings.TrimPrefix(strings.TrimLeft(file, " "), "*")
		if escaped {
			file = hashset.UnescapeSumsName(file)
		}
		if !ok || file == "" {
			return nil, inputErr("--expect-from", fmt.Errorf("%s line %d: expected `HEX  FILE` (sha256sum format)", from, n+1))
		}
		h := sums[filepath.Clean(file)]
		switch {
		case isDigest(sum, "--expect-sha256"):
			h.SHA256 = sum
		case isDigest(sum, "--expect-sha1"):
			h.SHA1 = sum
		case isDigest(sum, "--expect-md5"):
			h.MD5 = sum
		default:
			return nil, inputErr("--expect-from", fmt.Errorf("%s line %d: %q is not a SHA-256, SHA-1 or MD5 (64, 40 or 32 hex digits)", from, n+1, cut(sum, 80)))
		}
		sums[filepath.Clean(file)] = h
		entries[filepath.Clean(file)] = file
	}
	used := map[string]bool{}
	// under: for each folder given and the way the list names its files
	// (sumsNames), the prefix of the list's names inside it ("" when
	// the list was made inside it) and where such a name is on disk.
	type folder struct {
		at   func(string) string
		root string
	}
	under := map[string]folder{}
	for i := range ups {
		var h api.Hashes
		ok := false
		entry := ""
		for k, name := range sumsNames(ups[i]) {
			if h, ok = sums[name]; ok {
				used[name], entry = true, entries[name]
				if ups[i].inFolder {
					prefix, at, root := listedUnder(ups[i], k)
					under[prefix] = folder{at, root}
				}
				break
			}
		}
		if !ok {
			if fi, err := os.Stat(ups[i].path); err == nil && listFile != nil && os.SameFile(fi, listFile) {
				// The list itself, in the folder it lists: deposited
				// as a file of it, its SHA-256 then the one each
				// item's acquisition hashes name.
				continue
			}
			return nil, inputErr("--expect-from", fmt.Errorf("%s has no hash for %s: nothing was deposited; every file deposited with a list must be in it. If the file is not part of the acquisition (added to the folder since), deposit the others without it, naming them; if it is, its hash was left out of the list: ask whoever made the acquisition, and deposit it apart, without --expect-from, with a --note saying why. Never add a hash to the list yourself", from, describe(ups[i])))
		}
		l := *list
		l.Entry = vault.EscapeName([]byte(entry))
		ups[i].expect, ups[i].list = h, &l
	}
	var missing []skipped
	for name := range sums {
		if used[name] {
			continue
		}
		for prefix, f := range under {
			if prefix != "" && !strings.HasPrefix(name, prefix+string(filepath.Separator)) {
				continue
			}
			if _, err := os.Lstat(f.at(name)); errors.Is(err, iofs.ErrNotExist) {
				// Not there at all (what is there but was not deposited,
				// a link or an unreadable folder, is reported as such).
				missing = append(missing, skipped{Path: shownPath(f.at(name)), Reason: "listed in " + listWords(list) + " (acquired) but not in the folder", LeftBehind: true, name: caseName(f.root, f.at(name))})
			}
			break
		}
	}
	slices.SortFunc(missing, func(a, b skipped) int { return strings.Compare(a.Path, b.Path) })
	return missing, nil
}

// hashList names the --expect-from file from, whose bytes are b, for
// the custody log: by the name of the file it is (a link's target, the
// file /dev/stdin stands for), never by where it lies on this machine,
// and by the SHA-256 of b. A list that is no file (a pipe: <(...)) has
// no name.
func hashList(from string, b []byte) *vault.AcquisitionList {
	digest := sha256.Sum256(b)
	list := &vault.AcquisitionList{SHA256: hex.EncodeToString(digest[:])}
	real, err := filepath.EvalSymlinks(from)
	if err != nil {
		return list
	}
	if fi, err := os.Stat(real); err == nil && fi.Mode().IsRegular() && !strings.HasPrefix(real, "/proc/") && !strings.HasPrefix(real, "/dev/") {
		list.Name = vault.EscapeName([]byte(filepath.Base(real)))
	}
	return list
}

// listWords names a hash list in a sentence, its name in single
// quotation marks (documents quote a statement's reason in double ones).
func listWords(l *vault.AcquisitionList) string {
	if l.Name == "" {
		return "the hash list without a name"
	}
	return "the hash list " + vault.QuotedListName(l.Name)
}

// listedUnder is, for a file of a folder given that a sums file lists
// under sumsNames(u)[k], the prefix of the list's names for the files of
// that folder ("" for a list made inside it) and where a name of the
// list is on disk.
func listedUnder(u upload, k int) (prefix string, at func(string) string, root string) {
	raw := string(vault.UnescapeName(u.name))
	root = filepath.Clean(strings.TrimSuffix(filepath.ToSlash(u.path), raw))
	same := func(name string) string { return name }
	switch k {
	case 0: // where the command runs
		return root, same, root
	case 1: // inside the folder
		return "", func(name string) string { return filepath.Join(root, name) }, root
	case 2: // in the folder above it
		return filepath.Base(root), func(name string) string { return filepath.Join(filepath.Dir(root), name) }, root
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return root, same, root
	}
	return abs, same, abs
}

// sumsNames are the names under which a sums file may list u, first
// found first: its path as given (a list made where the command runs),
// its name in the case (made inside the folder given), the folder's own
// name and then that (made in the folder above it, as the upload page
// matches one), and its absolute path (a list of absolute paths).
func sumsNames(u upload) []string {
	// A sums file names files by their bytes; u.name is recorded
	// escaped (vault.EscapeName).
	raw := string(vault.UnescapeName(u.name))
	names := []string{filepath.Clean(u.path), filepath.Clean(raw)}
	if u.inFolder {
		root := strings.TrimSuffix(filepath.ToSlash(u.path), raw)
		names = append(names, filepath.Join(filepath.Base(filepath.Clean(root)), filepath.FromSlash(raw)))
	}
	if abs, err := filepath.Abs(u.path); err == nil {
		names = append(names, abs)
	}
	return names
}

// digestLen is the length in hex digits of the digest each --expect-*
// flag takes.
var digestLen = map[string]int{"--expect-sha256": 64, "--expect-sha1": 40, "--expect-md5": 32}

// isDigest reports whether s is the digest flag takes: its number of hex
// digits, either case.
func isDigest(s, flag string) bool {
	if len(s) != digestLen[flag] {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// depositedBefore hashes a file and asks the vault whether the case has
// an item of the same name, SHA-256 and source (--source, "" for none);
// it returns that item's id, never one of storedNow (stored by this
// run). A file that cannot be read is *unreadable.
func depositedBefore(c *client, caseID string, u upload, source string, storedNow map[string]bool) (string, error) {
	sums, err := fileHashes(u.path, u.expect.MD5 != "", u.expect.SHA1 != "")
	if err != nil {
		return "", &unreadable{err}
	}
	sum := sums.SHA256
	for _, h := range []struct{ want, got string }{{u.expect.SHA256, sums.SHA256}, {u.expect.MD5, sums.MD5}, {u.expect.SHA1, sums.SHA1}} {
		if h.want != "" && !strings.EqualFold(h.want, h.got) {
			// Not its acquisition hash: sent, for the vault to refuse
			// and record, never skipped as deposited.
			return "", nil
		}
	}
	var out api.ItemsResponse
	q := url.Values{"sha256": {sum}}
	if err := c.call("GET", "/v1/cases/"+url.PathEscape(caseID)+"/items", q, nil, &out); err != nil {
		if refused(err) {
			// Said as what the user asked: a deposit, which looks for the
			// folder's files already in the case first.
			return "", fmt.Errorf("nothing was deposited into case %s: before a folder is deposited, the case's items are looked up to skip those already there, and that was refused: %w", caseID, err)
		}
		return "", err
	}
	for _, it := range out.Items {
		if it.Name != u.name || storedNow[it.ID] {
			continue
		}
		// The same name and content from another source (a second
		// suspect's phone holding the same folder) is another seizure,
		// not this deposit resumed.
		var d api.ItemDetailResponse
		if err := c.call("GET", "/v1/items/"+url.PathEscape(it.ID)+"/details", nil, nil, &d); err != nil {
			return "", err
		}
		if d.Source == source {
			return it.ID, nil
		}
	}
	return "", nil
}

// earlierItems is what a deposit knows of the items its case holds under
// the names of its files (names): read from the vault once, at the
// first file stored, then kept up to date with the files the run stores
// (byName); the sources of the items looked at (source).
type earlierItems struct {
	names  map[string]bool
	loaded bool
	byName map[string][]vault.ItemSummary
	source map[string]string
}

// otherContent returns the items the case holds, besides res (just
// stored from source), under res's name from source with other content:
// a file changed since it was deposited (a database the phone wrote to
// between two extractions), or another file of the same name (two
// folders given, each with DCIM/IMG_0001.jpg), which the deposit's
// answer tells.
func (e *earlierItems) otherContent(c *client, caseID string, res *api.DepositResponse, source string) ([]string, error) {
	if !e.loaded {
		var out api.ItemsResponse
		if err := c.call("GET", "/v1/cases/"+url.PathEscape(caseID)+"/items", nil, nil, &out); err != nil {
			return nil, err
		}
		e.byName = map[string][]vault.ItemSummary{}
		for _, it := range out.Items {
			if e.names[it.Name] && it.ID != res.ID {
				e.byName[it.Name] = append(e.byName[it.Name], it)
			}
		}
		e.loaded = true
	}
	var ids []string
	for _, it := range e.byName[res.Name] {
		if it.SHA256 == res.SHA256 {
			continue
		}
		from, ok := e.source[it.ID]
		if !ok {
			var d api.ItemDetailResponse
			if err := c.call("GET", "/v1/items/"+url.PathEscape(it.ID)+"/details", nil, nil, &d); err != nil {
				return nil, err
			}
			from = d.Source
			e.source[it.ID] = from
		}
		if from == source {
			ids = append(ids, it.ID)
		}
	}
	e.byName[res.Name] = append(e.byName[res.Name], vault.ItemSummary{ID: res.ID, Name: res.Name, SHA256: res.SHA256})
	e.source[res.ID] = source
	return ids, nil
}

// displayName shows an item name so that look-alikes can be told apart,
// readably: a mark on a Latin, Greek, Cyrillic or common character (café
// written as e and U+0301) as \uXXXX (printable.LookalikeMarks), the
// marks of other scripts (Khmer, Thai, Devanagari) as written; then as
// shownPath shows it.
func displayName(name string) string { return shownPath(printable.LookalikeMarks(name)) }

func depositedList(items []api.DepositResponse) string {
	var s []string
	for _, it := range items {
		s = append(s, displayName(it.Name)+" as "+it.ID)
	}
	return strings.Join(s, ", ")
}

// rerunHint says how to deposit what a stopped deposit did not: the
// files of a folder already deposited are skipped when the command runs
// again (depositedBefore); a file named on its own would be deposited
// once more.
func rerunHint(before []upload, some bool) string {
	if !some {
		return "run the command again to deposit it"
	}
	for _, u := range before {
		if !u.inFolder {
			return "to deposit the rest, name only the files not deposited (a file named on its own is deposited again each time it is named)"
		}
	}
	return "run the command again to deposit the rest: files of a folder already deposited are skipped"
}

// refused reports whether err is the vault's refusal of the request as
// it was made (an answer of 4xx other than 408 Request Timeout and 429
// Too Many Requests), which the same command sent again meets again; a
// failure on the way, or of the server, may pass the next time.
func refused(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code >= 400 && se.code < 500 &&
		se.code != http.StatusRequestTimeout && se.code != http.StatusTooManyRequests
}

// depositMeta is what every file of one deposit command carries, and
// of, where it deposits more than one, which of them this is ("12/301"),
// for its progress bar.
type depositMeta struct{ source, note, report, of string }

func depositOne(ctx context.Context, c *client, stderr io.Writer, caseID string, u upload, meta depositMeta, quiet bool) (*api.DepositResponse, error) {
	source, note := meta.source, meta.note
	var r io.Reader = os.Stdin
	total := int64(-1)
	if u.path != "" {
		f, err := os.Open(u.path)
		if err != nil {
			return nil, &unreadable{err}
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, &unreadable{err}
		}
		r, total = f, fi.Size()
	}
	desc := "depositing " + displayName(u.name)
	if meta.of != "" {
		// Which file of the run, before its name: the description is
		// cut to the terminal's room, and the count is what tells how
		// far a folder's deposit has come.
		desc = meta.of + " " + displayName(u.name)
	}
	bar := progress(stderr, quiet, total, desc)
	defer bar.Close()
	q := url.Values{"name": {u.name}}
	if source != "" {
		q.Set("source", source)
	}
	if note != "" {
		q.Set("note", note)
	}
	if meta.report != "" {
		q.Set("report", meta.report)
	}
	for k, v := range map[string]string{"expect_sha256": u.expect.SHA256, "expect_md5": u.expect.MD5, "expect_sha1": u.expect.SHA1} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if u.list != nil {
		q.Set("expect_list", u.list.Name)
		q.Set("expect_list_sha256", u.list.SHA256)
		q.Set("expect_list_entry", u.list.Entry)
	}
	hr := &hashingReader{r: r, h: sha256.New(), bar: bar}
	req, err := http.NewRequestWithContext(ctx, "POST", c.url("/v1/cases/"+url.PathEscape(caseID)+"/items", q), hr)
	if err != nil {
		return nil, err
	}
	req.ContentLength = -1
	req.Trailer = http.Header{api.HeaderContentSHA256: nil}
	hr.trailer = req.Trailer
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var res api.DepositResponse
	if err := decodeJSON(resp.Body, &res); err != nil {
		return nil, err
	}
	mine := hex.EncodeToString(hr.h.Sum(nil))
	if res.SHA256 != mine || res.Size != hr.n {
		return nil, fmt.Errorf("the vault acknowledged %d bytes with SHA-256 %s, but this client sent %d bytes with SHA-256 %s", res.Size, res.SHA256, hr.n, mine)
	}
	bar.Finish()
	return &res, nil
}

func runGet(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("get")
	purpose := fs.String("purpose", "", "why you are viewing the item (recorded)")
	revealKnown := fs.Bool("reveal-known", false, "view the item even though it is known material (the override is recorded with your purpose)")
	out := fs.String("o", "", "file to write the plaintext to")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usageErr("get needs ITEM, --purpose TEXT and -o FILE")
	case strings.TrimSpace(*purpose) == "":
		return usageErr("get needs --purpose TEXT: why you view the item, recorded before you see it")
	case *out == "":
		return usageErr("get needs -o FILE: where the copy is written")
	}
	q := url.Values{"purpose": {*purpose}}
	if *revealKnown {
		q.Set("reveal_known", "true")
	}
	sum, size, hdr, err := fetchWithHeader(stderr, *asJSON, "/v1/items/"+url.PathEscape(pos[0]), q, *out, "retrieving "+pos[0])
	if err != nil {
		return err
	}
	if w := hdr.Get(api.HeaderWarning); w != "" {
		fmt.Fprintln(stderr, "custos: warning:", w)
	}
	return printResult(stdout, *asJSON, getOutput{ID: pos[0], SHA256: sum, Size: size, File: *out},
		fmt.Sprintf("%s written to %s (sha256 %s, verified)", pos[0], *out, sum))
}

// fetchTo GETs a body the vault describes with its size and SHA-256
// headers (an item's plaintext, a package file) and writes it to out
// through download. It never overwrites out, and it checks that out can
// be written (the folder exists and takes a new file) before it asks the
// vault, so that no access is recorded for a copy that could never be
// written.
func fetchTo(stderr io.Writer, quiet bool, path string, q url.Values, out, desc string) (string, int64, error) {
	sum, size, _, err := fetchWithHeader(stderr, quiet, path, q, out, desc)
	return sum, size, err
}

// fetchWithHeader is fetchTo, returning the response's header too.
func fetchWithHeader(stderr io.Writer, quiet bool, path string, q url.Values, out, desc string) (string, int64, http.Header, error) {
	tmp, err := prepareOutput(out)
	if err != nil {
		return "", 0, nil, err
	}
	// Removed on Ctrl-C or SIGTERM too: the temporary file holds what was
	// fetched so far (evidence in plain text, for custos get).
	untrack := tempfiles.Track(tmp.Name())
	defer func() {
		// Removed unless download moved it into place (linked: this name
		// goes either way).
		tmp.Close()
		os.Remove(tmp.Name())
		untrack()
	}()
	c, err := newClient()
	if err != nil {
		return "", 0, nil, err
	}
	resp, err := c.get(path, q)
	if err != nil {
		return "", 0, nil, err
	}
	defer resp.Body.Close()
	size, _ := strconv.ParseInt(resp.Header.Get(api.HeaderSize), 10, 64)
	sum, err := download(resp.Body, tmp, out, size, resp.Header.Get(api.HeaderSHA256), progress(stderr, quiet, size, desc))
	return sum, size, resp.Header, err
}

// prepareOutput checks that out does not exist and that its folder takes
// a new file, by creating the temporary file the download goes to (0600,
// beside out). Its errors name out and its folder, never the temporary
// file.
func prepareOutput(out string) (*os.File, error) {
	if out == "-" {
		// Not standard output: what is written there cannot be taken
		// back if the check against the vault's SHA-256 then fails.
		return nil, usageErr("-o - would write a file named \"-\": give a file name (custos writes what it fetches to a new file, put in place only once its SHA-256 matches the vault's record)")
	}
	dir := filepath.Dir(out)
	prefix := "." + filepath.Base(out) + ".partial-"
	// What an interrupted fetch to the same name left (a kill that could
	// not be caught): a copy nobody knows is there. A live fetch holds a
	// lock on its file (tempfiles.Hold), which ends with it; the few
	// seconds' grace covers the moment between its creation and its lock.
	// Before the check that out is new, so that a fetch refused for it
	// still removes what an earlier one left.
	for _, p := range tempfiles.Sweep(dir, prefix, 2*time.Second) {
		fmt.Fprintf(os.Stderr, "custos: removed %s, an unfinished copy an interrupted fetch left\n", p)
	}
	// Each refusal is a mistake in the command (exit 2), which a script
	// tells apart from a fetch whose bytes failed their check (exit 1).
	if fi, err := os.Lstat(out); err == nil && fi.IsDir() {
		return nil, inputErr("-o", fmt.Errorf("%s is a folder: give -o a new file's name, such as %s (nothing was fetched)", shownPath(out), shownPath(filepath.Join(out, "FILE"))))
	} else if err == nil {
		return nil, inputErr("-o", fmt.Errorf("%s exists; refusing to overwrite it: give -o a new file's name, or move the file away first (nothing was fetched)", shownPath(out)))
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, inputErr("-o", fmt.Errorf("cannot write %s: the folder %s does not exist", out, dir))
	}
	tmp, err := os.CreateTemp(dir, prefix)
	if err != nil {
		return nil, outputErr(fmt.Errorf("cannot write %s: the folder %s does not take new files (%v)", out, dir, unwrapPath(err)), err)
	}
	tmp.Chmod(0o600)
	tempfiles.Hold(tmp)
	return tmp, nil
}

// outputErr is msg, a refusal to create a file or folder -o names,
// as an input mistake (exit 2) where cause says the user may not write
// there, and as a failure (exit 1) where the file system failed (full,
// read-only, an I/O error): not a mistake in the command.
func outputErr(msg, cause error) error {
	if errors.Is(cause, iofs.ErrPermission) || errors.Is(cause, iofs.ErrNotExist) {
		return inputErr("-o", msg)
	}
	return msg
}

// unwrapPath is err without the path an os error carries.
func unwrapPath(err error) error {
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// download writes body to tmp, checks its size and SHA-256 against what
// the vault promised, and only then links it into place as path; anything
// that does not verify is left for the caller to remove.
func download(body io.Reader, tmp *os.File, path string, size int64, wantSHA string, bar *progressbar.ProgressBar) (string, error) {
	defer bar.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h, bar), bufio.NewReaderSize(body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("transfer broken after %d bytes (nothing written): %w", n, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if n != size || got != wantSHA {
		return "", fmt.Errorf("received %d bytes with SHA-256 %s, but the vault recorded %d bytes with %s; nothing written", n, got, size, wantSHA)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("writing %s: %v", path, unwrapPath(err))
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("putting the verified copy in place as %s: %v (nothing written)", path, unwrapPath(err))
	}
	bar.Finish()
	return got, nil
}

func decodeJSON(r io.Reader, v any) error {
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("malformed answer from the vault: %w", err)
	}
	return nil
}

func runRecipientSet(args []string, stdout io.Writer) error {
	fs := newFlags("recipient set")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("recipient set takes one AGE_RECIPIENT")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.RecipientResponse
	req, err := c.callOrRequest("POST", "/v1/recipient", api.RecipientRequest{Recipient: pos[0]}, &out)
	if err != nil {
		return err
	}
	if req != nil {
		return printRequest(stdout, *asJSON, *req, "replacing your recipient")
	}
	return printResult(stdout, *asJSON, out, "packages will be sealed to "+custody.RecipientText(out.Recipient))
}

func runPackageSeal(args []string, stdout io.Writer) error {
	fs := newFlags("package seal")
	caseID := fs.String("case", "", "the case")
	forWhom := fs.String("for", "", "the person the package is for")
	purpose := fs.String("purpose", "", "why the package is sealed (recorded)")
	items := fs.String("items", "", "comma-separated item ids (default: every item of the case)")
	disclose := fs.Bool("disclose-others", false, "state in the package's report the other packages the same items were sealed in (for whom, when)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *caseID == "" || *forWhom == "" || *purpose == "" {
		return usageErr("package seal needs --case, --for and --purpose")
	}
	req := api.PackageRequest{Case: *caseID, For: *forWhom, Purpose: *purpose, DiscloseOthers: *disclose}
	if *items != "" {
		for _, id := range strings.Split(*items, ",") {
			req.Items = append(req.Items, strings.TrimSpace(id))
		}
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	if f := os.Stderr; !*asJSON && term.IsTerminal(int(f.Fd())) {
		// The vault answers once every item is decrypted and encrypted
		// again for the recipient: a large case takes minutes, with
		// nothing to show meanwhile but this.
		fmt.Fprintf(f, "sealing a package of %s for %s: the vault encrypts each item again for them and answers when the package is whole (minutes for thousands of items)…\n", printable.Terminal(*caseID), printable.Terminal(*forWhom))
	}
	var out api.PackageResponse
	pending, err := c.callOrRequest("POST", "/v1/packages", req, &out)
	if err != nil {
		return err
	}
	if pending != nil {
		return printRequest(stdout, *asJSON, *pending, "sealing a package of "+*caseID+" for "+*forWhom)
	}
	text := fmt.Sprintf("sealed package %s (%s, %s, sha256 %s) for %s, who finds it with custos package list", out.ID, plural(out.Items, "item"), size(out.Size), out.SHA256, recipientText(out.For, out.ForRole))
	for _, w := range out.Warnings {
		text += "\nwarning: " + printable.Terminal(w)
	}
	return printResult(stdout, *asJSON, out, text)
}

func runPackageFetch(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("package fetch")
	out := fs.String("o", "", "file to write the package to")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usageErr("package fetch needs ID and -o FILE")
	}
	sum, size, err := fetchTo(stderr, *asJSON, "/v1/packages/"+url.PathEscape(pos[0]), nil, *out, "fetching "+pos[0])
	if err != nil {
		return err
	}
	return printResult(stdout, *asJSON, fetchOutput{Package: pos[0], SHA256: sum, Size: size, File: *out},
		fmt.Sprintf("package %s written to %s (sha256 %s); check it with: custos-verify %s --key FINGERPRINT --identity KEYFILE (the fingerprint the vault's operators published or gave you outside the vault: one this vault gives you, as custos audit key does, proves nothing against it; add --witness-policy FILE and --tsa-cert FILE where the vault has witnesses and a time-stamping authority: docs/witnesses.md)", pos[0], *out, sum, shellWord(*out)))
}

var errAuditFailed = errors.New("audit failed")

func runCaseAddMember(args []string, stdout io.Writer) error {
	fs := newFlags("case add-member")
	reason := fs.String("reason", "", caseReasonHelp)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("case add-member takes CASE and PERSON")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.RequestResponse
	if err := c.call("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/members", nil, api.MemberRequest{Person: pos[1], Reason: *reason}, &out); err != nil {
		return err
	}
	return printRequest(stdout, *asJSON, out, fmt.Sprintf("assigning %s to %s", pos[1], pos[0]))
}

func runCaseRemoveMember(args []string, stdout io.Writer) error {
	fs := newFlags("case remove-member")
	reason := fs.String("reason", "", "why the assignment ends (recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("case remove-member takes CASE and PERSON")
	}
	if *reason == "" {
		return usageErr("case remove-member needs --reason")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.MemberResponse
	path := "/v1/cases/" + url.PathEscape(pos[0]) + "/members/" + url.PathEscape(pos[1]) + "/remove"
	if err := c.call("POST", path, nil, api.RemoveMemberRequest{Reason: *reason}, &out); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, fmt.Sprintf("%s is no longer assigned to %s", pos[1], pos[0]))
}

func runCaseHold(args []string, stdout io.Writer, on bool) error {
	name := map[bool]string{true: "case hold", false: "case release"}[on]
	fs := newFlags(name)
	reason := fs.String("reason", "", "why (court order, preservation request); recorded")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *reason == "" {
		return usageErr("%s takes CASE and --reason TEXT", name)
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.HoldResponse
	if err := c.call("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/hold", nil, api.HoldRequest{On: on, Reason: *reason}, &out); err != nil {
		return err
	}
	if !out.Recorded {
		state := map[bool]string{true: "already under a legal hold", false: "not under a legal hold"}[on]
		return printResult(stdout, *asJSON, out, fmt.Sprintf("%s is %s: nothing recorded, and --reason was not kept (the case's hold was applied again: %s, its items' encrypted files and sealed packages)", pos[0], state, plural(out.Objects, "stored object")))
	}
	verb := map[bool]string{true: "placed on", false: "lifted from"}[on]
	text := fmt.Sprintf("legal hold %s %s (%s %s: its items' encrypted files and sealed packages)", verb, pos[0], plural(out.Objects, "stored object"), map[bool]string{true: "held", false: "released"}[on])
	if len(out.Voided) > 0 {
		text += fmt.Sprintf("\nthe hold voids destruction request %s, which was waiting: lifting the hold does not bring it back (destruction is asked again, custos case destroy)", strings.Join(out.Voided, ", "))
	}
	return printResult(stdout, *asJSON, out, text)
}

func runCaseDestroy(args []string, stdout io.Writer) error {
	fs := newFlags("case destroy")
	order := fs.String("order", "", "the court order that directs the destruction")
	reason := fs.String("reason", "", "why; recorded")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *order == "" || *reason == "" {
		return usageErr("case destroy takes CASE, --order REF and --reason TEXT")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.DestructionResponse
	if err := c.call("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/destruction", nil, api.DestructionRequest{Order: *order, Reason: *reason}, &out); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, fmt.Sprintf("destruction of %s requested as %s; a second custodian approves with: custos case approve-destruction %s %s", pos[0], out.Request, pos[0], out.Request))
}

func runCaseApproveDestruction(args []string, stdout io.Writer) error {
	fs := newFlags("case approve-destruction")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("case approve-destruction takes CASE and REQUEST")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.DestroyResponse
	if err := c.call("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/destruction/"+url.PathEscape(pos[1])+"/approve", nil, nil, &out); err != nil {
		return err
	}
	kept := vault.DestroyResult{Retained: out.Retained}
	text := fmt.Sprintf("case %s destroyed: its keys are gone, so the vault can no longer read anything of it; %s deleted", out.Case, plural(len(out.Deleted), "stored object"))
	if n := len(kept.RetainedEvidence()); n > 0 {
		text += fmt.Sprintf("; %s of its evidence kept by the store until its retention ends, unreadable without the keys", plural(n, "object"))
	}
	if n := len(kept.RetainedPackages()); n > 0 {
		text += fmt.Sprintf("; %s kept by the store until its retention ends, encrypted to their recipients' own keys", plural(n, "package file"))
	}
	text += ". The vault no longer hands out or acknowledges the case's packages: a copy its recipient fetched before stays readable by them with their own key."
	return printResult(stdout, *asJSON, out, text)
}

// exportOutput is what export hashes prints.
type exportOutput struct {
	Case   string `json:"case"`
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	File   string `json:"file"`
	// Items is how many items the list holds; Event the event that
	// recorded the export.
	Items int    `json:"items"`
	Event uint64 `json:"event"`
}

func runExportHashes(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export hashes")
	caseID := fs.String("case", "", "the case")
	format := fs.String("format", "", "sha256sum, sha1sum, md5sum, csv or vics")
	out := fs.String("o", "", "file to write the hash list to")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *caseID == "" || *format == "" || *out == "" {
		return usageErr("export hashes needs --case CASE, --format FORMAT and -o FILE")
	}
	sum, size, h, err := fetchWithHeader(stderr, true, "/v1/cases/"+url.PathEscape(*caseID)+"/hashes", url.Values{"format": {*format}}, *out, "exporting hashes of "+*caseID)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(h.Get(api.HeaderItems))
	ev, _ := strconv.ParseUint(h.Get(api.HeaderAccessEvent), 10, 64)
	return printResult(stdout, *asJSON, exportOutput{Case: *caseID, Format: *format, SHA256: sum, Size: size, File: *out, Items: n, Event: ev},
		fmt.Sprintf("hash list of case %s (%s, %s) written to %s (sha256 %s); the export is recorded in the custody log (event %d)", *caseID, *format, plural(n, "item"), *out, sum, ev))
}

func runReceiptKeySet(args []string, stdout io.Writer) error {
	fs := newFlags("receipt-key set")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("receipt-key set takes KEY.pub (an OpenSSH public key file)")
	}
	b, err := inputfile.ReadFile(pos[0], 64<<10)
	if err != nil {
		return fmt.Errorf("%w: give your OpenSSH public key file, such as ~/.ssh/id_ed25519.pub (nothing was registered)", err)
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.ReceiptKeyResponse
	pending, err := c.callOrRequest("POST", "/v1/receipt-key", api.ReceiptKeyRequest{Key: string(b)}, &out)
	if err != nil {
		return err
	}
	if pending != nil {
		return printRequest(stdout, *asJSON, *pending, "replacing your receipt key")
	}
	return printResult(stdout, *asJSON, out, fmt.Sprintf("receipt key %s registered", out.Fingerprint))
}

func runPackageReceipt(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("package receipt")
	file := fs.String("file", "", "the package file as fetched")
	key := fs.String("ssh-key", "", "the private key of your registered receipt key")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *file == "" || *key == "" {
		return usageErr("package receipt needs ID, --file FILE and --ssh-key KEY")
	}
	sum, err := fileSHA256(*file)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "custos-receipt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	msg := filepath.Join(dir, "receipt")
	if err := os.WriteFile(msg, vault.ReceiptMessage(pos[0], sum), 0o600); err != nil {
		return err
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		return fmt.Errorf("ssh-keygen is needed to sign the receipt (Debian: openssh-client): %w", err)
	}
	if st, err := os.Stat(*key); err != nil || !st.Mode().IsRegular() {
		return inputErr("--ssh-key", fmt.Errorf("%s: no such key file: give your SSH private key (or, with ssh-agent, its public key file), the key whose public half is registered with custos receipt-key set", *key))
	}
	cmd := exec.Command(keygen, "-q", "-Y", "sign", "-f", *key, "-n", vault.ReceiptNamespace, msg)
	cmd.Stdin, cmd.Stderr = os.Stdin, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ssh-keygen could not sign the receipt with %s (its message is above; a wrong passphrase, or not a private key?)", *key)
	}
	sig, err := os.ReadFile(msg + ".sig")
	if err != nil {
		return err
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.ReceiptResponse
	if err := c.call("POST", "/v1/packages/"+url.PathEscape(pos[0])+"/receipt", nil, api.ReceiptRequest{SHA256: sum, Signature: string(sig)}, &out); err != nil {
		return err
	}
	// The receipt kept beside the package, as formats.md checks it:
	// the message and the signature, each written only if no file of
	// that name is there.
	var kept []string
	for _, f := range []struct {
		name string
		b    []byte
	}{{*file + ".receipt.txt", vault.ReceiptMessage(pos[0], sum)}, {*file + ".receipt.sig", []byte(out.Signature)}} {
		if err := writeNew(f.name, f.b); err != nil {
			fmt.Fprintf(stderr, "custos: the receipt was recorded, but %s was not written: %v\n", f.name, unwrapPath(err))
			continue
		}
		kept = append(kept, f.name)
	}
	text := fmt.Sprintf("package %s acknowledged: receipt signed by %s recorded in the custody log.\n", out.Package, out.Fingerprint)
	if len(kept) == 2 {
		text += fmt.Sprintf("Kept beside the package: %s (the receipt message) and %s (its signature). Anyone checks them without Custos (docs/formats.md):\n"+
			"  echo \"me $(cat %s)\" > allowed_signers\n"+
			"  ssh-keygen -Y verify -f allowed_signers -I me -n %s -s %s < %s",
			kept[0], kept[1], shellWord(publicKeyPath(*key)), vault.ReceiptNamespace, shellWord(kept[1]), shellWord(kept[0]))
	} else {
		text += fmt.Sprintf("Keep this receipt; anyone checks it with ssh-keygen -Y verify -n %s over the receipt message (docs/formats.md):\n%s",
			vault.ReceiptNamespace, strings.TrimRight(out.Signature, "\n"))
	}
	return printResult(stdout, *asJSON, out, text)
}

// writeNew writes b to a new file name (0644), never over an existing one.
func writeNew(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// publicKeyPath is the public key file beside the key ssh-keygen signed
// with: KEY.pub, or KEY itself where --ssh-key named the public key (the
// private one then in an agent).
func publicKeyPath(key string) string {
	if strings.HasSuffix(key, ".pub") {
		return key
	}
	return key + ".pub"
}

// fileHashes is a file's SHA-256, and its MD5 and SHA-1 where asked
// (lowercase hex), in one read.
func fileHashes(path string, withMD5, withSHA1 bool) (api.Hashes, error) {
	f, _, err := inputfile.Open(path)
	if err != nil {
		return api.Hashes{}, err
	}
	defer f.Close()
	s256, m5, s1 := sha256.New(), md5.New(), sha1.New()
	ws := []io.Writer{s256}
	if withMD5 {
		ws = append(ws, m5)
	}
	if withSHA1 {
		ws = append(ws, s1)
	}
	if _, err := io.Copy(io.MultiWriter(ws...), f); err != nil {
		return api.Hashes{}, err
	}
	out := api.Hashes{SHA256: hex.EncodeToString(s256.Sum(nil))}
	if withMD5 {
		out.MD5 = hex.EncodeToString(m5.Sum(nil))
	}
	if withSHA1 {
		out.SHA1 = hex.EncodeToString(s1.Sum(nil))
	}
	return out, nil
}

// fileSHA256 is a file's SHA-256, lowercase hex.
func fileSHA256(path string) (string, error) {
	h, err := fileHashes(path, false, false)
	return h.SHA256, err
}

// documentOutput is what report and export case-uco print.
type documentOutput struct {
	Case   string `json:"case"`
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	File   string `json:"file"`
	// Event is the event that recorded the request; Checkpoint the size
	// of the checkpoint the document's events are proven in.
	Event      uint64 `json:"event"`
	Checkpoint uint64 `json:"checkpoint"`
	// Items is how many items it covers, Events how many custody
	// events it holds.
	Items  int `json:"items"`
	Events int `json:"events"`
}

func runReport(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		// `report WORD`: a hotline report verb mistyped, not the
		// chain-of-custody document.
		return usageErr("unknown report command %q: %shotline reports are report new|list|show|assess|notice|acknowledged|removed|forward|close|reopen; the chain-of-custody document is report --case CASE -o FILE", args[0], didYouMean(args[0], subCommands("report"), "report "))
	}
	return runDocument("report", "/report", args, stdout, stderr)
}

func runExportCaseUCO(args []string, stdout, stderr io.Writer) error {
	return runDocument("export case-uco", "/case-uco", args, stdout, stderr)
}

// runDocument fetches a custody document of a case to -o FILE.
func runDocument(verb, route string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(verb)
	caseID := fs.String("case", "", "the case")
	items := fs.String("items", "", "comma-separated item ids (default: every item of the case)")
	purpose := fs.String("purpose", "", "why the document is made (recorded)")
	format := new(string)
	if verb == "report" {
		format = fs.String("format", "", "pdf or text (default: text when FILE ends in .txt, else pdf)")
	}
	out := fs.String("o", "", "file to write the document to")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *caseID == "" || *out == "" {
		if verb == "report" {
			// The hotline's reports share the word: say where they are.
			return usageErr("report needs --case CASE and -o FILE (the custody report for a court); a hotline's reports are custos report new, list, show and the rest (custos help lists them)")
		}
		return usageErr("%s needs --case CASE and -o FILE", verb)
	}
	if *out == "-" {
		return usageErr("%s writes to a file: give -o FILE (a file name, not -)", verb)
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if verb == "report" && (*format == "pdf" && ext == ".txt" || *format == "text" && ext == ".pdf") {
		return usageErr("-o %s ends in %s but --format is %s: name the file for its format", *out, ext, *format)
	}
	q := url.Values{}
	if *items != "" {
		var ids []string
		for _, id := range strings.Split(*items, ",") {
			ids = append(ids, strings.TrimSpace(id))
		}
		q.Set("items", strings.Join(ids, ","))
	}
	if *purpose != "" {
		q.Set("purpose", *purpose)
	}
	kind := "CASE/UCO record"
	if verb == "report" {
		switch {
		case *format == "" && strings.HasSuffix(strings.ToLower(*out), ".txt"):
			*format = "text"
		case *format == "":
			*format = "pdf"
		case *format != "pdf" && *format != "text":
			return usageErr("--format %q: use pdf or text", *format)
		}
		q.Set("format", *format)
		kind = "custody report (" + *format + ")"
	} else {
		*format = "case-uco"
	}
	sum, size, h, err := fetchWithHeader(stderr, true, "/v1/cases/"+url.PathEscape(*caseID)+route, q, *out, "making the "+kind+" of "+*caseID)
	if err != nil {
		return err
	}
	ev, _ := strconv.ParseUint(h.Get(api.HeaderAccessEvent), 10, 64)
	cp, _ := strconv.ParseUint(h.Get(api.HeaderCheckpointSize), 10, 64)
	nItems, _ := strconv.Atoi(h.Get(api.HeaderItems))
	evs, _ := strconv.Atoi(h.Get(api.HeaderEvents))
	return printResult(stdout, *asJSON, documentOutput{Case: *caseID, Format: *format, SHA256: sum, Size: size, File: *out, Event: ev, Checkpoint: cp, Items: nItems, Events: evs},
		fmt.Sprintf("%s of case %s written to %s (sha256 %s): %s, %s; recorded as event %d, its events proven in the checkpoint of %d events", kind, *caseID, *out, sum, plural(nItems, "item"), plural(evs, "custody event")+" (each once, though an event of several items is listed under each of them)", ev, cp))
}

// prefixed is prefix and s, or "" when s is empty.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// depositFailure words a deposit of what that failed with err: nothing of
// it was kept, unless the vault answered that whether its record was
// kept is not known (api.OutcomeUnknown) or that it was recorded but
// not confirmed (api.RecordedUnkept), or the command was cancelled.
func depositFailure(what string, err error, cancelled bool) error {
	switch {
	case cancelled:
		return fmt.Errorf("cancelled: %s was not stored (nothing of it is kept)", what)
	case strings.Contains(err.Error(), api.OutcomeUnknown), strings.Contains(err.Error(), api.RecordedUnkept):
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w (nothing of it was kept)", what, err)
}
