// Command custos-verify checks a Custos sealed package offline, without
// the vault and without trusting its operators: the manifest's signature,
// the signed checkpoint, every custody event's inclusion in it, that each
// item matches its deposit, and that every member is the one the signed
// manifest names; with --identity it also decrypts every item and
// re-hashes it.
//
// It is deliberately small and imports only the format packages (pkgformat,
// events), age and the standard library, so that a defence expert can read
// all of it. A test keeps it that way.
//
// Exit status (docs/package-format.md, section 9):
//
//	0  VERIFIED: every check passed and the log key is one the user trusts
//	1  FAILED: a check failed, or the package could not be read
//	2  usage error
//	3  AUTHENTICITY NOT ESTABLISHED: every check passed, but no trusted key
//	   was given (--key, --trusted-keys or --checkpoint), so nothing shows
//	   which vault sealed the package
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"filippo.io/age"
	"github.com/custos-vault/custos/pkgformat"
)

const usage = `Usage: custos-verify PACKAGE (--key KEY | --trusted-keys FILE | --checkpoint FILE)
                     [--identity FILE] [--extract DIR] [--json] [--quiet]

Checks a Custos sealed package offline. Exits 0 (VERIFIED) only if every
check passes and the package's log key is one you trust.
  --key KEY             the vault's log verifier key, or its SHA-256 fingerprint
                        (custos audit key prints both; get them from the vault's
                        operators, not from the package)
  --trusted-keys FILE   a file of trusted log verifier keys or fingerprints, one per line
                        (blank lines and lines starting with # are ignored)
  --checkpoint FILE     a checkpoint saved earlier (custos audit verify --save-checkpoint):
                        the package's log key must have signed it
  --identity FILE       age identity file of the recipient: also decrypt and re-hash every item
  --extract DIR         with --identity, write each item's plaintext into DIR (created if
                        needed) once every check has passed; nothing is left on failure
  --json                print one JSON object
  --quiet               print nothing on success

Exit status: 0 verified; 1 failed (a check failed or the package is unreadable);
2 usage error; 3 authenticity not established (intact, but no trusted key given).

Example:
  custos audit key > vault.key      (or a fingerprint the vault's operators publish)
  custos-verify bundle.tar --trusted-keys vault.key --identity me.key --extract evidence/
`

// Exit codes.
const (
	exitVerified         = 0
	exitFailed           = 1
	exitUsage            = 2
	exitNotAuthenticated = 3
)

var errUsage = errors.New("usage")

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

// result is what --json prints.
type result struct {
	Status            string                `json:"status"` // verified, failed, authenticity-not-established
	Package           string                `json:"package,omitempty"`
	Case              string                `json:"case,omitempty"`
	LogKey            string                `json:"log_key,omitempty"`
	LogKeyFingerprint string                `json:"log_key_fingerprint,omitempty"`
	KeyPinned         bool                  `json:"key_pinned"`
	PinnedBy          string                `json:"pinned_by,omitempty"`
	Checks            []string              `json:"checks"`
	Decrypted         int                   `json:"decrypted"`
	Extracted         []pkgformat.Extracted `json:"extracted"`
	Error             string                `json:"error,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	err := verify(args, stdout, stderr)
	switch {
	case err == nil:
		return exitVerified
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitVerified
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "custos-verify: error: %s (see custos-verify --help)\n", oneLine(strings.TrimPrefix(err.Error(), "usage: ")))
		return exitUsage
	case errors.Is(err, pkgformat.ErrNotAuthenticated):
		fmt.Fprintf(stderr, "custos-verify: error: %s\n", oneLine(err.Error()))
		return exitNotAuthenticated
	}
	fmt.Fprintf(stderr, "custos-verify: error: %s\n", oneLine(err.Error()))
	return exitFailed
}

// removeTempOnSignal makes an interrupt (Ctrl-C, SIGTERM) remove the
// temporary folders this run creates in dir before exiting, so that no
// plaintext is left behind when the user stops a check. (Nothing can
// clean up after SIGKILL or a power loss: the folder is then left, named
// .custos-verify-*, readable by its owner only.)
func removeTempOnSignal(dir string, stderr io.Writer) (stop func(), err error) {
	before, err := tempFolders(dir)
	if err != nil {
		return nil, err
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			now, err := tempFolders(dir)
			if err != nil {
				fmt.Fprintf(stderr, "custos-verify: interrupted; could not list %s (%v): remove any .custos-verify-* folder in it by hand\n", dir, err)
				os.Exit(exitFailed)
			}
			var left []string
			for _, p := range now {
				if slices.Contains(before, p) {
					continue
				}
				var err error
				for range 3 { // a file may appear while it is removed
					if err = os.RemoveAll(p); err == nil {
						break
					}
				}
				if err != nil {
					left = append(left, p)
				}
			}
			if len(left) > 0 {
				fmt.Fprintf(stderr, "custos-verify: interrupted; could not remove %s: remove it by hand\n", strings.Join(left, ", "))
				os.Exit(exitFailed)
			}
			fmt.Fprintln(stderr, "custos-verify: interrupted; the temporary extraction folder was removed")
			os.Exit(exitFailed)
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }, nil
}

// tempFolders lists the temporary extraction folders in dir. (Not a glob:
// dir may hold characters a pattern would read as its own.)
func tempFolders(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".custos-verify-") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func verify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("custos-verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	identity := fs.String("identity", "", "age identity file")
	extract := fs.String("extract", "", "folder to extract plaintext into")
	key := fs.String("key", "", "trusted log verifier key or fingerprint")
	trustedKeys := fs.String("trusted-keys", "", "file of trusted log verifier keys")
	checkpoint := fs.String("checkpoint", "", "a saved checkpoint of the vault's log")
	asJSON := fs.Bool("json", false, "print JSON")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageErr("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return usageErr("expected one PACKAGE")
	}
	if *extract != "" && *identity == "" {
		return usageErr("--extract needs --identity")
	}
	var opts pkgformat.VerifyOptions
	opts.TrustedKey = strings.TrimSpace(*key)
	if *trustedKeys != "" {
		b, err := os.ReadFile(*trustedKeys)
		if err != nil {
			return err
		}
		if opts.TrustedKeys, err = pkgformat.ParseTrustedKeys(b); err != nil {
			return fmt.Errorf("%s: %w", *trustedKeys, err)
		}
	}
	if *checkpoint != "" {
		b, err := os.ReadFile(*checkpoint)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return fmt.Errorf("%s is empty", *checkpoint)
		}
		opts.TrustedCheckpoint = b
	}
	if *identity != "" {
		f, err := os.Open(*identity)
		if err != nil {
			return err
		}
		ids, err := age.ParseIdentities(f)
		f.Close() // read only: nothing to lose
		if err != nil {
			return fmt.Errorf("%s: %w", *identity, err)
		}
		opts.Identities = ids
	}
	if *extract != "" {
		if err := os.MkdirAll(*extract, 0o700); err != nil {
			return err
		}
		opts.ExtractDir = *extract
		stop, err := removeTempOnSignal(*extract, stderr)
		if err != nil {
			return err
		}
		defer stop()
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rep, verr := pkgformat.Verify(f, opts)

	res := result{Status: "verified", Checks: []string{}, Extracted: []pkgformat.Extracted{}}
	if rep != nil {
		res.KeyPinned, res.PinnedBy, res.Decrypted = rep.KeyPinned, rep.PinnedBy, rep.Decrypted
		res.Checks = append(res.Checks, rep.Checks...)
		res.Extracted = append(res.Extracted, rep.Extracted...)
		if m := rep.Manifest; m != nil {
			res.Package, res.Case, res.LogKey, res.LogKeyFingerprint = m.Package, m.Case, m.LogKey, m.LogKeyFingerprint
		}
	}
	switch {
	case errors.Is(verr, pkgformat.ErrNotAuthenticated):
		res.Status, res.Error = "authenticity-not-established", verr.Error()
		verr = fmt.Errorf("%s: %w", pos[0], verr)
	case verr != nil:
		res.Status, res.Error = "failed", verr.Error()
		verr = fmt.Errorf("%s FAILED: %w", pos[0], verr)
	}
	for _, x := range res.Extracted {
		if x.Fallback != "" {
			fmt.Fprintf(stderr, "custos-verify: note: %q extracted as %s: %s\n", x.Name, x.Path, x.Fallback)
		}
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
		return verr
	}
	if *quiet && verr == nil {
		return nil
	}
	if rep != nil && rep.Manifest != nil {
		m := rep.Manifest
		fmt.Fprintf(stdout, "package %s of case %s, sealed by %s (%s) for %s: %q\n", m.Package, m.Case, m.SealedBy.Name, m.SealedBy.Role, m.SealedFor, m.Purpose)
		fmt.Fprintf(stdout, "  log key %s\n  key fingerprint %s\n", m.LogKey, m.LogKeyFingerprint)
	}
	for _, c := range res.Checks {
		fmt.Fprintf(stdout, "  ok  %s\n", c)
	}
	if verr != nil {
		if res.Status == "authenticity-not-established" {
			fmt.Fprintln(stdout, "  not established: which vault sealed this package; pin its log key with --key, --trusted-keys or --checkpoint")
			fmt.Fprintln(stdout, "AUTHENTICITY NOT ESTABLISHED")
		} else {
			fmt.Fprintln(stdout, "FAILED")
		}
		return verr
	}
	if len(opts.Identities) == 0 {
		fmt.Fprintln(stdout, "  note: items were not decrypted; pass --identity to re-hash their plaintext")
	}
	for _, x := range res.Extracted {
		fmt.Fprintf(stdout, "  extracted %s\n", x.Path)
	}
	fmt.Fprintln(stdout, "VERIFIED")
	return nil
}
