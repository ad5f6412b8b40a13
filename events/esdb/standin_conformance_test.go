package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/esdb"
	"github.com/custos-vault/custos/events/storetest"
	"github.com/google/uuid"
)

const standInNote = "the server is an in-process stand-in for KurrentDB (standin_test.go), not KurrentDB: " +
	"set CUSTOS_ESDB_URL to run TestConformance against a real server"

// The conformance suite, through the real client library over real gRPC,
// against the stand-in.
func TestConformanceAgainstStandIn(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	storetest.Run(t, func(t *testing.T) (events.Store, func() events.Store) {
		name := stream(t)
		s := open(t, srv.url(), name)
		t.Cleanup(func() { s.Close() })
		return s, func() events.Store {
			s2 := open(t, srv.url(), name)
			t.Cleanup(func() { s2.Close() })
			return s2
		}
	})
}

// rawClient is the client library itself, to write what the backend
// would not (a foreign stream, a concurrent writer) or to see the
// server's answers unmapped.
func rawClient(t *testing.T, url string) *client.Client {
	t.Helper()
	conn, _, err := esdb.ClientURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := client.ParseConnectionString(conn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = func(level client.LogLevel, format string, args ...any) {
		if level == client.LogWarn || level == client.LogError {
			t.Logf("client: "+level+": "+format, args...)
		}
	}
	c, err := client.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func eventData(id uuid.UUID) client.EventData {
	return client.EventData{EventID: id, EventType: "OrderPlaced", ContentType: client.ContentTypeJson, Data: []byte(`{"order":1}`)}
}

// The stand-in answers appends as the server's commit check does, seen
// through the client: expected revisions, WrongExpectedVersion with both
// revisions, and event-id idempotency. This checks the stand-in itself,
// so that the backend's tests against it mean something; it is also the
// positive case of the backend's conflict mapping, which TestConflictMapping
// cannot build.
func TestStandInAppendSemantics(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	c := rawClient(t, srv.url())
	ctx := context.Background()
	name := stream(t)
	ids := make([]uuid.UUID, 6)
	for i := range ids {
		ids[i] = uuid.New()
	}
	evs := func(idx ...int) []client.EventData {
		out := make([]client.EventData, len(idx))
		for i, n := range idx {
			out[i] = eventData(ids[n])
		}
		return out
	}
	type step struct {
		what     string
		expected client.ExpectedRevision
		events   []client.EventData
		next     uint64 // NextExpectedVersion on success
		wrong    string // the client's WrongExpectedVersion message, if refused
		size     int    // stream length afterwards
	}
	for _, st := range []step{
		{what: "stream_exists on no stream", expected: client.StreamExists{}, events: evs(0), wrong: "expecting 'stream_exists' but got 'no_stream'", size: 0},
		{what: "exact revision on no stream", expected: client.Revision(0), events: evs(0), wrong: "expecting '0' but got 'no_stream'", size: 0},
		{what: "no_stream creates", expected: client.NoStream{}, events: evs(0, 1), next: 1, size: 2},
		{what: "no_stream retried with the same ids", expected: client.NoStream{}, events: evs(0, 1), next: 1, size: 2},
		{what: "no_stream retried, first id only", expected: client.NoStream{}, events: evs(0), next: 0, size: 2},
		{what: "no_stream with other ids", expected: client.NoStream{}, events: evs(2), wrong: "expecting 'no_stream' but got '1'", size: 2},
		{what: "stored ids plus a new one at an old revision", expected: client.NoStream{}, events: evs(0, 1, 2), wrong: "expecting 'no_stream' but got '1'", size: 2},
		{what: "exact revision behind", expected: client.Revision(0), events: evs(2), wrong: "expecting '0' but got '1'", size: 2},
		{what: "exact revision ahead", expected: client.Revision(5), events: evs(2), wrong: "expecting '5' but got '1'", size: 2},
		{what: "exact revision at the end", expected: client.Revision(1), events: evs(2, 3), next: 3, size: 4},
		{what: "the same retried at its revision", expected: client.Revision(1), events: evs(2, 3), next: 3, size: 4},
		{what: "the same ids at another revision", expected: client.Revision(0), events: evs(2, 3), wrong: "expecting '0' but got '3'", size: 4},
		{what: "any with stored ids", expected: client.Any{}, events: evs(2, 3), next: 3, size: 4},
		{what: "any with new ids", expected: client.Any{}, events: evs(4), next: 4, size: 5},
		{what: "stream_exists with a new id", expected: client.StreamExists{}, events: evs(5), next: 5, size: 6},
		{what: "any with a stored and a new id", expected: client.Any{}, events: append(evs(5), eventData(uuid.New())), wrong: "expecting 'any' but got '5'", size: 6},
	} {
		res, err := c.AppendToStream(ctx, name, client.AppendToStreamOptions{ExpectedRevision: st.expected}, st.events...)
		switch {
		case st.wrong == "" && err != nil:
			t.Errorf("%s: %v", st.what, err)
		case st.wrong == "" && res.NextExpectedVersion != st.next:
			t.Errorf("%s: next expected version %d, want %d", st.what, res.NextExpectedVersion, st.next)
		case st.wrong != "" && (!esdb.IsConflict(err) || !strings.Contains(err.Error(), st.wrong)):
			t.Errorf("%s: got %v, want a wrong expected version %q", st.what, err, st.wrong)
		}
		if n := len(srv.events(name)); n != st.size {
			t.Fatalf("%s: the stream has %d events, want %d", st.what, n, st.size)
		}
	}
	for i, e := range srv.events(name) {
		if e.id != ids[i] || e.rev != uint64(i) {
			t.Fatalf("event %d is %s at %d, want %s", i, e.id, e.rev, ids[i])
		}
	}
}

// Reads through the client: directions, starting points, counts, a
// stream that does not exist, and a metadata stream keeping only its
// last event.
func TestStandInReadSemantics(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	c := rawClient(t, srv.url())
	ctx := context.Background()
	name := stream(t)
	var ids []uuid.UUID
	var data []client.EventData
	for range 5 {
		ids = append(ids, uuid.New())
		data = append(data, eventData(ids[len(ids)-1]))
	}
	if _, err := c.AppendToStream(ctx, name, client.AppendToStreamOptions{ExpectedRevision: client.NoStream{}}, data...); err != nil {
		t.Fatal(err)
	}
	read := func(stream string, opts client.ReadStreamOptions, count uint64) ([]uint64, error) {
		rs, err := c.ReadStream(ctx, stream, opts, count)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		var revs []uint64
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return revs, nil
			}
			if err != nil {
				return revs, err
			}
			if ev.Event.EventID != ids[ev.Event.EventNumber] || ev.Event.CreatedDate.IsZero() || ev.Event.ContentType != "application/json" {
				t.Fatalf("event %d read back as %+v", ev.Event.EventNumber, ev.Event)
			}
			revs = append(revs, ev.Event.EventNumber)
		}
	}
	for _, c := range []struct {
		opts  client.ReadStreamOptions
		count uint64
		want  string
	}{
		{client.ReadStreamOptions{}, 100, "[0 1 2 3 4]"},
		{client.ReadStreamOptions{From: client.Start{}}, 2, "[0 1]"},
		{client.ReadStreamOptions{From: client.Revision(3)}, 100, "[3 4]"},
		{client.ReadStreamOptions{From: client.Revision(9)}, 100, "[]"},
		{client.ReadStreamOptions{From: client.End{}}, 100, "[]"},
		{client.ReadStreamOptions{From: client.End{}, Direction: client.Backwards}, 1, "[4]"},
		{client.ReadStreamOptions{From: client.End{}, Direction: client.Backwards}, 100, "[4 3 2 1 0]"},
		{client.ReadStreamOptions{From: client.Revision(2), Direction: client.Backwards}, 2, "[2 1]"},
		{client.ReadStreamOptions{From: client.Start{}, Direction: client.Backwards}, 100, "[0]"},
	} {
		revs, err := read(name, c.opts, c.count)
		if err != nil || fmtRevs(revs) != c.want {
			t.Errorf("read %+v count %d: %v %v, want %s", c.opts, c.count, revs, err, c.want)
		}
	}
	if _, err := read(stream(t), client.ReadStreamOptions{}, 10); !isNotFound(err) {
		t.Errorf("read of a stream that does not exist: %v", err)
	}
	// Metadata: absent, then the newest of several.
	if _, err := c.GetStreamMetadata(ctx, name, client.ReadStreamOptions{}); !isNotFound(err) {
		t.Errorf("metadata of a stream without any: %v", err)
	}
	for _, n := range []uint64{10, 20} {
		var md client.StreamMetadata
		md.SetMaxCount(n)
		if _, err := c.SetStreamMetadata(ctx, name, client.AppendToStreamOptions{}, md); err != nil {
			t.Fatal(err)
		}
	}
	md, err := c.GetStreamMetadata(ctx, name, client.ReadStreamOptions{})
	if err != nil || md.MaxCount() == nil || *md.MaxCount() != 20 {
		t.Errorf("metadata after two settings: %+v %v", md, err)
	}
}

func fmtRevs(revs []uint64) string { return fmt.Sprint(append([]uint64{}, revs...)) }

func isNotFound(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Code() == client.ErrorCodeResourceNotFound
}
