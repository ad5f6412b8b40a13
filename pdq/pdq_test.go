package pdq

import (
	"encoding/json"
	"errors"
	"image/color"
	"strings"
	"testing"
)

func TestParseHash(t *testing.T) {
	const s = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	if h.String() != s {
		t.Errorf("String() = %s, want %s", h, s)
	}
	u, err := ParseHash(strings.ToUpper(s))
	if err != nil || u != h {
		t.Errorf("upper case: %v, %v", u, err)
	}
	for _, bad := range []string{
		"",
		s[:63],
		s + "0",
		" " + s[1:],
		s[:63] + "g",
		s[:62] + "\n",
		"0x" + s[2:],
		strings.Repeat("é", 32),
	} {
		if _, err := ParseHash(bad); !errors.Is(err, ErrBadHash) {
			t.Errorf("ParseHash(%q) = %v, want ErrBadHash", bad, err)
		}
	}
}

// TestBitOrder checks the reference's ordering: coefficient (i, j) is bit
// 16i+j, and the hex form prints bit 255 first, so row 15 of the
// coefficients is the first four hex digits and coefficient (0, 0) the
// last digit's lowest bit.
func TestBitOrder(t *testing.T) {
	var h Hash
	h.setBit(0)
	if got := h.String(); got != strings.Repeat("0", 63)+"1" {
		t.Errorf("bit 0: %s", got)
	}
	h = Hash{}
	h.setBit(255)
	if got := h.String(); got != "8"+strings.Repeat("0", 63) {
		t.Errorf("bit 255: %s", got)
	}
	h = Hash{}
	h.setBit(16*15 + 0) // coefficient (15, 0)
	if got := h.String(); got != "0001"+strings.Repeat("0", 60) {
		t.Errorf("bit 240: %s", got)
	}
	for k := range 256 {
		var b Hash
		b.setBit(k)
		for j := range 256 {
			if b.bit(j) != (j == k) {
				t.Fatalf("setBit(%d) then bit(%d) = %v", k, j, b.bit(j))
			}
		}
	}
}

func TestDistance(t *testing.T) {
	var a, b Hash
	if d := Distance(a, b); d != 0 {
		t.Errorf("Distance(0, 0) = %d", d)
	}
	for i := range b {
		b[i] = 0xff
	}
	if d := Distance(a, b); d != 256 {
		t.Errorf("Distance(0, ~0) = %d", d)
	}
	b = Hash{}
	b.setBit(3)
	b.setBit(100)
	b.setBit(255)
	if d := Distance(a, b); d != 3 {
		t.Errorf("Distance with three bits set = %d", d)
	}
}

func TestHashJSON(t *testing.T) {
	h, _ := ParseHash("0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff")
	b, err := json.Marshal(map[string]Hash{"pdq": h})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"pdq":"0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff"}` {
		t.Errorf("JSON: %s", b)
	}
	var back map[string]Hash
	if err := json.Unmarshal(b, &back); err != nil || back["pdq"] != h {
		t.Errorf("round trip: %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"pdq":"00"}`), &back); !errors.Is(err, ErrBadHash) {
		t.Errorf("short hash in JSON: %v", err)
	}
}

// TestSmallImages: below 5 pixels on a side the hash is zero with
// quality 0, as in the reference; from 5 on there is a hash.
func TestSmallImages(t *testing.T) {
	for _, sz := range [][2]int{{0, 0}, {1, 1}, {4, 100}, {100, 4}} {
		h, q := FromImage(noise(sz[0], sz[1], 1))
		if h != (Hash{}) || q != 0 {
			t.Errorf("%dx%d: %v quality %d, want zero", sz[0], sz[1], h, q)
		}
		hs, q := Dihedral(noise(sz[0], sz[1], 1))
		if hs != [8]Hash{} || q != 0 {
			t.Errorf("%dx%d: Dihedral not zero", sz[0], sz[1])
		}
	}
	for _, sz := range [][2]int{{5, 5}, {5, 3000}, {3000, 5}, {63, 65}} {
		h, _ := FromImage(noise(sz[0], sz[1], 1))
		if n := Distance(h, Hash{}); n < 100 {
			t.Errorf("%dx%d: %d bits set, want about half", sz[0], sz[1], n)
		}
	}
}

// TestFlatImage: a flat image has quality 0, whatever its hash.
func TestFlatImage(t *testing.T) {
	img := noise(200, 100, 0)
	if _, q := FromImage(img); q != 0 {
		t.Errorf("flat image: quality %d, want 0", q)
	}
	if _, q := FromImage(noise(200, 100, 1)); q < MinQuality {
		t.Errorf("noise: quality %d, want at least %d", q, MinQuality)
	}
}

// TestYCbCrLuma checks the inlined conversion against the standard
// library's on every colour.
func TestYCbCrLuma(t *testing.T) {
	for y := range 256 {
		for cb := range 256 {
			for cr := range 256 {
				r, g, b := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				if got, want := ycbcrLuma(uint8(y), uint8(cb), uint8(cr)), luma(r, g, b); got != want {
					t.Fatalf("YCbCr %d %d %d: %v, want %v", y, cb, cr, got, want)
				}
			}
		}
	}
}
