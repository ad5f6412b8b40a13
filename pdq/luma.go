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

func luma(r, g, b uint8) float32 {
	return lumaR*float32(r) + lumaG*float32(g) + lumaB*float32(b)
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
		return func(y int, dst []float32) {
			yy := b.Min.Y + y
			for x := range dst {
				xx := b.Min.X + x
				ci := m.COffset(xx, yy)
				r, g, bl := color.YCbCrToRGB(m.Y[m.YOffset(xx, yy)], m.Cb[ci], m.Cr[ci])
				dst[x] = luma(r, g, bl)
			}
		}
	case *image.Gray:
		return func(y int, dst []float32) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range dst {
				dst[x] = float32(p[x])
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
