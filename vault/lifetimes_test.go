package vault

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A session or a request opened while the server ran with a longer life
// (--session-ttl or --request-ttl of a year, then the configuration put
// back) outlived the configuration put back: a session opened under a
// year's life still signed its person in after a restart with twelve
// hours, and a request could still be approved past the life in force.
// Both end as the configuration in force says, counted from their
// sign-in and their opening.
func TestLifetimesEndAsTheConfigurationInForce(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t, func(c *Config) {
		c.SessionTTL = 365 * 24 * time.Hour
		c.RequestTTL = 30 * 24 * time.Hour
	})
	start := time.Now()
	tok, err := v.Enroll(ctx, "ben", RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.OpenSession(ctx, tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "ana": RoleAnalyst})
	if _, err := v.Suspend(ctx, cs["c1"], "ana", "on leave"); err != nil {
		t.Fatal(err)
	}
	req, err := v.Reinstate(ctx, cs["c1"], "ana", "back from leave")
	if err != nil {
		t.Fatal(err)
	}

	// The restart with the configuration put back.
	v.cfg.SessionTTL, v.cfg.RequestTTL = 12*time.Hour, 24*time.Hour
	later := func(d time.Duration) { v.cfg.Now = func() time.Time { return start.Add(d) } }
	later(11 * time.Hour)
	who, err := v.Authenticate(s.Token.Reveal())
	if err != nil {
		t.Fatalf("within the life now in force: %v", err)
	}
	if who.Credential.Expires.After(start.Add(12*time.Hour + time.Minute)) {
		t.Errorf("the session says it lasts until %s, past the twelve hours now in force", who.Credential.Expires)
	}
	later(13 * time.Hour)
	if _, err := v.Authenticate(s.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "session life") {
		t.Errorf("a session opened under a year's life, thirteen hours on with twelve in force: %v", err)
	}
	for _, p := range v.Requests(cs["c2"]) {
		if p.ID == req.ID && p.Expires.After(start.Add(24*time.Hour+time.Minute)) {
			t.Errorf("the pending request is listed as open until %s, past the day now in force", p.Expires)
		}
	}
	later(25 * time.Hour)
	if _, err := v.Approve(ctx, cs["c2"], req.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("a request opened under a month's life, approved 25 hours on with a day in force: %v", err)
	}
	for _, p := range v.Requests(cs["c2"]) {
		if p.ID == req.ID {
			t.Errorf("a request past the life now in force is still listed as pending, until %s", p.Expires)
		}
	}
}
