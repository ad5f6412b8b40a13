package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/custos-vault/custos/events/migrate"
	"github.com/custos-vault/custos/internal/inputfile"
	"github.com/custos-vault/custos/internal/keyfile"
	"golang.org/x/mod/sumdb/note"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/logscrub"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// runAdminRecover re-seals every key under the sealer now configured, from
// the recovery copies, after a TPM or HSM is lost. The server must be
// stopped: it runs against the same data folder and backends.
func runAdminRecover(args []string, stdout, stderr io.Writer) error {
	o := newOfflineVerb("admin recover")
	identity := o.fs.String("identity", "", "the offline recovery identity file (age)")
	asJSON := o.fs.Bool("json", false, "print JSON")
	var ids []age.Identity
	readIdentity := func() error {
		idf, _, err := inputfile.Open(*identity)
		if err != nil {
			return fmt.Errorf("--identity: %w", err)
		}
		defer idf.Close()
		if ids, err = age.ParseIdentities(idf); err != nil || len(ids) != 1 {
			return fmt.Errorf("%s: expected one age identity", *identity)
		}
		return nil
	}
	err := o.start(args, stderr, func(pos []string) error {
		if err := noArgs("admin recover")(pos); err != nil {
			return err
		}
		if *identity == "" {
			return usageErr("admin recover needs --identity FILE (the offline recovery identity)")
		}
		return nil
	}, readIdentity)
	if err != nil {
		return err
	}
	defer o.close()
	x, ok := ids[0].(*age.X25519Identity)
	if !ok || x.Recipient().String() != o.cfg.RecoveryRecipient {
		return fmt.Errorf("%s is not the identity of the recovery recipient %s", *identity, o.cfg.RecoveryRecipient)
	}
	res, err := vault.Recover(o.ctx, o.cfg, ids[0])
	if err != nil {
		return fmt.Errorf("recovery failed: %w", err)
	}
	msg := fmt.Sprintf("re-sealed the log key and %d case keys under %s: %s", len(res.Cases), res.Sealer, strings.Join(res.Cases, ", "))
	if res.ContactsKey {
		msg += "; and the reporter-contacts key"
	}
	for _, l := range res.Lost {
		msg += fmt.Sprintf("\nLOST: the key of case %s could not be recovered (%s); recorded in the custody log", l.Case, l.Reason)
	}
	if err := printResult(stdout, *asJSON, res, msg); err != nil {
		return err
	}
	if len(res.Lost) > 0 {
		return fmt.Errorf("the keys of %d case(s) could not be recovered; the loss is recorded", len(res.Lost))
	}
	return nil
}

// offlineVerb is an admin verb that runs on the server host with the
// server stopped, against the same data folder and backends: it takes the
// server's flags and its own.
type offlineVerb struct {
	f     serverFlags
	fs    *flag.FlagSet
	pos   []string
	ctx   context.Context
	b     *backendSet
	cfg   vault.Config
	close func()
	name  string
}

// newOfflineVerb registers the server's flags on a new flag set; the
// caller adds its own, then calls start.
func newOfflineVerb(name string) *offlineVerb {
	o := &offlineVerb{fs: newFlags(name), ctx: context.Background(), name: name}
	o.f.register(o.fs)
	return o
}

// start parses args, lets check judge the positional arguments and the
// verb's own flags (a usage error), loads the config file, applies the
// defaults, runs prepare (if any: what the verb can check before the
// data folder or any backend is touched), checks the data folder
// (requireVault), locks it, and opens the backends, logging to stderr.
// Call o.close after.
func (o *offlineVerb) start(args []string, stderr io.Writer, check func(pos []string) error, prepare ...func() error) error {
	pos, err := parse(o.fs, args)
	if err != nil {
		return err
	}
	if err := check(pos); err != nil {
		return err
	}
	o.pos = pos
	// The server's config file, shared: its listener, TLS, sign-in and
	// limit keys configure the server, not this verb.
	serverFS, _ := newServerFlags()
	if err := loadConfig(o.fs, o.f.config, serverFS); err != nil {
		return err
	}
	if err := o.f.defaults(); err != nil {
		return err
	}
	// The verb's own inputs first: a mistake in them is said before the
	// data folder is looked at.
	for _, p := range prepare {
		if err := p(); err != nil {
			return err
		}
	}
	// Only admin enroll makes a new vault (in a data folder that
	// exists); admin recover restores a keyring that was lost, from the
	// object store's replicas (it refuses a log that records no key to
	// restore), in a data folder that exists.
	if err := o.f.requireVault("custos " + o.name); err != nil && !(o.name == "admin enroll" && errors.As(err, new(noVault))) {
		return err
	}
	lock, err := lockData(o.f.data)
	if err != nil {
		return err
	}
	// Warnings and errors only: what a verb did is its own answer, and
	// a credential it prints once is not to be read between log lines.
	logger := slog.New(logscrub.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if o.b, o.cfg, err = o.f.open(o.ctx, logger); err != nil {
		lock.Close()
		return err
	}
	// Not a server start: its server.started says which command opened
	// the vault, and records none of a server's configuration.
	o.cfg.Run = "custos " + o.name
	o.close = func() { o.b.close(); lock.Close() }
	return nil
}

// noArgs is a start check for verbs without positional arguments.
func noArgs(name string) func([]string) error {
	return func(pos []string) error {
		if len(pos) != 0 {
			return usageErr("%s takes no arguments", name)
		}
		return nil
	}
}

func runAdminRotate(args []string, stdout io.Writer) error {
	fs := newFlags("admin rotate-kek")
	retire := fs.Bool("retire-old", false, "destroy older key-encryption-key versions afterwards")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("admin rotate-kek takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var res api.RotateResponse
	if err := c.call("POST", "/v1/admin/rotate-kek", nil, api.RotateRequest{RetireOld: *retire}, &res); err != nil {
		return err
	}
	msg := fmt.Sprintf("re-sealed the log key and %d case keys under %s (old versions retired: %v)", len(res.Cases), res.Sealer, res.Retired)
	for _, k := range res.Skipped {
		msg += fmt.Sprintf("\nNOT RE-SEALED: %s: %s (recorded in the custody log as a key problem; old versions are not retired while a key is left under them)", k.Case, k.Reason)
	}
	if err := printResult(stdout, *asJSON, res, msg); err != nil {
		return err
	}
	if len(res.Skipped) > 0 {
		return fmt.Errorf("%d key(s) were not re-sealed: restore their files (docs/keys.md, \"Key files on the record\") and rotate again", len(res.Skipped))
	}
	return nil
}

// runAdminEnroll enrols one of a new vault's first two custodians from
// the server host with the server stopped; everyone after them is
// enrolled on a request two custodians decide.
func runAdminEnroll(args []string, stdout, stderr io.Writer) error {
	o := newOfflineVerb("admin enroll")
	role := o.fs.String("role", "", "custodian (the only role enrolled offline)")
	asJSON := o.fs.Bool("json", false, "print JSON")
	err := o.start(args, stderr, func(pos []string) error {
		if len(pos) != 1 || *role == "" {
			return usageErr("admin enroll takes NAME and --role ROLE")
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer o.close()
	v, err := vault.Open(o.ctx, o.cfg)
	if err != nil {
		return err
	}
	defer v.Close()
	name := o.pos[0]
	if *role != vault.RoleCustodian {
		return fmt.Errorf("admin enroll enrols only the first two custodians; a %s is enrolled by a custodian's request another approves (custos person add)", *role)
	}
	if n := v.CustodiansEver(); n >= 2 {
		return fmt.Errorf("this vault has had %d custodians: every other person is enrolled by a custodian's request another approves (custos person add)", n)
	}
	token, err := v.Enroll(o.ctx, name, *role)
	if err != nil {
		return err
	}
	// Shown once, to the operator who enrols the first custodians: each
	// of them should have the other re-issue their credential
	// (custos person reissue) so that no one else has held it.
	return printResult(stdout, *asJSON, api.RedeemResponse{Name: name, Credential: token.Reveal()},
		fmt.Sprintf("enrolled %s as %s; their credential (shown once; set it as CUSTOS_TOKEN):\n%s", name, *role, token.Reveal()))
}

// runAdminMigrateLog copies a custody log to another backend byte for
// byte and verifies the copy against the source's signed checkpoints.
func runAdminMigrateLog(args []string, stdout io.Writer) error {
	fs := newFlags("admin migrate-log")
	from := fs.String("from", "", "source --log URL")
	to := fs.String("to", "", "destination --log URL (must be empty)")
	data := fs.String("data", "", "the vault's data folder: its keyring names the log's key")
	key := fs.String("key", "", "the log's verifier key, or a file holding it as custos audit key writes it (instead of --data)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 || *from == "" || *to == "" {
		return usageErr("admin migrate-log needs --from URL and --to URL")
	}
	vkey := *key
	if vkey != "" {
		// The key itself, or the file custos audit key writes; a
		// fingerprint cannot check signatures.
		keys, err := pkgformat.TrustedKeysFlag("--key", vkey)
		if err != nil {
			return err
		}
		if len(keys) != 1 || !strings.Contains(keys[0], "+") {
			return usageErr("admin migrate-log --key needs the log's verifier key itself (as custos audit key prints it), not a fingerprint or a list")
		}
		vkey = keys[0]
	} else {
		if *data == "" {
			return usageErr("admin migrate-log needs --data DIR or --key KEY to know which key signs the log")
		}
		b, err := smallfile.Read(filepath.Join(*data, keyringDir, "log.pub"), 64<<10)
		if err != nil {
			return err
		}
		vkey = strings.TrimSpace(string(b))
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	ctx := context.Background()
	src, err := openLog(ctx, *from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := openLog(ctx, *to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dst.Close()
	n, err := migrate.MigrateLog(ctx, src, dst, verifier.Name(), verifier)
	if err != nil {
		return fmt.Errorf("migration failed: %w", err)
	}
	return printResult(stdout, *asJSON, migrateOutput{Events: n, OK: true},
		fmt.Sprintf("copied and verified %d events; start the server with --log %s", n, *to))
}

// runAdminAcceptRollback accepts, on the record, a custody log restored
// from a backup older than the vault's sticky head when no newer copy
// exists anywhere. The server must be stopped.
func runAdminAcceptRollback(args []string, stdout, stderr io.Writer) error {
	o := newOfflineVerb("admin accept-rollback")
	reason := o.fs.String("reason", "", "why the lost events cannot be restored (recorded)")
	checkpoint := o.fs.String("checkpoint", "", "the newest checkpoint of this vault kept outside it (an auditor's, custos audit verify --save-checkpoint) that the restored log does not extend: the loss recorded is then what it proves, where the vault's own head knew less")
	asJSON := o.fs.Bool("json", false, "print JSON")
	var saved []byte
	err := o.start(args, stderr, func(pos []string) error {
		if err := noArgs("admin accept-rollback")(pos); err != nil {
			return err
		}
		if *reason == "" {
			return usageErr("admin accept-rollback needs --reason TEXT (recorded in the custody log)")
		}
		return nil
	}, func() error {
		if *checkpoint == "" {
			return nil
		}
		raw, err := keyfile.ReadFile(*checkpoint, "checkpoint")
		if err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
		saved, err = keyfile.ParseCheckpoint(*checkpoint, raw)
		return err
	})
	if err != nil {
		return err
	}
	defer o.close()
	res, err := vault.AcceptRollback(o.ctx, o.cfg, *reason, saved)
	if err != nil {
		return err
	}
	if res.HeadMissing && res.LostSize == 0 {
		return printResult(stdout, *asJSON, res, fmt.Sprintf(
			"recorded: the vault's head was missing, so the vault cannot say which events were lost; the custody log continues from %d events; "+
				"holders of a newer checkpoint (auditors, witnesses, package recipients) can prove what was lost", res.Size))
	}
	return printResult(stdout, *asJSON, res, fmt.Sprintf(
		"recorded: events %d to %d are lost; the custody log continues from %d events; holders of the lost checkpoint can prove the fork",
		res.Size, res.LostSize-1, res.Size))
}
