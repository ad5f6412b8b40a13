package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault/api"
	"golang.org/x/mod/sumdb/note"
)

// The load: how many workers of each kind, and how long each pauses
// between two operations. Deposits and views carry the bytes; packages,
// refusals and checkpoint reads are fewer and lighter. On the 2-core
// machine this keeps the server on about a third of a core, busy but far
// from saturated, leaving room for the clients and the backends.
const (
	depositWorkers = 3
	viewWorkers    = 2
	depositPause   = 200 * time.Millisecond // plus up to as much again
	viewPause      = 60 * time.Millisecond
	packagePause   = 2 * time.Second
	refusalPause   = time.Second
	checkpointRead = 2 * time.Second
	// A consistency proof between the last proven checkpoint and the
	// newest is asked for at most this often.
	proofEvery = 15 * time.Second
	// Deposits are 4 KiB to 4 MiB, spread evenly over the powers of two
	// between (half of them are under 128 KiB).
	minDeposit = 4 << 10
	maxDeposit = 4 << 20
	// Items sealed in a package are at most this large, 1 to 3 a package.
	maxPackaged = 1 << 20
	// Every verifyEvery-th package is checked offline by custos-verify.
	verifyEvery = 5
	// Longest a single operation may take before it counts as an error.
	opTimeout = 5 * time.Minute
)

// item is an acknowledged deposit, as the client sent it.
type item struct {
	id, caseID, sha256 string
	size               int64
}

// load drives one server with the workers above and keeps what each
// acknowledged.
type load struct {
	s        *server
	tokens   map[string]string // session token of each development person
	cases    []string
	origin   string
	key      string // the log's verifier key
	verifier note.Verifier
	idents   map[string]string // age identity file of the prosecutor and defence

	mu         sync.Mutex
	items      []item
	forProsec  []string // packages sealed for the prosecutor
	refusedFor string   // an item a prosecutor was refused
	errs       []string
	nerrs      int

	deposits, depositBytes, views, viewBytes       atomic.Int64
	packages, packageBytes, verified, refusals     atomic.Int64
	checkpoints, newCheckpoints, proofs, readbacks atomic.Int64
}

func (l *load) fail(op string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nerrs++
	if len(l.errs) < 20 {
		l.errs = append(l.errs, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05"), op, err))
	}
}

func (l *load) errors() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nerrs, slices.Clone(l.errs)
}

// worker runs op until stop is done, pausing between operations. An
// operation that has started always finishes: stopping never cuts a
// deposit, so every acknowledged one is known.
func (l *load) worker(stop context.Context, wg *sync.WaitGroup, name string, seed uint64, pause func(*rand.Rand) time.Duration, op func(context.Context, *rand.Rand) error) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 0x50a1c))
		for stop.Err() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			if err := op(ctx, r); err != nil {
				l.fail(name, err)
			}
			cancel()
			select {
			case <-stop.Done():
			case <-time.After(pause(r)):
			}
		}
	}()
}

// start runs every worker until stop is done; wait on wg for them.
func (l *load) start(stop context.Context, wg *sync.WaitGroup) {
	fixed := func(d time.Duration) func(*rand.Rand) time.Duration {
		return func(*rand.Rand) time.Duration { return d }
	}
	for i := range depositWorkers {
		buf := make([]byte, maxDeposit)
		src := rand.NewChaCha8([32]byte{byte(i), 's', 'o', 'a', 'k'})
		l.worker(stop, wg, "deposit", uint64(10+i), func(r *rand.Rand) time.Duration {
			return depositPause + rand.N(depositPause)
		}, func(ctx context.Context, r *rand.Rand) error { return l.deposit(ctx, r, src, buf) })
	}
	for i := range viewWorkers {
		l.worker(stop, wg, "view", uint64(20+i), fixed(viewPause), l.view)
	}
	var sealed atomic.Int64
	l.worker(stop, wg, "package", 30, fixed(packagePause), func(ctx context.Context, r *rand.Rand) error {
		return l.seal(ctx, r, sealed.Add(1))
	})
	var refused atomic.Int64
	l.worker(stop, wg, "refusal", 40, fixed(refusalPause), func(ctx context.Context, r *rand.Rand) error {
		return l.refuse(ctx, r, refused.Add(1))
	})
	var cps checkpoints
	l.worker(stop, wg, "checkpoint", 50, fixed(checkpointRead), func(ctx context.Context, r *rand.Rand) error {
		return l.checkpoint(ctx, &cps)
	})
}

func (l *load) pick(r *rand.Rand) (item, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) == 0 {
		return item{}, false
	}
	return l.items[r.IntN(len(l.items))], true
}

func (l *load) acknowledged() []item {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// deposit uploads size random bytes (size log-uniform between minDeposit
// and maxDeposit) to a random case, as the investigator, with the
// SHA-256 trailer the CLI sends, and keeps the acknowledged item.
func (l *load) deposit(ctx context.Context, r *rand.Rand, src *rand.ChaCha8, buf []byte) error {
	size := int(minDeposit * math.Pow(2, r.Float64()*math.Log2(maxDeposit/minDeposit)))
	b := buf[:size]
	src.Read(b)
	sum := sha256.Sum256(b)
	caseID := l.cases[r.IntN(len(l.cases))]
	name := fmt.Sprintf("capture-%d.bin", l.deposits.Load()+1)
	it, err := l.depositAs(ctx, "investigator", caseID, name, b, hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.items = append(l.items, it)
	l.mu.Unlock()
	l.deposits.Add(1)
	l.depositBytes.Add(int64(size))
	return nil
}

func (l *load) depositAs(ctx context.Context, person, caseID, name string, b []byte, sum string) (item, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", l.s.url+"/v1/cases/"+caseID+"/items?name="+url.QueryEscape(name), io.NopCloser(bytes.NewReader(b)))
	if err != nil {
		return item{}, err
	}
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+l.tokens[person])
	req.Trailer = http.Header{api.HeaderContentSHA256: {sum}}
	resp, err := l.s.client.Do(req)
	if err != nil {
		return item{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return item{}, err
	}
	if resp.StatusCode != http.StatusCreated {
		return item{}, fmt.Errorf("deposit of %d bytes: HTTP %d %s", len(b), resp.StatusCode, bytes.TrimSpace(body))
	}
	var res api.DepositResponse
	if err := json.Unmarshal(body, &res); err != nil {
		return item{}, err
	}
	if res.ID == "" || res.SHA256 != sum || res.Size != int64(len(b)) {
		return item{}, fmt.Errorf("deposit acknowledged as %s, %d bytes, SHA-256 %s; sent %d bytes, %s", res.ID, res.Size, res.SHA256, len(b), sum)
	}
	return item{id: res.ID, caseID: caseID, sha256: sum, size: res.Size}, nil
}

// read views an item as person with a purpose and checks that the
// plaintext has the deposit's SHA-256. It returns the HTTP status of a
// refusal with a nil error, so that callers expecting one can judge it.
func (l *load) read(ctx context.Context, person string, it item, purpose string) (code int, n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", l.s.url+"/v1/items/"+it.id+"?purpose="+url.QueryEscape(purpose), nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+l.tokens[person])
	resp, err := l.s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, 0, errors.New(strings.TrimSpace(string(b)))
	}
	h := sha256.New()
	n, err = io.Copy(h, resp.Body)
	if err != nil {
		return resp.StatusCode, n, fmt.Errorf("reading %s: %w", it.id, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != it.sha256 || n != it.size || resp.Header.Get(api.HeaderSHA256) != it.sha256 {
		return resp.StatusCode, n, fmt.Errorf("%s read back as %d bytes with SHA-256 %s (header %s); deposited %d bytes, %s",
			it.id, n, got, resp.Header.Get(api.HeaderSHA256), it.size, it.sha256)
	}
	return resp.StatusCode, n, nil
}

// view: the investigator views a random item, stating a purpose.
func (l *load) view(ctx context.Context, r *rand.Rand) error {
	it, ok := l.pick(r)
	if !ok {
		return nil
	}
	code, n, err := l.read(ctx, "investigator", it, "soak: review of the capture")
	if code != http.StatusOK {
		return fmt.Errorf("view of %s: HTTP %d %v", it.id, code, err)
	}
	if err != nil {
		return err
	}
	l.views.Add(1)
	l.viewBytes.Add(n)
	return nil
}

// seal seals 1 to 3 small items of a random case into a package, for the
// prosecutor (sealed by the investigator) or defence counsel (sealed by a
// custodian) in turn; the recipient fetches it and checks its SHA-256,
// and every verifyEvery-th package is checked offline with custos-verify
// and the recipient's identity.
func (l *load) seal(ctx context.Context, r *rand.Rand, n int64) error {
	caseID := l.cases[r.IntN(len(l.cases))]
	var small []string
	for _, it := range l.acknowledged() {
		if it.caseID == caseID && it.size <= maxPackaged {
			small = append(small, it.id)
		}
	}
	if len(small) == 0 {
		return nil
	}
	r.Shuffle(len(small), func(i, j int) { small[i], small[j] = small[j], small[i] })
	small = small[:min(len(small), 1+r.IntN(3))]
	sealer, recipient := "investigator", "prosecutor"
	if n%2 == 0 {
		sealer, recipient = "custodian", "defence"
	}
	body, _ := json.Marshal(api.PackageRequest{Case: caseID, For: recipient, Purpose: "soak: disclosure bundle", Items: small})
	var sealed api.PackageResponse
	code, b, err := l.s.do(ctx, l.tokens[sealer], "POST", "/v1/packages", "application/json", bytes.NewReader(body), &sealed)
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("seal for %s: HTTP %d %v %s", recipient, code, err, bytes.TrimSpace(b))
	}
	if sealed.ID == "" || sealed.Items != len(small) {
		return fmt.Errorf("sealed %+v for %d items", sealed, len(small))
	}
	req, err := http.NewRequestWithContext(ctx, "GET", l.s.url+"/v1/packages/"+sealed.ID, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.tokens[recipient])
	resp, err := l.s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("fetch of %s by %s: HTTP %d %s", sealed.ID, recipient, resp.StatusCode, bytes.TrimSpace(b))
	}
	verify := n%verifyEvery == 0
	h := sha256.New()
	var w io.Writer = h
	path := filepath.Join(l.s.tmp, sealed.ID+".tar")
	if verify {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer os.Remove(path)
		defer f.Close()
		w = io.MultiWriter(h, f)
	}
	size, err := io.Copy(w, resp.Body)
	if err != nil {
		return fmt.Errorf("fetch of %s: %w", sealed.ID, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sealed.SHA256 || size != sealed.Size {
		return fmt.Errorf("package %s fetched as %d bytes, %s; sealed as %d bytes, %s", sealed.ID, size, got, sealed.Size, sealed.SHA256)
	}
	if verify {
		out, errOut, code, err := l.s.run("", "custos-verify", path, "--key", l.key, "--identity", l.idents[recipient])
		if err != nil || code != 0 || !strings.Contains(out, "VERIFIED") {
			return fmt.Errorf("custos-verify %s: exit %d %v\n%s%s", sealed.ID, code, err, out, errOut)
		}
		l.verified.Add(1)
	}
	if recipient == "prosecutor" {
		l.mu.Lock()
		l.forProsec = append(l.forProsec, sealed.ID)
		l.mu.Unlock()
	}
	l.packages.Add(1)
	l.packageBytes.Add(size)
	return nil
}

// refuse makes one request its person may not make, in turn: a
// prosecutor and an auditor viewing an item, defence counsel fetching
// the prosecutor's package, an analyst listing a case they are not
// assigned to, an investigator reading the custody log. Each must be
// refused (403, or 404 where the vault does not tell whether the target
// exists); the vault records each refusal.
func (l *load) refuse(ctx context.Context, r *rand.Rand, n int64) error {
	it, ok := l.pick(r)
	if !ok {
		return nil
	}
	var person, path string
	switch n % 5 {
	case 0:
		person, path = "prosecutor", "/v1/items/"+it.id+"?purpose=curious"
		l.mu.Lock()
		if l.refusedFor == "" {
			l.refusedFor = it.id
		}
		l.mu.Unlock()
	case 1:
		person, path = "auditor", "/v1/items/"+it.id+"?purpose=curious"
	case 2:
		l.mu.Lock()
		pkgs := slices.Clone(l.forProsec)
		l.mu.Unlock()
		if len(pkgs) == 0 {
			person, path = "defence", "/v1/items/"+it.id+"?purpose=curious"
		} else {
			person, path = "defence", "/v1/packages/"+pkgs[r.IntN(len(pkgs))]
		}
	case 3:
		person, path = "analyst", "/v1/cases/"+it.caseID+"/items"
	case 4:
		person, path = "investigator", "/v1/log/timeline?item="+it.id
	}
	code, b, err := l.s.do(ctx, l.tokens[person], "GET", path, "", nil, nil)
	if err != nil {
		return fmt.Errorf("%s GET %s: %w", person, path, err)
	}
	if code != http.StatusForbidden && code != http.StatusNotFound {
		return fmt.Errorf("%s GET %s was not refused: HTTP %d %.200s", person, path, code, b)
	}
	l.refusals.Add(1)
	return nil
}

// checkpoints is what the checkpoint reader has seen.
type checkpoints struct {
	last, proven *events.Checkpoint
	provenAt     time.Time
}

// checkpoint reads the published checkpoint (GET /checkpoint, no
// sign-in), checks its signature with the log's key and that the log
// never shrinks, and now and then has the auditor prove that it extends
// the last one proven (GET /v1/log/consistency).
func (l *load) checkpoint(ctx context.Context, c *checkpoints) error {
	code, b, err := l.s.do(ctx, "", "GET", "/checkpoint", "", nil, nil)
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("GET /checkpoint: HTTP %d %v %s", code, err, b)
	}
	cp, err := events.ParseCheckpoint(b, l.origin, l.verifier)
	if err != nil {
		return fmt.Errorf("GET /checkpoint: %w", err)
	}
	l.checkpoints.Add(1)
	if c.last != nil {
		switch {
		case cp.Size < c.last.Size:
			return fmt.Errorf("the checkpoint went back from %d to %d events", c.last.Size, cp.Size)
		case cp.Size == c.last.Size && cp.Root != c.last.Root:
			return fmt.Errorf("two checkpoints of %d events with different roots", cp.Size)
		}
	}
	if c.last == nil || cp.Size > c.last.Size {
		l.newCheckpoints.Add(1)
	}
	c.last = cp
	if c.proven == nil {
		c.proven, c.provenAt = cp, time.Now()
		return nil
	}
	if cp.Size == c.proven.Size || time.Since(c.provenAt) < proofEvery {
		return nil
	}
	var p api.ConsistencyResponse
	q := fmt.Sprintf("/v1/log/consistency?from=%d&to=%d", c.proven.Size, cp.Size)
	if code, b, err := l.s.do(ctx, l.tokens["auditor"], "GET", q, "", nil, &p); err != nil || code != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d %v %s", q, code, err, b)
	}
	proof := make([][]byte, len(p.Proof))
	for i, h := range p.Proof {
		if proof[i], err = hex.DecodeString(h); err != nil {
			return fmt.Errorf("GET %s: %w", q, err)
		}
	}
	if err := events.VerifyConsistency(c.proven.Size, cp.Size, proof, c.proven.Root, cp.Root); err != nil {
		return fmt.Errorf("checkpoint of %d events does not extend the one of %d: %w", cp.Size, c.proven.Size, err)
	}
	l.proofs.Add(1)
	c.proven, c.provenAt = cp, time.Now()
	return nil
}

// readBack reads every acknowledged deposit, two at a time, and returns
// the items that did not read back with their SHA-256.
func (l *load) readBack(items []item) []string {
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
		next   atomic.Int64
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(items) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
				code, _, err := l.read(ctx, "investigator", items[i], "soak: read back every deposit")
				cancel()
				if code == http.StatusOK && err == nil {
					l.readbacks.Add(1)
					continue
				}
				if err == nil {
					err = errors.New("no body")
				}
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s: HTTP %d %v", items[i].id, code, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}
