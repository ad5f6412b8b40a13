// Package logstore opens a custody-log backend from its --log URL, so
// that the server and the migration tool name backends the same way. Its
// Open has the shape of objectstore.Open and sealers.Open: a context, the
// URL, and Options for what a URL does not carry.
package logstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/esdb"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/internal/typednil"
)

// Forms lists the accepted URL forms, for help texts and errors.
const Forms = "sqlite:PATH, postgres://USER@HOST:PORT/DB (or postgresql://), " +
	"esdb://HOST:2113 (or esdb+discover://, kurrentdb://, kurrentdb+discover://; tls=false for plain text; stream=NAME; maxAppendSize=BYTES if the cluster's is not 1 MiB)"

// Options carry what a --log URL does not. There is nothing yet: every
// backend's settings fit in its URL (PostgreSQL's libpq variables are read
// by pgx itself). It exists so that the three openers read alike.
type Options struct{}

// Open opens the custody log that url names:
//
//	sqlite:PATH                      embedded SQLite file (created if missing)
//	postgres://... postgresql://...  PostgreSQL database
//	esdb://... esdb+discover://...   KurrentDB/EventStoreDB cluster
//	kurrentdb://... kurrentdb+discover://...
func Open(ctx context.Context, url string, opts Options) (events.Store, error) {
	scheme, rest, _ := strings.Cut(url, ":")
	switch strings.ToLower(scheme) {
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return nil, fmt.Errorf("custody log %q: no path (want sqlite:PATH)", url)
		}
		return typednil.As[events.Store](sqlite.New(ctx, sqlite.Config{Path: path}))
	case "postgres", "postgresql":
		return typednil.As[events.Store](postgres.New(ctx, postgres.Config{URL: url}))
	case "esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover":
		return typednil.As[events.Store](esdb.New(ctx, esdb.Config{URL: url}))
	}
	return nil, fmt.Errorf("custody log %q: unknown kind; accepted forms: %s", redact(url), Forms)
}

// redact drops anything after "://" up to "@", so a mistyped URL with a
// password is not echoed.
func redact(url string) string {
	i := strings.Index(url, "://")
	j := strings.LastIndex(url, "@")
	if i < 0 || j < i {
		return url
	}
	return url[:i+3] + "…" + url[j:]
}
