package verify

import (
	gojson "github.com/goccy/go-json"

	"github.com/custos-vault/custos/events"
)

// DecodeEvent is events.Decode with a faster JSON parser (the audit
// engine and the vault's start-up replay use it): the replay of
// a long log is bound by decoding, and github.com/goccy/go-json parses
// events about three times faster than encoding/json. What is accepted is
// still decided by events.DecodeWith against the standard library's
// encoding, and FuzzDecodeAgreesWithStdlib checks that both parsers read
// every accepted event the same way. The offline verifier does not use
// this package; it decodes with the standard library alone.
func DecodeEvent(b []byte) (*events.Event, error) {
	return events.DecodeWith(b, gojson.Unmarshal)
}
