package mp4

import (
	"bytes"
	"testing"
)

// TestAttackDurationOverflowsNegative: mvhd's bound check looks at the
// whole seconds only; the fraction added after it overflows
// time.Duration. A version-1 mvhd of timescale 10^9 and duration
// 9223372036999999999 units passes the check (9223372036 s) and comes
// out negative; the deposit records it as duration_ms, and each reveal
// then subtracts ~292 years from the person's exposure (VideoMS), so a
// planted file hides every other minute of video the reviewer saw.
func TestAttackDurationOverflowsNegative(t *testing.T) {
	file := append(box("ftyp", []byte("isom\x00\x00\x02\x00")), box("moov", mvhdV1(1_000_000_000, 9223372036999999999))...)
	d, err := Duration(bytes.NewReader(file))
	if err == nil && d < 0 {
		t.Fatalf("a movie header gave a negative duration: %v (%d ms)", d, d.Milliseconds())
	}
}
