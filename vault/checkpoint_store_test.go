package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
)

// TestEveryTimeStampTokenHasItsNoteBesideIt: checkpoints of the interval
// are published every interval but stored in the log store once a store
// interval; the background time-stamping still asks the TSA for each
// published one, and keeps the note each token dates beside it in the
// object store, so that every token stays checkable without the vault
// whether or not the log store keeps its checkpoint (docs/timestamps.md,
// section 5). A real TSA (OpenSSL's) answers.
func TestEveryTimeStampTokenHasItsNoteBesideIt(t *testing.T) {
	ts := testenv.StartTSA(t)
	var log events.Store
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.TSAs = []string{ts.URL}
		c.CheckpointInterval = 5 * time.Millisecond
		c.CheckpointStoreInterval = time.Hour
		log = c.Log
	})
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "T-1", "stamps"); err != nil {
		t.Fatal(err)
	}
	// Appends in separate intervals: each has a checkpoint published.
	published := map[uint64]bool{}
	for i := 0; i < 6; i++ {
		if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "T-1", Name: fmt.Sprintf("f%d.txt", i), Body: strings.NewReader(fmt.Sprint("file ", i))}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for cp := v.log.LatestCheckpoint(); cp == nil || cp.Size < v.log.Size(); cp = v.log.LatestCheckpoint() {
			if time.Now().After(deadline) {
				t.Fatal("no checkpoint published")
			}
			time.Sleep(time.Millisecond)
		}
		published[v.log.LatestCheckpoint().Size] = true
	}
	cps, err := events.AllCheckpoints(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint64][]byte{}
	for _, c := range cps {
		stored[c.Size] = c.Note
	}
	if len(published) < 4 || len(stored) >= len(published) {
		t.Fatalf("%d checkpoints published, %d stored: want fewer stored", len(published), len(stored))
	}
	// The background stamping takes the newest published checkpoint
	// last: once its token is kept, it has had its chance at each.
	newest := v.log.LatestCheckpoint().Size
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if len(tokensOf(t, v, newest)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the newest published checkpoint (%d events) was never time-stamped", newest)
		}
	}
	v.stamper().close()
	roots := tsaRoots(t, ts)
	var tokens, unstored int
	err = objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
		if strings.HasSuffix(name, "-checkpoint") {
			return nil
		}
		// timestamps/<size>-<the note's SHA-256>-<the token's SHA-256, its first 16 hex digits>
		m := regexp.MustCompile(`^timestamps/([0-9]{20})-([0-9a-f]{64})-([0-9a-f]{16})$`).FindStringSubmatch(name)
		if m == nil {
			return fmt.Errorf("%s is not named as docs/timestamps.md says", name)
		}
		size, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return fmt.Errorf("token %s: %v", name, err)
		}
		note, err := readObject(ctx, v, fmt.Sprintf("timestamps/%s-%s-checkpoint", m[1], m[2]))
		if err != nil {
			return fmt.Errorf("token %s has no note beside it: %v", name, err)
		}
		if sum := sha256.Sum256(note); hex.EncodeToString(sum[:]) != m[2] {
			return fmt.Errorf("token %s: the note beside it is not the one its name gives", name)
		}
		if kept, ok := stored[size]; ok && string(kept) != string(note) {
			return fmt.Errorf("token %s: the note beside it is not the log store's", name)
		} else if !ok {
			unstored++
		}
		tok, err := readObject(ctx, v, name)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(tok); hex.EncodeToString(sum[:8]) != m[3] {
			return fmt.Errorf("token %s is not the one its name gives", name)
		}
		if _, err := tsa.Verify(tsa.Token(tok), note, roots); err != nil {
			return fmt.Errorf("token %s over the note beside it: %v", name, err)
		}
		tokens++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if unstored == 0 {
		t.Errorf("no token dates a checkpoint the log store does not keep: the published ones are not all time-stamped")
	}
	// The notes are the vault's own metadata to a scrub, as the tokens.
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unaccounted) > 0 {
		t.Fatalf("scrub: unaccounted %v", res.Unaccounted)
	}
	if tokens == 0 {
		t.Fatal("no token stored")
	}
}

func readObject(ctx context.Context, v *Vault, name string) ([]byte, error) {
	r, err := v.objects.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// notesRefused is an object store that refuses to store time-stamped
// notes.
type notesRefused struct{ objects.Store }

func (n notesRefused) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	if strings.HasSuffix(name, "-checkpoint") {
		return objects.Info{}, errors.New("disk full")
	}
	return n.Store.Put(ctx, name, r, opts)
}

// TestNoTokenIsKeptWithoutItsNote: when the note a token would date
// cannot be stored, no token is requested or kept for it (a token no
// one can check without the vault is worth less than none: it would
// look like evidence).
func TestNoTokenIsKeptWithoutItsNote(t *testing.T) {
	ts := testenv.StartTSA(t)
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.TSAs = []string{ts.URL}
		c.CheckpointInterval = 5 * time.Millisecond
		c.Objects = notesRefused{c.Objects}
	})
	ctx := context.Background()
	depositOneFile(t, v)
	time.Sleep(200 * time.Millisecond)
	v.stamper().close()
	err := objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
		return fmt.Errorf("%s kept without its note", name)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := ts.Requests(); n != 0 {
		t.Fatalf("the TSA was asked %d times for tokens whose note could not be kept", n)
	}
	// A package or an audit that waits for its checkpoint's tokens still
	// gets them: they travel with the note it carries. None is stored.
	cp, err := v.log.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if toks := v.stamper().stamp(context.Background(), cp, true); len(toks) != 1 {
		t.Fatalf("a waiting caller got %d tokens over a checkpoint whose note could not be stored, want 1", len(toks))
	}
	if err := objects.ListNames(context.Background(), v.objects, timestampsPrefix, func(name string) error {
		return fmt.Errorf("%s kept without its note", name)
	}); err != nil {
		t.Fatal(err)
	}
}

// tokensOf lists the names of the time-stamp tokens stored over
// checkpoints of size.
func tokensOf(t *testing.T, v *Vault, size uint64) []string {
	t.Helper()
	var out []string
	err := objects.ListNames(context.Background(), v.objects, fmt.Sprintf("%s%020d-", timestampsPrefix, size), func(name string) error {
		if !strings.HasSuffix(name, "-checkpoint") {
			out = append(out, name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// namesTaken is an object store whose administrator stores other bytes
// under each time-stamp object's name (a note, then a token) just
// before the vault does, having read it from the sticky head or the
// request in flight: the vault's own write finds the name taken.
type namesTaken struct {
	objects.Store
	taken func(name string) bool
	took  *sync.Map // the names taken, so that the vault's second name is not
}

// notesTaken and tokensTaken are the names namesTaken takes.
func notesTaken(name string) bool {
	return strings.HasPrefix(name, timestampsPrefix) && strings.HasSuffix(name, "-checkpoint")
}
func tokensTaken(name string) bool {
	return strings.HasPrefix(name, timestampsPrefix) && !strings.HasSuffix(name, "-checkpoint")
}

func (n namesTaken) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	if _, second := n.took.Load(name[:max(0, len(name)-9)]); n.taken(name) && !second {
		n.took.Store(name, true)
		if _, err := n.Store.Put(ctx, name, strings.NewReader("not the vault's"), objects.PutOptions{}); err != nil {
			return objects.Info{}, err
		}
	}
	return n.Store.Put(ctx, name, r, opts)
}

// TestATakenNameIsNotTakenForTheVaults: time-stamp notes and tokens are
// named by their own SHA-256. Whoever stores other bytes under such a
// name first (having read the note in the sticky head, which is written
// before it) displaces nothing: the vault reads the name back, logs at
// level ERROR that it was taken, stores its bytes under the name with a
// random suffix, and time-stamps as before; a scrub reports the bytes
// that are not the vault's. Two members: the note's name and a token's.
func TestATakenNameIsNotTakenForTheVaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		taken func(string) bool
	}{{"note", notesTaken}, {"token", tokensTaken}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := testenv.StartTSA(t)
			var logs logBuffer
			v, _ := openTestVaultDir(t, func(c *Config) {
				c.TSAs = []string{ts.URL}
				c.CheckpointInterval = 5 * time.Millisecond
				c.Objects = namesTaken{c.Objects, tc.taken, new(sync.Map)}
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			ctx := context.Background()
			depositOneFile(t, v)
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "taken by other bytes") || len(storedTokens(t, v)) == 0; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no token stored, or nothing logged of a name taken before the vault wrote it:\n%s", logs.String())
				}
			}
			v.stamper().close()
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("the taken name was not logged at level ERROR:\n%s", logs.String())
			}
			// Every token stored has, beside it, a note whose bytes are
			// the ones the token's name gives, under either name.
			var junk []string
			notes := map[string][]byte{} // by the SHA-256 the name gives
			err := objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
				b, err := readObject(ctx, v, name)
				if err != nil {
					return err
				}
				if string(b) == "not the vault's" {
					junk = append(junk, name)
				} else if m := regexp.MustCompile(`^timestamps/[0-9]{20}-([0-9a-f]{64})-checkpoint(-[0-9a-f]{8})?$`).FindStringSubmatch(name); m != nil {
					notes[m[1]] = b
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(junk) == 0 {
				t.Fatal("no name was taken: the test took none")
			}
			roots := tsaRoots(t, ts)
			for _, name := range storedTokens(t, v) {
				noteHash := strings.Split(strings.TrimPrefix(name, timestampsPrefix), "-")[1]
				note, ok := notes[noteHash]
				if sum := sha256.Sum256(note); !ok || hex.EncodeToString(sum[:]) != noteHash {
					t.Fatalf("token %s has no note of its name's SHA-256 beside it", name)
				}
				tok, err := readObject(ctx, v, name)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tsa.Verify(tsa.Token(tok), note, roots); err != nil {
					t.Fatalf("token %s over its note: %v", name, err)
				}
			}
			// A scrub reports the bytes under the taken names, and
			// nothing of the vault's.
			res, err := v.Scrub(ctx, enrolled(t, v, "aud", RoleAuditor))
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(junk)
			if !slices.Equal(res.Unaccounted, junk) {
				t.Fatalf("scrub: unaccounted %v, want the taken names %v", res.Unaccounted, junk)
			}
		})
	}
}

// storedTokens lists the names of the time-stamp tokens stored, whatever
// their size.
func storedTokens(t *testing.T, v *Vault) []string {
	t.Helper()
	var out []string
	err := objects.ListNames(context.Background(), v.objects, timestampsPrefix, func(name string) error {
		if b, err := readObject(context.Background(), v, name); err == nil && string(b) != "not the vault's" && !strings.Contains(name, "-checkpoint") {
			out = append(out, name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAnchorObjectNames: a scrub takes as the vault's own the names the
// vault gives cosignatures, time-stamp notes and tokens, today's and
// those of releases before them, and nothing else under those folders.
func TestAnchorObjectNames(t *testing.T) {
	note, tok := []byte("a note"), tsa.Token("a token")
	for _, name := range []string{
		timestampedNoteObject(7, note), timestampObject(7, note, tok),
		"witnessed/00000000000000000007", "timestamps/00000000000000000007-1", "timestamps/00000000000000000007-checkpoint",
	} {
		if !anchorObject(name) || !objects.IsValidName(name) {
			t.Errorf("%s: not taken as the vault's, or not a valid object name", name)
		}
	}
	h := strings.Repeat("a", 64)
	for _, name := range []string{
		"timestamps/00000000000000000007-0", "timestamps/0000000000000000007-1", "timestamps/00000000000000000007-" + h,
		"timestamps/00000000000000000007-" + h + "-" + strings.Repeat("b", 15), "timestamps/00000000000000000007-" + h[:63] + "-checkpoint",
		"timestamps/00000000000000000007-" + h + "-checkpoint-" + strings.Repeat("c", 7), "witnessed/00000000000000000007-" + h + "-" + strings.Repeat("c", 9),
		"timestamps/00000000000000000007-" + h + "-checkpoint-1", "witnessed/00000000000000000007-1",
	} {
		if anchorObject(name) {
			t.Errorf("%s taken as the vault's", name)
		}
	}
}

// TestATakenWitnessedNameIsNotTakenForTheVaults: a cosigned checkpoint
// is stored under a name made from its bytes; bytes someone stored under
// that name first (GET /checkpoint serves the cosigned note as it is
// stored) displace nothing: the vault stores its own under the name with
// a random suffix, logs at level ERROR, and serves its witnessed size.
func TestATakenWitnessedNameIsNotTakenForTheVaults(t *testing.T) {
	var logs logBuffer
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.Objects = namesTaken{c.Objects, func(name string) bool { return strings.HasPrefix(name, witnessedPrefix) }, new(sync.Map)}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	depositOneFile(t, v)
	cp, err := v.log.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := append(bytes.Clone(cp.Note), "— witness.example/w1 AAAA\n"...)
	if err := v.saveWitnessed(ctx, cp, cosigned); err != nil {
		t.Fatalf("a cosigned checkpoint whose name someone took first: %v", err)
	}
	if v.witnessedSize != cp.Size || !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "taken by other bytes") {
		t.Fatalf("witnessed size %d (want %d); logged:\n%s", v.witnessedSize, cp.Size, logs.String())
	}
	name := witnessedObject(cp.Size, cosigned)
	var stored []string
	err = objects.ListNames(ctx, v.objects, witnessedPrefix, func(n string) error {
		if b, err := readObject(ctx, v, n); err == nil && bytes.Equal(b, cosigned) {
			stored = append(stored, n)
		}
		return nil
	})
	if err != nil || len(stored) != 1 || !strings.HasPrefix(stored[0], name+"-") || !anchorObject(stored[0]) || !objects.IsValidName(stored[0]) {
		t.Fatalf("the cosigned checkpoint is stored as %v (%v), want once as %s-SUFFIX", stored, err, name)
	}
}

// depositOneFile opens case T-1 as an investigator and deposits one
// small file into it: appends whose checkpoints are then published.
func depositOneFile(t *testing.T, v *Vault) {
	t.Helper()
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "T-1", "stamps"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "T-1", Name: "f.txt", Body: strings.NewReader("file")}); err != nil {
		t.Fatal(err)
	}
}

// tsaRoots reads the test TSA's CA certificate, to verify its tokens.
func tsaRoots(t *testing.T, ts *testenv.TSA) []*x509.Certificate {
	t.Helper()
	caPEM, err := os.ReadFile(ts.CACertPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.ParseCertificatesPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	return roots
}

// TestScrubReadsWhatAnchorNamesHold plants, in a file store's folder,
// what an insider with the folder could hide under the names of the
// time-stamp notes, tokens and cosigned checkpoints: junk under the
// names of earlier releases (which carry no digest), junk named by its
// own SHA-256, a note of the vault's under another size's name, a link
// to a file outside the store, and a named pipe. A scrub reports each
// (and does not hang on the pipe), and still accounts for the vault's
// own notes and tokens, under the names of today and of earlier
// releases.
func TestScrubReadsWhatAnchorNamesHold(t *testing.T) {
	ts := testenv.StartTSA(t)
	v, dir := openTestVaultDir(t, func(c *Config) {
		c.TSAs = []string{ts.URL}
		c.CheckpointInterval = 5 * time.Millisecond
	})
	ctx := context.Background()
	depositOneFile(t, v)
	token := waitForStoredToken(t, v)
	parts := strings.Split(strings.TrimPrefix(token, timestampsPrefix), "-") // size, note's SHA-256, token's
	noteName := timestampsPrefix + parts[0] + "-" + parts[1] + "-checkpoint"
	noteBytes, err := readObject(ctx, v, noteName)
	if err != nil {
		t.Fatal(err)
	}
	tokenBytes, err := readObject(ctx, v, token)
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "objects")
	put := func(name string, b []byte) string {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(folder, filepath.FromSlash(name))), 0o700)
		if err := os.WriteFile(filepath.Join(folder, filepath.FromSlash(name)), b, 0o400); err != nil {
			t.Fatal(err)
		}
		return name
	}
	named := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	junk := []byte("a file someone hid here")
	size, _ := strconv.ParseUint(parts[0], 10, 64)
	other := fmt.Sprintf("%020d", size+1000)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("outside the store"), 0o600)
	want := []string{
		put(timestampsPrefix+other+"-checkpoint", junk),                                  // an earlier release's note name
		put(timestampsPrefix+other+"-1", junk),                                           // an earlier release's token name
		put(witnessedPrefix+other, junk),                                                 // an earlier release's cosigned name
		put(timestampsPrefix+other+"-"+named(junk)+"-checkpoint", junk),                  // named by its own digest
		put(timestampsPrefix+other+"-"+named(junk)+"-"+named(junk)[:16], junk),           // a token so named
		put(witnessedPrefix+other+"-"+named(junk), junk),                                 // a cosigned checkpoint so named
		put(timestampsPrefix+other+"-"+named(noteBytes)+"-checkpoint", noteBytes),        // the vault's note, another size's name
		put(timestampsPrefix+other+"-"+named(noteBytes)+"-"+named(junk)[:16], junk),      // junk beside it
		put(timestampsPrefix+parts[0]+"-"+parts[1]+"-"+named(noteBytes)[:16], noteBytes), // a note where a token goes
	}
	link := timestampsPrefix + other + "-" + named(junk) + "-0123456789abcdef"
	if err := os.Symlink(secret, filepath.Join(folder, filepath.FromSlash(link))); err != nil {
		t.Fatal(err)
	}
	pipe := timestampsPrefix + other + "-" + named(junk) + "-fedcba9876543210"
	if err := syscall.Mkfifo(filepath.Join(folder, filepath.FromSlash(pipe)), 0o600); err != nil {
		t.Fatal(err)
	}
	want = append(want, link, pipe)
	// The vault's own, copied under the names of an earlier release.
	put(timestampsPrefix+parts[0]+"-checkpoint", noteBytes)
	put(timestampsPrefix+parts[0]+"-7", tokenBytes)

	done := make(chan struct{})
	var res *ScrubResult
	go func() {
		defer close(done)
		res, err = v.Scrub(ctx, enrolled(t, v, "aud", RoleAuditor))
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the scrub hangs")
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if !slices.Equal(res.Unaccounted, want) {
		t.Fatalf("scrub: unaccounted\n%s\nwant\n%s", strings.Join(res.Unaccounted, "\n"), strings.Join(want, "\n"))
	}
}
