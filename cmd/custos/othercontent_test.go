package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestOtherContentKeepsUpWithTheRun: the client's side of the check
// against canned answers of the vault's API (the real vault answers it
// in internal/e2e's TestDepositEachExhibitWhole): the case's items are
// listed once; an item of the same name and source with other content
// is told, of another source not, of the same content not; a file the
// run stored is compared with the run's later files of its name without
// asking again; and an answer the vault did not give is an error, which
// the deposit reports as other_content_unchecked.
func TestOtherContentKeepsUpWithTheRun(t *testing.T) {
	lists, details := 0, 0
	c := testClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/items"):
			lists++
			json.NewEncoder(w).Encode(api.ItemsResponse{Items: []vault.ItemSummary{
				{ID: "it_old", Name: "DCIM/a.jpg", SHA256: "11"},
				{ID: "it_other", Name: "DCIM/a.jpg", SHA256: "22"},
				{ID: "it_same", Name: "DCIM/a.jpg", SHA256: "33"},
				{ID: "it_unrelated", Name: "b.jpg", SHA256: "44"},
			}})
		case strings.HasSuffix(r.URL.Path, "/details"):
			details++
			src := "phone JD/1"
			if strings.Contains(r.URL.Path, "it_other") {
				src = "phone JD/2"
			}
			json.NewEncoder(w).Encode(api.ItemDetailResponse{Source: src})
		default:
			http.NotFound(w, r)
		}
	}))
	e := earlierItems{names: map[string]bool{"DCIM/a.jpg": true}, source: map[string]string{}}
	got, err := e.otherContent(c, "C-1", &api.DepositResponse{ID: "it_new", Name: "DCIM/a.jpg", SHA256: "33"}, "phone JD/1")
	if err != nil || strings.Join(got, ",") != "it_old" {
		t.Fatalf("told %v (%v), want it_old alone", got, err)
	}
	// The run's next file of that name (a second folder given), with
	// content of its own: the run's first is among the earlier ones.
	got, err = e.otherContent(c, "C-1", &api.DepositResponse{ID: "it_next", Name: "DCIM/a.jpg", SHA256: "55"}, "phone JD/1")
	if err != nil || strings.Join(got, ",") != "it_old,it_same,it_new" {
		t.Fatalf("told %v (%v), want it_old, it_same and it_new", got, err)
	}
	if lists != 1 || details != 3 {
		t.Errorf("asked the vault for the list %d times and for details %d times, want 1 and 3", lists, details)
	}

	down := earlierItems{names: map[string]bool{"x": true}, source: map[string]string{}}
	if _, err := down.otherContent(testClient(t, refusing(http.StatusServiceUnavailable, `{"error":"unavailable"}`)), "C-1", &api.DepositResponse{ID: "it_x", Name: "x", SHA256: "66"}, ""); err == nil {
		t.Error("an answer the vault did not give passed as nothing to tell")
	}
}
