package vault

import (
	"context"
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

// TestOnlyStoredCheckpointsAreTimeStampedInTheBackground: checkpoints of
// the interval are published every interval but stored once a store
// interval; the background time-stamping asks the TSA only for stored
// ones, so that every token kept in the object store dates a checkpoint
// whose note the log store keeps (docs/timestamps.md, section 1). A real
// TSA (OpenSSL's) answers.
func TestOnlyStoredCheckpointsAreTimeStampedInTheBackground(t *testing.T) {
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
	// The background stamping has had its chance at every published one.
	time.Sleep(300 * time.Millisecond)
	v.stamper().close()
	var tokens int
	caPEM, err := os.ReadFile(ts.CACertPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.ParseCertificatesPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	err = objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
		sizeText, _, _ := strings.Cut(strings.TrimPrefix(name, timestampsPrefix), "-")
		size, err := strconv.ParseUint(sizeText, 10, 64)
		if err != nil {
			return fmt.Errorf("token %s: %v", name, err)
		}
		note, ok := stored[size]
		if !ok {
			return fmt.Errorf("token %s dates a checkpoint of %d events that the log store does not keep (it keeps %d)", name, size, len(stored))
		}
		r, err := v.objects.Open(ctx, name)
		if err != nil {
			return err
		}
		tok, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return err
		}
		if _, err := tsa.Verify(tsa.Token(tok), note, roots); err != nil {
			return fmt.Errorf("token %s over the stored note: %v", name, err)
		}
		tokens++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tokens == 0 {
		t.Fatal("no token stored")
	}
}
