package pdq

import (
	"image"
	"math"
	"slices"
)

// minDimension is the reference's smallest hashable width and height
// (MIN_HASHABLE_DIM); smaller images hash to zero with quality 0.
const minDimension = 5

// FromImage returns the PDQ hash of img's pixels as they are stored (it
// knows no EXIF orientation: HashReader applies that) and its quality,
// 0 to 100.
func FromImage(img image.Image) (Hash, int) {
	c, q := coefficients(img, orientation{})
	return c.hash(), q
}

// The eight dihedral variants, in the reference's order: the index of
// each in Dihedral's result.
const (
	Original   = iota // the image as it is
	Rotate90          // rotated 90° counter-clockwise
	Rotate180         // rotated 180°
	Rotate270         // rotated 270° counter-clockwise (90° clockwise)
	FlipX             // mirrored top to bottom (flipped about the x axis)
	FlipY             // mirrored left to right (flipped about the y axis)
	FlipPlus1         // transposed: mirrored in the diagonal from top left to bottom right
	FlipMinus1        // mirrored in the diagonal from top right to bottom left
)

// Dihedral returns the hashes of img's eight dihedral variants, indexed
// by Original, Rotate90, ..., FlipMinus1 (the reference's order), and
// img's quality, which all eight share. [Original] is FromImage's hash;
// [Rotate90] is close to the hash of img rotated 90° counter-clockwise,
// and so on. They come from one DCT, whose coefficients a rotation or
// mirror only transposes or negates, so the eight cost little more than
// one. Close, not equal: the reference's filter and sampling sit up to a
// pixel off centre, so mirroring an axis shifts what is sampled; on the
// reference's photos a variant is 16 to 24 bits from the hash of the
// turned pixels, within DefaultMaxDistance (docs/pdq.md).
//
// To match an image against a list in any orientation, look up all eight
// hashes of the query (Index.SearchDihedral) and store one hash per
// listed image.
func Dihedral(img image.Image) ([8]Hash, int) {
	c, q := coefficients(img, orientation{})
	return c.dihedral(), q
}

// orientation says how the stored pixels map to what a viewer shows:
// flipX and flipY reverse the stored x and y axes, then transpose swaps
// them. The zero value shows the pixels as stored.
type orientation struct{ transpose, flipX, flipY bool }

// exifOrientation maps EXIF tag 0x0112's values 1 to 8 (TIFF 6.0
// Orientation) to an orientation; other values mean 1.
func exifOrientation(v int) orientation {
	switch v {
	case 2: // mirrored left to right
		return orientation{flipX: true}
	case 3: // rotated 180°
		return orientation{flipX: true, flipY: true}
	case 4: // mirrored top to bottom
		return orientation{flipY: true}
	case 5: // transposed
		return orientation{transpose: true}
	case 6: // shown rotated 90° clockwise
		return orientation{transpose: true, flipY: true}
	case 7: // transversed
		return orientation{transpose: true, flipX: true, flipY: true}
	case 8: // shown rotated 90° counter-clockwise
		return orientation{transpose: true, flipX: true}
	}
	return orientation{}
}

// dct16 holds DCT coefficients 1..16 x 1..16 of the 64x64 image, [i][j]
// with i the vertical and j the horizontal frequency.
type dct16 [16][16]float32

// coefficients runs steps 1 to 5 of the algorithm on img as seen in
// orientation o. It returns nil and quality 0 for images too small to
// hash.
func coefficients(img image.Image, o orientation) (*dct16, int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < minDimension || h < minDimension {
		return nil, 0
	}
	read := lumaReader(img)
	if w > thumbnailSize || h > thumbnailSize {
		w, h, read = thumbnail(w, h, read)
	}
	return filterDecimate(w, h, read, o)
}

// filterDecimate filters the w x h luminance image that read yields, row
// by row from the top, decimates it to 64x64, and returns its DCT
// coefficients and quality.
//
// The reference filters the whole image along rows, then columns, twice,
// then decimates. The filters along the two axes commute and decimation
// only reads 64 columns, so this filters each row as it is read, keeps
// the (at most 64) sampled columns, and filters those: the same sums, in
// another order across the axes, without a second full-size buffer.
func filterDecimate(w, h int, read func(y int, dst []float32), o orientation) (*dct16, int) {
	// Decimation along the stored x axis: which of the 64 samples reads
	// which kept column (several share one when w < 64).
	xs := samplePositions(w)
	var slot [64]int
	var keep []int // positions along the stored x axis (after any flip)
	for j, x := range xs {
		if len(keep) == 0 || keep[len(keep)-1] != x {
			keep = append(keep, x)
		}
		slot[j] = len(keep) - 1
	}

	row := make([]float32, w)
	tmp := make([]float32, w)
	winX := windowSize(w)
	kept := make([]float32, len(keep)*h) // kept[k*h+y], y after any flip
	for y := range h {
		read(y, row)
		if o.flipX {
			slices.Reverse(row)
		}
		box(row, tmp, winX)
		box(tmp, row, winX)
		yd := y
		if o.flipY {
			yd = h - 1 - y
		}
		for k, x := range keep {
			kept[k*h+yd] = row[x]
		}
	}

	var m [64][64]float32
	col := make([]float32, h)
	winY := windowSize(h)
	ys := samplePositions(h)
	for k := range keep {
		v := kept[k*h : (k+1)*h]
		box(v, col, winY)
		box(col, v, winY)
		for j := range 64 {
			if slot[j] != k {
				continue
			}
			for i, y := range ys {
				if o.transpose {
					m[j][i] = v[y]
				} else {
					m[i][j] = v[y]
				}
			}
		}
	}
	return dct(&m), quality(&m)
}

// windowSize is the box filter's window along an axis of n pixels: half
// of the n/64 pixels that become one of 64, rounded up, as two passes
// make a tent twice as wide (computeJaroszFilterWindowSize).
func windowSize(n int) int { return (n + 2*64 - 1) / (2 * 64) }

// samplePositions returns the pixel that each of the 64 decimated pixels
// takes along an axis of n: the one under the cell's centre
// (decimateFloat).
func samplePositions(n int) [64]int {
	var p [64]int
	for k := range p {
		p[k] = int((float64(k) + 0.5) * float64(n) / 64)
	}
	return p
}

// box writes to out (as long as in) the mean of in over a window of w
// pixels around each one: from i-(w-1)/2 to i+w/2 (odd w centred, even
// w one pixel longer to the right), clipped to the vector, as the
// reference's box1DFloat. The running sum adds before it subtracts, in
// float32, as the reference does.
func box(in, out []float32, w int) {
	n := len(in)
	right := w / 2
	left := w - 1 - right
	var sum float32
	count := 0
	for k := 0; k < right && k < n; k++ {
		sum += in[k]
		count++
	}
	for i := range n {
		if r := i + right; r < n {
			sum += in[r]
			count++
		}
		if l := i - left - 1; l >= 0 {
			sum -= in[l]
			count--
		}
		out[i] = sum / float32(count)
	}
}

// quality is the reference's heuristic (pdqImageDomainQualityMetric): the
// sum of the absolute vertical and horizontal differences between
// neighbours of the 64x64 image, each scaled to 0..100 and truncated, so
// that only clear edges count; divided by 90 and capped at 100.
func quality(m *[64][64]float32) int {
	sum := 0
	for i := range 63 {
		for j := range 64 {
			sum += abs(int((m[i][j] - m[i+1][j]) * 100 / 255))
		}
	}
	for i := range 64 {
		for j := range 63 {
			sum += abs(int((m[i][j] - m[i][j+1]) * 100 / 255))
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dctMatrix holds rows 1..16 of the 64-point DCT-II matrix, scaled by
// sqrt(2/64): dctMatrix[i][j] = sqrt(2/64) cos(pi/128 (i+1) (2j+1)).
var dctMatrix = func() (d [16][64]float32) {
	scale := float64(float32(math.Sqrt(2.0 / 64)))
	for i := range 16 {
		for j := range 64 {
			d[i][j] = float32(scale * math.Cos(math.Pi/2/64*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// dct returns D m Dᵀ with D = dctMatrix: the coefficients 1..16 along
// both axes of the 2-D DCT of m (dct64To16).
func dct(m *[64][64]float32) *dct16 {
	var t [16][64]float32 // D m
	for i := range 16 {
		for j := range 64 {
			var s float32
			for k := range 64 {
				s += dctMatrix[i][k] * m[k][j]
			}
			t[i][j] = s
		}
	}
	var c dct16
	for i := range 16 {
		for j := range 16 {
			var s float32
			for k := range 64 {
				s += t[i][k] * dctMatrix[j][k]
			}
			c[i][j] = s
		}
	}
	return &c
}

// hash sets bit 16i+j for each coefficient (i, j) greater than the
// median of the 256 (pdqBuffer16x16ToBits; the median is the lower of
// the middle two, the 128th smallest, as the reference's Torben
// median). A nil c (too small an image) hashes to zero.
func (c *dct16) hash() Hash {
	var h Hash
	if c == nil {
		return h
	}
	var s [256]float32
	for i := range 16 {
		copy(s[i*16:], c[i][:])
	}
	slices.Sort(s[:])
	median := s[127]
	for i := range 16 {
		for j := range 16 {
			if c[i][j] > median {
				h.setBit(i*16 + j)
			}
		}
	}
	return h
}

// dihedralSigns gives, for each variant in Dihedral's order, how its
// coefficients derive from the original's (the table in the reference's
// pdqhashing.cpp): transposed, and negated where i or j is even (the
// odd frequencies i+1 or j+1 change sign when the image is mirrored
// along that axis).
var dihedralSigns = [8]struct{ transpose, negEvenI, negEvenJ bool }{
	Original:   {},
	Rotate90:   {transpose: true, negEvenJ: true},
	Rotate180:  {negEvenI: true, negEvenJ: true},
	Rotate270:  {transpose: true, negEvenI: true},
	FlipX:      {negEvenI: true},
	FlipY:      {negEvenJ: true},
	FlipPlus1:  {transpose: true},
	FlipMinus1: {transpose: true, negEvenI: true, negEvenJ: true},
}

// dihedral returns the hashes of the eight variants.
func (c *dct16) dihedral() [8]Hash {
	var hs [8]Hash
	if c == nil {
		return hs
	}
	for v, d := range dihedralSigns {
		var t dct16
		for i := range 16 {
			for j := range 16 {
				x := c[i][j]
				if d.negEvenI && i%2 == 0 {
					x = -x
				}
				if d.negEvenJ && j%2 == 0 {
					x = -x
				}
				if d.transpose {
					t[j][i] = x
				} else {
					t[i][j] = x
				}
			}
		}
		hs[v] = t.hash()
	}
	return hs
}
