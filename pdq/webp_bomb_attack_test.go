package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	out := w.buf
	if w.nbits > 0 {
		out = append(out, byte(w.acc))
	}
	return append(out, 0, 0, 0, 0, 0, 0, 0, 0)
}

// vp8lFlat is a VP8L bitstream of a w x h image of one colour: five
// single-symbol prefix codes, so that every pixel costs no bits (a few
// dozen bytes whatever the size).
func vp8lFlat(w, h int) []byte {
	var bw bitWriter
	bw.bits(0x2f, 8)
	bw.bits(uint64(w-1), 14)
	bw.bits(uint64(h-1), 14)
	bw.bits(0, 1) // alpha unused
	bw.bits(0, 3) // version 0
	bw.bits(0, 1) // no transform
	bw.bits(0, 1) // no colour cache
	bw.bits(0, 1) // no meta prefix codes
	for range 5 {
		bw.bits(1, 1) // simple code
		bw.bits(0, 1) // one symbol
		bw.bits(0, 1) // 1-bit symbol
		bw.bits(0, 1) // symbol 0
	}
	return bw.bytes()
}

func riffChunk(fcc string, data []byte) []byte {
	b := append([]byte(fcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// webpCanvasLie is a WebP whose VP8X chunk declares a 1 x 1 canvas while
// its VP8L bitstream is w x h.
func webpCanvasLie(w, h int) []byte {
	vp8x := make([]byte, 10) // flags 0, reserved, canvas 1 x 1 (minus one: 0)
	body := append([]byte("WEBP"), riffChunk("VP8X", vp8x)...)
	body = append(body, riffChunk("VP8L", vp8lFlat(w, h))...)
	out := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	return append(out, body...)
}

// TestAttackWebPCanvasBypassesPixelLimit: for a WebP with a VP8X chunk,
// webp.DecodeConfig answers the canvas size from VP8X, but webp.Decode
// decodes the VP8L (or VP8) bitstream at the size that bitstream
// declares. The pixel limit is checked against the canvas only: a file
// of about a hundred bytes declaring a 1 x 1 canvas decodes a 4096 x
// 4096 image under a 1-megapixel limit (with the default 64 Mi limit,
// 16384 x 16384: over 2 GiB per deposit).
func TestAttackWebPCanvasBypassesPixelLimit(t *testing.T) {
	file := webpCanvasLie(4096, 4096)
	t.Logf("file of %d bytes", len(file))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := HashReader(bytes.NewReader(file), Limits{MaxPixels: 1 << 20, MaxHeaderBytes: 1 << 20})
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrExtendedWebP) || alloc > 8<<20 {
		t.Fatalf("a %d-byte WebP under a 1 Mi-pixel limit was decoded: %d x %d, err %v, %d MiB allocated", len(file), res.Width, res.Height, err, alloc>>20)
	}
}
