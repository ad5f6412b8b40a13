package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/sealers"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/internal/gcpace"
	"github.com/custos-vault/custos/internal/logscrub"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/objectstore"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/web"
)

// serverFlags are the flags shared by `server` and `admin recover`.
type serverFlags struct {
	dev       bool
	data      string
	logURL    string
	objURL    string
	sealerURL string
	recovery  string
	retention time.Duration
	pending   time.Duration
	minRet    time.Duration
	noLegacy  bool
	createKEK bool
	config    string
}

func (f *serverFlags) register(fs interface {
	BoolVar(*bool, string, bool, string)
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Var(flag.Value, string, string)
}) {
	fs.BoolVar(&f.dev, "dev", false, "development mode: embedded defaults under --data, dev persons, loopback only")
	fs.StringVar(&f.data, "data", "", "data folder (keyring, spool; with --dev also the log, objects and dev keys)")
	fs.StringVar(&f.logURL, "log", "", "custody log (a `URL`): sqlite:PATH, postgres://..., esdb://HOST:2113?tls=false, kurrentdb://...")
	fs.StringVar(&f.objURL, "objects", "", "object store (a `URL`): "+objectstore.Forms)
	fs.StringVar(&f.sealerURL, "sealer", "", "key sealer: tpm:/dev/tpmrm0, tpm+tcp://HOST:PORT, pkcs11:..., transit://HOST:PORT/KEY, soft:PATH (--dev only)")
	fs.StringVar(&f.recovery, "recovery-recipient", "", "offline recovery recipient (age1...); generated under --data with --dev")
	f.retention, f.pending = vault.DefaultRetention, vault.DefaultPendingRetention
	fs.Var(durationFlag{&f.retention}, "retention", "how long evidence objects stay write-once: 10y, 3650d or 87600h (default 10y)")
	fs.Var(durationFlag{&f.minRet}, "min-retention", "the floor for any case's retention (default: 24h, or --retention if shorter)")
	fs.Var(durationFlag{&f.pending}, "pending-retention", "retention of an object until its deposit event is durable (orphans of crashes are swept after it; default 24h)")
	fs.BoolVar(&f.noLegacy, "no-legacy-hashes", false, "skip MD5 and SHA-1 at deposit (kept by default for law-enforcement hash lists)")
	fs.BoolVar(&f.createKEK, "create-kek", false, "pkcs11: create the key-encryption key in the token if it is absent")
	fs.StringVar(&f.config, "config", "", "a config `FILE` of \"flag = value\" lines (flags on the command line win)")
}

func (f *serverFlags) defaults() error {
	if f.data == "" {
		return usageErr("--data DIR is required")
	}
	if f.dev {
		if f.logURL == "" {
			f.logURL = "sqlite:" + filepath.Join(f.data, "custody.db")
		}
		if f.objURL == "" {
			f.objURL = "fs:" + filepath.Join(f.data, "objects")
		}
		if f.sealerURL == "" {
			f.sealerURL = "soft:" + filepath.Join(f.data, "keys")
		}
	}
	if f.logURL == "" || f.objURL == "" || f.sealerURL == "" {
		return usageErr("--log, --objects and --sealer are required without --dev")
	}
	if !f.dev && strings.HasPrefix(f.sealerURL, "soft:") {
		// Said before the data folder is looked at (requireVault).
		return fmt.Errorf("--sealer: %w", sealers.ErrDevOnly)
	}
	return nil
}

// noVault is requireVault's refusal of an existing data folder that
// holds no vault, which admin enroll makes one in.
type noVault struct{ error }

// requireVault refuses verb (a server start, an offline admin verb) a
// data folder that holds no vault, outside --dev, where the custody log
// is an embedded SQLite file: no log key in its keyring. Only custos
// admin enroll makes such a vault (the first custodians are enrolled
// before the first start, deploy/one-server.md), so that a data folder
// lost, not mounted or mistyped, with the log in it, is never silently
// replaced by a new, empty vault with another log key, which would
// answer its users as if they had never been enrolled. A log kept
// elsewhere (KurrentDB, PostgreSQL) says it by itself: a start on a log
// with events and a keyring without its key is refused (openLogKey),
// and a container's first start on an empty one makes the vault.
func (f *serverFlags) requireVault(verb string) error {
	if f.dev {
		return nil
	}
	if _, err := os.Stat(f.data); errors.Is(err, fs.ErrNotExist) {
		// Never made here: a folder missing, not mounted, or mistyped.
		// A new vault's is made before its first custodians are
		// enrolled (deploy/one-server.md section 3).
		return fmt.Errorf("%s: --data %s does not exist: check the path (mounted, not mistyped), or restore the folder from backup (docs/operations.md, \"Restoring\"). For a new vault, create it first, owned by the vault's user (install -d -m 0700 -o custos -g custos %s; deploy/one-server.md section 3)", verb, f.data, shellWord(f.data))
	}
	keyring := filepath.Join(f.data, keyringDir)
	if dir, ok := strings.CutPrefix(f.objURL, "fs:"); ok && vault.HasLogKey(keyring) {
		// A vault's local-disk store exists from its first start on: one
		// missing is mistyped or not mounted, and is not made here.
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: --objects %s: the folder does not exist, but --data %s holds a vault, whose object store exists from its first start: check the path (mounted, not mistyped), or restore the store from backup (docs/operations.md, \"Restoring\")", verb, f.objURL, f.data)
		}
	}
	if !strings.HasPrefix(f.logURL, "sqlite:") {
		return nil
	}
	if vault.HasLogKey(keyring) {
		return nil
	}
	if st, err := os.Stat(strings.TrimPrefix(f.logURL, "sqlite:")); err == nil && st.Size() > 0 {
		// A log without its keyring: the start's own refusal says
		// what to do (check --data, restore the keyring, or admin
		// recover).
		return nil
	}
	what := "it has no log key in " + keyring + ", and no custody log " + strings.TrimPrefix(f.logURL, "sqlite:")
	return noVault{fmt.Errorf("%s: --data %s holds no vault (%s). If a vault ran here, its data folder is missing, not mounted, or --data is mistyped: check the path, or restore the folder from backup (docs/operations.md, \"Restoring\"); a new vault in its place would have another log key, and none of its people, cases or evidence. "+
		"To set up a new vault, enrol its first two custodians first, with the server stopped: custos admin enroll --config FILE NAME --role custodian (deploy/one-server.md section 4), which creates it", verb, f.data, what)}
}

// backends opens the three backends the flags name.
func (f *serverFlags) backends(ctx context.Context, logger *slog.Logger) (*backendSet, error) {
	b := &backendSet{}
	var err error
	if b.sealer, err = sealers.Open(ctx, f.sealerURL, sealers.Options{Dev: f.dev, CreateKEK: f.createKEK, Getenv: os.Getenv}); err != nil {
		return nil, fmt.Errorf("--sealer: %w", err)
	}
	if strings.HasPrefix(f.sealerURL, "soft:") {
		logger.Warn(soft.Warning)
	}
	if b.objects, err = objectstore.Open(ctx, f.objURL, objectstore.Options{DefaultRetention: f.retention,
		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: secret.New(os.Getenv("AWS_SECRET_ACCESS_KEY"))}); err != nil {
		b.close()
		return nil, fmt.Errorf("--objects: %w", err)
	}
	if b.log, err = openLog(ctx, f.logURL); err != nil {
		b.close()
		return nil, fmt.Errorf("--log: %w", err)
	}
	return b, nil
}

// open opens the backends and builds the vault configuration: what the
// server and every offline admin verb start with. The caller closes b.
func (f *serverFlags) open(ctx context.Context, logger *slog.Logger) (*backendSet, vault.Config, error) {
	b, err := f.backends(ctx, logger)
	if err != nil {
		return nil, vault.Config{}, err
	}
	cfg, err := f.vaultConfig(b, logger)
	if err != nil {
		b.close()
		return nil, vault.Config{}, err
	}
	return b, cfg, nil
}

func (f *serverFlags) vaultConfig(b *backendSet, logger *slog.Logger) (vault.Config, error) {
	rec := f.recovery
	if rec == "" && f.dev {
		var err error
		if rec, err = devRecovery(f.data); err != nil {
			return vault.Config{}, err
		}
	}
	if rec == "" {
		return vault.Config{}, usageErr("--recovery-recipient age1... is required without --dev (its identity is kept offline)")
	}
	return vault.Config{
		Log: b.log, Objects: b.objects, Sealer: b.sealer,
		KeyringDir: filepath.Join(f.data, keyringDir), SpoolDir: filepath.Join(f.data, "spool"),
		TileDir: filepath.Join(f.data, "tiles"), SnapshotDir: filepath.Join(f.data, "snapshots"), HashSetDir: filepath.Join(f.data, "hashsets"),
		RecoveryRecipient: rec, Retention: f.retention, PendingRetention: f.pending, MinRetention: f.minRet, NoLegacyHashes: f.noLegacy, Logger: logger,
	}, nil
}

// serverCommand is every flag of `custos server`.
type serverCommand struct {
	f                       serverFlags
	listen, tlsCert, tlsKey *string
	lim                     limitFlags
	id                      identityFlags
	anchors                 anchorFlags
	hotline                 hotlineFlags
}

func newServerFlags() (*flag.FlagSet, *serverCommand) {
	fs := newFlags("server")
	sc := &serverCommand{}
	sc.f.register(fs)
	sc.listen = fs.String("listen", "127.0.0.1:8443", "the `ADDRESS` (HOST:PORT) to listen on")
	sc.tlsCert = fs.String("tls-cert", "", "TLS certificate `FILE` (PEM); with --tls-key, serve HTTPS (required off loopback)")
	sc.tlsKey = fs.String("tls-key", "", "TLS private key `FILE` (PEM)")
	sc.lim.register(fs)
	sc.id.register(fs)
	sc.anchors.register(fs)
	sc.hotline.register(fs)
	return fs, sc
}

func runServer(args []string, stderr io.Writer) error {
	fs, sc := newServerFlags()
	f, listen, tlsCert, tlsKey, lim, id := &sc.f, sc.listen, sc.tlsCert, sc.tlsKey, &sc.lim, &sc.id
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("server takes no arguments")
	}
	if err := loadConfig(fs, f.config); err != nil {
		return err
	}
	if err := f.defaults(); err != nil {
		return err
	}
	if err := lim.check(); err != nil {
		return err
	}
	if err := id.check(f.dev); err != nil {
		return err
	}
	if err := sc.anchors.check(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return usageErr("--listen %q: %v", *listen, err)
	}
	useTLS := *tlsCert != "" || *tlsKey != ""
	if useTLS && (*tlsCert == "" || *tlsKey == "") {
		return usageErr("--tls-cert and --tls-key go together")
	}
	if f.dev && !isLoopback(host) {
		return fmt.Errorf("--listen %s: --dev listens only on loopback", *listen)
	}
	if !useTLS && !isLoopback(host) {
		return fmt.Errorf("--listen %s: plain HTTP is served only on loopback; give --tls-cert and --tls-key", *listen)
	}
	if err := sc.hotline.check(f.dev, useTLS); err != nil {
		return err
	}
	if err := f.requireVault("custos server"); err != nil {
		return err
	}
	lock, err := lockData(f.data)
	if err != nil {
		return err
	}
	defer lock.Close()
	logger := slog.New(logscrub.New(slog.NewTextHandler(stderr, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	b, cfg, err := f.open(ctx, logger)
	if err != nil {
		return err
	}
	defer b.close()
	opts := lim.options()
	if err := id.apiOptions(ctx, &opts, logger); err != nil {
		return err
	}
	id.apply(&cfg)
	if cfg.SignIn, err = id.signIn(ctx); err != nil {
		return err
	}
	sc.anchors.apply(&cfg)
	sc.hotline.apply(&cfg)
	if opts.ClientCerts != nil && !useTLS {
		return usageErr("--client-ca needs HTTPS (--tls-cert and --tls-key)")
	}
	v, err := vault.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer v.Close()
	// Loading the state (a snapshot's JSON, or the replay's decoded
	// events) leaves garbage as large as the state; it is returned to
	// the system now rather than held until the runtime's scavenger gets
	// to it, so that the server's resident memory is its live state.
	debug.FreeOSMemory()
	setServerGC(ctx, logger)
	// The data folder's permissions, checked beside the serving vault
	// (a large vault's tiles are many files).
	go narrowDataFolder(f.data, logger)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return listenError("--listen", *listen, err)
	}
	// The public intake is bound with the API's listener, before the
	// vault answers anything, so that both are ready together.
	var pln net.Listener
	if sc.hotline.publicListen != "" {
		if pln, err = net.Listen("tcp", sc.hotline.publicListen); err != nil {
			ln.Close()
			return listenError("--public-listen", sc.hotline.publicListen, err)
		}
		defer pln.Close()
	}
	base := "http://" + ln.Addr().String()
	if useTLS {
		base = "https://" + ln.Addr().String()
	}
	if f.dev {
		if err := devPersons(ctx, v, f.data, base, logger); err != nil {
			ln.Close()
			return err
		}
	}
	apiHandler := api.New(v, logger, opts)
	defer apiHandler.Close()
	handler, err := web.New(v, apiHandler, logger, web.Options{BaseURL: base, TLS: useTLS})
	if err != nil {
		ln.Close()
		return err
	}
	ln = api.LimitListener(ln, lim.connsPerClient)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: lim.headerTimeout,
		IdleTimeout:       lim.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			srv.TLSConfig = id.tlsConfig(&tls.Config{MinVersion: tls.VersionTLS12})
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	if pln != nil {
		public := api.NewPublic(v, logger, sc.hotline.publicOptions())
		defer public.Close()
		pln = api.LimitListener(pln, lim.connsPerClient)
		psrv := &http.Server{Handler: public, ReadHeaderTimeout: lim.headerTimeout, IdleTimeout: lim.idleTimeout, MaxHeaderBytes: 16 << 10,
			ReadTimeout: lim.headerTimeout + 5*time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: api.PublicServerLog(logger)}
		defer psrv.Close()
		go func() {
			var err error
			if useTLS {
				psrv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				err = psrv.ServeTLS(pln, *tlsCert, *tlsKey)
			} else {
				err = psrv.Serve(pln)
			}
			if err != nil && err != http.ErrServerClosed {
				errc <- fmt.Errorf("public intake: %w", err)
			}
		}()
		scheme := "http://"
		if useTLS {
			scheme = "https://"
		}
		logger.Info("public report intake open at " + scheme + pln.Addr().String())
	}
	logger.Info("listening on " + base)
	if f.dev {
		pathLine := ""
		if exe, err := os.Executable(); err == nil {
			// Where this custos is, so that the lines below run as
			// written in a new terminal.
			dirs := filepath.Dir(exe)
			if age, err := exec.LookPath("age"); err == nil && filepath.Dir(age) != dirs {
				// The age this server's PATH finds (make run puts the
				// project's own first): packages are opened with it.
				dirs += string(filepath.ListSeparator) + filepath.Dir(age)
			}
			pathLine = fmt.Sprintf("  export PATH=%s:$PATH\n", dirs)
		}
		// Absolute, so that the lines work from any folder (evidence,
		// even test files, belongs outside the checkout).
		devData := f.data
		if abs, err := filepath.Abs(f.data); err == nil {
			devData = abs
		}
		publicLine := ""
		if pln != nil {
			scheme := "http://"
			if useTLS {
				scheme = "https://"
			}
			publicLine = fmt.Sprintf("The public report intake (the form the public reports through): %s%s/\n", scheme, pln.Addr())
			// A hotline's analysts start from their own file.
			publicLine += fmt.Sprintf("Hotline work, as an analyst: . %s   # then: custos report list (the public's reports), custos report --help\n",
				filepath.Join(devData, "dev", "analyst.env"))
		}
		fmt.Fprintf(stderr, "\nCustos is running (development mode). In another terminal:\n"+pathLine+
			"  cd \"$(mktemp -d)\"   # a scratch folder: test files stay out of the checkout\n"+
			"  . %s        # then: custos case open CASE-1 --title 'First case'\n"+
			"  custos deposit --case CASE-1 FILE\n"+
			"Other persons: %s/{analyst,analyst2,analyst3,prosecutor,defence,auditor,custodian,custodian2}.env\n"+
			"In a browser: %s/app/ and sign in with a person's CUSTOS_TOKEN from their .env file.\n"+publicLine+"\n",
			filepath.Join(devData, "dev", "investigator.env"), filepath.Join(devData, "dev"), base)
	}
	select {
	case <-ctx.Done():
		logger.Info("stopping")
	case err := <-errc:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	// Record the summaries of refusals still being aggregated while the
	// vault is open.
	apiHandler.Close()
	// Last, the stop itself: the log tells a planned stop from a crash.
	recordCtx, cancelRecord := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelRecord()
	if serr := v.RecordStop(recordCtx, "stop signal"); serr != nil {
		logger.Error("recording the server's stop", "err", serr)
	} else {
		logger.Info("stopped: the stop is recorded (server.stopped)")
	}
	return err
}

// limitFlags bound what a client can hold without doing anything: idle
// and slow connections, slow uploads, unauthenticated requests.
type limitFlags struct {
	headerTimeout  time.Duration
	idleTimeout    time.Duration
	connsPerClient int
	minUploadRate  int64
	uploadWindow   time.Duration
	writeStall     time.Duration
	unauthRate     float64
	unauthBurst    int
	refusalWindow  time.Duration
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&l.headerTimeout, "read-header-timeout", 10*time.Second, "time a client has to send a request's headers")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", time.Minute, "how long an idle keep-alive connection is kept open")
	fs.IntVar(&l.connsPerClient, "max-conns-per-client", 64, "open connections allowed per client IP address; more are closed at once")
	fs.Int64Var(&l.minUploadRate, "min-upload-rate", api.DefaultMinUploadRate, "bytes/s a request body must average over each --upload-window, or it is cut (0: no limit)")
	fs.DurationVar(&l.uploadWindow, "upload-window", 30*time.Second, "window over which --min-upload-rate is measured")
	fs.DurationVar(&l.writeStall, "write-stall-timeout", 30*time.Second, "a response write a client does not take within it (the client stopped reading) cuts the connection")
	fs.Float64Var(&l.unauthRate, "unauth-rate", 5, "requests/s without valid credentials allowed per client IP address (token bucket; then 429)")
	fs.IntVar(&l.unauthBurst, "unauth-burst", 20, "burst of requests without valid credentials allowed per client IP address")
	fs.DurationVar(&l.refusalWindow, "refusal-window", time.Minute, "refusals without valid credentials (and of unknown routes) are recorded once per client, action and reason per window, then summarised")
}

func (l *limitFlags) check() error {
	switch {
	case l.headerTimeout <= 0 || l.idleTimeout <= 0 || l.uploadWindow <= 0 || l.refusalWindow <= 0 || l.writeStall <= 0:
		return usageErr("--read-header-timeout, --idle-timeout, --upload-window, --write-stall-timeout and --refusal-window must be positive")
	case l.connsPerClient < 1:
		return usageErr("--max-conns-per-client must be at least 1")
	case l.minUploadRate < 0:
		return usageErr("--min-upload-rate must be 0 (no limit) or more")
	case l.unauthRate <= 0 || l.unauthBurst < 1:
		return usageErr("--unauth-rate must be positive and --unauth-burst at least 1")
	}
	return nil
}

func (l *limitFlags) options() api.Options {
	rate := l.minUploadRate
	if rate == 0 {
		rate = -1
	}
	return api.Options{RefusalWindow: l.refusalWindow, UnauthRate: l.unauthRate, UnauthBurst: l.unauthBurst,
		MinUploadRate: rate, UploadWindow: l.uploadWindow, WriteStall: l.writeStall}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type backendSet struct {
	log     events.Store
	objects objects.Store
	sealer  hsm.Sealer
}

func (b *backendSet) close() {
	if b.log != nil {
		b.log.Close()
	}
	if b.objects != nil {
		b.objects.Close()
	}
	if b.sealer != nil {
		b.sealer.Close()
	}
}

// devRecovery returns the development recovery recipient, generating its
// identity into DIR/dev/recovery.key on first start. In real use that
// identity lives offline, in a safe.
func devRecovery(data string) (string, error) {
	dir := filepath.Join(data, "dev")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "recovery.key")
	if b, err := os.ReadFile(path); err == nil {
		ids, err := age.ParseIdentities(strings.NewReader(string(b)))
		if err != nil || len(ids) != 1 {
			return "", fmt.Errorf("%s: not an age identity file", path)
		}
		x, ok := ids[0].(*age.X25519Identity)
		if !ok {
			return "", fmt.Errorf("%s: not an X25519 identity", path)
		}
		return x.Recipient().String(), nil
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	content := fmt.Sprintf("# Custos development recovery identity. In real use this lives offline.\n# public key: %s\n%s\n", id.Recipient(), id)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return "", err
	}
	return id.Recipient().String(), nil
}

var devRoles = []struct{ name, role string }{
	{"investigator", vault.RoleInvestigator},
	{"prosecutor", vault.RoleProsecutor},
	{"auditor", vault.RoleAuditor},
	{"custodian", vault.RoleCustodian},
	{"custodian2", vault.RoleCustodian},
	{"defence", vault.RoleDefence},
	{"analyst", vault.RoleAnalyst},
	// Two more analysts: a case whose policy asks three agreeing votes
	// (CAID-style review) can be tried without enrolling anyone.
	{"analyst2", vault.RoleAnalyst},
	{"analyst3", vault.RoleAnalyst},
}

// devPersons enrols one person per role on first start and writes their
// credentials as shell-sourceable files; on later starts it points the
// files at the current address. It enrols only in a vault that holds no
// one but the development persons: --dev on a vault in use (its people
// enrolled by custodians, no development credentials in DATA/dev) would
// give whoever starts the server two custodians of their own, so that
// start is refused, nothing enrolled. A development vault whose people
// were joined by others since starts as before: it enrols no one.
func devPersons(ctx context.Context, v *vault.Vault, data, base string, logger *slog.Logger) error {
	dir := filepath.Join(data, "dev")
	set := map[string]string{}
	enrols := false
	for _, p := range devRoles {
		set[p.name] = p.role
		b, err := os.ReadFile(filepath.Join(dir, p.name+".env"))
		enrols = enrols || err != nil || envValue(string(b), "CUSTOS_TOKEN") == ""
	}
	if others := v.EnrolledOutside(set); enrols && len(others) > 0 {
		shown := others[:min(len(others), 3)]
		for i, n := range shown {
			shown[i] = printable.Terminal(n)
		}
		return fmt.Errorf("--dev enrols its development persons (custodian, custodian2, analyst and the others) only in a vault of its own, and this vault has %d people enrolled otherwise (%s): it is a vault in use, and --dev would give whoever starts it two custodians; start it without --dev (nothing was enrolled)",
			len(others), strings.Join(shown, ", "))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, p := range devRoles {
		path := filepath.Join(dir, p.name+".env")
		token := ""
		if b, err := os.ReadFile(path); err == nil {
			token = envValue(string(b), "CUSTOS_TOKEN")
		}
		if token == "" {
			t, err := v.Enroll(ctx, p.name, p.role)
			if err != nil {
				return fmt.Errorf("enrolling %s: %w", p.name, err)
			}
			token = t.Reveal() // written only to the person's 0600 file below
			logger.Info("enrolled development person", "name", p.name, "role", p.role, "credentials", path)
		}
		content := fmt.Sprintf("# Custos development credentials of %s (%s). Source this file.\nexport CUSTOS_SERVER=%s\nexport CUSTOS_TOKEN=%s\nexport CUSTOS_PERSON=%s\n",
			p.name, p.role, base, token, p.name)
		if err := os.WriteFile(path+".new", []byte(content), 0o600); err != nil {
			return err
		}
		if err := os.Rename(path+".new", path); err != nil {
			return err
		}
	}
	return nil
}

func envValue(content, name string) string {
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// loadConfig applies `name = value` lines (# starts a comment) from path
// to the flags that were not given on the command line.
//
// also, if given, is a flag set whose flags the file may hold though fs
// has none of them, and which are skipped: the server's own (--listen,
// TLS, sign-in, limits) in a file an offline admin verb shares with it.
func loadConfig(fs *flag.FlagSet, path string, also ...*flag.FlagSet) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok {
			return fmt.Errorf("--config %s line %d: expected `flag = value` with a known flag", path, n)
		}
		if fs.Lookup(name) == nil && slices.ContainsFunc(also, func(o *flag.FlagSet) bool { return o.Lookup(name) != nil }) {
			continue // the server's, not this verb's
		}
		if fs.Lookup(name) == nil || name == "config" {
			// An upgrade's removed or renamed flag, or a typing
			// mistake: named, so that it can be found.
			return fmt.Errorf("--config %s line %d: %q is not a flag of %s (--help lists them)", path, n, printable.Terminal(name), fs.Name())
		}
		if given[name] {
			continue
		}
		if value == "" {
			// As on the command line (cliflags.Empty): a key left
			// without its value is a mistake, not the flag left out.
			return fmt.Errorf("--config %s line %d: %s has no value: give one, or remove the line", path, n, name)
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("--config %s line %d: %v", path, n, err)
		}
	}
	return sc.Err()
}

// serverGCPace is how far a running server's Go heap may grow between
// collections unless its operator set GOGC or GOMEMLIMIT: by 30 % of the
// live heap, and by at least 32 MiB (internal/gcpace). A server's live
// heap is mostly the vault's state, which lives as long as the process:
// Go's default (the heap grows by all of it) would keep a large state's
// worth of memory idle under work (at 10^7 events, when the state was
// larger, 369 MiB resident against about 115 MiB of state;
// docs/benchmarks.md, "a vault that lives for decades"), and 30 % alone
// collects a small state every few megabytes of garbage, which the log
// streams an audit reads make by the gigabyte (docs/benchmarks.md, "the
// vault's events read by their layout, and the server's collector paced
// by a floor").
var serverGCPace = gcpace.Pace{Percent: 30, Floor: 32 << 20}

// keyringDir is the keyring folder's name in a data folder: the sealed
// keys and the sticky head (vault.HeadFile).
const keyringDir = "keyring"

// setServerGC paces the collector by serverGCPace once the state is
// loaded (a start keeps Go's default: it allocates the whole state at
// once), until ctx ends.
func setServerGC(ctx context.Context, logger *slog.Logger) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		logger.Info("the Go collector runs as the environment sets it", "GOGC", os.Getenv("GOGC"), "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"))
		return
	}
	serverGCPace.Run(ctx)
}

// listenError says why the server could not listen at addr (the value
// of flag), and what to do for the causes people meet.
func listenError(flag, addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s %s: the address is in use (another vault, or another program, listens there): stop it, or give another port (make run LISTEN=127.0.0.1:PORT)", flag, addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s %s: not allowed to listen there (ports below 1024 need privileges): give a port of 1024 or above", flag, addr)
	}
	return fmt.Errorf("%s %s: %w", flag, addr, err)
}
