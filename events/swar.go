package events

import "encoding/binary"

// Scanning strings eight bytes at a time: the audit engine and the
// vault's replay read every string of every event, and most of their
// bytes need no look one by one. The tests are the bit tricks of
// "Determine if a word has a byte less than n" and "has a zero byte"
// (Sean Eron Anderson, Bit Twiddling Hacks): each answers exactly
// whether any of the eight bytes qualifies (which one may be misplaced
// by a borrow; the callers look at the bytes one by one then).
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// stopsJSONString reports whether any of the eight bytes of w (b[0:8]
// as loaded by word) is one that ends or interrupts a run of a JSON
// string's plain bytes: a quote, a backslash or a control byte (below
// 0x20). Bytes from 0x80 on do not.
func stopsJSONString(w uint64) bool {
	ctl := (w - 0x20*swarOnes) &^ w
	q := w ^ '"'*swarOnes
	bs := w ^ '\\'*swarOnes
	return ((q-swarOnes)&^q|(bs-swarOnes)&^bs|ctl)&swarHigh != 0
}

// stopsPlainASCII is stopsJSONString, stopping at bytes from 0x80 on too:
// a byte plainASCII does not mark.
func stopsPlainASCII(w uint64) bool {
	return w&swarHigh != 0 || stopsJSONString(w)
}

// word loads b[0:8], little-endian.
func word(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
