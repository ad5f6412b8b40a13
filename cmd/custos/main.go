// Command custos is the vault's one binary: `custos server` runs it, and
// every other verb is a client of its HTTP API. Usage: custos help.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `Usage: custos VERB [flags] [args]

Server and administration (on the server host):
  server --dev --data DIR --listen 127.0.0.1:PORT   run the vault
  admin accept-rollback --data DIR [backend flags] --reason TEXT
                                                    (operator, server stopped) continue on a log older than the vault's head, recorded
  admin recover --data DIR [backend flags] --identity FILE
                                                    re-seal every key after a lost TPM/HSM
  admin enroll --data DIR [backend flags] NAME --role custodian
                                                    enrol one of a new vault's first two custodians; server stopped
  admin migrate-log --from URL --to URL --data DIR  copy the custody log to another backend, verified

Signing in (CUSTOS_SERVER names the vault):
  login                                             sign in through the organisation's identity provider (prints a URL and a code)
  login --name NAME --invitation HALF1 --invitation HALF2
                                                    redeem your invitation (one half from each custodian) for your own credential
  logout / whoami                                   end your session / who you are signed in as
  CUSTOS_TOKEN (a credential, cst_...) or CUSTOS_CLIENT_CERT and CUSTOS_CLIENT_KEY sign in without custos login.

Two custodians for every grant of power:
  person add NAME --role ROLE [--oidc V] [--certificate V]
                                                    (custodian) ask to enrol a person; answers a request and your invitation half
  person list / person reissue NAME / person reinstate NAME
                                                    (custodian) list people / ask for a new credential / ask to reinstate
  person suspend NAME --reason T / person remove NAME --reason T
                                                    (custodian) take a person's power away at once
  requests                                          pending requests
  approve REQUEST / reject REQUEST --reason T       (another custodian) carry out or refuse a request
  case policy CASE --export-approval required|none  (custodian) whether exports of the case need a second custodian

Client verbs (read CUSTOS_SERVER and your login; --json prints one JSON object):
  case list / case show CASE                        your cases (all for custodians and auditors) / one case
  item list --case CASE [--name GLOB] [--sha256 H|--md5 H|--sha1 H]
                                                    a case's items / item show ITEM: one item, without its content
  package list                                      packages you may know (a prosecutor's own)
  case open CASE --title T [--retention 87600h]     open a case
  case hold CASE --reason T / case release CASE --reason T
                                                    (custodian) place or lift a legal hold
  case destroy CASE --order REF --reason T          (custodian) request destruction under a court order
  case approve-destruction CASE REQUEST             (a second custodian) approve it: the case's keys are destroyed
  case add-member CASE PERSON                       (custodian) ask to assign an investigator to a case
  case remove-member CASE PERSON --reason R         (custodian) end an investigator's assignment
  deposit --case CASE [--source URL] [--note T] FILE...
  get ITEM --purpose TEXT -o FILE                   record the access, then write the plaintext
  recipient set AGE_RECIPIENT                       (prosecutor) register your age recipient
  package seal --case CASE --for PERSON --purpose TEXT [--items ID,...]
  package fetch ID -o FILE                          (prosecutor) fetch a package sealed for you
  audit verify [--checkpoint FILE] [--save-checkpoint FILE]
  audit scrub                                       re-hash every stored ciphertext
  audit key                                         the log's verifier key and fingerprint, to pin with custos-verify --key
  audit log [--case CASE] [--item ITEM]             the custody timeline
  admin rotate-kek                                  (custodian) re-seal every case key under a new KEK

Offline verification of packages: custos-verify PACKAGE --key KEY [--identity FILE]
`

// errUsage marks errors that should print the usage text.
var errUsage = errors.New("usage")

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	msg := strings.TrimPrefix(err.Error(), "usage: ")
	fmt.Fprintf(os.Stderr, "custos: error: %s\n", oneLine(msg))
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, "\n"+usage)
		os.Exit(2)
	}
	os.Exit(1)
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("no verb given")
	}
	verb, rest := args[0], args[1:]
	sub := func() (string, []string, error) {
		if len(rest) == 0 {
			return "", nil, usageErr("%s needs a sub-verb", verb)
		}
		return rest[0], rest[1:], nil
	}
	switch verb {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "server":
		return runServer(rest, stderr)
	case "deposit":
		return runDeposit(rest, stdout, stderr)
	case "get":
		return runGet(rest, stdout, stderr)
	case "case":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "open":
			return runCaseOpen(r, stdout)
		case "list":
			return runCaseList(r, stdout)
		case "show":
			return runCaseShow(r, stdout)
		case "add-member":
			return runCaseAddMember(r, stdout)
		case "remove-member":
			return runCaseRemoveMember(r, stdout)
		case "hold":
			return runCaseHold(r, stdout, true)
		case "release":
			return runCaseHold(r, stdout, false)
		case "destroy":
			return runCaseDestroy(r, stdout)
		case "approve-destruction":
			return runCaseApproveDestruction(r, stdout)
		case "policy":
			return runCasePolicy(r, stdout)
		}
	case "login":
		return runLogin(rest, stdout, stderr)
	case "logout":
		return runLogout(rest, stdout)
	case "whoami":
		return runWhoami(rest, stdout)
	case "requests":
		return runRequests(rest, stdout)
	case "approve", "reject":
		return runDecide(verb, rest, stdout)
	case "person":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "add", "list", "reissue", "reinstate", "suspend", "remove":
			return runPerson(s, r, stdout)
		}
	case "item":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "list":
			return runItemList(r, stdout)
		case "show":
			return runItemShow(r, stdout)
		}
	case "recipient":
		s, r, err := sub()
		if err != nil {
			return err
		}
		if s == "set" {
			return runRecipientSet(r, stdout)
		}
	case "package":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "seal":
			return runPackageSeal(r, stdout)
		case "list":
			return runPackageList(r, stdout)
		case "fetch":
			return runPackageFetch(r, stdout, stderr)
		}
	case "audit":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "verify":
			return runAuditVerify(r, stdout, stderr)
		case "scrub":
			return runAuditScrub(r, stdout)
		case "key":
			return runAuditKey(r, stdout)
		case "log":
			return runAuditLog(r, stdout)
		}
	case "admin":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "recover":
			return runAdminRecover(r, stdout, stderr)
		case "accept-rollback":
			return runAdminAcceptRollback(r, stdout, stderr)
		case "rotate-kek":
			return runAdminRotate(r, stdout)
		case "enroll":
			return runAdminEnroll(r, stdout, stderr)
		case "migrate-log":
			return runAdminMigrateLog(r, stdout)
		}
	default:
		return usageErr("unknown verb %q", verb)
	}
	return usageErr("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
}

// flags makes a flag set that reports errors instead of exiting, and
// accepts flags after positional arguments (custos get ITEM --purpose X).
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags anywhere among the arguments and returns the
// positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
