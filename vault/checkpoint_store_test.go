package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
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
		deadline := time.Now().Add(5 * time.Second)
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
	caPEM, err := os.ReadFile(ts.CACertPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.ParseCertificatesPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	var tokens, unstored int
	err = objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
		if strings.HasSuffix(name, "-checkpoint") {
			return nil
		}
		// timestamps/<size>-<the note's SHA-256>-<the token's SHA-256, its first 24 hex digits>
		m := regexp.MustCompile(`^timestamps/([0-9]{20})-([0-9a-f]{64})-([0-9a-f]{24})$`).FindStringSubmatch(name)
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
		if sum := sha256.Sum256(tok); hex.EncodeToString(sum[:12]) != m[3] {
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
}

// notesTaken and tokensTaken are the names namesTaken takes.
func notesTaken(name string) bool {
	return strings.HasPrefix(name, timestampsPrefix) && strings.HasSuffix(name, "-checkpoint")
}
func tokensTaken(name string) bool {
	return strings.HasPrefix(name, timestampsPrefix) && !strings.HasSuffix(name, "-checkpoint")
}

func (n namesTaken) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	if n.taken(name) {
		if _, err := n.Store.Put(ctx, name, strings.NewReader("not the vault's"), objects.PutOptions{}); err != nil {
			return objects.Info{}, err
		}
	}
	return n.Store.Put(ctx, name, r, opts)
}

// TestATakenNameIsNotTakenForTheVaults: time-stamp notes and tokens are
// named by their own SHA-256, so nobody can take a name before the vault
// knows the bytes; whoever takes it in the moment between (the note is
// written after the sticky head that carries it) gets no token kept
// beside bytes that are not the vault's: the name is read back, the
// difference logged at level ERROR. Two members: the note (then no token
// is requested) and the token (then it is not kept; the note stays).
func TestATakenNameIsNotTakenForTheVaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		notes bool
	}{{"note", true}, {"token", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := testenv.StartTSA(t)
			var logs logBuffer
			v, _ := openTestVaultDir(t, func(c *Config) {
				c.TSAs = []string{ts.URL}
				c.CheckpointInterval = 5 * time.Millisecond
				taken := tokensTaken
				if tc.notes {
					taken = notesTaken
				}
				c.Objects = namesTaken{c.Objects, taken}
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			ctx := context.Background()
			depositOneFile(t, v)
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "level=ERROR"); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("nothing logged at level ERROR of a name taken before the vault wrote it:\n%s", logs.String())
				}
			}
			v.stamper().close()
			if !strings.Contains(logs.String(), "not the vault's") {
				t.Errorf("the ERROR does not say that the bytes under the name are not the vault's:\n%s", logs.String())
			}
			var notes, tokens int
			err := objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
				b, err := readObject(ctx, v, name)
				if err != nil {
					return err
				}
				if string(b) == "not the vault's" {
					if strings.HasSuffix(name, "-checkpoint") != tc.notes {
						return fmt.Errorf("%s taken", name)
					}
					return nil
				}
				if strings.HasSuffix(name, "-checkpoint") {
					notes++
				} else {
					tokens++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tokens != 0 {
				t.Errorf("%d tokens kept though the vault could not keep its %s", tokens, tc.name)
			}
			switch tc.name {
			case "note":
				if n := ts.Requests(); n != 0 {
					t.Errorf("the TSA was asked %d times for tokens over a note whose name someone else had taken", n)
				}
			case "token":
				if notes == 0 || ts.Requests() == 0 {
					t.Errorf("the note (%d kept) or the request (%d) is missing: only the token's name was taken", notes, ts.Requests())
				}
			}
		})
	}
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
		if !anchorObject.MatchString(name) || !objects.IsValidName(name) {
			t.Errorf("%s: not taken as the vault's, or not a valid object name", name)
		}
	}
	h := strings.Repeat("a", 64)
	for _, name := range []string{
		"timestamps/00000000000000000007-0", "timestamps/0000000000000000007-1", "timestamps/00000000000000000007-" + h,
		"timestamps/00000000000000000007-" + h + "-" + strings.Repeat("b", 23), "timestamps/00000000000000000007-" + h[:63] + "-checkpoint",
		"timestamps/00000000000000000007-" + h + "-checkpoint-1", "witnessed/00000000000000000007-1",
	} {
		if anchorObject.MatchString(name) {
			t.Errorf("%s taken as the vault's", name)
		}
	}
}

// TestATakenWitnessedNameIsNotTakenForTheVaults: a cosigned checkpoint
// is stored under a name made from its bytes; bytes someone stored under
// that name first are not taken for it: its save fails, saying so, and
// the witnessed size the vault serves does not move.
func TestATakenWitnessedNameIsNotTakenForTheVaults(t *testing.T) {
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.Objects = namesTaken{c.Objects, func(name string) bool { return strings.HasPrefix(name, witnessedPrefix) }}
	})
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "T-1", "witnessed"); err != nil {
		t.Fatal(err)
	}
	cp, err := v.log.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := append(bytes.Clone(cp.Note), "— witness.example/w1 AAAA\n"...)
	err = v.saveWitnessed(ctx, cp, cosigned)
	if err == nil || !strings.Contains(err.Error(), "not the vault's") {
		t.Fatalf("a cosigned checkpoint saved under a name someone took first: %v", err)
	}
	if v.witnessedSize != 0 {
		t.Fatalf("the witnessed size moved to %d on a save that failed", v.witnessedSize)
	}
	if name := witnessedObject(cp.Size, cosigned); !anchorObject.MatchString(name) || !objects.IsValidName(name) {
		t.Fatalf("%s is not a name a scrub takes as the vault's, or not a valid name", name)
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
