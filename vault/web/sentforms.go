package web

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
)

// sentForms remembers, for this server's life, the forms sent with a
// one-time value ("once", made when the form is shown): a reload of the
// answer page, or a second click while the first answer is still being
// made (a sealing of a large case takes minutes), is answered with what
// the first did instead of doing it again. A form's value is bound to the
// person who sent it. A restart forgets them, as it invalidates every
// open form's CSRF token anyway.
type sentForms struct {
	mu    sync.Mutex
	m     map[string]*sentForm
	order []string // oldest first, for the bound
}

// sentForm is what one sending did: nothing yet (under way), or its
// outcome, which the page shows again.
type sentForm struct {
	done    bool
	outcome any
}

// maxSentForms bounds how many sendings are remembered; the oldest
// finished ones are forgotten first.
const maxSentForms = 4096

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

// begin marks key as being sent. fresh: it was not sent before; else
// prev is what the earlier sending did (nil while it is under way).
func (f *sentForms) begin(key string) (prev *sentForm, fresh bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*sentForm{}
	}
	if p, ok := f.m[key]; ok {
		if !p.done {
			return nil, false
		}
		return p, false
	}
	for len(f.m) >= maxSentForms && f.evictOne() {
	}
	f.m[key] = &sentForm{}
	f.order = append(f.order, key)
	return nil, true
}

// evictOne forgets the oldest finished sending; false if none is.
func (f *sentForms) evictOne() bool {
	for i, k := range f.order {
		if p := f.m[k]; p == nil || p.done {
			delete(f.m, k)
			f.order = append(f.order[:i], f.order[i+1:]...)
			return true
		}
	}
	return false
}

// finish records what the sending of key did.
func (f *sentForms) finish(key string, outcome any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.m[key]; p != nil {
		p.done, p.outcome = true, outcome
	}
}

// forget drops key: its sending failed and changed nothing a second
// sending would repeat, so the form may be sent again (corrected).
func (f *sentForms) forget(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	for i, k := range f.order {
		if k == key {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}
