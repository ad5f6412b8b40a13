package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	objfs "github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
	"golang.org/x/mod/sumdb/note"
)

// The history a scale measurement runs on: a vault's custody log as a
// national unit fills it, generated in process in a data folder that a
// `custos server --dev` start made.
//
// The vault is opened here with the configuration the server's --dev
// mode gives it (cmd/custos/server.go: serverFlags.defaults, backends
// and vaultConfig; the embedded backends are opened directly, so that
// this binary does not link every backend the server knows). Persons,
// cases, members, deposits (with their objects) and packages go through
// the vault's own methods; the bulk of the log, the events no request
// but the server's own would write in quantity - views and their
// completions, refusals, sign-ins and sign-outs - is appended through
// the vault's sequencer in batches, as the data structs of vault/types.go
// with data the vault's appliers accept, so that the server replays every
// event at its next start.
//
// The vault's clock is simulated: the history is spread over the time a
// national unit takes to write it (scaleEventSeconds an event, about
// three million events a year), ending an hour before the run. Sessions
// then expire, reviewers' daily exposure spreads over days, and a start
// finishes the retention of recent deposits only, as in a vault that has
// lived that long. The first events (the log's opening, the development
// persons) keep the day of the run.
const (
	// scaleEventSeconds is the simulated time between two events.
	scaleEventSeconds = 10
	// scaleBatch is about how many events one append of the bulk
	// holds. The sequencer signs and stores a checkpoint after each
	// append whose simulated time is at least a second past the last
	// one, so this is also about how many events a stored checkpoint
	// covers (a busy real vault signs one a second).
	scaleBatch = 256
	// scaleDepositsPerMille: one event in about 70 is a deposit.
	scaleDepositsPerMille = 15
	// A case is opened every scaleEventsPerCase events, with its first
	// scaleFirstDeposits items; a person enrolled every
	// scaleEventsPerPerson (after scaleFirstPersons); a package sealed
	// and fetched every scaleEventsPerPackage.
	scaleEventsPerCase    = 2000
	scaleFirstDeposits    = 3
	scaleFirstPersons     = 12
	scaleEventsPerPerson  = 80_000
	scaleEventsPerPackage = 50_000
	// The timeline case: opened at three tenths of the history with
	// scaleTimelineItems items, it collects scaleTimelineEvents events.
	scaleTimelineEvents = 1000
	scaleTimelineItems  = 25
	scaleTimelineCase   = "TIMELINE-1"
)

// history is what generateHistory made, for the measurements.
type history struct {
	Size        uint64
	Checkpoints int
	// CheckpointCost is what a start spends on each (checkpointCost).
	CheckpointCost time.Duration
	// TimelineCase holds about scaleTimelineEvents events.
	TimelineCase string
	// HourCase is a case of the development investigator's, HourItems
	// the items of their cases, OtherItems items of cases they are not
	// assigned to.
	HourCase   string
	HourItems  []string
	OtherItems []string
	// Mix says what the history holds.
	Mix string
	// Generated is how long the generation took.
	Generated time.Duration
}

var scalePurposes = []string{
	"review for victim identification, request 2026/118",
	"categorisation of the seized images under the national scale",
	"comparison with material from the suspect's second phone",
	"preparing the evidence summary for the prosecutor",
	"second review before the charging decision",
	"checking the chat export for contacts with other suspects",
}

// simClock is the vault's clock while the history is generated.
type simClock struct{ ns atomic.Int64 }

func (c *simClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *simClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// genPerson is an investigator or analyst of the bulk, with the session
// their events carry.
type genPerson struct {
	name, role string
	session    string
	expires    time.Time
	left       int // actions before the session's person is done
}

// apiPerson is a person who acts through the vault's methods with a
// session opened by their credential.
type apiPerson struct {
	name, credential string
	p                vault.Principal
	expires          time.Time
}

type genItem struct {
	id, sha256 string
	size       int64
}

// draftMeta is what a queued draft of the bulk is: an access (item is
// the item it views), a completion (of the access queued at position
// access), or neither.
type draftMeta struct {
	item    *genItem
	access  int
	aborted bool
}

type genCase struct {
	id      string
	members []*genPerson
	items   []genItem
}

type generator struct {
	ctx   context.Context
	v     *vault.Vault
	clock *simClock
	rng   *rand.Rand
	n     int
	// batch is about how many events an append of the bulk holds
	// (scaleBatch, or fewer for a log of more checkpoints).
	batch int

	handlers   []*genPerson // investigators and analysts
	custodians [2]*apiPerson
	prosecutor *apiPerson
	cases      []*genCase

	tl       *genCase
	tlEvents int // events naming the timeline case, appended or due
	tlBase   int
	tlFrom   uint64

	// drafts is the bulk queued for the next append, meta says what
	// each is, and inflight are the accesses among them whose
	// completion is not queued yet.
	drafts   []sequencer.Draft
	meta     []draftMeta
	inflight []int

	counts                             map[string]int
	deposits, opened, enrolled, sealed int
}

// generateHistory fills the custody log of the vault in data (made by a
// server start, stopped) up to n events; the vault's log goes to logPath
// and progress to progress.
func generateHistory(data string, n int, logPath string, progress io.Writer) (*history, error) {
	return generateHistoryBatches(data, n, scaleBatch, logPath, progress)
}

// generateHistoryBatches is generateHistory with appends of about batch
// events of the bulk: a checkpoint is stored after each.
func generateHistoryBatches(data string, n, batch int, logPath string, progress io.Writer) (*history, error) {
	ctx := context.Background()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	recovery, err := devRecoveryRecipient(data)
	if err != nil {
		return nil, err
	}
	clock := &simClock{}
	end := time.Now().Add(-time.Hour)
	start := end.Add(-time.Duration(n) * scaleEventSeconds * time.Second)
	clock.set(start)

	// The --dev backends (serverFlags.defaults) and configuration
	// (serverFlags.vaultConfig and the flags' defaults).
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(data, "custody.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	objs, err := objfs.New(ctx, objfs.Config{Dir: filepath.Join(data, "objects"), Now: clock.Now})
	if err != nil {
		return nil, err
	}
	defer objs.Close()
	sealer, err := soft.New(ctx, soft.Config{Dir: filepath.Join(data, "keys")})
	if err != nil {
		return nil, err
	}
	defer sealer.Close()
	v, err := vault.Open(ctx, vault.Config{
		Log: st, Objects: objs, Sealer: sealer,
		KeyringDir: filepath.Join(data, "keyring"), SpoolDir: filepath.Join(data, "spool"),
		TileDir: filepath.Join(data, "tiles"), SnapshotDir: filepath.Join(data, "snapshots"), HashSetDir: filepath.Join(data, "hashsets"),
		RecoveryRecipient: recovery, Retention: 10 * 365 * 24 * time.Hour, PendingRetention: 24 * time.Hour,
		SessionTTL: 12 * time.Hour, InvitationTTL: 72 * time.Hour, RequestTTL: 7 * 24 * time.Hour,
		OIDCClaim: "sub", PDQMaxDistance: 31,
		Logger: textLogger(logf), Now: clock.Now,
	})
	if err != nil {
		return nil, err
	}
	g := &generator{ctx: ctx, v: v, clock: clock, rng: rand.New(rand.NewPCG(uint64(n), 18)), n: n, batch: batch, counts: map[string]int{}}
	if err := g.setup(data); err != nil {
		v.Close()
		return nil, err
	}
	t0 := time.Now()
	next := uint64(n / 10)
	for size := v.Log().Size(); size < uint64(n); size = v.Log().Size() {
		clock.set(start.Add(time.Duration(size) * scaleEventSeconds * time.Second))
		if err := g.requests(size); err != nil {
			v.Close()
			return nil, err
		}
		g.bulk(size)
		if err := g.flush(); err != nil {
			v.Close()
			return nil, err
		}
		if size >= next {
			fmt.Fprintf(progress, "scale %s: %d events (%.0f s)\n", ScaleLabel(n), size, time.Since(t0).Seconds())
			next += uint64(n / 10)
		}
	}
	if err := g.finish(); err != nil {
		v.Close()
		return nil, err
	}
	h := g.result()
	if h.CheckpointCost, h.Checkpoints, err = checkpointCost(ctx, v, st); err != nil {
		v.Close()
		return nil, err
	}
	if err := v.Close(); err != nil {
		return nil, err
	}
	return h, nil
}

// checkpointCost is what a start spends on each stored checkpoint (the
// sequencer's Open: its signature checked, its root compared with the
// tree's), timed over the vault's stored checkpoints, and how many there
// are. The history has one every append (scaleBatch events) where a real
// vault has one every second it writes, so the doc extrapolates from
// this.
func checkpointCost(ctx context.Context, v *vault.Vault, st *sqlite.Store) (time.Duration, int, error) {
	verifier, err := note.NewVerifier(v.VerifierKey())
	if err != nil {
		return 0, 0, err
	}
	cps, err := events.AllCheckpoints(ctx, st)
	if err != nil || len(cps) == 0 {
		return 0, 0, fmt.Errorf("the log's checkpoints: %d, %v", len(cps), err)
	}
	t := time.Now()
	for _, c := range cps {
		cp, err := events.ParseCheckpoint(c.Note, v.Origin(), verifier)
		if err != nil {
			return 0, 0, err
		}
		root, err := v.Log().Tree().Root(cp.Size)
		if err != nil || root != cp.Root {
			return 0, 0, fmt.Errorf("stored checkpoint %d does not match the tree (%v)", cp.Size, err)
		}
	}
	return time.Since(t) / time.Duration(len(cps)), len(cps), nil
}

// devRecoveryRecipient is the recovery recipient of the identity a
// development server generated in DATA/dev/recovery.key (as the
// server's devRecovery reads it).
func devRecoveryRecipient(data string) (string, error) {
	path := filepath.Join(data, "dev", "recovery.key")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil || len(ids) != 1 {
		return "", fmt.Errorf("%s: not an age identity file", path)
	}
	x, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return "", fmt.Errorf("%s: not an X25519 identity", path)
	}
	return x.Recipient().String(), nil
}

// setup takes the development persons the server enrolled: the
// investigator and the analyst work in the bulk, the custodians and the
// prosecutor act through the vault's methods; the prosecutor registers
// a package recipient.
func (g *generator) setup(data string) error {
	api := func(name string) (*apiPerson, error) {
		cred := personCredential(data, name)
		if cred == "" {
			return nil, fmt.Errorf("no credential of %s in %s", name, filepath.Join(data, "dev"))
		}
		return &apiPerson{name: name, credential: cred}, nil
	}
	var err error
	for i, name := range []string{"custodian", "custodian2"} {
		if g.custodians[i], err = api(name); err != nil {
			return err
		}
	}
	if g.prosecutor, err = api("prosecutor"); err != nil {
		return err
	}
	g.handlers = []*genPerson{{name: "investigator", role: vault.RoleInvestigator}, {name: "analyst", role: vault.RoleAnalyst}}
	p, err := g.signIn(g.prosecutor)
	if err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	_, _, err = g.v.SetRecipient(g.ctx, p, id.Recipient().String())
	return err
}

// signIn returns a's principal, signing them in with their credential
// when they have no session or it has expired (on the simulated clock).
func (g *generator) signIn(a *apiPerson) (vault.Principal, error) {
	if a.p.Name != "" && g.clock.Now().Add(time.Minute).Before(a.expires) {
		return a.p, nil
	}
	s, err := g.v.OpenSession(g.ctx, a.credential)
	if err != nil {
		return vault.Principal{}, fmt.Errorf("signing %s in: %w", a.name, err)
	}
	p, err := g.v.Authenticate(s.Token.Reveal())
	if err != nil {
		return vault.Principal{}, err
	}
	a.p, a.expires = p, s.Expires
	g.counts[vault.TypeSessionOpened]++
	return p, nil
}

// sessionOf is the actor of p's next action: in their session, after
// opening one (and signing out of the last, sometimes) when they are
// done with it or it has expired.
func (g *generator) sessionOf(p *genPerson) events.Actor {
	now := g.clock.Now()
	if p.session == "" || p.left <= 0 || !now.Before(p.expires) {
		g.completeSession(p.session)
		if p.session != "" && now.Before(p.expires) && g.rng.IntN(3) == 0 {
			g.add(sequencer.Draft{Type: vault.TypeSessionEnded, Actor: p.actor(),
				Data: vault.SessionEnded{Session: p.session, Reason: "signed out"}}, nil)
		}
		p.session = "se_" + randomHexOf(g.rng, 12)
		p.expires = now.Add(12 * time.Hour).Truncate(time.Second)
		p.left = 4 + g.rng.IntN(24)
		g.add(sequencer.Draft{Type: vault.TypeSessionOpened, Actor: p.actor(),
			Data: vault.SessionOpened{Session: p.session, TokenSHA256: randomHexOf(g.rng, 32), Expires: p.expires.Format(time.RFC3339)}}, nil)
	}
	p.left--
	return p.actor()
}

func (p *genPerson) actor() events.Actor {
	return events.Actor{Person: p.name, Role: p.role, Auth: "local", Session: p.session}
}

// principal is p acting through the vault's methods, in their session;
// the drafts so far (the session's opening) are appended first.
func (g *generator) principal(p *genPerson) (vault.Principal, error) {
	g.sessionOf(p)
	if err := g.flush(); err != nil {
		return vault.Principal{}, err
	}
	return vault.Principal{Name: p.name, Role: p.role, Credential: vault.Credential{Auth: "local", Session: p.session, Expires: p.expires}}, nil
}

// add queues a draft of the bulk; view is the item it views, if it is
// an access (its completion is queued later: completeOne).
func (g *generator) add(d sequencer.Draft, view *genItem) {
	g.drafts = append(g.drafts, d)
	g.meta = append(g.meta, draftMeta{item: view, access: -1})
	if view != nil {
		g.inflight = append(g.inflight, len(g.drafts)-1)
	}
}

// completeOne queues the completion of the i-th access in flight: the
// item streamed in full, or (one time in fifty) cut off by the client.
func (g *generator) completeOne(i int) {
	a := g.inflight[i]
	g.inflight = append(g.inflight[:i], g.inflight[i+1:]...)
	d := g.drafts[a]
	g.drafts = append(g.drafts, sequencer.Draft{Type: vault.TypeItemAccessCompleted, Actor: d.Actor, Case: d.Case, Item: d.Item})
	g.meta = append(g.meta, draftMeta{item: g.meta[a].item, access: a, aborted: g.rng.IntN(50) == 0})
}

// completeSession queues the completions of a session's accesses in
// flight, before the session ends.
func (g *generator) completeSession(session string) {
	for i := 0; i < len(g.inflight); {
		if g.drafts[g.inflight[i]].Actor.Session == session {
			g.completeOne(i)
			continue
		}
		i++
	}
}

// flush appends the queued drafts in one request, the completions of
// every access among them included. A completion names its access by
// position, which is the log's size now plus the access's place in the
// request: the generator is the log's only writer while it runs, and
// the positions are checked against the appended events.
func (g *generator) flush() error {
	for len(g.inflight) > 0 {
		g.completeOne(0)
	}
	if len(g.drafts) == 0 {
		return nil
	}
	base := g.v.Log().Size()
	for i, m := range g.meta {
		if m.access < 0 {
			continue
		}
		done := vault.ItemAccessCompleted{AccessEvent: strconv.FormatUint(base+uint64(m.access), 10), Bytes: m.item.size, SHA256: m.item.sha256}
		if m.aborted {
			done = vault.ItemAccessCompleted{AccessEvent: done.AccessEvent, Bytes: m.item.size / 3, Aborted: "the client closed the connection"}
		}
		g.drafts[i].Data = done
	}
	evs, err := g.v.Log().Append(g.ctx, g.drafts...)
	if err != nil {
		return fmt.Errorf("appending %d events: %w", len(g.drafts), err)
	}
	if evs[0].Seq != base {
		return fmt.Errorf("the bulk's events were appended at %d, not at %d: another writer appended meanwhile", evs[0].Seq, base)
	}
	for _, d := range g.drafts {
		g.counts[d.Type]++
	}
	g.drafts, g.meta = g.drafts[:0], g.meta[:0]
	return nil
}

// requests makes what the log of size events owes through the vault's
// methods: persons, cases (with their first deposits and sometimes a
// second member), the timeline case, deposits and packages.
func (g *generator) requests(size uint64) error {
	for g.enrolled < scaleFirstPersons+int(size)/scaleEventsPerPerson {
		if err := g.enroll(); err != nil {
			return err
		}
	}
	for g.opened < 1+int(size)/scaleEventsPerCase {
		if err := g.openCase(); err != nil {
			return err
		}
	}
	if g.tl == nil && size >= uint64(g.n)*3/10 {
		if err := g.openTimelineCase(size); err != nil {
			return err
		}
	}
	// Deposits come sixteen or more at a time, as the files of one
	// seizure do.
	if owed := int(size)*scaleDepositsPerMille/1000 - g.deposits; owed >= 16 {
		var cs []*genCase
		for range owed {
			cs = append(cs, g.depositCase())
		}
		if err := g.depositInto(cs); err != nil {
			return err
		}
	}
	for g.sealed < int(size)/g.eventsPerPackage() {
		if err := g.sealPackage(); err != nil {
			return err
		}
	}
	return nil
}

// enroll enrols an investigator (or, one time in five, an analyst) the
// way a vault in use does: a custodian asks, another approves, the
// person redeems the two halves of their invitation.
func (g *generator) enroll() error {
	role := vault.RoleInvestigator
	if g.rng.IntN(5) == 0 {
		role = vault.RoleAnalyst
	}
	name := fmt.Sprintf("%s-%03d", role, g.enrolled+1)
	c0, err := g.signIn(g.custodians[0])
	if err != nil {
		return err
	}
	info, err := g.v.EnrollBy(g.ctx, c0, vault.Enrolment{Name: name, Role: role})
	if err != nil {
		return fmt.Errorf("enrolling %s: %w", name, err)
	}
	c1, err := g.signIn(g.custodians[1])
	if err != nil {
		return err
	}
	ap, err := g.v.Approve(g.ctx, c1, info.ID)
	if err != nil {
		return fmt.Errorf("approving %s: %w", name, err)
	}
	if _, err := g.v.RedeemInvitation(g.ctx, name, []string{info.InvitationPart.Reveal(), ap.InvitationPart.Reveal()}); err != nil {
		return fmt.Errorf("redeeming %s's invitation: %w", name, err)
	}
	g.handlers = append(g.handlers, &genPerson{name: name, role: role})
	g.enrolled++
	return nil
}

// openCase opens a case (the first one by the development
// investigator, the second by someone else, the others by anyone), with
// its first deposits and, for three cases in ten, a second member
// assigned by two custodians.
func (g *generator) openCase() error {
	var opener *genPerson
	switch g.opened {
	case 0:
		opener = g.handlers[0]
	case 1:
		opener = g.handlers[1+g.rng.IntN(len(g.handlers)-1)]
	default:
		opener = g.handlers[g.rng.IntN(len(g.handlers))]
	}
	g.opened++
	id := fmt.Sprintf("NCU-%05d", g.opened)
	c, err := g.newCase(opener, id, fmt.Sprintf("Referral %d: abuse material shared on a messaging service", g.opened))
	if err != nil {
		return err
	}
	if g.rng.IntN(10) < 3 {
		other := g.handlers[g.rng.IntN(len(g.handlers))]
		if other != opener {
			if err := g.assign(c, other); err != nil {
				return err
			}
		}
	}
	cs := make([]*genCase, scaleFirstDeposits)
	for i := range cs {
		cs[i] = c
	}
	return g.depositInto(cs)
}

func (g *generator) newCase(opener *genPerson, id, title string) (*genCase, error) {
	p, err := g.principal(opener)
	if err != nil {
		return nil, err
	}
	if err := g.v.OpenCase(g.ctx, p, id, title); err != nil {
		return nil, fmt.Errorf("opening %s: %w", id, err)
	}
	c := &genCase{id: id, members: []*genPerson{opener}}
	g.cases = append(g.cases, c)
	return c, nil
}

// assign adds a member to a case: one custodian asks, the other
// approves.
func (g *generator) assign(c *genCase, p *genPerson) error {
	c0, err := g.signIn(g.custodians[0])
	if err != nil {
		return err
	}
	info, err := g.v.AddMember(g.ctx, c0, c.id, p.name, "")
	if err != nil {
		return fmt.Errorf("assigning %s to %s: %w", p.name, c.id, err)
	}
	c1, err := g.signIn(g.custodians[1])
	if err != nil {
		return err
	}
	if _, err := g.v.Approve(g.ctx, c1, info.ID); err != nil {
		return fmt.Errorf("approving %s on %s: %w", p.name, c.id, err)
	}
	c.members = append(c.members, p)
	return nil
}

// openTimelineCase opens the case whose timeline is measured, with its
// items; from here on it collects views until it names
// scaleTimelineEvents events.
func (g *generator) openTimelineCase(size uint64) error {
	opener := g.handlers[1+g.rng.IntN(len(g.handlers)-1)]
	c, err := g.newCase(opener, scaleTimelineCase, "Timeline: a case followed from referral to trial")
	if err != nil {
		return err
	}
	g.tl = c
	cs := make([]*genCase, scaleTimelineItems)
	for i := range cs {
		cs[i] = c
	}
	if err := g.depositInto(cs); err != nil {
		return err
	}
	g.tlEvents = 1 + scaleTimelineItems
	g.tlBase, g.tlFrom = g.tlEvents, size
	return nil
}

// depositCase is where the next deposit goes: mostly one of the newest
// cases.
func (g *generator) depositCase() *genCase {
	for {
		c := g.cases[g.rng.IntN(len(g.cases))]
		if g.rng.IntN(2) == 0 {
			c = g.cases[max(0, len(g.cases)-1-g.rng.IntN(5))]
		}
		if c != g.tl {
			return c
		}
	}
}

// depositInto deposits one generated file into each case of cs, eight
// at a time, each by one of the case's members.
func (g *generator) depositInto(cs []*genCase) error {
	type job struct {
		c    *genCase
		p    vault.Principal
		name string
		body []byte
	}
	jobs := make([]job, len(cs))
	// One principal per depositor: a session that ended while another
	// of its deposits runs would refuse that deposit.
	principals := map[*genPerson]vault.Principal{}
	for i, c := range cs {
		who := c.members[g.rng.IntN(len(c.members))]
		p, ok := principals[who]
		if !ok {
			var err error
			if p, err = g.principal(who); err != nil {
				return err
			}
			principals[who] = p
		}
		body := make([]byte, 2<<10+g.rng.IntN(30<<10))
		for j := range body {
			body[j] = byte(g.rng.Uint32())
		}
		name := fmt.Sprintf("DCIM/IMG_%05d.JPG", g.deposits+i+1)
		if g.rng.IntN(4) == 0 {
			name = fmt.Sprintf("exports/chat-%05d.html", g.deposits+i+1)
		}
		jobs[i] = job{c, p, name, body}
	}
	items := make([]genItem, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := g.v.Deposit(g.ctx, j.p, vault.DepositRequest{Case: j.c.id, Name: j.name, Body: bytes.NewReader(j.body)})
			if err != nil {
				errs[i] = fmt.Errorf("depositing into %s: %w", j.c.id, err)
				return
			}
			items[i] = genItem{id: res.ID, sha256: res.SHA256, size: res.Size}
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			return errs[i]
		}
		j.c.items = append(j.c.items, items[i])
	}
	g.deposits += len(jobs)
	return nil
}

// eventsPerPackage is how many events of the history come with each
// package sealed: scaleEventsPerPackage, and a quarter of a history
// shorter than 100,000 events (the tests' small ones), so that every
// history seals some.
func (g *generator) eventsPerPackage() int {
	if g.n < 100_000 {
		return max(1, g.n/4)
	}
	return scaleEventsPerPackage
}

// sealPackage seals up to three items of a recent case for the
// prosecutor, who fetches the package.
func (g *generator) sealPackage() error {
	c, sealer, err := g.packageCase()
	if err != nil {
		return err
	}
	p, err := g.principal(sealer)
	if err != nil {
		return err
	}
	var items []string
	for _, it := range c.items[max(0, len(c.items)-3):] {
		items = append(items, it.id)
	}
	pkg, err := g.v.SealPackage(g.ctx, p, vault.SealRequest{Case: c.id, For: g.prosecutor.name, Purpose: "disclosure to the prosecutor for the charging decision", Items: items})
	if err != nil {
		return fmt.Errorf("sealing a package of %s: %w", c.id, err)
	}
	pp, err := g.signIn(g.prosecutor)
	if err != nil {
		return err
	}
	rc, _, err := g.v.FetchPackage(g.ctx, pp, pkg.ID)
	if err != nil {
		return fmt.Errorf("fetching package %s: %w", pkg.ID, err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	g.sealed++
	return err
}

// packageCase chooses the case of the next package, one of the 20
// newest with two items or more (not the timeline's), and who seals it:
// the first of its investigators, since analysts do not seal packages
// (the package.seal entry of vault/askers.go). It draws up to 1,000
// times, and fails if none of those cases has an investigator.
func (g *generator) packageCase() (*genCase, *genPerson, error) {
	for range 1000 {
		c := g.cases[max(0, len(g.cases)-1-g.rng.IntN(20))]
		if c == g.tl || len(c.items) < 2 {
			continue
		}
		if sealer := sealerOf(c); sealer != nil {
			return c, sealer, nil
		}
	}
	return nil, nil, errors.New("sealing a package: no case among the 20 newest has two items or more and an investigator")
}

// sealerOf is the first of c's investigators, or nil if it has none.
func sealerOf(c *genCase) *genPerson {
	for _, m := range c.members {
		if m.role == vault.RoleInvestigator {
			return m
		}
	}
	return nil
}

// bulk queues about scaleBatch events: the timeline case's share, then
// views (most) and their completions, requests for items of cases the
// person is not assigned to and failed sign-ins, refused, with the
// sign-ins and sign-outs they bring.
func (g *generator) bulk(size uint64) {
	if g.tl != nil {
		end := uint64(g.n) * 97 / 100
		target := scaleTimelineEvents
		if size < end && end > g.tlFrom {
			target = g.tlBase + int(uint64(scaleTimelineEvents-g.tlBase)*(size-g.tlFrom)/(end-g.tlFrom))
		}
		for g.tlEvents+2 <= target {
			g.viewTimeline()
		}
	}
	for len(g.drafts) < g.batch {
		switch r := g.rng.IntN(100); {
		case r < 8:
			g.refuseUnassigned()
		case r < 12:
			g.refuseSignIn()
		default:
			g.view()
		}
		if len(g.inflight) > 0 && g.rng.IntN(2) == 0 {
			g.completeOne(g.rng.IntN(len(g.inflight)))
		}
	}
}

// viewCase picks the case of a view: mostly one of the 30 newest, else
// any (an old case reviewed for trial); never the timeline case.
func (g *generator) viewCase() *genCase {
	for {
		var c *genCase
		if g.rng.IntN(4) > 0 {
			c = g.cases[max(0, len(g.cases)-1-g.rng.IntN(30))]
		} else {
			c = g.cases[g.rng.IntN(len(g.cases))]
		}
		if c != g.tl && len(c.items) > 0 {
			return c
		}
	}
}

func (g *generator) view() {
	c := g.viewCase()
	g.viewIn(c, c.members[g.rng.IntN(len(c.members))])
}

func (g *generator) viewIn(c *genCase, p *genPerson) {
	it := &c.items[g.rng.IntN(len(c.items))]
	a := g.sessionOf(p)
	g.add(sequencer.Draft{Type: vault.TypeItemAccessed, Actor: a, Case: c.id, Item: it.id,
		Data: vault.ItemAccessed{Purpose: scalePurposes[g.rng.IntN(len(scalePurposes))], Access: "view"}}, it)
}

func (g *generator) viewTimeline() {
	g.viewIn(g.tl, g.tl.members[0])
	g.tlEvents += 2
}

// refuseUnassigned is an investigator asking for an item of a case they
// are not assigned to, refused as the vault records it.
func (g *generator) refuseUnassigned() {
	p := g.handlers[g.rng.IntN(len(g.handlers))]
	var c *genCase
	for tries := 0; c == nil || member(c, p); tries++ {
		if tries == 10 {
			g.view()
			return
		}
		c = g.viewCase()
	}
	it := c.items[g.rng.IntN(len(c.items))]
	g.add(sequencer.Draft{Type: vault.TypeAccessRefused, Actor: g.sessionOf(p), Case: c.id, Item: it.id,
		Data: vault.AccessRefused{Action: "item.get", Target: it.id, Reason: "only investigators and analysts assigned to the case view its items", Grounds: vault.GroundsPermission}}, nil)
}

func member(c *genCase, p *genPerson) bool {
	for _, m := range c.members {
		if m == p {
			return true
		}
	}
	return false
}

// refuseSignIn is a sign-in without a valid credential, as the API
// records it: the first of a window alone, one time in four a summary
// of the window's others.
func (g *generator) refuseSignIn() {
	d := vault.AccessRefused{Action: "session.open", Reason: "no valid credentials", Grounds: vault.GroundsCredentials, Source: fmt.Sprintf("10.20.%d.%d", g.rng.IntN(4), 2+g.rng.IntN(250))}
	if g.rng.IntN(4) == 0 {
		now := g.clock.Now()
		d.Count = 2 + int64(g.rng.IntN(30))
		d.First, d.Last = now.Add(-time.Minute).Format(time.RFC3339Nano), now.Add(-time.Second).Format(time.RFC3339Nano)
	}
	g.add(sequencer.Draft{Type: vault.TypeAccessRefused, Actor: events.Actor{Auth: "none"}, Data: d}, nil)
}

// finish completes the timeline case's share and appends what is queued.
func (g *generator) finish() error {
	for g.tl != nil && g.tlEvents+2 <= scaleTimelineEvents {
		g.viewTimeline()
	}
	if g.tl != nil && g.tlEvents < scaleTimelineEvents {
		var other *genPerson
		for _, p := range g.handlers {
			if !member(g.tl, p) {
				other = p
			}
		}
		if other != nil {
			it := g.tl.items[0]
			g.add(sequencer.Draft{Type: vault.TypeAccessRefused, Actor: g.sessionOf(other), Case: g.tl.id, Item: it.id,
				Data: vault.AccessRefused{Action: "item.get", Target: it.id, Reason: "only investigators and analysts assigned to the case view its items", Grounds: vault.GroundsPermission}}, nil)
			g.tlEvents++
		}
	}
	return g.flush()
}

// result describes the history for the measurements.
func (g *generator) result() *history {
	h := &history{Size: g.v.Log().Size()}
	if g.tl != nil {
		h.TimelineCase = g.tl.id
	}
	dev := g.handlers[0]
	for _, c := range g.cases {
		if c == g.tl {
			continue
		}
		mine := member(c, dev)
		for _, it := range c.items {
			if mine {
				h.HourItems = append(h.HourItems, it.id)
			} else {
				h.OtherItems = append(h.OtherItems, it.id)
			}
		}
		if mine && len(c.items) > 0 {
			h.HourCase = c.id
		}
	}
	share := func(k int) string { return fmt.Sprintf("%.1f %%", 100*float64(k)/float64(h.Size)) }
	var mix []string
	for _, t := range []struct{ name, typ string }{
		{"views", vault.TypeItemAccessed}, {"view completions", vault.TypeItemAccessCompleted},
		{"refusals", vault.TypeAccessRefused}, {"sign-ins", vault.TypeSessionOpened}, {"sign-outs", vault.TypeSessionEnded},
	} {
		mix = append(mix, t.name+" "+share(g.counts[t.typ]))
	}
	mix = append(mix, "deposits "+share(g.deposits), fmt.Sprintf("%d cases", len(g.cases)),
		fmt.Sprintf("%d persons", len(g.handlers)+5), fmt.Sprintf("%d packages", g.sealed))
	h.Mix = strings.Join(mix, ", ")
	return h
}
