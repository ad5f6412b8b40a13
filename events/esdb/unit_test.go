package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/testenv"
)

func TestClientURL(t *testing.T) {
	cases := []struct {
		in, conn, stream string
	}{
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", ""},
		{"kurrentdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", ""},
		{"kurrentdb+discover://cluster.example:2113", "esdb+discover://cluster.example:2113", ""},
		{"esdb+discover://cluster.example:2113", "esdb+discover://cluster.example:2113", ""},
		{"KurrentDB://admin:changeit@h1:2113,h2:2113,h3:2113?nodePreference=leader", "esdb://admin:changeit@h1:2113,h2:2113,h3:2113?nodePreference=leader", ""},
		{"esdb://localhost:2113?stream=custody-test&tls=false", "esdb://localhost:2113?tls=false", "custody-test"},
		{"esdb://localhost:2113?stream=a", "esdb://localhost:2113", "a"},
		{"esdb://localhost:2113?maxAppendSize=4194304&tls=false", "esdb://localhost:2113?tls=false", ""},
	}
	for _, c := range cases {
		conn, stream, err := ClientURL(c.in)
		if err != nil || conn != c.conn || stream != c.stream {
			t.Errorf("ClientURL(%q) = %q, %q, %v; want %q, %q", c.in, conn, stream, err, c.conn, c.stream)
			continue
		}
		// The client itself accepts what we hand it.
		if _, err := esdb.ParseConnectionString(conn); err != nil {
			t.Errorf("client refuses %q: %v", conn, err)
		}
	}
	for _, bad := range []string{"", "localhost:2113", "http://localhost:2113", "postgres://h/db", "sqlite:x.db", "esdb://h:2113?%zz",
		"esdb://h:2113?maxAppendSize=0", "esdb://h:2113?maxAppendSize=1MiB"} {
		if _, _, err := ClientURL(bad); err == nil {
			t.Errorf("ClientURL(%q) accepted", bad)
		}
	}
	// A parameter of the vault's given twice, in one spelling or two, is
	// refused: read as one or the other, one connection string could name
	// two streams (and an audit check another stream than the server).
	for _, twice := range []string{"esdb://h:2113?tls=false&stream=custody&Stream=other", "esdb://h:2113?stream=custody&stream=other",
		"esdb://h:2113?maxAppendSize=1048576&MAXAPPENDSIZE=4194304"} {
		for range 16 {
			if _, _, err := ClientURL(twice); err == nil || !strings.Contains(err.Error(), "twice") {
				t.Errorf("ClientURL(%q): %v, want it refused as given twice", twice, err)
				break
			}
		}
	}
}

// TLS is on unless the connection string turns it off.
func TestTLSDefault(t *testing.T) {
	for in, disabled := range map[string]bool{
		"kurrentdb://h:2113":           false,
		"esdb://h:2113?tls=true":       false,
		"kurrentdb://h:2113?tls=false": true,
	} {
		conn, _, _ := ClientURL(in)
		cfg, err := esdb.ParseConnectionString(conn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DisableTLS != disabled {
			t.Errorf("%s: DisableTLS %v, want %v", in, cfg.DisableTLS, disabled)
		}
	}
}

func TestIDToUUID(t *testing.T) {
	for range 100 {
		id := events.NewID()
		u, err := IDToUUID(id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ReplaceAll(u.String(), "-", "") != id {
			t.Fatalf("%s became %s", id, u)
		}
	}
	for _, bad := range []string{"", "abc", "0123456789ABCDEF0123456789abcdef", "01234567-89ab-cdef-0123-456789abcdef",
		"0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef00"} {
		if _, err := IDToUUID(bad); err == nil {
			t.Errorf("IDToUUID(%q) accepted", bad)
		}
	}
}

func TestExpectedRevision(t *testing.T) {
	if _, ok := expectedRevision(0).(esdb.NoStream); !ok {
		t.Fatalf("empty log: %#v", expectedRevision(0))
	}
	if r, ok := expectedRevision(7).(esdb.StreamRevision); !ok || r.Value != 6 {
		t.Fatalf("log of 7: %#v", expectedRevision(7))
	}
}

// recorded is what the server hands back for ev stored at revision n.
func recorded(ev esdb.EventData, stream string, n uint64) *esdb.RecordedEvent {
	return &esdb.RecordedEvent{EventID: ev.EventID, EventType: ev.EventType, StreamID: stream, EventNumber: n, Data: ev.Data, UserMetadata: ev.Metadata}
}

func TestEventCodec(t *testing.T) {
	s := &Store{stream: "custody", checkpoints: "custody-checkpoints"}
	r := events.Record{Seq: 41, ID: events.NewID(), Case: "case-1", Item: "item-9", Bytes: []byte(`{"v":1,"seq":41,"odd":"\u00e9 \n"}`)}
	ev, err := encodeEvent(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ContentType != esdb.ContentTypeBinary || string(ev.Data) != string(r.Bytes) {
		t.Fatal("event data is not the record's bytes as binary content")
	}
	back, err := s.decodeEvent(recorded(ev, "custody", 41))
	if err != nil {
		t.Fatal(err)
	}
	if back.Seq != r.Seq || back.ID != r.ID || back.Case != r.Case || back.Item != r.Item || string(back.Bytes) != string(r.Bytes) {
		t.Fatalf("round trip: %+v", back)
	}
	if _, err := encodeEvent(events.Record{ID: "not-hex"}, nil); err == nil {
		t.Fatal("encoded an event whose id is not a UUID")
	}

	other := events.NewID()
	otherUUID, _ := IDToUUID(other)
	mutations := map[string]func(e *esdb.RecordedEvent){
		"foreign type":     func(e *esdb.RecordedEvent) { e.EventType = "OrderPlaced" },
		"no metadata":      func(e *esdb.RecordedEvent) { e.UserMetadata = nil },
		"foreign metadata": func(e *esdb.RecordedEvent) { e.UserMetadata = []byte(`{"correlationId":"x"}`) },
		"metadata of other log": func(e *esdb.RecordedEvent) {
			e.UserMetadata = []byte(strings.Replace(string(e.UserMetadata), logMark, "other", 1))
		},
		"trailing metadata": func(e *esdb.RecordedEvent) { e.UserMetadata = append(e.UserMetadata, []byte(` {}`)...) },
		"wrong revision":    func(e *esdb.RecordedEvent) { e.EventNumber = 40 },
		"wrong event id":    func(e *esdb.RecordedEvent) { e.EventID = otherUUID },
	}
	for name, mutate := range mutations {
		e := recorded(ev, "custody", 41)
		mutate(e)
		if _, err := s.decodeEvent(e); err == nil || !strings.Contains(err.Error(), "not a Custos custody event") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCheckpointCodec(t *testing.T) {
	s := &Store{stream: "custody", checkpoints: "custody-checkpoints"}
	cp := &events.StoredCheckpoint{Size: 12, Note: []byte("custos.test/log\n12\nroot\n\n— sig\n")}
	ev, err := encodeCheckpoint(cp)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.decodeCheckpoint(recorded(ev, "custody-checkpoints", 3))
	if err != nil || back.Size != 12 || string(back.Note) != string(cp.Note) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	// A retried checkpoint has the same EventID; any other one differs.
	if checkpointID(cp) != ev.EventID || checkpointID(&events.StoredCheckpoint{Size: 12, Note: []byte("x")}) == ev.EventID ||
		checkpointID(&events.StoredCheckpoint{Size: 13, Note: cp.Note}) == ev.EventID {
		t.Fatal("checkpoint ids are not derived from size and note")
	}
	if v := ev.EventID.Version(); v != 8 {
		t.Fatalf("checkpoint id version %d", v)
	}
	bad := recorded(ev, "custody-checkpoints", 3)
	bad.EventType = eventType
	if _, err := s.decodeCheckpoint(bad); err == nil {
		t.Fatal("an event was read as a checkpoint")
	}
}

func TestRetentionSettingsRefused(t *testing.T) {
	var md esdb.StreamMetadata
	if err := retentionProblem(&md); err != nil {
		t.Fatal(err)
	}
	set := map[string]func(m *esdb.StreamMetadata){
		"$maxCount": func(m *esdb.StreamMetadata) { m.SetMaxCount(1000) },
		"$maxAge":   func(m *esdb.StreamMetadata) { m.SetMaxAge(time.Hour) },
		"$tb":       func(m *esdb.StreamMetadata) { m.SetTruncateBefore(5) },
	}
	for name, f := range set {
		var m esdb.StreamMetadata
		f(&m)
		if err := retentionProblem(&m); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The client's error type has no exported constructor, so only the
// negative cases can be built here; the positive one is exercised by the
// conformance suite against a server.
func TestConflictMapping(t *testing.T) {
	wrapped, _ := esdb.FromError(errors.New("boom"))
	for _, err := range []error{nil, errors.New("wrong expected version"), wrapped, fmt.Errorf("x: %w", wrapped), context.DeadlineExceeded} {
		if IsConflict(err) {
			t.Errorf("IsConflict(%v) = true", err)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "postgres://h/db"},
		{URL: "esdb://"},
		{URL: "esdb://h:2113", Stream: "$all"},
		{URL: "esdb://h:2113?stream=$ce-x"},
	} {
		if s, err := New(context.Background(), cfg); err == nil {
			s.Close()
			t.Errorf("%+v accepted", cfg)
		} else {
			t.Logf("%+v: %v", cfg, err)
		}
	}
}

// With no server listening, New fails at open, promptly and clearly.
func TestUnreachableAtOpen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	url := fmt.Sprintf("kurrentdb://%s?tls=false&maxDiscoverAttempts=2&discoveryInterval=50&gossipTimeout=1", testenv.Addr(testenv.FreePort(t)))
	s, err := New(ctx, Config{URL: url})
	if err == nil {
		s.Close()
		t.Fatal("opened a log on a port nobody listens on")
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// A failed append that may have reached the server (an error the client
// cannot classify, a deadline, a plain network error) may still land;
// the client's own errors of those codes are built here, and the stand-in
// exercises ErrorUnavailable (TestAnswerLostAfterTheAppendIsWritten). The
// server's refusals have no exported constructor.
func TestMayLand(t *testing.T) {
	wrapped, _ := esdb.FromError(errors.New("boom"))
	for _, err := range []error{wrapped, fmt.Errorf("x: %w", wrapped), context.DeadlineExceeded, errors.New("read: connection reset by peer")} {
		if !mayLand(err) {
			t.Errorf("mayLand(%v) = false", err)
		}
	}
}
