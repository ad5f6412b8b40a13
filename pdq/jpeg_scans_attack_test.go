package pdq

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// progressiveScanBomb is a grey 8192 x 8192 progressive JPEG made of one
// AC scan repeated n times. Each scan is about 90 bytes (runs of
// end-of-band codes over the image's million blocks) but makes the
// decoder walk, load and store every block's coefficients.
func progressiveScanBomb(n int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xD8})
	dqt := []byte{0xFF, 0xDB, 0, 67, 0}
	for range 64 {
		dqt = append(dqt, 1)
	}
	b.Write(dqt)
	b.Write([]byte{0xFF, 0xC2, 0, 11, 8, 0x20, 0x00, 0x20, 0x00, 1, 1, 0x11, 0})
	dht := func(class byte, sym byte) {
		b.Write([]byte{0xFF, 0xC4, 0, 20, class})
		b.Write([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
		b.WriteByte(sym)
	}
	dht(0x00, 0x00)
	dht(0x10, 0xE0) // the only AC code, '0': an end-of-band run of 2^14 + 14 bits
	var bw bitWriter
	for range 40 { // 40 runs of 27306 blocks cover the 1,048,576 blocks
		bw.bits(0, 1)
		for i := range 14 { // 10101010101010, most significant first
			bw.bits(uint64(1-i%2), 1)
		}
	}
	data := bw.bytes()
	for i := range data {
		if data[i] == 0xFF {
			panic("0xFF in scan data")
		}
	}
	for range n {
		b.Write([]byte{0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 63, 0, 0})
		b.Write(data)
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// TestAttackProgressiveJPEGScansStallDeposit: each scan of a
// progressive JPEG costs a pass over every block of the image (here 64
// megapixels), while the file grows by ~90 bytes a scan: a 1 MB file of
// ~11,000 scans would keep a decoder busy for minutes. HashReader stops
// after maxJPEGScans scans, so the work is bounded whatever the file's
// length. (The vault's probe also never holds up the deposit feeding it:
// vault/media.go.)
func TestAttackProgressiveJPEGScansStallDeposit(t *testing.T) {
	const scans = 2000
	file := progressiveScanBomb(scans)
	start := time.Now()
	_, err := HashReader(bytes.NewReader(file), DefaultLimits)
	el := time.Since(start)
	t.Logf("%d bytes, %d scans: %v (err %v)", len(file), scans, el, err)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a JPEG of %d scans was decoded: %v", scans, err)
	}
	if el > time.Minute {
		t.Fatalf("a JPEG of %d scans took %v: the scan bound does not bound the work", scans, el)
	}
}
