package logstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstore"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedPostgres()
	os.Exit(code)
}

func TestOpensEachBackend(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		url  func(t *testing.T) string
		want func(events.Store) bool
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(dir, "a.db") },
			func(s events.Store) bool { _, ok := s.(*sqlite.Store); return ok }},
		{"sqlite with slashes", func(t *testing.T) string { return "sqlite://" + filepath.Join(dir, "b.db") },
			func(s events.Store) bool { _, ok := s.(*sqlite.Store); return ok }},
		{"postgres", func(t *testing.T) string { return testenv.SharedPostgres(t).URL(t, "stores") },
			func(s events.Store) bool { _, ok := s.(*postgres.Store); return ok }},
		{"postgresql", func(t *testing.T) string {
			return strings.Replace(testenv.SharedPostgres(t).URL(t, "stores"), "postgres://", "postgresql://", 1)
		}, func(s events.Store) bool { _, ok := s.(*postgres.Store); return ok }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := logstore.Open(context.Background(), c.url(t), logstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !c.want(s) {
				t.Fatalf("opened a %T", s)
			}
			if n, err := s.Size(context.Background()); err != nil || n != 0 {
				t.Fatalf("size %d, %v", n, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "b.db")); err != nil {
		t.Fatalf("sqlite://PATH did not create PATH: %v", err)
	}
}

// Every esdb form reaches the esdb backend: with nothing listening the
// error is the client's, not "unknown kind".
func TestESDBFormsReachTheBackend(t *testing.T) {
	addr := testenv.Addr(testenv.FreePort(t))
	q := "?tls=false&maxDiscoverAttempts=1&discoveryInterval=10&gossipTimeout=1"
	for _, scheme := range []string{"esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := logstore.Open(ctx, fmt.Sprintf("%s://%s%s", scheme, addr, q), logstore.Options{})
		cancel()
		if err == nil {
			t.Fatalf("%s: opened with nothing listening", scheme)
		}
		if !strings.HasPrefix(err.Error(), "esdb:") {
			t.Fatalf("%s: not handled by the esdb backend: %v", scheme, err)
		}
	}
}

func TestRefusesOtherForms(t *testing.T) {
	for _, u := range []string{"", "custody.db", "/var/lib/custos/custody.db", "sqlite:", "file:custody.db",
		"mysql://u:hunter2@h/db", "s3://h/bucket", "fs:/tmp/x", "http://h:2113", "bolt:x.db"} {
		_, err := logstore.Open(context.Background(), u, logstore.Options{})
		if err == nil {
			t.Errorf("%q accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error reveals the password: %v", u, err)
		}
		if u != "sqlite:" && !strings.Contains(err.Error(), logstore.Forms) {
			t.Errorf("%q: error does not list the accepted forms: %v", u, err)
		}
	}
	if !strings.Contains(logstore.Forms, "kurrentdb://") || !strings.Contains(logstore.Forms, "sqlite:PATH") {
		t.Fatalf("Forms: %s", logstore.Forms)
	}
}

// A backend that fails to open gives a nil store, not a nil *sqlite.Store
// in the interface: a caller that closes what is not nil would otherwise
// panic and lose the error it was reporting.
func TestFailedOpenGivesNoStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-log.db")
	if err := os.WriteFile(path, []byte("this is not a SQLite database, it is much too short and wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := logstore.Open(context.Background(), "sqlite:"+path, logstore.Options{})
	if err == nil || s != nil {
		t.Fatalf("Open of a file that is no log: %#v, %v; want no store and an error", s, err)
	}
}
