package vault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A deposit into the case while an on-demand report waits for its
// checkpoint's anchors (witnesses, time-stamping authority: up to
// anchorWait) makes the report fail as an integrity failure. custodyRecord
// takes the checkpoint first and the case's item list (state.caseItems)
// after the wait, so the list names an item whose deposit is beyond the
// checkpoint, and custody.Build refuses the record. The TSA here stands
// for any slow anchor: when it is asked, an investigator deposits.
func TestAttackReportRacesDepositIntoIntegrityFailure(t *testing.T) {
	ctx := context.Background()
	var (
		v      *Vault
		inv    Principal
		armed  atomic.Bool
		hits   atomic.Int32
		once   sync.Once
		depErr error
	)
	tsaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		if armed.Load() {
			once.Do(func() {
				_, depErr = v.Deposit(ctx, inv, DepositRequest{Case: "R-1", Name: "late.jpg", Body: strings.NewReader("late")})
			})
		}
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer tsaSrv.Close()
	v, _ = openTestVaultDir(t, func(c *Config) {
		c.TSAs = []string{tsaSrv.URL}
		c.TSAInterval = time.Hour // only the report's own anchoring asks the TSA once armed
	})
	inv = enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	if err := v.OpenCase(ctx, inv, "R-1", "race"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "R-1", Name: "a.jpg", Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); hits.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the background stamping's first (and, per interval, only) request
	}
	armed.Store(true)

	_, err := v.CustodyDocument(ctx, aud, DocumentRequest{Case: "R-1", Format: FormatText, Purpose: "for the judge"})
	if depErr != nil {
		t.Fatalf("the concurrent deposit failed: %v", depErr)
	}
	if err != nil {
		t.Fatalf("an on-demand report failed because an item was deposited while it waited for its anchors: %v (errors.Is ErrIntegrity: %v)",
			err, errors.Is(err, ErrIntegrity))
	}
}
