package custody

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestClassificationTextSaysADisagreementAndAMatchAlone: an item's
// classification line says first that its votes disagree (they settle
// nothing, whatever the policy), not as a routine vote; a line of a
// deposit's match alone, with no vote, says no one voted rather than the
// caveat about voters; agreeing votes keep the caveat.
func TestClassificationTextSaysADisagreementAndAMatchAlone(t *testing.T) {
	a, b := Person{Name: "ana1", Role: "analyst"}, Person{Name: "ana2", Role: "analyst"}
	match := []Match{{Set: "partner", Entry: 0, Category: "national", Algorithm: "sha256"}}
	for _, tc := range []struct {
		name      string
		it        Item
		want, not []string
	}{
		{"votes that disagree", Item{Votes: []Vote{{By: a, Category: "national", Seq: 30}, {By: b, Category: "baseline", Seq: 31}}},
			[]string{"votes that disagree, so that they settle no category however many agree, each person's latest: national by ana1", "baseline by ana2"}, []string{"no one has voted"}},
		{"votes that agree", Item{Votes: []Vote{{By: a, Category: "baseline", Seq: 30}, {By: b, Category: "baseline", Seq: 31}}},
			[]string{"votes, each person's latest: baseline by ana1", "not a settled category"}, []string{"disagree", "no one has voted"}},
		{"a match alone", Item{Matches: match},
			[]string{"matched at deposit: entry 0 of hash set partner", "no one has voted on the item"}, []string{"whether each voter", "disagree"}},
	} {
		got := ClassificationText(tc.it)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q says %q", tc.name, got, n)
			}
		}
	}
}

// TestAStartSaysWhatDecidesKnownMaterial: a server.started is described
// with the configuration that decides what is known material and who
// decides it, so that a timeline shows a start that changed it.
func TestAStartSaysWhatDecidesKnownMaterial(t *testing.T) {
	for data, want := range map[string][]string{
		`{"sealer":"dev","pdq_max_distance":"4","hashset_approval":"none","session_ttl":"2h0m0s","local_accounts":"off"}`: {
			"near-copies within 4 bits (PDQ)", "one custodian imports a hash set", "sessions last 2h0m0s", "no local accounts"},
		`{"sealer":"dev","hashset_approval":"required","hashset_removal":"request","local_accounts":"on"}`: {
			"hash-set imports and removals need a second custodian"},
		`{"sealer":"dev","hashset_approval":"required"}`: {"hash-set imports need a second custodian"},
	} {
		_, details := Describe(&events.Event{V: events.Version, Seq: 3, Type: "server.started", Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "custos", Role: "system"}, Data: json.RawMessage(data)})
		for _, w := range want {
			if !strings.Contains(details, w) {
				t.Errorf("%s is described as %q, without %q", data, details, w)
			}
		}
		if strings.Contains(data, `"on"`) && strings.Contains(details, "no local accounts") {
			t.Errorf("%s is described as %q", data, details)
		}
	}
}
