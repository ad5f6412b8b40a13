package main

import (
	"context"
	"fmt"
	"github.com/custos-vault/custos/events/migrate"
	"golang.org/x/mod/sumdb/note"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/logscrub"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// runAdminRecover re-seals every key under the sealer now configured, from
// the recovery copies, after a TPM or HSM is lost. The server must be
// stopped: it runs against the same data folder and backends.
func runAdminRecover(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin recover")
	var f serverFlags
	f.register(fs)
	identity := fs.String("identity", "", "the offline recovery identity file (age)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("admin recover takes no arguments")
	}
	if err := loadConfig(fs, f.config); err != nil {
		return err
	}
	if *identity == "" {
		return usageErr("admin recover needs --identity FILE (the offline recovery identity)")
	}
	if err := f.defaults(); err != nil {
		return err
	}
	idf, err := os.Open(*identity)
	if err != nil {
		return err
	}
	ids, err := age.ParseIdentities(idf)
	idf.Close()
	if err != nil || len(ids) != 1 {
		return fmt.Errorf("%s: expected one age identity", *identity)
	}
	logger := slog.New(logscrub.New(slog.NewTextHandler(stderr, nil)))
	ctx := context.Background()
	b, cfg, err := f.open(ctx, logger)
	if err != nil {
		return err
	}
	defer b.close()
	x, ok := ids[0].(*age.X25519Identity)
	if !ok || x.Recipient().String() != cfg.RecoveryRecipient {
		return fmt.Errorf("%s is not the identity of the recovery recipient %s", *identity, cfg.RecoveryRecipient)
	}
	res, err := vault.Recover(ctx, cfg, ids[0])
	if err != nil {
		return fmt.Errorf("recovery failed: %w", err)
	}
	msg := fmt.Sprintf("re-sealed the log key and %d case keys under %s: %s", len(res.Cases), res.Sealer, strings.Join(res.Cases, ", "))
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
	return printResult(stdout, *asJSON, res, fmt.Sprintf("re-sealed the log key and %d case keys under %s (old versions retired: %v)", len(res.Cases), res.Sealer, res.Retired))
}

// runAdminEnroll enrols a person from the server host with the server
// stopped: how the first custodian of a production vault is created.
func runAdminEnroll(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin enroll")
	var f serverFlags
	f.register(fs)
	role := fs.String("role", "", "investigator, prosecutor, auditor or custodian")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *role == "" {
		return usageErr("admin enroll takes NAME and --role ROLE")
	}
	if err := loadConfig(fs, f.config); err != nil {
		return err
	}
	if err := f.defaults(); err != nil {
		return err
	}
	logger := slog.New(logscrub.New(slog.NewTextHandler(stderr, nil)))
	ctx := context.Background()
	b, cfg, err := f.open(ctx, logger)
	if err != nil {
		return err
	}
	defer b.close()
	v, err := vault.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer v.Close()
	token, err := v.Enroll(ctx, pos[0], *role)
	if err != nil {
		return err
	}
	return printResult(stdout, *asJSON, api.PersonResponse{Name: pos[0], Role: *role, Token: token.Reveal()},
		fmt.Sprintf("enrolled %s as %s; their token (shown once):\n%s", pos[0], *role, token.Reveal()))
}

// runAdminMigrateLog copies a custody log to another backend byte for
// byte and verifies the copy against the source's signed checkpoints.
func runAdminMigrateLog(args []string, stdout io.Writer) error {
	fs := newFlags("admin migrate-log")
	from := fs.String("from", "", "source --log URL")
	to := fs.String("to", "", "destination --log URL (must be empty)")
	data := fs.String("data", "", "the vault's data folder: its keyring names the log's key")
	key := fs.String("key", "", "the log's verifier key (instead of --data)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 || *from == "" || *to == "" {
		return usageErr("admin migrate-log needs --from URL and --to URL")
	}
	vkey := *key
	if vkey == "" {
		if *data == "" {
			return usageErr("admin migrate-log needs --data DIR or --key KEY to know which key signs the log")
		}
		b, err := os.ReadFile(filepath.Join(*data, "keyring", "log.pub"))
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
	fs := newFlags("admin accept-rollback")
	var f serverFlags
	f.register(fs)
	reason := fs.String("reason", "", "why the lost events cannot be restored (recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("admin accept-rollback takes no arguments")
	}
	if err := loadConfig(fs, f.config); err != nil {
		return err
	}
	if *reason == "" {
		return usageErr("admin accept-rollback needs --reason TEXT (recorded in the custody log)")
	}
	if err := f.defaults(); err != nil {
		return err
	}
	logger := slog.New(logscrub.New(slog.NewTextHandler(stderr, nil)))
	ctx := context.Background()
	b, cfg, err := f.open(ctx, logger)
	if err != nil {
		return err
	}
	defer b.close()
	res, err := vault.AcceptRollback(ctx, cfg, *reason)
	if err != nil {
		return err
	}
	return printResult(stdout, *asJSON, res, fmt.Sprintf(
		"recorded: events %d to %d are lost; the custody log continues from %d events; holders of the lost checkpoint can prove the fork",
		res.Size, res.LostSize-1, res.Size))
}
