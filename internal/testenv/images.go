package testenv

import (
	"bytes"
	"image"
	"image/jpeg"
	_ "image/png" // photos of the PDQ vectors are JPEG and PNG
	"testing"
)

// RotatedJPEG decodes an image, turns its pixels a quarter clockwise and
// encodes it again as a JPEG of quality 85: a copy of a photo that no
// exact hash matches and only a perceptual hash's rotations find.
func RotatedJPEG(t testing.TB, b []byte) []byte {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, r.Dy(), r.Dx()))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			out.Set(r.Max.Y-1-y, x-r.Min.X, img.At(x, y))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
