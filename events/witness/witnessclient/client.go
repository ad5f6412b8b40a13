// Package witnessclient submits the custody log's checkpoints to
// witnesses per C2SP tlog-witness (https://c2sp.org/tlog-witness) and
// collects their cosignatures. It is the server's half of package
// witness, which verifiers use without any network code.
package witnessclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/witness"
	"golang.org/x/mod/sumdb/note"
)

const (
	// relogEvery is how often a failure that lasts is logged again.
	relogEvery = 10 * time.Minute
	// maxResponse bounds a witness's answer, in bytes.
	maxResponse = 64 << 10
	// keepRounds is how many recent checkpoints keep their cosignatures
	// in memory, so that a quorum can still form when a slow witness
	// answers for a checkpoint the others cosigned a moment earlier.
	keepRounds = 64
)

// ErrFork is reported when a witness holds a checkpoint this log does
// not extend: the witness has seen a longer history (the log was rolled
// back) or a different one (the log was forked). Only an operator's
// investigation ends it; the vault keeps appending, unwitnessed.
var ErrFork = errors.New("the witness saw a history this log does not extend: rolled back or forked")

// Config configures a Client.
type Config struct {
	Policy *witness.Policy
	// Proof returns the consistency proof between two sizes of the log
	// (RFC 6962 section 2.1.2).
	Proof func(from, to uint64) ([][]byte, error)
	// Save, if set, is called once a checkpoint's cosignatures meet the
	// policy's quorum, with the note carrying the log's signature and the
	// cosignatures received. An error is logged.
	Save func(ctx context.Context, cp *events.Checkpoint, cosigned []byte) error
	// Logger receives a line for every refusal and failure; a fork is
	// logged at level ERROR.
	Logger *slog.Logger
	// HTTP is the client for witnesses (default: 10-second timeout, no
	// proxy unless the environment names one).
	HTTP *http.Client
	// Retry is how soon a failed witness is asked again when no newer
	// checkpoint comes (default 5s).
	Retry time.Duration
}

// Status is one witness's state, for the health route and metrics.
type Status struct {
	Name string `json:"name"`
	// Key is the witness's cosigner key: its name and key hash (C2SP
	// signed-note), "NAME+HASH", by which a verifier with a policy of its
	// own names finds it.
	Key string `json:"key"`
	// Size is the checkpoint size the witness last cosigned for this log
	// (or said it holds).
	Size uint64 `json:"size"`
	// Cosigned counts checkpoints it cosigned since the server started;
	// Failures the attempts that failed; Forks the answers that showed a
	// history this log does not extend.
	Cosigned uint64 `json:"cosigned"`
	Failures uint64 `json:"failures"`
	Forks    uint64 `json:"forks"`
	// LastError is the last failure, "" after a success.
	LastError string `json:"last_error,omitempty"`
}

// Client submits checkpoints to a policy's witnesses, one goroutine per
// witness, each always working on the newest checkpoint (checkpoints
// that come faster than a witness answers are skipped for it). It never
// blocks the caller of Submit.
type Client struct {
	cfg  Config
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	cond   *sync.Cond
	newest *events.Checkpoint
	rounds map[uint64]*round // by checkpoint size
	state  []Status
	// tried[i] is the newest size witness i has answered for (or
	// failed for).
	tried []uint64
	saved uint64
	// latest is the newest checkpoint whose quorum was met, with its
	// cosignatures; it outlives the rounds kept.
	latest     *events.Checkpoint
	latestNote []byte
	// wake[i] tells witness i's goroutine of a newer checkpoint.
	wake []chan struct{}
}

type round struct {
	cp    *events.Checkpoint
	lines map[int][]byte // by witness index
	done  bool           // quorum met and saved
}

// Start starts a Client.
func Start(cfg Config) *Client {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = NoRedirects(&http.Client{Timeout: 10 * time.Second})
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 5 * time.Second
	}
	c := &Client{cfg: cfg, rounds: map[uint64]*round{}}
	c.cond = sync.NewCond(&c.mu)
	c.ctx, c.stop = context.WithCancel(context.Background())
	for _, w := range cfg.Policy.Witnesses {
		c.state = append(c.state, Status{Name: w.Name, Key: witness.KeyID(w.Key)})
		c.tried = append(c.tried, 0)
		c.wake = append(c.wake, make(chan struct{}, 1))
	}
	for i, w := range cfg.Policy.Witnesses {
		if w.URL == "" {
			continue
		}
		c.wg.Add(1)
		go c.run(i)
	}
	return c
}

// Close stops the witness goroutines.
func (c *Client) Close() {
	c.stop()
	c.mu.Lock()
	c.cond.Broadcast()
	c.mu.Unlock()
	c.wg.Wait()
}

// Submit hands a newly published checkpoint to the witnesses.
func (c *Client) Submit(cp *events.Checkpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.newest != nil && cp.Size <= c.newest.Size {
		return
	}
	c.newest = cp
	c.rounds[cp.Size] = &round{cp: cp, lines: map[int][]byte{}}
	if len(c.rounds) > keepRounds {
		var sizes []uint64
		for s := range c.rounds {
			sizes = append(sizes, s)
		}
		sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
		for _, s := range sizes[:len(sizes)-keepRounds] {
			delete(c.rounds, s)
		}
	}
	for _, w := range c.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	c.cond.Broadcast()
}

// Status returns every witness's state.
func (c *Client) Status() []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Status(nil), c.state...)
}

// Latest returns the newest checkpoint whose cosignatures meet the
// quorum, as a note with the cosignatures, or nil.
func (c *Client) Latest() (*events.Checkpoint, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latestLocked()
}

func (c *Client) latestLocked() (*events.Checkpoint, []byte) {
	return c.latest, c.latestNote
}

// SetLatest hands the client the newest witnessed checkpoint known from
// before it started (the vault keeps it across restarts). The caller has
// verified it: the log's signature, the policy's quorum, and that the log
// extends it.
func (c *Client) SetLatest(cp *events.Checkpoint, cosigned []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest == nil || cp.Size > c.latest.Size {
		c.latest, c.latestNote = cp, cosigned
		c.saved = max(c.saved, cp.Size)
	}
}

// Wait waits, until ctx ends, for a checkpoint of at least size whose
// cosignatures meet the quorum, and returns the smallest such one with
// its cosignatures. If every witness has answered (or failed) for a
// checkpoint of at least size first, or ctx ends, it returns the
// checkpoint of at least size with the most cosignatures (the one of
// exactly size on a tie), which the caller's policy check then refuses;
// nil if the client saw none. A witness working on a newer checkpoint
// than size is not waited for in vain: its cosignature of the newer one
// serves.
func (c *Client) Wait(ctx context.Context, size uint64) (*events.Checkpoint, []byte) {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for ctx.Err() == nil && c.ctx.Err() == nil {
		if r := c.doneFrom(size); r != nil {
			return r.cp, r.note()
		}
		all := true
		for i, w := range c.cfg.Policy.Witnesses {
			if w.URL != "" && c.tried[i] < size {
				all = false
			}
		}
		if all {
			break
		}
		c.cond.Wait()
	}
	if r := c.doneFrom(size); r != nil {
		return r.cp, r.note()
	}
	var best *round
	for _, r := range c.rounds {
		if r.cp.Size < size {
			continue
		}
		if best == nil || len(r.lines) > len(best.lines) || len(r.lines) == len(best.lines) && r.cp.Size < best.cp.Size {
			best = r
		}
	}
	if best == nil {
		return nil, nil
	}
	return best.cp, best.note()
}

// doneFrom returns the smallest round of at least size whose quorum is
// met; c.mu is held.
func (c *Client) doneFrom(size uint64) *round {
	var best *round
	for _, r := range c.rounds {
		if r.done && r.cp.Size >= size && (best == nil || r.cp.Size < best.cp.Size) {
			best = r
		}
	}
	return best
}

func (r *round) note() []byte {
	b := bytes.Clone(r.cp.Note)
	idx := make([]int, 0, len(r.lines))
	for i := range r.lines {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		b = append(b, r.lines[i]...)
	}
	return b
}

// run is witness i's goroutine.
func (c *Client) run(i int) {
	defer c.wg.Done()
	w := c.cfg.Policy.Witnesses[i]
	var held uint64 // what the witness last cosigned (0: unknown)
	var tried uint64
	var retryAt, lastLogged time.Time
	for {
		c.mu.Lock()
		cp := c.newest
		c.mu.Unlock()
		due := cp != nil && (cp.Size > tried || (!retryAt.IsZero() && !time.Now().Before(retryAt)))
		if !due {
			var timer <-chan time.Time
			if !retryAt.IsZero() {
				timer = time.After(time.Until(retryAt))
			}
			select {
			case <-c.wake[i]:
			case <-timer:
			case <-c.ctx.Done():
				return
			}
			continue
		}
		tried = cp.Size
		lines, size, err := c.add(w, cp, held)
		if c.ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		st := &c.state[i]
		if size > 0 {
			st.Size = size
		}
		c.tried[i] = max(c.tried[i], cp.Size)
		failuresBefore := st.Failures
		if err != nil {
			// The size an unsigned answer named is not kept: the next
			// attempt asks the witness afresh (a forged 409 must not
			// silence a witness for good).
			held = 0
			retryAt = time.Now().Add(c.cfg.Retry)
			st.Failures++
			if errors.Is(err, ErrFork) {
				st.Forks++
			}
		} else {
			held = size
			retryAt = time.Time{}
			st.Cosigned++
			if r := c.rounds[cp.Size]; r != nil {
				r.lines[i] = lines
				c.maybeSave(r)
			}
		}
		lastError := st.LastError
		st.LastError = ""
		if err != nil {
			st.LastError = err.Error()
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		c.report(w, cp, err, lastError, &lastLogged, failuresBefore)
	}
}

// report logs an attempt's outcome: every fork (level ERROR); a failure
// when it is new or differs from the last one, and again at most every
// relogEvery while it lasts (level WARN); the first success after
// failures (level INFO), so that a recovery shows in the log too.
func (c *Client) report(w witness.Witness, cp *events.Checkpoint, err error, lastError string, lastLogged *time.Time, failuresBefore uint64) {
	switch {
	case err != nil && errors.Is(err, ErrFork):
		c.cfg.Logger.Error("witness did not cosign the custody log's checkpoint", "witness", w.Name, "size", cp.Size, "err", err)
		*lastLogged = time.Now()
	case err != nil:
		if err.Error() != lastError || time.Since(*lastLogged) >= relogEvery {
			c.cfg.Logger.Warn("witness did not cosign the custody log's checkpoint", "witness", w.Name, "size", cp.Size, "err", err,
				"failures", failuresBefore+1)
			*lastLogged = time.Now()
		}
	case lastError != "":
		c.cfg.Logger.Info("witness cosigns the custody log's checkpoints again", "witness", w.Name, "size", cp.Size, "failures", failuresBefore)
		*lastLogged = time.Time{}
	}
}

// maybeSave records a round whose cosignatures meet the quorum; c.mu is
// held.
func (c *Client) maybeSave(r *round) {
	if r.done {
		return
	}
	n := r.note()
	if !c.cfg.Policy.Satisfied(n) {
		return
	}
	r.done = true
	if c.latest == nil || r.cp.Size > c.latest.Size {
		c.latest, c.latestNote = r.cp, n
	}
	if c.cfg.Save == nil || r.cp.Size <= c.saved {
		return
	}
	c.saved = r.cp.Size
	go func() {
		if err := c.cfg.Save(c.ctx, r.cp, n); err != nil && c.ctx.Err() == nil {
			c.cfg.Logger.Error("a cosigned checkpoint could not be stored", "size", r.cp.Size, "err", err)
		}
	}()
}

// add performs C2SP tlog-witness add-checkpoint for cp, from the size the
// witness is believed to hold, following one 409 to the size it says it
// holds. It returns the verified cosignature lines and the size the
// witness now holds (0 if unknown).
func (c *Client) add(w witness.Witness, cp *events.Checkpoint, held uint64) ([]byte, uint64, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if held > cp.Size {
			return nil, held, fmt.Errorf("%w: the witness holds a checkpoint of %d events, this log has only %d", ErrFork, held, cp.Size)
		}
		var proof [][]byte
		if held > 0 && held < cp.Size {
			p, err := c.cfg.Proof(held, cp.Size)
			if err != nil {
				return nil, 0, fmt.Errorf("consistency proof %d to %d: %w", held, cp.Size, err)
			}
			proof = p
		}
		var body bytes.Buffer
		fmt.Fprintf(&body, "old %d\n", held)
		for _, h := range proof {
			body.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
		}
		body.WriteString("\n")
		body.Write(cp.Note)
		req, err := http.NewRequestWithContext(c.ctx, "POST", w.URL, &body)
		if err != nil {
			return nil, 0, err
		}
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		resp, err := c.cfg.HTTP.Do(req)
		if err != nil {
			return nil, 0, fmt.Errorf("unreachable: %v", err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
		resp.Body.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("reading the answer: %v", err)
		}
		if len(b) > maxResponse {
			return nil, 0, fmt.Errorf("answer over %d bytes", maxResponse)
		}
		switch resp.StatusCode {
		case http.StatusOK:
			lines, err := cosignatures(b, w, cp)
			if err != nil {
				return nil, 0, err
			}
			return lines, cp.Size, nil
		case http.StatusConflict:
			mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if mt != "text/x.tlog.size" {
				// The same size with another root (C2SP tlog-witness
				// v1.0.0 answers 409 without a size).
				return nil, 0, fmt.Errorf("%w: the witness holds another checkpoint of %d events (409: %s)", ErrFork, held, excerpt(b))
			}
			n, err := parseSize(b)
			if err != nil {
				return nil, 0, fmt.Errorf("409 with a %v", err)
			}
			if n == held {
				return nil, 0, fmt.Errorf("409 naming the size %d that was sent", n)
			}
			held = n
			continue
		case http.StatusUnprocessableEntity:
			return nil, held, fmt.Errorf("%w: the witness refused the consistency proof from the %d events it cosigned to %d (422)", ErrFork, held, cp.Size)
		case http.StatusForbidden:
			return nil, 0, fmt.Errorf("the witness does not accept this log's signature: register the log's verifier key there (403: %s)", excerpt(b))
		case http.StatusNotFound:
			return nil, 0, fmt.Errorf("the witness does not know this log's origin %q: register it there (404)", cp.Origin)
		default:
			return nil, 0, fmt.Errorf("answer %d: %s", resp.StatusCode, excerpt(b))
		}
	}
	return nil, held, errors.New("the witness kept answering 409")
}

// cosignatures parses a 200 answer: signature lines ("— NAME BASE64"),
// keeping those of w's key, which must verify over cp.
func cosignatures(b []byte, w witness.Witness, cp *events.Checkpoint) ([]byte, error) {
	var keep []byte
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "\u2014 ") || !strings.HasSuffix(line, "\n") {
			return nil, fmt.Errorf("answer is not signature lines: %s", excerpt(b))
		}
		n, err := note.Open(append(bytes.Clone(cp.Note), line...), note.VerifierList(w.Key))
		if err != nil || len(n.Sigs) != 1 {
			continue
		}
		// One cosignature a witness: more would only lengthen the note
		// past what readers take (events.MaxCheckpointSize).
		keep = []byte(line)
		break
	}
	if keep == nil {
		return nil, fmt.Errorf("no cosignature of the witness's key %s verifies over the checkpoint", w.Key.Name())
	}
	return keep, nil
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// parseSize parses a text/x.tlog.size body: a decimal without leading
// zeroes and a newline.
func parseSize(b []byte) (uint64, error) {
	s, ok := strings.CutSuffix(string(b), "\n")
	if !ok || s == "" || (len(s) > 1 && s[0] == '0') || strings.ContainsAny(s, "+-\n ") {
		return 0, fmt.Errorf("malformed size %q", b)
	}
	return strconv.ParseUint(s, 10, 64)
}

// NoRedirects makes client refuse to follow redirects: a witness or a
// time-stamping authority answers where it was asked, and a redirect to
// an address inside the network (where a metadata or admin service
// answers) is never followed. It returns client.
func NoRedirects(client *http.Client) *http.Client {
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return client
}
