// Command custos-verify checks a Custos sealed package offline, without
// the vault and without trusting its operators: the manifest's signature,
// the signed checkpoint, every custody event's inclusion in it, and that
// each item matches its deposit; with --identity it also decrypts every
// item and re-hashes it.
//
// It is deliberately small and imports only the format packages (pkgformat,
// events), age and the standard library, so that a defence expert can read
// all of it. A test keeps it that way.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/pkgformat"
)

const usage = `Usage: custos-verify PACKAGE [--identity FILE] [--extract DIR] [--key KEY] [--quiet]

Checks a Custos sealed package offline. Exits 0 only if every check passes.
  --identity FILE  age identity file of the recipient: also decrypt and re-hash every item
  --extract DIR    with --identity, write each item's plaintext into DIR (created if needed)
  --key KEY        the log's verifier key to trust (from the vault's operators or an audit);
                   without it the key named in the package is used, which proves integrity
                   but not which vault sealed it
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			return
		}
		fmt.Fprintf(os.Stderr, "custos-verify: error: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("custos-verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	identity := fs.String("identity", "", "age identity file")
	extract := fs.String("extract", "", "folder to extract plaintext into")
	key := fs.String("key", "", "trusted log verifier key")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return fmt.Errorf("expected one PACKAGE\n%s", usage)
	}
	if *extract != "" && *identity == "" {
		return errors.New("--extract needs --identity")
	}
	var opts pkgformat.VerifyOptions
	opts.TrustedKey = *key
	if *identity != "" {
		f, err := os.Open(*identity)
		if err != nil {
			return err
		}
		ids, err := age.ParseIdentities(f)
		f.Close()
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
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := pkgformat.Verify(f, opts)
	if err != nil {
		return fmt.Errorf("%s FAILED: %w", pos[0], err)
	}
	if *quiet {
		return nil
	}
	m := rep.Manifest
	fmt.Fprintf(stdout, "package %s of case %s, sealed by %s (%s) for %s: %q\n", m.Package, m.Case, m.SealedBy.Name, m.SealedBy.Role, m.SealedFor, m.Purpose)
	for _, c := range rep.Checks {
		fmt.Fprintf(stdout, "  ok  %s\n", c)
	}
	if !rep.KeyPinned {
		fmt.Fprintf(stdout, "  note: the log key was taken from the package itself (%s); pass --key to pin it\n", m.LogKey)
	}
	if len(opts.Identities) == 0 {
		fmt.Fprintln(stdout, "  note: items were not decrypted; pass --identity to re-hash their plaintext")
	}
	for _, p := range rep.Extracted {
		fmt.Fprintf(stdout, "  extracted %s\n", p)
	}
	fmt.Fprintln(stdout, "VERIFIED")
	return nil
}
