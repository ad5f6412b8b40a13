package events

import (
	"encoding/binary"
	"testing"
)

// stopsNaive is stopsJSONString (ascii false) or stopsPlainASCII (ascii
// true) byte by byte.
func stopsNaive(b []byte, ascii bool) bool {
	for _, c := range b {
		if c == '"' || c == '\\' || c < 0x20 || ascii && c >= 0x80 {
			return true
		}
	}
	return false
}

// Every byte value at every position of a word of otherwise plain bytes,
// and beside every other byte value (a borrow from one byte into the
// next is where such tricks go wrong).
func TestWordTestsAgreeByteByByte(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for d := 0; d < 256; d += 1 {
				b := []byte("abcdefgh")
				b[pos] = byte(c)
				b[(pos+1)%8] = byte(d)
				w := binary.LittleEndian.Uint64(b)
				if got, want := stopsJSONString(w), stopsNaive(b, false); got != want {
					t.Fatalf("stopsJSONString(%q) = %v, want %v", b, got, want)
				}
				if got, want := stopsPlainASCII(w), stopsNaive(b, true); got != want {
					t.Fatalf("stopsPlainASCII(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}

func FuzzWordTests(f *testing.F) {
	f.Add([]byte("0123456789abcdef"))
	f.Add([]byte("\x1f\x20\x21\x22\x5b\x5c\x5d\x7f"))
	f.Add([]byte("\x80\xff\x00\x01\x1f\x22\x5c\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		b = b[:8]
		w := binary.LittleEndian.Uint64(b)
		if got, want := stopsJSONString(w), stopsNaive(b, false); got != want {
			t.Fatalf("stopsJSONString(%q) = %v, want %v", b, got, want)
		}
		if got, want := stopsPlainASCII(w), stopsNaive(b, true); got != want {
			t.Fatalf("stopsPlainASCII(%q) = %v, want %v", b, got, want)
		}
	})
}
