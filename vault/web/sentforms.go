package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/custos-vault/custos/vault"
)

// sentForms remembers, for this server's life, the forms sent with a
// one-time value ("once", made when the form is shown): a reload of the
// answer page, or a second click while the first answer is still being
// made (a sealing of a large case takes minutes), is answered with what
// the first did instead of doing it again. Sendings are remembered per
// person (a form's value is bound to the person who sent it, and to what
// it was sent for), at most maxSentForms each, so that no one's sendings
// push out another's. A restart forgets them, as it invalidates every
// open form's CSRF token anyway.
type sentForms struct {
	mu       sync.Mutex
	byPerson map[string]*personForms
}

// personForms are one person's remembered sendings, oldest first in
// order.
type personForms struct {
	m     map[string]*sentForm
	order []string
}

// sentForm is what one sending did: nothing yet (under way), or its
// outcome, which the page shows again.
type sentForm struct {
	done    bool
	outcome any
}

// maxSentForms bounds how many sendings are remembered per person; the
// oldest finished ones are forgotten first.
const maxSentForms = 256

// newOnce is a form's one-time value: 128 random bits, in hex.
func newOnce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validOnce: a value newOnce makes (32 lowercase hex digits).
func validOnce(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && s == strings.ToLower(s)
}

// begin marks person's sending key as under way. fresh: it was not sent
// before; else prev is what the earlier sending did (nil while it is
// under way).
func (f *sentForms) begin(person, key string) (prev *sentForm, fresh bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byPerson == nil {
		f.byPerson = map[string]*personForms{}
	}
	p := f.byPerson[person]
	if p == nil {
		p = &personForms{m: map[string]*sentForm{}}
		f.byPerson[person] = p
	}
	if s, ok := p.m[key]; ok {
		if !s.done {
			return nil, false
		}
		return s, false
	}
	for len(p.m) >= maxSentForms && p.evictOne() {
	}
	p.m[key] = &sentForm{}
	p.order = append(p.order, key)
	return nil, true
}

// evictOne forgets the oldest finished sending; false if none is.
func (p *personForms) evictOne() bool {
	for i, k := range p.order {
		if s := p.m[k]; s == nil || s.done {
			delete(p.m, k)
			p.order = append(p.order[:i], p.order[i+1:]...)
			return true
		}
	}
	return false
}

// finish records what person's sending key did.
func (f *sentForms) finish(person, key string, outcome any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.byPerson[person]; p != nil && p.m[key] != nil {
		p.m[key].done, p.m[key].outcome = true, outcome
	}
}

// forget drops person's sending key: it failed, so the form may be
// sent again (corrected, or to try again).
func (f *sentForms) forget(person, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.byPerson[person]
	if p == nil {
		return
	}
	delete(p.m, key)
	for i, k := range p.order {
		if k == key {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

// sendOnce does what person's sending key of a form asks at most once:
// sent again, it is answered by show with what the first sending did
// (again true), or, while the first is still under way, refused as a
// conflict saying underWay. do returns what to show now and what to
// remember for later sendings (without anything shown only once, such
// as an invitation half). A sending that failed is forgotten, so that
// the form may be sent again.
func (h *Handler) sendOnce(person, key, underWay string, do func() (shown, kept any, err error), show func(outcome any, again bool) error) error {
	if prev, fresh := h.sent.begin(person, key); !fresh {
		if prev == nil {
			return fmt.Errorf("%w: %s", vault.ErrConflict, underWay)
		}
		return show(prev.outcome, true)
	}
	shown, kept, err := do()
	if err != nil {
		h.sent.forget(person, key)
		return err
	}
	h.sent.finish(person, key, kept)
	return show(shown, false)
}
