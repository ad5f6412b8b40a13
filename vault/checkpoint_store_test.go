package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
		if _, err := v.objects.Stat(ctx, timestampObject(newest, 0)); err == nil {
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
		sizeText, _, _ := strings.Cut(strings.TrimPrefix(name, timestampsPrefix), "-")
		size, err := strconv.ParseUint(sizeText, 10, 64)
		if err != nil {
			return fmt.Errorf("token %s: %v", name, err)
		}
		note, err := readObject(ctx, v, timestampedNoteObject(size))
		if err != nil {
			return fmt.Errorf("token %s has no note beside it: %v", name, err)
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
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "T-1", "stamps"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "T-1", Name: "f.txt", Body: strings.NewReader("file")}); err != nil {
		t.Fatal(err)
	}
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
