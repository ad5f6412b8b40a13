package esdb_test

import (
	"context"
	"os"
	"strings"
	"testing"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/esdb"
	"github.com/custos-vault/custos/events/storetest"
	"github.com/google/uuid"
)

// serverURL is a KurrentDB/EventStoreDB cluster to test against. None can
// be installed on the development machines, so without it these tests
// are skipped (and so is the proof that this backend conforms).
func serverURL(t *testing.T) string {
	u := os.Getenv("CUSTOS_ESDB_URL")
	if u == "" {
		t.Skip("skipped: set CUSTOS_ESDB_URL (e.g. esdb://127.0.0.1:2113?tls=false) to a KurrentDB/EventStoreDB server to run the esdb conformance suite")
	}
	return u
}

// stream is a fresh stream name per test, so runs and other users of a
// shared cluster never meet.
func stream(t *testing.T) string {
	return "custos-test-" + strings.ReplaceAll(uuid.NewString(), "-", "")
}

func open(t *testing.T, url, name string) *esdb.Store {
	t.Helper()
	s, err := esdb.New(context.Background(), esdb.Config{URL: url, Stream: name})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	url := serverURL(t)
	storetest.Run(t, func(t *testing.T) (events.Store, func() events.Store) {
		name := stream(t)
		s := open(t, url, name)
		t.Cleanup(func() { s.Close() })
		return s, func() events.Store {
			s2 := open(t, url, name)
			t.Cleanup(func() { s2.Close() })
			return s2
		}
	})
}

// A stream that holds someone else's events is refused at open.
func TestRefusesForeignStream(t *testing.T) {
	url := serverURL(t)
	conn, _, err := esdb.ClientURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := client.ParseConnectionString(conn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name := stream(t)
	_, err = c.AppendToStream(context.Background(), name, client.AppendToStreamOptions{},
		client.EventData{EventID: uuid.New(), EventType: "OrderPlaced", ContentType: client.ContentTypeJson, Data: []byte(`{"order":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := esdb.New(context.Background(), esdb.Config{URL: url, Stream: name}); err == nil || !strings.Contains(err.Error(), "not a Custos custody event") {
		t.Fatalf("foreign stream: %v", err)
	}
}
