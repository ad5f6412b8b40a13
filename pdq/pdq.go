// Package pdq computes PDQ perceptual hashes of images and finds near
// duplicates among them. PDQ is Meta's 256-bit image hash for matching
// known abuse material across services (ThreatExchange, pdq/README.md and
// "The TMK+PDQ Hashing Algorithms"); the hashes this package computes are
// interchangeable with those of the reference implementations.
//
// # Hashing
//
// FromImage hashes decoded pixels; HashReader sniffs, bounds and decodes
// an image stream (JPEG, PNG, GIF, WebP) first, honouring its EXIF
// orientation. Both return a quality from 0 to 100: a hash of quality
// below MinQuality describes a nearly featureless image and must not be
// used for matching. Dihedral returns the hashes of the image's eight
// rotations and mirror images, computed from one pass over the pixels.
//
// The steps follow the reference implementations
// (pdq/cpp/hashing/pdqhashing.cpp, pdq/python/pdqhashing):
//
//  1. luminance Y = 0.299 R + 0.587 G + 0.114 B of the 8-bit,
//     non-premultiplied RGB values, in float32;
//  2. an image larger than 512 pixels on a side is first shrunk to fit
//     in 512 x 512, keeping its aspect ratio, as the reference tools do;
//  3. a tent filter: a box filter of window ceil(n/128) pixels run twice
//     along each axis of length n (Jarosz, "Fast image convolutions");
//  4. decimation to 64x64 by taking the pixel at the centre of each
//     cell, at floor((k+0.5) n/64);
//  5. the quality, from the sum of the vertical and horizontal gradients
//     of the 64x64 image;
//  6. the DCT coefficients 1..16 by 1..16 of the 64x64 image (the DC
//     row and column are left out);
//  7. bit 16i+j set when coefficient (i, j) is above the median of the
//     256 coefficients.
//
// Images narrower or lower than 5 pixels hash to the zero Hash with
// quality 0, as in the reference. docs/pdq.md gives the details and the
// distances measured against the reference's hashes.
//
// # Matching
//
// Two hashes match when their Hamming distance is at most
// DefaultMaxDistance (31 of 256 bits), the threshold ThreatExchange
// recommends. Index holds hashes for a linear search.
package pdq

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// DefaultMaxDistance is the Hamming distance up to which two hashes are
// taken as the same image (ThreatExchange's recommended threshold).
const DefaultMaxDistance = 31

// MinQuality is the lowest quality of a hash that is used for matching:
// hashes of quality 49 and less are discarded, as ThreatExchange
// recommends, because featureless images (blank, flat or tiny) collide.
const MinQuality = 50

// Hash is a 256-bit PDQ hash, as the big-endian number whose bit 16i+j
// (counting from the least significant) is DCT coefficient (i, j), i
// counting vertical frequencies and j horizontal ones. This is the byte
// order of the reference's hexadecimal form, so Hash's bytes are the 32
// bytes that String writes as hex.
type Hash [32]byte

// bit reports bit k (0..255) of h.
func (h Hash) bit(k int) bool { return h[31-k/8]>>(k%8)&1 == 1 }

// setBit sets bit k (0..255) of h.
func (h *Hash) setBit(k int) { h[31-k/8] |= 1 << (k % 8) }

// String returns h as 64 lowercase hexadecimal digits, most significant
// first: the reference's form, as in ThreatExchange's exchanged hashes.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText returns String's form.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads what ParseHash reads.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ErrBadHash is returned, wrapped, by ParseHash.
var ErrBadHash = errors.New("not a PDQ hash")

// ParseHash reads a hash written as exactly 64 hexadecimal digits, in
// either case, with nothing before or after them.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("%w: %d characters, not 64 hexadecimal digits", ErrBadHash, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrBadHash, err)
	}
	return h, nil
}

// Distance returns the Hamming distance between a and b: the number of
// the 256 bits in which they differ.
func Distance(a, b Hash) int {
	n := 0
	for i := 0; i < 32; i += 8 {
		n += bits.OnesCount64(binary.BigEndian.Uint64(a[i:]) ^ binary.BigEndian.Uint64(b[i:]))
	}
	return n
}
