package vault

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects/fs"
)

// openTestVault opens a vault on the embedded backends in a temp folder.
func openTestVault(t testing.TB) *Vault {
	t.Helper()
	v, _ := openTestVaultDir(t)
	return v
}

// openTestVaultDir is openTestVault, also returning the folder (objects
// are under DIR/objects, the keyring under DIR/keyring).
func openTestVaultDir(t testing.TB, configure ...func(*Config)) (*Vault, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir, configure...)
	v, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkSnapshotRoundTrip(t, v)
		checkRulesHold(t, v)
		recordStateCorpus(t, v.cfg.Log)
		v.Close()
	})
	return v, dir
}

// testConfig is the configuration of a test vault in dir (SQLite log,
// fs objects, development sealer, keyring and spool there), as configure
// changes it. Its log store is closed when the test ends, after what the
// test registered later (the vault's close).
func testConfig(t testing.TB, dir string, configure ...func(*Config)) Config {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
	rec, _ := age.GenerateX25519Identity()
	cfg := Config{
		Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"), SpoolDir: filepath.Join(dir, "spool"),
		RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler),
	}
	for _, c := range configure {
		c(&cfg)
	}
	return cfg
}

type zeroSource struct{ left int64 }

func (z *zeroSource) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > z.left {
		n = z.left
	}
	z.left -= n
	return int(n), nil
}

// BenchmarkDeposit measures Deposit in process (no HTTP), for profiling.
func BenchmarkDeposit(b *testing.B) {
	v, who := benchCase(b)
	ctx := context.Background()
	const size = 256 << 20
	b.SetBytes(size)
	buf := make([]byte, 1)
	rand.Read(buf)
	for b.Loop() {
		if _, err := v.Deposit(ctx, who, DepositRequest{Case: "B-1", Name: "x.bin", Body: &zeroSource{left: size}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCaseSnapshotsAreSafeToRead: requests read a case's members while
// other requests change them; under -race this fails if a snapshot
// shares the projection's maps.
func TestCaseSnapshotsAreSafeToRead(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	custTok, _ := v.Enroll(ctx, "cust", RoleCustodian)
	cust, _ := signIn(v, custTok)
	cust2Tok, _ := v.Enroll(ctx, "cust2", RoleCustodian)
	cust2, _ := signIn(v, cust2Tok)
	if err := v.OpenCase(ctx, cust, "R-1", "race"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("inv%d", i)
			v.Enroll(ctx, name, RoleInvestigator)
			req, err := v.AddMember(ctx, cust, "R-1", name, "")
			if err == nil {
				_, err = v.Approve(ctx, cust2, req.ID)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			c, _ := v.state.getCase("R-1")
			if len(c.Members) != 21 {
				t.Fatalf("case has %d members, want 21", len(c.Members))
			}
			return
		default:
			c, _ := v.state.getCase("R-1")
			_ = v.memberOf(Principal{Name: "inv3", Role: RoleInvestigator}, c)
			for range c.Members {
			}
		}
	}
}

// BenchmarkView measures one view of a 4 KiB item in process: its access
// event, the checkpoint kept as the sticky head before the plaintext is
// served (a file's fsync and the object store's write), the plaintext
// and the completion event. -cpu 1 runs one viewer; the default, as many
// as GOMAXPROCS, whose views share checkpoints.
func BenchmarkView(b *testing.B) {
	v, who := benchCase(b)
	ctx := context.Background()
	res, err := v.Deposit(ctx, who, DepositRequest{Case: "B-1", Name: "x.bin", Body: &zeroSource{left: 4096}})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, err := v.OpenItem(ctx, who, res.ID, "bench")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, r)
			if err := r.Finish(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchCase is a test vault with an investigator signed in and their
// case B-1 open.
func benchCase(b *testing.B) (*Vault, Principal) {
	v := openTestVault(b)
	ctx := context.Background()
	tok, _ := v.Enroll(ctx, "inv", RoleInvestigator)
	who, _ := signIn(v, tok)
	if err := v.OpenCase(ctx, who, "B-1", "bench"); err != nil {
		b.Fatal(err)
	}
	return v, who
}

// Close may be called again, and by two goroutines at once (a signal's
// shutdown beside a failed request's clean-up): each call waits for the
// first and returns its result; the log was closed once, with its final
// checkpoint.
func TestCloseTwiceAtOnce(t *testing.T) {
	v := openTestVault(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = v.Close() })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("Close at once: %v, %v", errs[0], errs[1])
	}
	if err := v.Close(); err != nil {
		t.Fatalf("Close again: %v", err)
	}
	if cp := v.log.LatestCheckpoint(); cp == nil || cp.Size != v.log.Size() {
		t.Fatalf("after Close the newest checkpoint is %+v, the log %d events", cp, v.log.Size())
	}
}

// TestRecordStop: a serving vault records its stop with the position of
// its own start; after a restart the log holds start, stop, start.
func TestRecordStop(t *testing.T) {
	ctx := context.Background()
	v, dir := openTestVaultDir(t)
	if err := v.RecordStop(ctx, "stop signal"); err != nil {
		t.Fatal(err)
	}
	var types []string
	var stop ServerStopped
	var started uint64
	for _, ev := range loggedEvents(t, v) {
		switch ev.Type {
		case TypeServerStarted:
			started = ev.Seq
			types = append(types, ev.Type)
		case TypeServerStopped:
			if err := ev.DecodeData(&stop); err != nil {
				t.Fatal(err)
			}
			types = append(types, ev.Type)
		}
	}
	if stop.Started != started || stop.Reason != "stop signal" || len(types) != 2 || types[1] != TypeServerStopped {
		t.Fatalf("recorded %v, the stop %+v (start at %d)", types, stop, started)
	}
	v.Close()
	again, err := Open(ctx, testConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := len(loggedEvents(t, again)); loggedEvents(t, again)[n-1].Type != TypeServerStarted {
		t.Error("the restart did not follow the stop")
	}
}
