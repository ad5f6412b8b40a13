package api

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/custos-vault/custos/vault"
)

// overflowKey stands for every client address once a table is full: new
// addresses then share one entry instead of growing the table.
const overflowKey = "*"

// clientIP returns the IP address of the request's peer (RemoteAddr
// without its port). Forwarding headers are not trusted: behind a proxy
// every request has the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateLimiter is a token bucket per client address: rate tokens a second
// up to burst. The table holds at most max addresses; when it is full,
// buckets that have refilled (the same as absent) are dropped, and if none
// has, new addresses share one overflow bucket.
type rateLimiter struct {
	rate, burst float64
	max         int

	mu      sync.Mutex
	buckets map[string]*bucket
	pruned  time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(rate float64, burst, max int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), max: max, buckets: map[string]*bucket{}}
}

// allow takes a token of key's bucket at now; without one it returns how
// long until the next.
func (l *rateLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil && len(l.buckets) >= l.max {
		l.prune(now)
		if len(l.buckets) >= l.max {
			key = overflowKey
			b = l.buckets[key]
		}
	}
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// prune drops full buckets, at most once a second.
func (l *rateLimiter) prune(now time.Time) {
	if now.Sub(l.pruned) < time.Second {
		return
	}
	l.pruned = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// LimitListener returns a listener that closes, as soon as they are
// accepted, connections from a client address (IP) that already has
// perClient open connections. Its table holds only addresses with open
// connections.
func LimitListener(ln net.Listener, perClient int) net.Listener {
	return &limitListener{Listener: ln, per: perClient, open: map[string]int{}}
}

type limitListener struct {
	net.Listener
	per int

	mu   sync.Mutex
	open map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			host = c.RemoteAddr().String()
		}
		l.mu.Lock()
		if l.open[host] >= l.per {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &limitConn{Conn: c, l: l, host: host}, nil
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.host]--; c.l.open[c.host] <= 0 {
			delete(c.l.open, c.host)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// minRateBody cuts a request body that delivers fewer than need bytes
// while the server waits window for them. Mainly the time spent waiting
// in Read counts, so that a server slow to read (a busy object store, a
// loaded machine) does not make a client look slow; but a body that stays
// under need bytes for wallFactor windows of wall time is cut too, so that
// a trickling client cannot hold a connection for ever on a busy server.
// Before each Read the connection's read deadline is set to what is left,
// so a body that stops entirely fails its Read with a timeout, which the
// handler sees as an interrupted upload. At the end of the body the
// deadline is cleared: the handler may take its time to answer.
type minRateBody struct {
	r      io.ReadCloser
	rc     *http.ResponseController
	need   int64
	window time.Duration
	got    int64         // bytes since the window began
	waited time.Duration // time spent in Read since the window began
	began  time.Time     // when the window began
	done   bool
}

// wallFactor bounds a window in wall time, as a multiple of its waiting
// time.
const wallFactor = 4

func limitBodyRate(w http.ResponseWriter, r *http.Request, rate int64, window time.Duration) {
	if rate <= 0 || window <= 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(window)) != nil {
		return
	}
	r.Body = &minRateBody{r: r.Body, rc: rc, need: max(1, int64(window.Seconds()*float64(rate))), window: window, began: time.Now()}
}

func (b *minRateBody) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	start := time.Now()
	deadline := start.Add(b.window - b.waited)
	if wall := b.began.Add(wallFactor * b.window); wall.Before(deadline) {
		deadline = wall
	}
	b.rc.SetReadDeadline(deadline)
	n, err := b.r.Read(p)
	now := time.Now()
	b.waited += now.Sub(start)
	b.got += int64(n)
	stalled := fmt.Errorf("%w: the upload stalled: fewer than %d bytes arrived in %s", vault.ErrBadInput, b.need, b.window)
	switch {
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		return n, stalled
	case err != nil:
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case b.got >= b.need:
		b.got, b.waited, b.began = 0, 0, now
	case b.waited >= b.window || now.Sub(b.began) >= wallFactor*b.window:
		return n, stalled
	}
	return n, err
}

func (b *minRateBody) Close() error { return b.r.Close() }

// stallWriter cuts a response that a client stops reading: before each
// Write the connection's write deadline is set stall ahead, so a Write
// that cannot hand its bytes to the connection within stall fails, and a
// streaming handler then cuts the connection.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (s *stallWriter) Write(p []byte) (int, error) {
	s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	n, err := s.ResponseWriter.Write(p)
	// Time spent between writes (decrypting, waiting for the custody
	// log) is not the client's stall.
	s.rc.SetWriteDeadline(time.Time{})
	return n, err
}

// FlushError flushes what is buffered to the connection within stall, as
// Write does (http.ResponseController.Flush calls it): a handler that
// flushes to learn whether the client took the end of its answer is not
// held by one that stopped reading.
func (s *stallWriter) FlushError() error {
	s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	err := s.rc.Flush()
	s.rc.SetWriteDeadline(time.Time{})
	return err
}

// Unwrap lets http.ResponseController reach the connection.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
