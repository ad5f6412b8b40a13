package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// The readable timeline reads event data by the grammar every reader
// applies (docs/custody-log.md section 12): a purpose given twice is
// not shown, and a member "Name" is never taken for "name".
func TestTimelineReadsDataStrictly(t *testing.T) {
	mk := func(seq uint64, typ, item, data string) *events.Event {
		return &events.Event{V: 1, Seq: seq, Type: typ, Time: "2026-03-02T09:15:07.000000000Z", Item: item,
			Actor: events.Actor{Person: "sok.dara", Role: "investigator", Auth: "local"}, Data: []byte(data)}
	}
	var out bytes.Buffer
	printTimeline(&out, []*events.Event{
		mk(1, "item.deposited", "it_1", `{"Name":"forged.jpg","name":"real.jpg"}`),
		mk(2, "item.deposited", "it_2", `{"name":"photo.jpg"}`),
		mk(3, "item.accessed", "it_2", `{"purpose":"brief","purpose":"other"}`),
		mk(4, "item.accessed", "it_2", `{"purpose":"trial"}`),
	}, false)
	lines := strings.Split(out.String(), "\n")
	if strings.Contains(lines[0], "forged.jpg") || !strings.Contains(lines[1], "photo.jpg") {
		t.Errorf("item names:\n%s", out.String())
	}
	if strings.Contains(lines[2], "purpose") || !strings.Contains(lines[3], "purpose “trial”") || !strings.Contains(lines[3], "Opened (plaintext") {
		t.Errorf("purposes:\n%s", out.String())
	}
}
