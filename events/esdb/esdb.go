// Package esdb is the custody-log backend on KurrentDB/EventStoreDB, for a
// national unit that runs a replicated cluster.
//
// The whole log is one stream (default "custody"): event n of the log is
// revision n of the stream, and an append states the expected revision
// (the last sequence number), so the server refuses a writer that is
// behind and two vault processes can never fork the log. Each event's data
// is the event's exact bytes; its EventID is the event's id, so the server
// deduplicates a retried append; its metadata names the sequence number,
// id, case and item, so reads by case or item filter the stream without
// decoding events. Only the log's own streams are ever read, never $all.
//
// Signed checkpoints go to a second stream (the log stream's name plus
// "-checkpoints"). The server cannot append to two streams atomically, so
// Append writes the events first and the checkpoint only after they are
// stored: a checkpoint never covers events that are not stored, and a
// crash between the two leaves a checkpoint stream that lags - a
// checkpoint not issued, which the sequencer issues again later.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
)

// DefaultStream is the log stream's name when none is configured.
const DefaultStream = "custody"

// checkpointSuffix names the checkpoint stream after the log stream.
const checkpointSuffix = "-checkpoints"

// Config names the cluster and the stream.
type Config struct {
	// URL is an esdb://, esdb+discover://, kurrentdb:// or
	// kurrentdb+discover:// connection string. TLS is on unless it says
	// tls=false. It may carry stream=NAME, which Stream overrides, and
	// maxAppendSize=BYTES (MaxAppendSize).
	URL string
	// Stream is the log stream's name; default DefaultStream.
	Stream string
	// MaxAppendSize is the cluster's MaxAppendSize setting, the most one
	// append may carry (DefaultMaxAppendSize if 0). It may also be given
	// in the URL as maxAppendSize=BYTES, which this overrides.
	MaxAppendSize int
}

// DefaultMaxAppendSize is KurrentDB's default MaxAppendSize: 1 MiB.
const DefaultMaxAppendSize = 1 << 20

// Store is the KurrentDB/EventStoreDB custody log.
type Store struct {
	cfg         *esdb.Configuration
	stream      string
	checkpoints string

	maxAppendSize int

	mu     sync.Mutex
	client *esdb.Client // replaced when it has closed itself (call)
	closed bool
	// calls counts the calls under way (call), which Close waits for.
	calls sync.WaitGroup
	// closeErr is the first Close's result, which later calls return.
	closeOnce sync.Once
	closeErr  error
}

var (
	_ events.Store         = (*Store)(nil)
	_ events.AppendLimiter = (*Store)(nil)
)

// ClientURL turns a --log URL into the connection string the client
// parses and the stream it names: kurrentdb schemes become their esdb
// equivalents (the v4 client predates the rename), and the stream=NAME
// and maxAppendSize=BYTES parameters, which are ours and not the
// client's, are taken out.
func ClientURL(raw string) (connection, stream string, err error) {
	connection, stream, _, err = parseURL(raw)
	return connection, stream, err
}

func parseURL(raw string) (connection, stream string, maxAppendSize int, err error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", "", 0, fmt.Errorf("esdb: %q is not a connection string (esdb://HOST:2113, esdb+discover://HOST:2113, kurrentdb://... or kurrentdb+discover://...)", raw)
	}
	switch strings.ToLower(scheme) {
	case "esdb", "kurrentdb":
		scheme = "esdb"
	case "esdb+discover", "kurrentdb+discover":
		scheme = "esdb+discover"
	default:
		return "", "", 0, fmt.Errorf("esdb: unknown scheme %q (want esdb, esdb+discover, kurrentdb or kurrentdb+discover)", scheme)
	}
	hosts, query, _ := strings.Cut(rest, "?")
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", 0, fmt.Errorf("esdb: connection string parameters: %w", err)
		}
		// A parameter of the vault's given twice, in any spelling, is
		// refused: read as one or the other, the same connection string
		// could name two streams.
		seen := map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(q)) {
			v := q[k]
			low := strings.ToLower(k)
			if low != "stream" && low != "maxappendsize" {
				continue
			}
			if other, ok := seen[low]; ok || len(v) != 1 {
				if !ok {
					other = k
				}
				return "", "", 0, fmt.Errorf("esdb: the connection string gives %s twice (%s and %s): give it once", k, other, k)
			}
			seen[low] = k
			switch {
			case strings.EqualFold(k, "stream"):
				stream = v[len(v)-1]
				q.Del(k)
			case strings.EqualFold(k, "maxAppendSize"):
				n, err := strconv.Atoi(v[len(v)-1])
				if err != nil || n <= 0 {
					return "", "", 0, fmt.Errorf("esdb: maxAppendSize=%q is not a positive number of bytes", v[len(v)-1])
				}
				maxAppendSize = n
				q.Del(k)
			}
		}
		query = q.Encode()
	}
	connection = scheme + "://" + hosts
	if query != "" {
		connection += "?" + query
	}
	return connection, stream, maxAppendSize, nil
}

// New connects to the cluster and checks that the log's streams, if they
// exist, hold Custos custody events and carry no truncation or expiry
// setting that would let the server drop events.
func New(ctx context.Context, cfg Config) (*Store, error) {
	conn, stream, maxAppendSize, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.MaxAppendSize > 0 {
		maxAppendSize = cfg.MaxAppendSize
	}
	if maxAppendSize <= 0 {
		maxAppendSize = DefaultMaxAppendSize
	}
	if cfg.Stream != "" {
		stream = cfg.Stream
	}
	if stream == "" {
		stream = DefaultStream
	}
	if strings.HasPrefix(stream, "$") {
		return nil, fmt.Errorf("esdb: stream %q is a system stream name", stream)
	}
	ccfg, err := esdb.ParseConnectionString(conn)
	if err != nil {
		return nil, fmt.Errorf("esdb: connection string: %w", err)
	}
	ccfg.Logger = warnings
	client, err := esdb.NewClient(ccfg)
	if err != nil {
		return nil, fmt.Errorf("esdb: %w", err)
	}
	s := &Store{cfg: ccfg, client: client, stream: stream, checkpoints: stream + checkpointSuffix, maxAppendSize: maxAppendSize}
	if err := s.check(ctx); err != nil {
		client.Close()
		return nil, err
	}
	return s, nil
}

// warnings passes the client's warnings and errors (lost connections,
// leader changes) to the process log and drops its chatter.
func warnings(level esdb.LogLevel, format string, args ...any) {
	if level == esdb.LogWarn || level == esdb.LogError {
		log.Printf("esdb client: "+level+": "+format, args...)
	}
}

// check validates both streams' first and last entries and their
// metadata. It is also the connection check: an unreachable cluster fails
// here, at open.
func (s *Store) check(ctx context.Context) error {
	for _, name := range []string{s.stream, s.checkpoints} {
		var md *esdb.StreamMetadata
		err := s.call(func(c *esdb.Client) (err error) {
			md, err = c.GetStreamMetadata(ctx, name, esdb.ReadStreamOptions{})
			return err
		})
		if err != nil && !isCode(err, esdb.ErrorCodeResourceNotFound) {
			return fmt.Errorf("esdb: reading the metadata of stream %q: %w", name, err)
		}
		if err == nil {
			if err := retentionProblem(md); err != nil {
				return fmt.Errorf("esdb: stream %q %w; refusing to use it as a custody log", name, err)
			}
		}
	}
	if _, err := s.first(ctx, s.stream, func(ev *esdb.RecordedEvent) error {
		_, err := s.decodeEvent(ev)
		return err
	}); err != nil {
		return err
	}
	if _, err := s.Size(ctx); err != nil {
		return err
	}
	_, err := s.first(ctx, s.checkpoints, func(ev *esdb.RecordedEvent) error {
		_, err := s.decodeCheckpoint(ev)
		return err
	})
	return err
}

// retentionProblem reports a stream setting that lets the server delete
// events: a custody log is kept whole.
func retentionProblem(md *esdb.StreamMetadata) error {
	switch {
	case md == nil:
		return nil
	case md.MaxCount() != nil:
		return fmt.Errorf("has $maxCount %d", *md.MaxCount())
	case md.MaxAge() != nil:
		return fmt.Errorf("has $maxAge %v", *md.MaxAge())
	case md.TruncateBefore() != nil:
		return fmt.Errorf("has $tb %d (truncated or deleted)", *md.TruncateBefore())
	}
	return nil
}

// isCode reports whether err is a client error with that code.
func isCode(err error, code esdb.ErrorCode) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == code
}

// call runs op with the store's client. The v4 client closes itself for
// good when, having lost its connection, it does not find the server
// again within its discovery attempts (maxDiscoverAttempts, 10 by default:
// about a second for a single node); from then on every call fails with
// ErrorCodeConnectionClosed, before sending anything, even once the
// server is back, and the vault would have to be restarted. So a client
// found closed is replaced by a new one (unless the Store is closed) and
// op runs once more: nothing of its first attempt reached the server, so
// repeating it, even an append, is safe.
func (s *Store) call(op func(*esdb.Client) error) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	// Counted, so that Close closes the client only once no call uses it:
	// the client's Close beside one of its calls is a data race in the
	// client, and can panic (a send on the channel Close closes).
	s.calls.Add(1)
	defer s.calls.Done()
	c := s.client
	s.mu.Unlock()
	err := op(c)
	if err == nil || !isCode(err, esdb.ErrorCodeConnectionClosed) {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return err
	}
	if s.client == c {
		// The old client is left as it is: its connection goroutine has
		// ended, and closing it could make a call of its, still waiting
		// to report a lost connection, panic.
		n, nerr := esdb.NewClient(s.cfg)
		if nerr != nil {
			s.mu.Unlock()
			return err
		}
		s.client = n
	}
	c = s.client
	s.mu.Unlock()
	return op(c)
}

// errClosed answers a call made after Close began.
var errClosed = errors.New("esdb: the store is closed")

// Close implements events.Store: calls under way end first (a read
// under way is read to its end), then the client is closed. Calls after
// the first, at once or later, wait for it and return its error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true // no call starts, no client is replaced
		s.mu.Unlock()
		s.calls.Wait()
		s.closeErr = s.client.Close()
	})
	return s.closeErr
}
