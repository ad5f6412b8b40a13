// Command custos-verify checks a Custos sealed package offline, without
// the vault and without trusting its operators: the manifest's signature,
// the signed checkpoint, every custody event's inclusion in it, that each
// item matches its deposit, and that every member is the one the signed
// manifest names; with --identity it also decrypts every item and
// re-hashes it.
//
// It is deliberately small and imports only the format packages (pkgformat,
// events), the key-file reader (internal/keyfile), age and the standard
// library, so that a defence expert can read all of it. A test keeps it
// that way. It needs no C library: `make build` builds it with
// CGO_ENABLED=0, one static file to copy.
//
// Exit status (docs/package-format.md, section 9):
//
//	0  VERIFIED: every check passed and the log key is one the user trusts
//	1  FAILED: a check failed, or the package could not be read
//	2  usage error, or a key, checkpoint, identity or passphrase file that
//	   is missing, malformed or does not open: the package was not checked
//	3  AUTHENTICITY NOT ESTABLISHED: every check passed, but no trusted key
//	   was given (--key, --trusted-keys or --checkpoint), so nothing shows
//	   which vault sealed the package
//	4  KEY MISMATCH: every other check passed, but the identity given is
//	   not the package's recipient (not a sign of tampering)
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/custos-vault/custos/internal/inputfile"
	"github.com/custos-vault/custos/internal/printable"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/cliflags"
	"github.com/custos-vault/custos/internal/keyfile"
	"github.com/custos-vault/custos/pkgformat"
)

const usage = `Usage: custos-verify PACKAGE (--key KEY | --trusted-keys FILE | --checkpoint FILE)
                     [--identity FILE [--identity-passphrase-file FILE]] [--extract DIR]
                     [--witness-policy FILE] [--tsa-cert FILE] [--json] [--quiet]
       custos-verify --same-items PACKAGE_A PACKAGE_B (--key KEY | --trusted-keys FILE | --checkpoint FILE)
       custos-verify --timestamps DIR (--key KEY | --trusted-keys FILE) [--tsa-cert FILE] [--json] [--quiet]
       custos-verify --version

Checks a Custos sealed package offline. Exits 0 (VERIFIED) only if every
check passes and the package's log key is one you trust.
  --key KEY             the vault's log verifier key, or its SHA-256 fingerprint (in
                        groups too, as printed on paper: "9f86 d081 ..."), or a file
                        holding it ("-": standard input; custos audit key prints both;
                        get them from the vault's operators, not the package)
  --trusted-keys FILE   a file of trusted log verifier keys or fingerprints, one per line
                        (blank lines and lines starting with # are ignored)
  --checkpoint FILE     a checkpoint saved earlier (custos audit verify --save-checkpoint):
                        the package's log key must have signed it
  --identity FILE       age identity file of the recipient (age-keygen or age-keygen -pq,
                        plain or encrypted with age -p): also decrypt and re-hash every item
  --identity-passphrase-file FILE
                        the passphrase of an encrypted --identity, alone in FILE ("-" reads
                        standard input); custos-verify does not ask for it on the terminal
  --extract DIR         with --identity, write each item's plaintext into DIR (created if
                        needed) once every check has passed; nothing is left on failure
  --witness-policy FILE the witnesses you trust and their quorum (docs/witnesses.md): the
                        package's checkpoint must carry the quorum's cosignatures
  --tsa-cert FILE       PEM certificate(s) of the time-stamping authorities you trust (their
                        own or their CA): a token of one of them must time-stamp the package's
                        checkpoint, and the attested time is printed
  --same-items          with two packages: check both, then show whether they carry exactly
                        the same items (deposit events, names, sizes, plaintext hashes),
                        without decrypting either; exits 0 if they do, 1 if not, and 1
                        with FORKED HISTORY if the two prove two histories of the log
  --timestamps          with a folder: check the time-stamp notes and tokens in it (what
                        custos audit timestamps -o writes, or a copy of the object store's
                        timestamps/ folder): each name's SHA-256, each note's signature by the
                        log key (the key itself: a fingerprint cannot check a signature) and
                        size, each token's note, and with --tsa-cert each token over its note
                        (a note dated only by authorities not given fails); exits 0 if all
                        pass, 1 naming each that fails
  --json                print one JSON object
  --quiet               print nothing on success
  --version             print the version, Go release and build settings this program was
                        built with, to compare with the build its SHA-256 was published for

Exit status: 0 verified; 1 failed (a check failed or the package is unreadable);
2 usage error, or a key, checkpoint, identity or passphrase file that is missing,
malformed or does not open (the package was not checked); 3 authenticity not
established (intact, but no trusted key given); 4 key mismatch (intact, but the
identity is not the package's recipient).

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
	exitKeyMismatch      = 4
)

var errUsage = errors.New("usage")

// inputError is a problem with what the user gave besides the package: a
// key, checkpoint, identity or passphrase file that is missing, malformed
// or does not open. The package is not checked.
type inputError struct {
	err     error
	subject string // what was not checked; "" for the package
}

// folderInputError is an inputError of --timestamps: the folder was not
// checked.
func folderInputError(err error) error { return inputError{err: err, subject: "the folder"} }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

// result is what --json prints.
type result struct {
	Status            string   `json:"status"` // verified, failed, authenticity-not-established, key-mismatch
	Package           string   `json:"package,omitempty"`
	Case              string   `json:"case,omitempty"`
	LogKey            string   `json:"log_key,omitempty"`
	LogKeyFingerprint string   `json:"log_key_fingerprint,omitempty"`
	KeyPinned         bool     `json:"key_pinned"`
	PinnedBy          string   `json:"pinned_by,omitempty"`
	Checks            []string `json:"checks"`
	// FileSHA256 is the SHA-256 of the package file, once every check
	// read it whole (verified, or authenticity not established).
	FileSHA256 string `json:"file_sha256,omitempty"`
	// Notes say what the package carries that was not checked.
	Notes []string `json:"notes"`
	// Timestamps are the verified RFC 3161 tokens' attested times.
	Timestamps []pkgformat.TimestampReport `json:"timestamps"`
	// Cosignatures are, with --witness-policy, the witnesses' counted
	// cosignatures and the time each states.
	Cosignatures []pkgformat.CosignatureReport `json:"cosignatures"`
	// Recipient is the package's recipient; IdentityRecipients, on a key
	// mismatch, those of the identities given.
	Recipient string `json:"recipient,omitempty"`
	// SealedForRole is the role of the person the package is for, as its
	// signed sealing event states it (prosecutor or defence).
	SealedForRole      string                `json:"sealed_for_role,omitempty"`
	IdentityRecipients []string              `json:"identity_recipients,omitempty"`
	Decrypted          int                   `json:"decrypted"`
	Extracted          []pkgformat.Extracted `json:"extracted"`
	Error              string                `json:"error,omitempty"`
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
	case errors.As(err, new(inputError)):
		var in inputError
		errors.As(err, &in)
		subject := in.subject
		if subject == "" {
			subject = "the package"
		}
		fmt.Fprintf(stderr, "custos-verify: error: %s; %s was not checked\n", oneLine(err.Error()), subject)
		return exitUsage
	case errors.As(err, new(*pkgformat.KeyMismatchError)):
		fmt.Fprintf(stderr, "custos-verify: error: %s\n", oneLine(err.Error()))
		return exitKeyMismatch
	case errors.Is(err, pkgformat.ErrNotAuthenticated):
		fmt.Fprintf(stderr, "custos-verify: error: %s\n", oneLine(err.Error()))
		return exitNotAuthenticated
	}
	fmt.Fprintf(stderr, "custos-verify: error: %s\n", oneLine(err.Error()))
	return exitFailed
}

// removeTempOnSignal makes an interrupt (Ctrl-C, SIGTERM, or SIGHUP: a
// closed terminal or a dropped SSH session) remove the
// temporary folders this run creates in dir, and the folders it created
// for dir (created, see makeFolders), before exiting, so that nothing is
// left behind when the user stops a check. (Nothing can clean up after
// SIGKILL or a power loss: the folder is then left, named
// .custos-verify-*, readable by its owner only.)
//
// The run calls stop once the check has ended, before it reports
// anything. Whichever comes first decides: an interrupt handled before
// stop makes stop wait for the handler, which exits (so the run never
// reports a failure that the removal itself caused, nor a success whose
// files were removed); a signal after stop changes nothing.
func removeTempOnSignal(dir string, created []string, stderr io.Writer) (func(), error) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	if !signal.Ignored(syscall.SIGHUP) {
		signal.Notify(ch, syscall.SIGHUP) // not under nohup, which keeps it ignored
	}
	cleanupStop, err := cleanupOnSignal(ch, dir, created, stderr, os.Exit)
	if err != nil {
		signal.Stop(ch)
		return nil, err
	}
	return func() {
		cleanupStop()
		signal.Stop(ch)
	}, nil
}

// cleanupOnSignal is removeTempOnSignal on the signals ch delivers, with
// exit ending the process (it does not return).
func cleanupOnSignal(ch <-chan os.Signal, dir string, created []string, stderr io.Writer, exit func(int)) (stop func(), err error) {
	before, err := tempFolders(dir)
	if err != nil {
		return nil, err
	}
	// mu is held by whichever of the handler and stop comes first; the
	// handler keeps it until it exits.
	var mu sync.Mutex
	stopped := false
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
		case <-done:
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return // the check had ended: its outcome stands
		}
		now, err := tempFolders(dir)
		if err != nil {
			fmt.Fprintf(stderr, "custos-verify: interrupted; could not list %s (%v): remove any .custos-verify-* folder in it by hand\n", dir, err)
			exit(exitFailed)
			return
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
			exit(exitFailed)
			return
		}
		removeFolders(created)
		fmt.Fprintln(stderr, "custos-verify: interrupted; the temporary extraction folder was removed")
		exit(exitFailed)
	}()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			stopped = true
			close(done)
		}
	}, nil
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

// makeFolders creates dir and whichever of its parents are missing
// (mode 0700), and returns those it created, outermost first, for
// removeFolders.
func makeFolders(dir string) ([]string, error) {
	var created []string
	for p := filepath.Clean(dir); ; {
		if _, err := os.Lstat(p); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		created = append([]string{p}, created...)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		removeFolders(created)
		return nil, err
	}
	return created, nil
}

// removeFolders removes the folders makeFolders created, innermost first,
// each only if it is empty.
func removeFolders(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = os.Remove(created[i]) // fails, as it should, if anything is in it
	}
}

// short abbreviates a long recipient (a hybrid post-quantum one is about
// 2,000 characters) for a line of text; --json gives it whole.
func short(r string) string {
	if len(r) <= 72 {
		return r
	}
	return r[:24] + "..." + r[len(r)-16:]
}

// oneLine is an error message on one line, with anything a package could
// have put in it made safe for a terminal (safeText).
func oneLine(s string) string {
	return safeText(strings.ReplaceAll(strings.TrimSpace(s), "\n", "; "))
}

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
	passFile := fs.String("identity-passphrase-file", "", "file holding the passphrase of an encrypted identity")
	policy := fs.String("witness-policy", "", "witness policy file")
	tsaCert := fs.String("tsa-cert", "", "TSA certificates (PEM)")
	sameItems := fs.Bool("same-items", false, "compare the items of two packages")
	timestamps := fs.Bool("timestamps", false, "check a folder of time-stamp notes and tokens")
	asJSON := fs.Bool("json", false, "print JSON")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	version := fs.Bool("version", false, "print how this program was built")
	given := args
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageErr("%s", cliflags.Explain(fs, err))
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if p := cliflags.Problem(fs, given); p != "" {
		return usageErr("%s", p)
	}
	if *version {
		if len(given) != 1 {
			return usageErr("--version goes alone")
		}
		fmt.Fprint(stdout, buildDescription())
		return nil
	}
	if *sameItems {
		if len(pos) != 2 || *identity != "" || *extract != "" {
			return usageErr("--same-items takes two packages and no --identity or --extract")
		}
	} else if *timestamps {
		switch {
		case len(pos) != 1:
			return usageErr("--timestamps takes one folder: what custos audit timestamps -o wrote, or a copy of the object store's timestamps/ folder")
		case *identity != "" || *extract != "" || *policy != "" || *checkpoint != "":
			return usageErr("--timestamps takes --key or --trusted-keys, --tsa-cert, --json and --quiet only")
		case *key == "" && *trustedKeys == "":
			return usageErr("--timestamps needs the log's key, to check the notes' signatures: --key KEY or --trusted-keys FILE (custos audit key prints it)")
		}
	} else if len(pos) != 1 {
		return usageErr("expected one PACKAGE")
	}
	if *extract != "" && *identity == "" {
		return usageErr("--extract needs --identity")
	}
	if *passFile != "" && *identity == "" {
		return usageErr("--identity-passphrase-file needs --identity")
	}
	// What a mistake in the inputs leaves unchecked.
	subject := ""
	if *timestamps {
		subject = "the folder"
	}
	stdin := 0
	for _, f := range []string{*key, *trustedKeys, *checkpoint, *identity, *passFile, *policy, *tsaCert} {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageErr("only one of the files may be standard input (-)")
	}
	var opts pkgformat.VerifyOptions
	var err error
	if opts, err = readInputs(*key, *trustedKeys, *checkpoint, *identity, *passFile); err != nil {
		return inputError{err: err, subject: subject}
	}
	if *policy != "" {
		b, err := keyfile.ReadText(*policy, "witness policy")
		if err != nil {
			return inputError{err: err, subject: subject}
		}
		if opts.WitnessPolicy, err = witness.ParsePolicy(b); err != nil {
			return inputError{err: keyfile.Malformed(*policy, "witness policy", "witness policy", b, err), subject: subject}
		}
	}
	if *tsaCert != "" {
		b, err := keyfile.ReadText(*tsaCert, "TSA certificate")
		if err != nil {
			return inputError{err: err, subject: subject}
		}
		if opts.TSACerts, err = tsa.ParseCertificatesPEM(b); err != nil {
			return inputError{err: keyfile.Malformed(*tsaCert, "TSA certificate", keyfile.KindPEM, b, err), subject: subject}
		}
	}
	if *sameItems {
		return compareItems(pos, opts, *asJSON, stdout)
	}
	if *timestamps {
		trusted := opts.TrustedKeys
		if opts.TrustedKey != "" {
			trusted = append(trusted, opts.TrustedKey)
		}
		return checkTimestamps(pos[0], trusted, opts.TSACerts, *asJSON, *quiet, stdout)
	}
	var created []string
	stop := func() {} // the interrupt's cleanup, once the check has ended
	if *extract != "" {
		if ents, err := os.ReadDir(*extract); err == nil && len(ents) > 0 {
			return inputError{err: fmt.Errorf("--extract %s already holds files (an earlier extraction?): extract into a new or empty folder, so that this package's exhibits stand apart", *extract)}
		}
		if created, err = makeFolders(*extract); err != nil {
			return err
		}
		opts.ExtractDir = *extract
		if stop, err = removeTempOnSignal(*extract, created, stderr); err != nil {
			removeFolders(created)
			return err
		}
		defer stop()
	}
	f, _, err := inputfile.Open(pos[0])
	if err != nil {
		removeFolders(created)
		return fmt.Errorf("%w: the package was not checked", err)
	}
	defer f.Close()
	// The file's own SHA-256, taken as it is read: what the vault
	// recorded of the file it sealed (package.sealed), and what a receipt
	// signs. The checks read the members, not the tar headers' modes and
	// times: a copy re-packed after sealing verifies with another one.
	fileSum := sha256.New()
	rep, verr := pkgformat.Verify(io.TeeReader(f, fileSum), opts)
	// An interrupt during the check is its handler's to report (it
	// exits): nothing below runs beside the removal of what the check
	// wrote.
	stop()
	if verr != nil {
		// The docs promise that nothing is left on failure: not even the
		// folder --extract created.
		removeFolders(created)
	}

	res := result{Status: "verified", Checks: []string{}, Notes: []string{}, Timestamps: []pkgformat.TimestampReport{}, Cosignatures: []pkgformat.CosignatureReport{}, Extracted: []pkgformat.Extracted{}}
	if rep != nil {
		res.KeyPinned, res.PinnedBy, res.Decrypted = rep.KeyPinned, rep.PinnedBy, rep.Decrypted
		res.Checks = append(res.Checks, rep.Checks...)
		res.Notes = append(res.Notes, rep.Notes...)
		res.Timestamps = append(res.Timestamps, rep.Timestamps...)
		res.Cosignatures = append(res.Cosignatures, rep.Cosignatures...)
		res.Extracted = append(res.Extracted, rep.Extracted...)
		if m := rep.Manifest; m != nil {
			res.Package, res.Case, res.LogKey, res.LogKeyFingerprint = m.Package, m.Case, m.LogKey, m.LogKeyFingerprint
			res.Recipient = m.Recipient
		}
		res.SealedForRole = rep.SealedForRole
	}
	if verr == nil || errors.Is(verr, pkgformat.ErrNotAuthenticated) {
		// Every check read the file to its end; what is left (nothing,
		// as the container's end was checked) is hashed all the same.
		if _, err := io.Copy(fileSum, f); err == nil {
			res.FileSHA256 = hex.EncodeToString(fileSum.Sum(nil))
		}
	}
	var mismatch *pkgformat.KeyMismatchError
	switch {
	case errors.As(verr, &mismatch):
		res.Status, res.Error, res.IdentityRecipients = "key-mismatch", verr.Error(), mismatch.IdentityRecipients
		verr = fmt.Errorf("%s: %w", pos[0], mismatchError{mismatch})
	case errors.Is(verr, pkgformat.ErrNotAuthenticated):
		res.Status, res.Error = "authenticity-not-established", verr.Error()
		verr = fmt.Errorf("%s: %w", pos[0], verr)
	case verr != nil:
		res.Status, res.Error = "failed", verr.Error()
		verr = fmt.Errorf("%s FAILED: %w", pos[0], verr)
	}
	for _, x := range res.Extracted {
		if x.Fallback != "" {
			fmt.Fprintf(stderr, "custos-verify: note: the item named %s extracted as %s: %s (item %s)\n", printablePath(printable.LookalikeMarks(x.Name)), printablePath(x.Path), x.Fallback, x.ID)
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
		fmt.Fprintf(stdout, "package %s of case %s, sealed by %s (%s) for %s: %q\n", safeText(m.Package), safeText(m.Case), safeText(m.SealedBy.Name),
			safeText(m.SealedBy.Role), safeText(m.SealedFor), m.Purpose)
		fmt.Fprintf(stdout, "  log key %s\n  key fingerprint %s\n", safeText(m.LogKey), safeText(m.LogKeyFingerprint))
		switch {
		case verr != nil && res.Status == "failed":
			// Read from the manifest before its checks: a copy that
			// fails may state anything here.
			fmt.Fprintln(stdout, "  (the lines above are what the package states; it failed its checks, so none of them is established)")
		case !res.KeyPinned:
			fmt.Fprintln(stdout, "  (the lines above are what the package states; signed by the key it names itself, which is not one you pinned)")
		}
	}
	for _, c := range res.Checks {
		if !res.KeyPinned && strings.HasPrefix(c, "manifest signed by the log key ") {
			c += ": the key the package names itself, not one you trust"
		}
		fmt.Fprintf(stdout, "  ok  %s\n", safeText(c))
	}
	if res.FileSHA256 != "" {
		fmt.Fprintf(stdout, "  package file SHA-256 %s: compare it with the one the vault recorded when it sealed the file (the package's page in the web application, \"SHA-256 of the file\"; custos package list --json; the sha256 line of the receipt custos package receipt wrote beside the file); a different one means this copy was re-packed after sealing\n", res.FileSHA256)
	}
	// Notes whatever the verdict: one may say why a check failed (a
	// time-stamp token not counted, and why).
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "  note: %s\n", safeText(n))
	}
	if verr != nil {
		switch res.Status {
		case "key-mismatch":
			fmt.Fprintf(stdout, "  key mismatch: the identity %s is not this package's recipient\n", *identity)
			fmt.Fprintf(stdout, "    the package is sealed to  %s\n", short(mismatch.Recipient))
			for _, r := range mismatch.IdentityRecipients {
				fmt.Fprintf(stdout, "    the identity is for       %s\n", short(r))
			}
			fmt.Fprintln(stdout, "  Nothing was decrypted. Every other check passed: this is not a sign of tampering.")
			fmt.Fprintln(stdout, "  Use the identity whose recipient you registered (custos recipient set), or ask for the package to be sealed to this one.")
			if !res.KeyPinned {
				fmt.Fprintln(stdout, "  not established: which vault sealed this package; pin its log key with --key, --trusted-keys or --checkpoint")
			}
			fmt.Fprintln(stdout, "KEY MISMATCH")
		case "authenticity-not-established":
			if len(opts.Identities) == 0 {
				fmt.Fprintln(stdout, "  note: items were not decrypted; pass --identity to re-hash their plaintext")
			}
			fmt.Fprintln(stdout, "  not established: which vault sealed this package; pin its log key with --key, --trusted-keys or --checkpoint")
			fmt.Fprintln(stdout, "AUTHENTICITY NOT ESTABLISHED")
		default:
			if errors.Is(verr, pkgformat.ErrOtherKey) {
				fmt.Fprintln(stdout, "  the package is not signed by the key you pinned: check that key (custos audit key at the vault, or the fingerprint you were given); a fresh copy of the package would fail the same way")
			} else if errors.Is(verr, pkgformat.ErrForkedFromSaved) {
				fmt.Fprintln(stdout, "  the vault's custody log was rewritten: the package and your saved checkpoint are two histories of it, each signed by its key; a fresh copy would fail the same way. Keep both files as they are, as evidence, and ask for an audit of the vault's log against your checkpoint (custos audit verify --checkpoint, docs/operations.md)")
			} else if errors.Is(verr, io.ErrUnexpectedEOF) {
				fmt.Fprintln(stdout, "  the file is incomplete: it ends before the package does (cut off while it was downloaded or copied, or cut on purpose); fetch it again (custos package fetch), or, if you are not its recipient, ask whoever gave it to you for a fresh copy")
			} else {
				fmt.Fprintln(stdout, "  do not rely on this copy: fetch the package again (custos package fetch), or, if you are not its recipient, ask whoever gave it to you for a fresh copy; if a fresh copy fails too, keep this one as it is and tell the vault's custodians")
			}
			// The reason on the standard output too, so that a
			// transcript of it says why.
			fmt.Fprintf(stdout, "  why: %s\n", oneLine(res.Error))
			fmt.Fprintln(stdout, "FAILED")
		}
		return verr
	}
	if len(opts.Identities) == 0 {
		fmt.Fprintln(stdout, "  note: items were not decrypted; pass --identity to re-hash their plaintext")
	}
	// What a check of one package cannot establish (package-format.md
	// section 9), said where the verdict is read, not only in the docs.
	fmt.Fprintln(stdout, "  note: each custody event the package holds is proven to be in the signed log; that none was left out is not (an auditor's custos audit log --item shows an item's whole timeline)")
	for _, x := range res.Extracted {
		fmt.Fprintf(stdout, "  extracted %s (item %s)\n", printablePath(x.Path), x.ID)
	}
	fmt.Fprintln(stdout, "VERIFIED")
	return nil
}

// mismatchError words a key mismatch for the one line on stderr, with
// long recipients abbreviated (--json has them whole).
type mismatchError struct{ *pkgformat.KeyMismatchError }

func (e mismatchError) Error() string {
	var ids []string
	for _, r := range e.IdentityRecipients {
		ids = append(ids, short(r))
	}
	what := "does not open it"
	if len(ids) > 0 {
		what = "is for " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf("key mismatch: the package is sealed to %s, and the identity given %s; every other check passed, so this is not a sign of tampering", short(e.Recipient), what)
}

func (e mismatchError) Unwrap() error { return e.KeyMismatchError }

// readInputs reads what the user trusts and the identity, tolerating how
// people save and paste keys (internal/keyfile), and reports anything
// malformed as such, never as a failed check of the package.
func readInputs(key, trustedKeys, checkpoint, identity, passFile string) (pkgformat.VerifyOptions, error) {
	var opts pkgformat.VerifyOptions
	if key != "" {
		// The key, its fingerprint, or the file custos audit key writes.
		keys, err := pkgformat.TrustedKeysFlag("--key", key)
		if err != nil {
			return opts, err
		}
		switch {
		case len(keys) == 1:
			opts.TrustedKey = keys[0]
		case trustedKeys != "":
			return opts, usageErr("--key %s holds several keys: give one file of keys, with --trusted-keys", key)
		default:
			opts.TrustedKeys = keys
		}
	}
	if trustedKeys != "" {
		b, err := keyfile.ReadText(trustedKeys, "trusted-keys file")
		if err != nil {
			return opts, err
		}
		if opts.TrustedKeys, err = pkgformat.ParseTrustedKeys(b); err != nil {
			return opts, &keyfile.MalformedError{File: trustedKeys, What: "trusted-keys file", Reason: err.Error()}
		}
	}
	if checkpoint != "" {
		b, err := keyfile.ReadCheckpoint(checkpoint)
		if err != nil {
			return opts, err
		}
		opts.TrustedCheckpoint = b
	}
	if identity != "" {
		var pass keyfile.Passphrase
		if passFile != "" {
			pass = func() (string, error) { return keyfile.ReadPassphrase(passFile) }
		}
		ids, err := keyfile.ReadIdentities(identity, pass)
		switch {
		case errors.Is(err, keyfile.ErrPassphraseNeeded):
			return opts, fmt.Errorf("%s is encrypted with a passphrase (as `age -p` makes it), and custos-verify does not ask for passphrases on the terminal: "+
				"put the passphrase alone in a file and give --identity-passphrase-file FILE", identity)
		case errors.Is(err, keyfile.ErrWrongPassphrase):
			return opts, fmt.Errorf("the passphrase in %s does not open the identity file %s", passFile, identity)
		case err != nil:
			return opts, err
		}
		opts.Identities = ids
	}
	return opts, nil
}

// printablePath shows a restored path or an item's name as it may reach
// a terminal, nothing hidden but the joiners Khmer, Indic or Arabic
// names and emoji need where they stand (printable.Readable), so that a
// path shown can be copied back into a command and finds the file.
func printablePath(p string) string { return printable.Readable(p) }

// safeText is text from a package (or a name restored from it) as it may
// reach a terminal (printable.Terminal), so that nothing a package says
// can move the cursor, hide a line or print a line of its own.
func safeText(s string) string { return printable.Terminal(s) }

// compareItems verifies two packages and compares their items
// (pkgformat.SameItems). Both must verify with a pinned key.
func compareItems(paths []string, opts pkgformat.VerifyOptions, asJSON bool, stdout io.Writer) error {
	var ms [2]*pkgformat.Manifest
	var reps [2]*pkgformat.Report
	for i, p := range paths {
		f, _, err := inputfile.Open(p)
		if err != nil {
			return fmt.Errorf("%w: the packages were not compared", err)
		}
		rep, err := pkgformat.Verify(f, opts)
		f.Close()
		if err != nil {
			if errors.Is(err, pkgformat.ErrNotAuthenticated) {
				return fmt.Errorf("%s: %w", p, err)
			}
			return fmt.Errorf("%s FAILED: %w", p, err)
		}
		ms[i], reps[i] = rep.Manifest, rep
	}
	r, err := pkgformat.SameItems(ms[0], ms[1])
	if err != nil {
		return err
	}
	// Two packages of one log that prove two histories of it: whatever
	// their items, the log was rewritten or rolled back between them.
	fork := pkgformat.SameHistory(reps[0], reps[1])
	if fork != nil {
		r.Same = false
	}
	if asJSON {
		var forkText string
		if fork != nil {
			forkText = fork.Error()
		}
		if err := json.NewEncoder(stdout).Encode(struct {
			pkgformat.SameItemsResult
			A      string `json:"package_a"`
			B      string `json:"package_b"`
			Forked bool   `json:"forked"`
			Fork   string `json:"fork,omitempty"`
		}{r, ms[0].Package, ms[1].Package, fork != nil, forkText}); err != nil {
			return err
		}
	} else if fork != nil {
		fmt.Fprintf(stdout, "packages %s and %s, each verified alone\n", safeText(ms[0].Package), safeText(ms[1].Package))
		fmt.Fprintf(stdout, "  %s\n", safeText(fork.Error()))
		fmt.Fprintln(stdout, "  The custody log is append-only: one log never holds two different events at one position, nor two hashes of one part of its tree. The vault's log was rewritten or rolled back between the two sealings, so at least one package's custody record is not the history the vault now holds. Ask for an audit of the vault's log against both packages' checkpoints (custos audit verify --checkpoint, docs/operations.md).")
		fmt.Fprintln(stdout, "FORKED HISTORY: the items were not compared")
	} else {
		fmt.Fprintf(stdout, "packages %s and %s, both verified\n", safeText(ms[0].Package), safeText(ms[1].Package))
		nameIn := func(m *pkgformat.Manifest, id string) string {
			for _, it := range m.Items {
				if it.ID == id {
					return " (" + safeText(it.Name) + ")"
				}
			}
			return ""
		}
		for _, id := range r.OnlyA {
			fmt.Fprintf(stdout, "  only in %s: item %s%s\n", safeText(ms[0].Package), safeText(id), nameIn(ms[0], id))
		}
		for _, id := range r.OnlyB {
			fmt.Fprintf(stdout, "  only in %s: item %s%s\n", safeText(ms[1].Package), safeText(id), nameIn(ms[1], id))
		}
		for _, d := range r.Differ {
			fmt.Fprintf(stdout, "  differs: %s\n", safeText(d))
		}
		if reps[0].Checkpoint != nil && reps[1].Checkpoint != nil && reps[0].Checkpoint.Size != reps[1].Checkpoint.Size {
			// SameHistory sees a fork only in the parts of the log both
			// packages show.
			fmt.Fprintln(stdout, "  note: the two packages' histories were compared where both show the same part of the log (the events they list and their inclusion proofs); that the vault's log was not rewritten between their sealings is not shown here (custos audit verify --checkpoint with each package's checkpoint checks the whole log)")
		}
		if r.Same {
			fmt.Fprintf(stdout, "SAME ITEMS: %s, the same deposit events, names, sizes and plaintext hashes\n", pkgformat.Count(r.Items, "item", "items"))
		} else {
			fmt.Fprintln(stdout, "ITEMS DIFFER")
		}
	}
	if fork != nil {
		return errForkedHistory
	}
	if !r.Same {
		return errItemsDiffer
	}
	return nil
}

var (
	errItemsDiffer   = errors.New("the packages do not carry the same items")
	errForkedHistory = errors.New("the packages prove that the vault's custody log was rewritten between their sealings")
)

// buildDescription is what --version prints: the module version (as `go
// install ...@VERSION` records it; "(devel)" for a build from a
// checkout), the Go release, and the build settings Go recorded in the
// file (runtime/debug.BuildInfo): what a person rebuilding it needs to
// match, for the same SHA-256 (docs/cli.md, "Getting custos-verify").
func buildDescription() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "custos-verify: no build information recorded in this file\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "custos-verify %s, built with %s\n", printable.Terminal(bi.Main.Version), printable.Terminal(bi.GoVersion))
	for _, s := range bi.Settings {
		fmt.Fprintf(&b, "  %s=%s\n", printable.Terminal(s.Key), printable.Terminal(s.Value))
	}
	return b.String()
}
