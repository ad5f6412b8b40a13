package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-vault/custos/events/tsa/tsafolder"
	"github.com/custos-vault/custos/pkgformat"
)

// timestampsResult is what --timestamps --json prints.
type timestampsResult struct {
	Status string `json:"status"` // verified, failed
	Folder string `json:"folder"`
	// LogKeyFingerprints are the fingerprints of the keys the notes were
	// checked against (those given; a fingerprint given alone checks
	// nothing and is refused).
	LogKeyFingerprints []string `json:"log_key_fingerprints"`
	Notes              int      `json:"notes"`
	Tokens             int      `json:"tokens"`
	TokensChecked      bool     `json:"tokens_checked"` // --tsa-cert given
	Verified           int      `json:"verified"`       // tokens verified over their notes
	First              string   `json:"first,omitempty"`
	Last               string   `json:"last,omitempty"`
	NotCounted         []string `json:"not_counted"`
	Failures           []string `json:"failures"`
	Error              string   `json:"error,omitempty"`
}

// checkTimestamps is custos-verify --timestamps DIR: it checks a folder
// of time-stamp notes and tokens (what custos audit timestamps writes, or
// a copy of the vault's object store's timestamps/ folder) as
// tsafolder.CheckFolder does, against the log keys trusted (each a key:
// a fingerprint cannot check a signature) and the TSA certificates
// given. The folder is only read.
func checkTimestamps(dir string, trusted []string, certs []*x509.Certificate, asJSON, quiet bool, stdout io.Writer) error {
	res := timestampsResult{Status: "verified", Folder: dir, LogKeyFingerprints: []string{}, NotCounted: []string{}, Failures: []string{}, TokensChecked: certs != nil}
	var keys []note.Verifier
	for _, k := range trusted {
		if v, err := note.NewVerifier(k); err == nil {
			keys = append(keys, v)
			res.LogKeyFingerprints = append(res.LogKeyFingerprints, pkgformat.KeyFingerprint(k))
		}
	}
	if len(keys) == 0 {
		return folderInputError(fmt.Errorf("a fingerprint names the log's key but cannot check a note's signature: give the key itself with --key or --trusted-keys (custos audit key prints it; the vault's operators publish it)"))
	}
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return folderInputError(err)
	case !st.IsDir():
		return folderInputError(fmt.Errorf("%s is not a folder: --timestamps takes the folder custos audit timestamps -o wrote, or a copy of the object store's timestamps/ folder", dir))
	}
	var rep tsafolder.Report
	if err := rep.CheckFolder(os.DirFS(dir), keys, certs); err != nil {
		return folderInputError(err)
	}
	rep.Finish()
	res.Notes, res.Tokens, res.Verified = rep.Notes, rep.Tokens, rep.Verified
	res.Failures = append(res.Failures, rep.Failures...)
	res.NotCounted = append(res.NotCounted, rep.NotCounted...)
	res.First, res.Last = rep.TimeRange()
	var verr error
	if !rep.OK() {
		res.Status = "failed"
		res.Error = fmt.Sprintf("%d of the folder's objects failed their check", rep.Failed())
		verr = fmt.Errorf("%s FAILED: %s", dir, res.Error)
	}
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
		return verr
	}
	if quiet && verr == nil {
		return nil
	}
	fmt.Fprintf(stdout, "time-stamp folder %s: %s and %s\n", safeText(dir), count(res.Notes, "note"), count(res.Tokens, "token"))
	for _, fp := range res.LogKeyFingerprints {
		fmt.Fprintf(stdout, "  log key fingerprint %s\n", fp)
	}
	if rep.OK() && res.Notes > 0 {
		fmt.Fprintln(stdout, "  ok  every note is a checkpoint signed by the log key, of the size and SHA-256 its name gives")
	}
	if rep.OK() && res.Tokens > 0 {
		fmt.Fprintln(stdout, "  ok  every token has its note beside it, of the size and SHA-256 its name gives")
	}
	switch {
	case certs != nil && res.Verified > 0:
		fmt.Fprintf(stdout, "  ok  %s verified over their notes against --tsa-cert, attested from %s to %s\n", count(res.Verified, "token"), res.First, res.Last)
	case certs == nil && res.Tokens > 0:
		fmt.Fprintln(stdout, "  note: the tokens were not checked: give the time-stamping authorities' certificates with --tsa-cert")
	}
	for _, n := range res.NotCounted {
		fmt.Fprintf(stdout, "  not counted %s\n", safeText(n))
	}
	if res.Notes > 0 {
		fmt.Fprintln(stdout, "  note: a note shows what the log held at its size only with the log: custos audit verify --checkpoint NOTE proves the log extends it")
	}
	for _, f := range res.Failures {
		fmt.Fprintf(stdout, "  FAILED %s\n", safeText(f))
	}
	if verr != nil {
		fmt.Fprintln(stdout, "FAILED")
		return verr
	}
	fmt.Fprintln(stdout, "VERIFIED")
	return nil
}

// count is n and a noun, plural when n is not 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
