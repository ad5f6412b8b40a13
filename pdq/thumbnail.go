package pdq

import "math"

// thumbnailSize is the longest side to which larger images are first
// shrunk, as both reference tools do (DOWNSAMPLE_DIMS in the C++
// reference's pdqio.cpp; Image.thumbnail((512, 512)) in the Python
// reference's pdq_hasher.py) because the tent filter would be slow on
// the full image.
const thumbnailSize = 512

// thumbnail shrinks the w x h luminance image that read yields to fit
// in thumbnailSize x thumbnailSize, keeping its aspect ratio (the Python
// reference's thumbnail; the C++ reference squashes to 512x512, which
// changes the 64x64 image little). Each output pixel is the mean of the
// input under a triangle ("bilinear") filter as wide as two output
// pixels, along each axis: the resampling of PIL and of
// golang.org/x/image/draw.BiLinear, done here on the float32 luminance
// and streamed a row at a time. It returns the shrunk image's size and
// reader.
func thumbnail(w, h int, read func(y int, dst []float32)) (int, int, func(y int, dst []float32)) {
	nw, nh := w, h
	if w >= h {
		nw, nh = thumbnailSize, max(1, int((int64(h)*thumbnailSize+int64(w)/2)/int64(w)))
	} else {
		nw, nh = max(1, int((int64(w)*thumbnailSize+int64(h)/2)/int64(h))), thumbnailSize
	}
	cols := resampleTaps(w, nw)
	rows := resampleTaps(h, nh)
	// Which output rows each input row adds to, and with what weight.
	type share struct {
		out    int
		weight float32
	}
	into := make([][]share, h)
	for o, t := range rows {
		for k, wt := range t.weights {
			into[t.first+k] = append(into[t.first+k], share{o, wt})
		}
	}

	out := make([]float32, nw*nh)
	in := make([]float32, w)
	small := make([]float32, nw)
	for y := range h {
		if len(into[y]) == 0 {
			continue
		}
		read(y, in)
		for o, t := range cols {
			var s float32
			for k, wt := range t.weights {
				s += wt * in[t.first+k]
			}
			small[o] = s
		}
		for _, sh := range into[y] {
			dst := out[sh.out*nw : (sh.out+1)*nw]
			for x, v := range small {
				dst[x] += sh.weight * v
			}
		}
	}
	return nw, nh, func(y int, dst []float32) { copy(dst, out[y*nw:(y+1)*nw]) }
}

// taps are the input pixels, from first on, that make one output pixel,
// with weights that sum to 1.
type taps struct {
	first   int
	weights []float32
}

// resampleTaps returns the taps of each of m outputs resampled from n
// inputs (m <= n) with a triangle filter of radius n/m inputs centred on
// the output pixel's centre.
func resampleTaps(n, m int) []taps {
	scale := float64(n) / float64(m)
	ts := make([]taps, m)
	for o := range ts {
		c := (float64(o) + 0.5) * scale
		lo := max(0, int(math.Floor(c-scale)))
		hi := min(n, int(math.Ceil(c+scale)))
		ws := make([]float64, hi-lo)
		var sum float64
		for k := range ws {
			d := math.Abs(float64(lo+k)+0.5-c) / scale
			if d < 1 {
				ws[k] = 1 - d
				sum += ws[k]
			}
		}
		t := taps{first: lo, weights: make([]float32, len(ws))}
		for k, wt := range ws {
			t.weights[k] = float32(wt / sum)
		}
		ts[o] = t
	}
	return ts
}
