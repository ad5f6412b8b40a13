package events

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// ParseCanonical parses b when it is an event's canonical encoding
// (docs/custody-log.md 2.2) in the form the vault writes every event:
// each member where 2.2 puts it and every string without an escape. It
// answers the event and true only for bytes that Decode accepts, and
// then the event Decode returns; it answers false for anything else,
// including canonical events whose strings need escapes (a quote, a
// backslash, a control character, U+2028 or U+2029), and the caller
// decodes with Decode or DecodeWith, which decide and word the error.
//
// It reads the bytes once, as a scanner of that one layout, instead of
// parsing JSON and encoding the result again to compare: the audit
// engine and the vault's replay spend most of their time on that
// otherwise. FuzzParseCanonical checks it against Decode.
func ParseCanonical(b []byte) (*Event, bool) {
	return parseCanonical(b, false)
}

// ParseCanonicalPacked is ParseCanonical with the event's strings cut
// from one copy of b instead of copied one by one: three allocations an
// event instead of about eleven, for readers of many events that drop
// each once checked (the audit engine, events/verify). The price: any
// one of its strings kept keeps the whole copy (len(b) bytes) in memory,
// so whoever keeps one for longer than the event copies it
// (strings.Clone), as vault.CustodyRules does. Data is its own copy, as
// from ParseCanonical. It accepts exactly what ParseCanonical accepts,
// as the same event (FuzzParseCanonical).
func ParseCanonicalPacked(b []byte) (*Event, bool) {
	return parseCanonical(b, true)
}

func parseCanonical(b []byte, packed bool) (*Event, bool) {
	if len(b) > MaxEventSize {
		return nil, false
	}
	p := canonParser{b: b}
	if packed {
		p.s = string(b)
	}
	e := new(Event)
	// "v" is 1 (check refuses any other version, and Decode words it).
	ok := p.lit(`{"v":1,"seq":`) && p.uint(&e.Seq) &&
		p.lit(`,"id":`) && p.str(&e.ID) &&
		p.lit(`,"type":`) && p.str(&e.Type) &&
		p.lit(`,"time":`) && p.str(&e.Time) &&
		p.lit(`,"actor":{"person":`) && p.str(&e.Actor.Person) &&
		p.lit(`,"role":`) && p.str(&e.Actor.Role) &&
		p.lit(`,"auth":`) && p.str(&e.Actor.Auth) &&
		p.optional(`,"session":`, &e.Actor.Session) &&
		p.optional(`,"issuer":`, &e.Actor.Issuer) &&
		p.optional(`,"subject":`, &e.Actor.Subject) &&
		p.optional(`,"certificate":`, &e.Actor.Certificate) &&
		p.optional(`,"acr":`, &e.Actor.ACR) &&
		p.amr(&e.Actor.AMR) &&
		p.lit(`},"case":`) && p.str(&e.Case) &&
		p.lit(`,"item":`) && p.str(&e.Item) &&
		p.lit(`,"data":`) && p.data(&e.Data) &&
		p.lit(`,"prev":`) && p.str(&e.Prev) &&
		p.lit(`}`) && p.i == len(b)
	if !ok {
		return nil, false
	}
	e.V = Version
	if e.check() != nil {
		return nil, false
	}
	return e, true
}

// canonParser reads b from i on; each method advances i past what it
// read and answers false when b does not hold it there.
type canonParser struct {
	b []byte
	i int
	// s, when not empty, is a copy of b that strings are cut from.
	s string
}

func (p *canonParser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// uint reads an unsigned integer in canonical decimal (no sign, no
// leading zero, no fraction or exponent), as strconv.AppendUint writes
// it, of at most 2^64-1.
func (p *canonParser) uint(v *uint64) bool {
	start := p.i
	var n uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := uint64(p.b[p.i] - '0')
		if n > (1<<64-1-d)/10 {
			return false
		}
		n = n*10 + d
		p.i++
	}
	digits := p.i - start
	if digits == 0 || (digits > 1 && p.b[start] == '0') {
		return false
	}
	*v = n
	return true
}

// str reads a string that encoding/json writes without an escape: bytes
// plainASCII marks, and runes beyond ASCII that escapedRune does not
// name (appendJSONString follows the same two rules).
func (p *canonParser) str(v *string) bool {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return false
	}
	start := p.i + 1
	for j := start; j < len(p.b); {
		// Eight plain bytes at a time; where a word holds another, its
		// bytes are read one by one.
		if len(p.b)-j >= 8 && !stopsPlainASCII(word(p.b[j:])) {
			j += 8
			continue
		}
		for end := min(j+8, len(p.b)); j < end; {
			c := p.b[j]
			if plainASCII[c] {
				j++
				continue
			}
			if c == '"' {
				if p.s != "" {
					*v = p.s[start:j]
				} else {
					*v = string(p.b[start:j])
				}
				p.i = j + 1
				return true
			}
			if c < utf8.RuneSelf { // a control character or a backslash
				return false
			}
			r, size := utf8.DecodeRune(p.b[j:])
			if escapedRune(r, size) {
				return false
			}
			j += size
		}
	}
	return false
}

// optional reads an actor member that omitempty leaves out when empty:
// absent, or present with a value that is not empty.
func (p *canonParser) optional(name string, v *string) bool {
	if !bytes.HasPrefix(p.b[p.i:], []byte(name)) {
		return true
	}
	p.i += len(name)
	return p.str(v) && *v != ""
}

// amr reads the actor's "amr": absent, or an array of at least one
// string (omitempty leaves an empty one out).
func (p *canonParser) amr(v *[]string) bool {
	const name = `,"amr":[`
	if !bytes.HasPrefix(p.b[p.i:], []byte(name)) {
		return true
	}
	p.i += len(name)
	for {
		var s string
		if !p.str(&s) {
			return false
		}
		*v = append(*v, s)
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		return p.lit(`]`)
	}
}

// data reads the data member: a JSON object as json.Compact leaves it
// (compactJSON), which the encoding carries as it is. It is read one
// level down, inside the event's object, so that it may nest as deep as
// encoding/json reads it there: one level less than alone.
func (p *canonParser) data(v *json.RawMessage) bool {
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	c := jsonChecker{b: p.b, i: p.i}
	if !c.value(1) {
		return false
	}
	*v = bytes.Clone(p.b[p.i:c.i])
	p.i = c.i
	return true
}
