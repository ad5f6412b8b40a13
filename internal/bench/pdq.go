package bench

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/custos-vault/custos/pdq"
)

// pdqPhoto is the reference's 1600x1004 photo, read from the repository
// (custos-bench runs from its root, as `make bench` does).
const pdqPhoto = "testdata/pdq/images/bridge-mods/aaa-orig.jpg"

// PDQ measures perceptual hashing on one core: pdq_images_per_s, 1000 x
// 1000 JPEGs of quality 90 (crops of the reference's photo) decoded and
// hashed by pdq.HashReader, one after the other for two seconds; and
// pdq_search_ms, the median of 101 queries, each against 1,000,000 random
// hashes in a pdq.Index, with pdq_search_dihedral_ms the same for all
// eight variants of the query. It runs with GOMAXPROCS 1, so that the
// garbage collector shares the one core too.
func PDQ() ([]Metric, error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f, err := os.Open(pdqPhoto)
	if err != nil {
		return nil, fmt.Errorf("the sample photo (run from the repository root): %w", err)
	}
	photo, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	// Eight 1000x1000 crops at different offsets, so that no two files
	// are the same.
	var jpgs [][]byte
	for i := range 8 {
		img := image.NewRGBA(image.Rect(0, 0, 1000, 1000))
		draw.Draw(img, img.Rect, photo, image.Pt(i*75, 0), draw.Src)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			return nil, err
		}
		jpgs = append(jpgs, buf.Bytes())
	}
	n := 0
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if _, err := pdq.HashReader(bytes.NewReader(jpgs[n%len(jpgs)]), pdq.DefaultLimits); err != nil {
			return nil, err
		}
		n++
	}
	perS := float64(n) / time.Since(start).Seconds()

	r := rand.New(rand.NewPCG(1, 2))
	random := func() (h pdq.Hash) {
		for i := range h {
			h[i] = byte(r.Uint32())
		}
		return h
	}
	var x pdq.Index
	for i := range 1_000_000 {
		x.Add(uint32(i), random())
	}
	median := func(query func()) float64 {
		var ms []float64
		for range 101 {
			t := time.Now()
			query()
			ms = append(ms, float64(time.Since(t).Microseconds())/1000)
		}
		slices.Sort(ms)
		return ms[len(ms)/2]
	}
	one := median(func() { x.Search(random(), pdq.DefaultMaxDistance) })
	eight := median(func() {
		var q [8]pdq.Hash
		for v := range q {
			q[v] = random()
		}
		x.SearchDihedral(q, pdq.DefaultMaxDistance)
	})
	return []Metric{
		{"pdq_images_per_s", perS, "images/s"},
		{"pdq_search_ms", one, "ms"},
		{"pdq_search_dihedral_ms", eight, "ms"},
	}, nil
}
