package vault

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/objects"
)

// Trusted time (docs/timestamps.md).
//
// With time-stamping authorities configured (--tsa), published
// checkpoints are time-stamped beside the appends, at most once per
// TSAInterval (every one by default; a checkpoint that comes while
// a request is under way waits for the next), each token stored in the
// object store beside the note they date, under names made from their
// own bytes (timestampedNoteObject, timestampObject), so that no one can
// take a name before the vault writes it. A package's checkpoint and an
// audit's are time-stamped on demand, within a bounded wait. The message
// is the checkpoint note as the log signed it (events.LogSigned).

const (
	// relogEvery is how often a TSA failure that lasts is logged again.
	relogEvery       = 10 * time.Minute
	timestampsPrefix = "timestamps/"
	// keepStamped is how many recent checkpoints keep their tokens in
	// memory.
	keepStamped = 64
)

// timestampedNoteObject names the checkpoint note that time-stamp
// tokens date, kept beside them (the log store keeps at most one
// checkpoint of the interval a minute, and a token must stay checkable
// without the vault): "timestamps/<size, 20 digits>-<SHA-256 of the
// note, 64 hex digits>-checkpoint" (docs/timestamps.md, section 5). The
// name comes from the note's bytes, so that a log's two checkpoints of
// one size (after a rollback was accepted) never share one, and bytes
// stored under it by someone who saw the note first (in the sticky head,
// written before it) displace nothing: putOwn stores the note under the
// name with a random suffix then.
func timestampedNoteObject(size uint64, note []byte) string {
	return fmt.Sprintf("%s%020d-%x-checkpoint", timestampsPrefix, size, sha256.Sum256(note))
}

// timestampObject names a time-stamp token over note: "timestamps/<size,
// 20 digits>-<SHA-256 of the note, 64 hex digits>-<the first 16 hex
// digits of the token's SHA-256>" (object names are at most 128 bytes,
// room left for putOwn's suffix).
// Each TSA's token, and each of one TSA's asked again after a restart,
// has a name of its own.
func timestampObject(size uint64, note []byte, token tsa.Token) string {
	t := sha256.Sum256(token)
	return fmt.Sprintf("%s%020d-%x-%x", timestampsPrefix, size, sha256.Sum256(note), t[:8])
}

type stamper struct {
	urls     []string
	trusted  []*x509.Certificate // Config.TSACerts
	http     *http.Client
	interval time.Duration
	logger   *slog.Logger
	objects  objects.Store

	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	next chan *events.Checkpoint // the newest checkpoint to stamp (latest wins)

	mu     sync.Mutex
	tokens map[uint64]map[int]tsa.Token
	last   time.Time // when the background stamping last began
	status []TSAStatus
}

// TSAStatus is one time-stamping authority's state, for the metrics.
type TSAStatus struct {
	// URL is the TSA's URL without credentials, query or fragment.
	URL string
	// Size is the newest checkpoint size it time-stamped; Stamped and
	// Failures count tokens obtained and requests that failed since the
	// server started.
	Size              uint64
	Stamped, Failures uint64

	lastError  string
	lastLogged time.Time
}

func newStamper(urls []string, trusted []*x509.Certificate, client *http.Client, interval time.Duration, logger *slog.Logger, store objects.Store) *stamper {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	s := &stamper{urls: urls, trusted: trusted, http: client, interval: interval, logger: logger, objects: store,
		next: make(chan *events.Checkpoint, 1), tokens: map[uint64]map[int]tsa.Token{}}
	for _, u := range urls {
		s.status = append(s.status, TSAStatus{URL: tsaclient.Redact(u)})
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.run()
	return s
}

// submit hands a published checkpoint to the background stamping; it
// never blocks.
func (s *stamper) submit(cp *events.Checkpoint) {
	s.mu.Lock()
	due := time.Since(s.last) >= s.interval
	s.mu.Unlock()
	if !due {
		return
	}
	for {
		select {
		case s.next <- cp:
			return
		default:
		}
		select {
		case <-s.next: // drop the older one
		default:
		}
	}
}

func (s *stamper) run() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case cp := <-s.next:
			s.mu.Lock()
			s.last = time.Now()
			s.mu.Unlock()
			s.stamp(s.ctx, cp, false)
		}
	}
}

func (s *stamper) close() {
	s.stop()
	s.wg.Wait()
}

// stamp returns tokens over cp from every TSA that answers within ctx,
// requesting those not already held, and stores new ones beside the note
// they date. waited is true for a caller that waits for the tokens (a
// package or an audit), false for the background stamping.
func (s *stamper) stamp(ctx context.Context, cp *events.Checkpoint, waited bool) []tsa.Token {
	s.mu.Lock()
	have := s.tokens[cp.Size]
	var missing []int
	for i := range s.urls {
		if have[i] == nil {
			missing = append(missing, i)
		}
	}
	s.mu.Unlock()
	got := make([]tsa.Token, len(s.urls))
	keep := true // the tokens are stored beside their note
	if len(missing) > 0 {
		// The note, as the log signed it, goes beside its tokens first,
		// so that no token is ever kept without it. If it cannot be
		// stored, no token is stored either: the background stamping
		// requests none (the checkpoint is not time-stamped, as when
		// every TSA fails); a package or an audit that waits still gets
		// its tokens, which travel with the note it carries.
		name, taken, err := putOwn(ctx, s.objects, timestampedNoteObject(cp.Size, cp.Note), cp.Note)
		switch {
		case err != nil && waited:
			s.logger.Error("a checkpoint's time-stamp tokens go only with the package or audit that asked: the note they date could not be stored beside them", "size", cp.Size, "err", err)
			keep = false
		case err != nil:
			s.logger.Error("a checkpoint could not be time-stamped: the note its tokens would date could not be stored", "size", cp.Size, "err", err)
			missing = nil
		case taken != nil:
			s.logger.Error("a time-stamped note's name was taken by other bytes before the vault stored it: stored under another name; find out who wrote to the object store", "size", cp.Size, "stored", name, "err", taken)
		}
	}
	var wg sync.WaitGroup
	for _, i := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := tsaclient.Request(ctx, s.http, s.urls[i], cp.Note)
			if err != nil && ctx.Err() != nil {
				return // the wait ended, not the TSA
			}
			if err == nil && len(s.trusted) > 0 {
				// Refused before anything keeps it: a token of an
				// authority the operators did not name.
				if _, verr := tsa.VerifyStored(tok, sha256.Sum256(cp.Note), s.trusted); verr != nil {
					err = fmt.Errorf("its token does not verify against the configured TSA certificates (--tsa-cert): %w", verr)
				}
			}
			s.report(i, cp, err)
			if err != nil {
				return
			}
			got[i] = tok
			if !keep {
				return
			}
			if name, taken, err := putOwn(ctx, s.objects, timestampObject(cp.Size, cp.Note, tok), tok); err != nil {
				s.logger.Error("a time-stamp token could not be stored", "size", cp.Size, "err", err)
			} else if taken != nil {
				s.logger.Error("a time-stamp token's name was taken by other bytes before the vault stored it: stored under another name; find out who wrote to the object store", "size", cp.Size, "stored", name, "err", taken)
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.tokens[cp.Size]
	if m == nil {
		m = map[int]tsa.Token{}
		s.tokens[cp.Size] = m
	}
	for i, tok := range got {
		if tok != nil {
			m[i] = tok
		}
	}
	if len(s.tokens) > keepStamped {
		sizes := make([]uint64, 0, len(s.tokens))
		for sz := range s.tokens {
			sizes = append(sizes, sz)
		}
		sort.Slice(sizes, func(a, b int) bool { return sizes[a] < sizes[b] })
		for _, sz := range sizes[:len(sizes)-keepStamped] {
			delete(s.tokens, sz)
		}
	}
	out := make([]tsa.Token, 0, len(m))
	for i := range s.urls {
		if m[i] != nil {
			out = append(out, m[i])
		}
	}
	return out
}

// report counts an attempt and logs it as the witnesses' failures are
// logged: a failure when it starts or changes and again every relogEvery
// while it lasts (WARN), the first success after failures (INFO).
func (s *stamper) report(i int, cp *events.Checkpoint, err error) {
	s.mu.Lock()
	st := &s.status[i]
	last := st.lastError
	log := false
	if err != nil {
		st.Failures++
		st.lastError = err.Error()
		log = st.lastError != last || time.Since(st.lastLogged) >= relogEvery
	} else {
		st.Stamped++
		st.Size = max(st.Size, cp.Size)
		st.lastError = ""
		log = last != ""
	}
	if log {
		st.lastLogged = time.Now()
	}
	failures := st.Failures
	s.mu.Unlock()
	switch {
	case log && err != nil:
		s.logger.Warn("a time-stamping authority did not time-stamp the custody log's checkpoint", "tsa", st.URL, "size", cp.Size, "err", err, "failures", failures)
	case log:
		s.logger.Info("a time-stamping authority time-stamps the custody log's checkpoints again", "tsa", st.URL, "size", cp.Size)
	}
}

func (s *stamper) statuses() []TSAStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TSAStatus(nil), s.status...)
}

// TSAStatus returns each time-stamping authority's state (nil without
// any).
func (v *Vault) TSAStatus() []TSAStatus {
	if st := v.stamper(); st != nil {
		return st.statuses()
	}
	return nil
}

// TimestampObject is one object of the object store's timestamps/
// folder: a time-stamped checkpoint note or a token over one (names in
// docs/timestamps.md section 5), its bytes as stored. Nothing in it is
// vouched for by the vault: its reader checks each (the SHA-256 its name
// gives, the note's signature, the token over the note).
type TimestampObject struct {
	Name  string // without "timestamps/"
	Bytes []byte
	// Unreadable says why Bytes is empty: what holds the name is not an
	// object (objects.ErrNotRegular: a link, pipe, device or socket in
	// a file store's folder), which the store neither follows nor opens.
	Unreadable string
}

// TimestampObjects calls fn with every object of the object store's
// timestamps/ folder whose name gives a checkpoint size in [from, to)
// (with the whole range, 0 to math.MaxUint64, every object there, named
// as the vault names them or not, for its reader to judge),
// in the store's name order, for an auditor (action
// "audit.timestamps"). An object larger than a token may be
// (tsa.MaxTokenSize) is given cut to that size plus one byte, so that
// its reader finds it is not what its name says without the vault
// holding it whole.
func (v *Vault) TimestampObjects(ctx context.Context, who Principal, from, to uint64, fn func(TimestampObject) error) error {
	if err := v.AuditReader(ctx, who, "audit.timestamps"); err != nil {
		return err
	}
	return objects.ListNames(ctx, v.objects, timestampsPrefix, func(name string) error {
		rest := strings.TrimPrefix(name, timestampsPrefix)
		size, err := uint64(0), errors.New("no size")
		if len(rest) >= 20 {
			size, err = strconv.ParseUint(rest[:20], 10, 64)
		}
		switch {
		case err != nil && (from != 0 || to != math.MaxUint64):
			return nil // no size: in no range, sent only with the whole folder
		case err == nil && (size < from || size >= to):
			return nil
		}
		rc, err := v.objects.Open(ctx, name)
		if errors.Is(err, objects.ErrNotFound) {
			return nil // gone since it was listed
		} else if errors.Is(err, objects.ErrNotRegular) {
			return fn(TimestampObject{Name: rest, Unreadable: objects.ErrNotRegular.Error()})
		} else if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, tsa.MaxTokenSize+1))
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		return fn(TimestampObject{Name: rest, Bytes: b})
	})
}
