// Package mp4 reads the duration of an ISO base media file (MP4, MOV,
// 3GP, M4V: ISO/IEC 14496-12) from a stream, without seeking and without
// holding more than one box header and the movie header box in memory.
//
// Boxes are walked at the top level; the payload of every box but moov is
// discarded as it streams past, so a file whose moov box comes last (as
// cameras and many encoders write it) is still read once, front to back.
// Inside moov, the mvhd box (ISO/IEC 14496-12 section 8.2.2) gives the
// timescale (units per second) and the duration in those units, version 0
// with 32-bit fields and version 1 with a 64-bit duration.
package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// MaxDuration bounds a duration read: a longer one is refused as not
// plausible (a crafted header), rather than counted.
const MaxDuration = 48 * time.Hour

// ErrNoDuration is returned when the stream ends without a movie header.
var ErrNoDuration = errors.New("mp4: no movie header (moov/mvhd) found")

// maxMoov bounds the moov box read into memory (its sample tables grow
// with the video's length: 64 MiB covers many hours).
const maxMoov = 64 << 20

// Sniff reports whether the first bytes of a file (at least 12) look like
// an ISO base media file: a first box of type ftyp, moov, mdat, free,
// skip or wide with a plausible size.
func Sniff(head []byte) bool {
	if len(head) < 12 {
		return false
	}
	switch string(head[4:8]) {
	case "ftyp", "moov", "mdat", "free", "skip", "wide":
		size := binary.BigEndian.Uint32(head[:4])
		return size == 1 || size >= 8
	}
	return false
}

// Duration reads r until it has found the movie header and returns the
// movie's duration. It reads no further than the end of the moov box.
// Errors: ErrNoDuration, a malformed box (size smaller than its header,
// a moov over 64 MiB, a timescale of 0), or r's own error.
func Duration(r io.Reader) (time.Duration, error) {
	var hdr [16]byte
	for {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			if err == io.EOF {
				return 0, ErrNoDuration
			}
			return 0, fmt.Errorf("mp4: reading a box header: %w", err)
		}
		size := uint64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		head := uint64(8)
		switch size {
		case 0:
			// The box runs to the end of the file.
			if typ != "moov" {
				return 0, ErrNoDuration
			}
			size = maxMoov + head + 1
		case 1:
			if _, err := io.ReadFull(r, hdr[8:16]); err != nil {
				return 0, fmt.Errorf("mp4: reading a large box size: %w", err)
			}
			size = binary.BigEndian.Uint64(hdr[8:16])
			head = 16
		}
		if size < head {
			return 0, fmt.Errorf("mp4: box %q of %d bytes is smaller than its header", printable(typ), size)
		}
		body := size - head
		if typ != "moov" {
			if n, err := io.CopyN(io.Discard, r, int64(min(body, 1<<62))); err != nil {
				if err == io.EOF {
					return 0, fmt.Errorf("mp4: box %q ends after %d of %d bytes", printable(typ), n, body)
				}
				return 0, err
			}
			continue
		}
		if body > maxMoov {
			body = maxMoov
		}
		return moovDuration(io.LimitReader(r, int64(body)))
	}
}

// moovDuration finds mvhd among moov's children.
func moovDuration(r io.Reader) (time.Duration, error) {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, ErrNoDuration
		}
		size := uint64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if size < 8 {
			return 0, fmt.Errorf("mp4: box %q in moov has size %d", printable(typ), size)
		}
		if typ != "mvhd" {
			if _, err := io.CopyN(io.Discard, r, int64(size-8)); err != nil {
				return 0, ErrNoDuration
			}
			continue
		}
		if size > 8+120 {
			size = 8 + 120
		}
		b := make([]byte, size-8)
		if _, err := io.ReadFull(r, b); err != nil {
			return 0, fmt.Errorf("mp4: short mvhd: %w", err)
		}
		return mvhd(b)
	}
}

// mvhd decodes a movie header box's body (after its 8-byte header).
func mvhd(b []byte) (time.Duration, error) {
	if len(b) < 4 {
		return 0, errors.New("mp4: short mvhd")
	}
	var scale, units uint64
	switch b[0] {
	case 0:
		if len(b) < 20 {
			return 0, errors.New("mp4: short mvhd (version 0)")
		}
		scale = uint64(binary.BigEndian.Uint32(b[12:16]))
		units = uint64(binary.BigEndian.Uint32(b[16:20]))
	case 1:
		if len(b) < 32 {
			return 0, errors.New("mp4: short mvhd (version 1)")
		}
		scale = uint64(binary.BigEndian.Uint32(b[20:24]))
		units = binary.BigEndian.Uint64(b[24:32])
	default:
		return 0, fmt.Errorf("mp4: mvhd version %d is not 0 or 1", b[0])
	}
	if scale == 0 {
		return 0, errors.New("mp4: mvhd timescale is 0")
	}
	if units == 0xFFFFFFFF || units == 1<<64-1 {
		return 0, errors.New("mp4: mvhd duration is unknown (all ones)")
	}
	// Whole seconds are compared with the bound before anything is
	// multiplied, so nothing overflows.
	secs := units / scale
	if secs >= uint64(MaxDuration/time.Second) {
		return 0, fmt.Errorf("mp4: mvhd duration of %d s is more than %v: not a plausible recording", secs, MaxDuration)
	}
	frac := new(big.Int).Mul(new(big.Int).SetUint64(units%scale), big.NewInt(int64(time.Second)))
	frac.Quo(frac, new(big.Int).SetUint64(scale))
	return time.Duration(secs)*time.Second + time.Duration(frac.Int64()), nil
}

func printable(typ string) string {
	for i := 0; i < len(typ); i++ {
		if typ[i] < 0x20 || typ[i] > 0x7e {
			return fmt.Sprintf("%x", typ)
		}
	}
	return typ
}
