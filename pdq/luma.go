package pdq

import (
	"image"
	"image/color"
)

// The reference's luminance weights (ITU-R BT.601), in float32.
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// lumaTables hold the products of each weight with 0..255 and the
// levels as float32: the same float32 products the reference computes,
// looked up, because converting an integer to a float costs more.
var lumaTables = func() (t [4][256]float32) {
	for v := range 256 {
		t[0][v] = lumaR * float32(v)
		t[1][v] = lumaG * float32(v)
		t[2][v] = lumaB * float32(v)
		t[3][v] = float32(v)
	}
	return t
}()

// luma returns lumaR r + lumaG g + lumaB b, in float32.
func luma(r, g, b uint8) float32 {
	return lumaTables[0][r] + lumaTables[1][g] + lumaTables[2][b]
}

// lumaReader returns a function that writes the luminance of stored row
// y (0 at the top of img's bounds) to dst, which is as long as a row.
// Colours are read as 8-bit, non-premultiplied RGB, ignoring alpha (what
// the reference's decoders hand it); grey images give their grey level.
// The common decoded types are read directly, others through At.
func lumaReader(img image.Image) func(y int, dst []float32) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		// The chroma column of each pixel, from the subsampling ratio.
		cx := make([]int32, b.Dx())
		for x := range cx {
			cx[x] = int32(m.COffset(b.Min.X+x, b.Min.Y) - m.COffset(b.Min.X, b.Min.Y))
		}
		return func(y int, dst []float32) {
			yy := b.Min.Y + y
			ys := m.Y[m.YOffset(b.Min.X, yy):]
			c0 := m.COffset(b.Min.X, yy)
			cb, cr := m.Cb[c0:], m.Cr[c0:]
			ys, cx := ys[:len(dst)], cx[:len(dst)]
			for x, c := range cx {
				dst[x] = ycbcrLuma(ys[x], cb[c], cr[c])
			}
		}
	case *image.Gray:
		return func(y int, dst []float32) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range dst {
				dst[x] = lumaTables[3][p[x]]
			}
		}
	case *image.NRGBA:
		return func(y int, dst []float32) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range dst {
				dst[x] = luma(p[4*x], p[4*x+1], p[4*x+2])
			}
		}
	case *image.RGBA:
		return func(y int, dst []float32) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range dst {
				q := p[4*x : 4*x+4 : 4*x+4]
				if q[3] == 0xff {
					dst[x] = luma(q[0], q[1], q[2])
				} else {
					c := color.NRGBAModel.Convert(color.RGBA{q[0], q[1], q[2], q[3]}).(color.NRGBA)
					dst[x] = luma(c.R, c.G, c.B)
				}
			}
		}
	case *image.Paletted:
		var pal [256]float32
		for i, c := range m.Palette {
			if i == len(pal) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = luma(n.R, n.G, n.B)
		}
		return func(y int, dst []float32) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range dst {
				dst[x] = pal[p[x]]
			}
		}
	}
	return func(y int, dst []float32) {
		for x := range dst {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			dst[x] = luma(c.R, c.G, c.B)
		}
	}
}

// ycbcrLuma is luma(color.YCbCrToRGB(y, cb, cr)): the JFIF conversion
// to 8-bit RGB, with the same 16.16 fixed-point constants, rounding and
// clamping as the standard library's, written out here so that it is
// inlined into the loop over a row.
func ycbcrLuma(y, cb, cr uint8) float32 {
	yy := int32(y) * 0x10101
	b1 := int32(cb) - 128
	r1 := int32(cr) - 128
	return lumaTables[0][clamp16(yy+91881*r1)] +
		lumaTables[1][clamp16(yy-22554*b1-46802*r1)] +
		lumaTables[2][clamp16(yy+116130*b1)]
}

// clamp16 returns v>>16 clamped to 0..255.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}
