package pdfreport

import (
	"math/rand/v2"
	"strings"
)

// textRand makes hostile text, the same for the same seed.
type textRand struct{ r *rand.Rand }

func newRand(seed uint64) *textRand {
	return &textRand{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// ranges are where random characters are drawn from.
var ranges = [][2]rune{
	{0x20, 0x7e},       // ASCII
	{0x00, 0x1f},       // C0 controls, NUL
	{0x7f, 0x9f},       // DEL, C1 controls
	{0xa0, 0x24f},      // Latin
	{0x300, 0x36f},     // combining marks
	{0x1780, 0x17ff},   // Khmer
	{0x19e0, 0x19ff},   // Khmer symbols
	{0x1700, 0x171f},   // Tagalog
	{0x0e00, 0x0e7f},   // Thai
	{0x0e80, 0x0eff},   // Lao
	{0x1000, 0x109f},   // Myanmar
	{0x590, 0x6ff},     // Hebrew, Arabic (no font: escaped)
	{0x200b, 0x200f},   // zero width, marks
	{0x202a, 0x202e},   // embeddings, overrides
	{0x2066, 0x2069},   // isolates
	{0x2028, 0x2029},   // separators
	{0x4e00, 0x4e80},   // CJK (no font)
	{0x1f600, 0x1f64f}, // emoji (no font)
	{0xfe00, 0xfe0f},   // variation selectors
	{0xe000, 0xe0ff},   // private use
	{0x0, 0x10ffff},    // anything
}

// text is a random string: words of random characters, invalid UTF-8
// (stray bytes, surrogate halves), and now and then a very long word.
func (t *textRand) text() string {
	var b strings.Builder
	words := t.r.IntN(10)
	for range words {
		if b.Len() > 0 {
			b.WriteString(strings.Repeat(" ", 1+t.r.IntN(2)))
		}
		n := 1 + t.r.IntN(12)
		if t.r.IntN(25) == 0 {
			n = 300 + t.r.IntN(500)
		}
		for range n {
			switch t.r.IntN(30) {
			case 0:
				b.WriteByte(0xff)
			case 1:
				b.WriteString("\xed\xa0\x80") // a UTF-16 surrogate half, not UTF-8
			case 2:
				b.WriteByte(0xc3) // a truncated sequence
			default:
				rg := ranges[t.r.IntN(len(ranges))]
				b.WriteRune(rg[0] + rune(t.r.IntN(int(rg[1]-rg[0]+1))))
			}
		}
	}
	return b.String()
}
