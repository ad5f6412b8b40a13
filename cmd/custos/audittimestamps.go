package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/custos-vault/custos/events/tsa/tsafolder"
	"github.com/custos-vault/custos/vault/api"
	"golang.org/x/mod/sumdb/note"
)

// timestampsOutput is what custos audit timestamps --json prints
// (keys in sorted order, as TestOutputKeyOrder wants of every output).
type timestampsOutput struct {
	Dir       string   `json:"dir"`
	Failures  []string `json:"failures"`
	First     string   `json:"first,omitempty"` // the earliest attested time
	KeyPinned bool     `json:"key_pinned"`      // --key given and matched
	Last      string   `json:"last,omitempty"`  // the latest
	// NotCounted lists tokens of a TSA whose certificates were not given
	// (or whose chain was not valid at the token's time): reported, as
	// custos-verify and audit verify report them, not failures.
	NotCounted    []string `json:"not_counted"`
	Notes         int      `json:"notes"`
	OK            bool     `json:"ok"`
	Tokens        int      `json:"tokens"`
	TokensChecked bool     `json:"tokens_checked"` // --tsa-cert given
	Verified      int      `json:"verified"`
}

// runAuditTimestamps fetches the time-stamp notes and tokens the vault's
// object store keeps (GET /v1/log/timestamps), writes each into a new
// folder under its stored name, and checks every one here: the SHA-256
// its name gives, each note's signature by the log's key and the size it
// states, that each token has its note, and with --tsa-cert, each token
// over its note (docs/timestamps.md sections 4 and 5).
func runAuditTimestamps(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit timestamps")
	dir := fs.String("o", "", "the folder to write: new, or empty")
	fromFlag := fs.String("from", "", "the smallest checkpoint size to fetch (default 0)")
	toFlag := fs.String("to", "", "fetch only checkpoint sizes below this one (default all)")
	key := fs.String("key", "", "the log's verifier key to trust, its fingerprint, or a file holding it (as custos audit key > FILE writes it); default: the one the vault names")
	tsaCert := fs.String("tsa-cert", "", "PEM certificate(s) of the time-stamping authorities you trust: each token must verify against them over its note")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("audit timestamps takes no arguments")
	} else if *dir == "" {
		return usageErr("audit timestamps needs -o DIR: the new folder to write the notes and tokens into")
	}
	q := url.Values{}
	bounds := map[string]uint64{}
	for _, f := range []struct{ name, v string }{{"from", *fromFlag}, {"to", *toFlag}} {
		if f.v == "" {
			continue
		}
		n, err := strconv.ParseUint(f.v, 10, 63)
		if err != nil || (len(f.v) > 1 && f.v[0] == '0') {
			return usageErr("--%s %q is not a checkpoint size: a number of events, in decimal", f.name, f.v)
		}
		bounds[f.name] = n
		q.Set(f.name, f.v)
	}
	if to, ok := bounds["to"]; ok && bounds["from"] >= to {
		return usageErr("--from %d is not below --to %d: the range holds no checkpoint size", bounds["from"], to)
	}
	certs, err := readTSACerts(*tsaCert)
	if err != nil {
		return err
	}
	// The folder first: a mistake in -o is found before the vault is asked.
	export, err := startExport(*dir)
	if err != nil {
		return err
	}
	defer export.close()
	tmp := export.tmp
	c, k, err := clientAndLogKey()
	if err != nil {
		return err
	}
	if *key != "" {
		if err := keyTrusted(*key, k.Key, "nothing was fetched"); err != nil {
			return err
		}
	}
	verifier, err := note.NewVerifier(k.Key)
	if err != nil {
		return fmt.Errorf("vault log key: %w", err)
	}
	resp, err := c.get("/v1/log/timestamps", q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	out := timestampsOutput{Dir: *dir, Failures: []string{}, NotCounted: []string{}, KeyPinned: *key != "", TokensChecked: certs != nil}
	var rep tsafolder.Report
	// Each object is written under its name as it comes (a name the vault
	// does not give is not written), then the folder is checked as
	// custos-verify --timestamps checks it: some 200 bytes of memory an
	// object, whatever their size (a large vault's are fetched a range of
	// sizes at a time, --from and --to).
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var o api.TimestampObject
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			return fmt.Errorf("the vault's answer is not a list of objects: %v", err)
		}
		if _, ok := tsafolder.ParseName(o.Name); !ok {
			rep.Fail("%q: not a name the vault gives a time-stamp note or token; not written", cut(o.Name, 120))
			continue
		}
		if o.Unreadable != "" {
			rep.Fail("%s: the vault did not read it (%s); not written", o.Name, cut(o.Unreadable, 200))
			continue
		}
		if len(o.Bytes) > tsafolder.MaxObjectSize {
			rep.Fail("%s: larger than %d bytes, more than any note or token the vault writes; not written", o.Name, tsafolder.MaxObjectSize)
			continue
		}
		f, err := os.OpenFile(filepath.Join(tmp, o.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, iofs.ErrExist) {
			rep.Fail("%s: sent twice; the second not written", o.Name)
			continue
		} else if err != nil {
			return err
		}
		_, err = f.Write(o.Bytes)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the vault's answer: %v (the answer was cut: nothing was checked)", err)
	}
	if err := rep.CheckFolder(os.DirFS(tmp), []note.Verifier{verifier}, certs); err != nil {
		return err
	}
	rep.Finish()
	out.Notes, out.Tokens, out.Verified = rep.Notes, rep.Tokens, rep.Verified
	out.Failures = append(out.Failures, rep.Failures...)
	out.NotCounted = append(out.NotCounted, rep.NotCounted...)
	out.First, out.Last = rep.TimeRange()
	if err := export.finish(); err != nil {
		return err
	}
	out.OK = rep.OK()
	text := fmt.Sprintf("%s: %s and %s written", *dir, plural(out.Notes, "note"), plural(out.Tokens, "token"))
	switch {
	case certs != nil && out.Verified > 0:
		text += fmt.Sprintf("; %d verified against --tsa-cert, attested from %s to %s", out.Verified, out.First, out.Last)
	case certs == nil && out.Tokens > 0:
		text += "; the tokens were not checked: give the time-stamping authorities' certificates with --tsa-cert"
	}
	if !out.KeyPinned {
		text += "\n  the notes are checked against the log key as the vault names it: give --key (custos audit key, saved earlier, or the fingerprint the operators publish) to pin it"
	}
	if out.Notes > 0 {
		text += "\n  a note shows what the log held only with the log: custos audit verify --checkpoint " + filepath.Join(*dir, "NAME") + " proves the log extends it"
	}
	for _, n := range out.NotCounted {
		text += "\n  not counted " + n
	}
	for _, f := range out.Failures {
		text += "\n  FAILED " + f
	}
	if err := printResult(stdout, *asJSON, out, text); err != nil {
		return err
	}
	if !out.OK {
		return fmt.Errorf("%w: %s failed their check (listed above)", errAuditFailed, plural(rep.Failed(), "object"))
	}
	return nil
}
