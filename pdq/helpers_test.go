package pdq

import (
	"bytes"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"testing"
)

// noise returns a w x h image of random blocks (amp 0: flat grey).
func noise(w, h int, amp int) *image.RGBA {
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(128)
			if amp > 0 && (x/4+y/4)%3 == 0 {
				v = uint8(r.IntN(256))
			} else if amp > 0 {
				v = uint8((x*7 + y*3) % 256)
			}
			img.SetRGBA(x, y, color.RGBA{v, v / 2, 255 - v, 255})
		}
	}
	return img
}

// transforms are the eight dihedral transforms, in Dihedral's order, as
// maps from a w x h image's pixel (x, y) to the transformed image's.
var transforms = [8]func(x, y, w, h int) (int, int){
	Original:   func(x, y, w, h int) (int, int) { return x, y },
	Rotate90:   func(x, y, w, h int) (int, int) { return y, w - 1 - x }, // counter-clockwise
	Rotate180:  func(x, y, w, h int) (int, int) { return w - 1 - x, h - 1 - y },
	Rotate270:  func(x, y, w, h int) (int, int) { return h - 1 - y, x }, // clockwise
	FlipX:      func(x, y, w, h int) (int, int) { return x, h - 1 - y },
	FlipY:      func(x, y, w, h int) (int, int) { return w - 1 - x, y },
	FlipPlus1:  func(x, y, w, h int) (int, int) { return y, x },
	FlipMinus1: func(x, y, w, h int) (int, int) { return h - 1 - y, w - 1 - x },
}

// transform returns img moved pixel by pixel by variant v.
func transform(img image.Image, v int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if dihedralSigns[v].transpose {
		ow, oh = h, w
	}
	in := image.NewRGBA(image.Rect(0, 0, w, h))
	stddraw.Draw(in, in.Rect, img, b.Min, stddraw.Src)
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range h {
		for x := range w {
			tx, ty := transforms[v](x, y, w, h)
			copy(out.Pix[out.PixOffset(tx, ty):][:4], in.Pix[in.PixOffset(x, y):][:4])
		}
	}
	return out
}

// exifToVariant gives the dihedral variant that EXIF orientation k
// shows of the stored pixels.
var exifToVariant = [9]int{
	1: Original, 2: FlipY, 3: Rotate180, 4: FlipX,
	5: FlipPlus1, 6: Rotate270, 7: FlipMinus1, 8: Rotate90,
}

// inverse returns the variant that undoes variant v.
func inverse(v int) int {
	switch v {
	case Rotate90:
		return Rotate270
	case Rotate270:
		return Rotate90
	}
	return v
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}
