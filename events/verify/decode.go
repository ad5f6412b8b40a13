package verify

import (
	gojson "github.com/goccy/go-json"

	"github.com/custos-vault/custos/events"
)

// DecodeEvent is events.Decode made fast for readers of many events (the
// audit engine and the vault's start-up replay), which are bound by
// decoding. The vault's own events are read by events.ParseCanonical, a
// scanner of the canonical layout; anything else (an escape in a string,
// or bytes that are not canonical at all) by events.DecodeWith with
// github.com/goccy/go-json, which parses about three times faster than
// encoding/json. What is accepted is still decided by the standard
// library's encoding: FuzzParseCanonical checks the scanner against
// events.Decode, and FuzzDecodeAgreesWithStdlib this whole function. The
// offline verifier does not use this package; it decodes with the
// standard library alone.
func DecodeEvent(b []byte) (*events.Event, error) {
	return decode(b, events.ParseCanonical)
}

// decodePacked is DecodeEvent for the engine's replay, whose events are
// dropped once checked: the vault's own events by
// events.ParseCanonicalPacked, their strings cut from one copy of b.
func decodePacked(b []byte) (*events.Event, error) {
	return decode(b, events.ParseCanonicalPacked)
}

// decode reads b by parse, the scanner of the vault's layout, and
// anything it does not read by events.DecodeWith.
func decode(b []byte, parse func([]byte) (*events.Event, bool)) (*events.Event, error) {
	if e, ok := parse(b); ok {
		return e, nil
	}
	return events.DecodeWith(b, gojson.Unmarshal)
}
