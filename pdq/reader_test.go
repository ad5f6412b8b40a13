package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/webp"
)

// exifTIFF returns a TIFF structure whose IFD0 holds Orientation v, in
// the byte order bo, after another tag as cameras write.
func exifTIFF(bo binary.ByteOrder, v uint16) []byte {
	b := make([]byte, 8+2+2*12+4)
	if bo == binary.LittleEndian {
		copy(b, "II*\x00")
	} else {
		copy(b, "MM\x00*")
	}
	bo.PutUint32(b[4:], 8)
	bo.PutUint16(b[8:], 2)
	e := b[10:]
	bo.PutUint16(e[0:], 0x010f) // Make, ASCII, 4 bytes inline
	bo.PutUint16(e[2:], 2)
	bo.PutUint32(e[4:], 4)
	copy(e[8:], "Cam\x00")
	e = b[22:]
	bo.PutUint16(e[0:], 0x0112)
	bo.PutUint16(e[2:], 3)
	bo.PutUint32(e[4:], 1)
	bo.PutUint16(e[8:], v)
	return b
}

// withAPP1 inserts an APP1 Exif segment holding tiff after SOI.
func withAPP1(jpg, tiff []byte) []byte {
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xff, 0xe1, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// withChunk inserts a PNG chunk after IHDR.
func withChunk(pngData []byte, typ string, data []byte) []byte {
	end := 8 + 8 + 13 + 4
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	out := append([]byte{}, pngData[:end]...)
	out = append(out, c...)
	return append(out, pngData[end:]...)
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hashBytes(t testing.TB, b []byte) (Result, error) {
	t.Helper()
	return HashReader(bytes.NewReader(b), DefaultLimits)
}

// TestEXIFOrientation stores a photo turned by the inverse of each EXIF
// orientation, so that a viewer shows it upright, in a JPEG with that
// orientation in APP1 (both byte orders) and in a PNG with it in eXIf:
// HashReader must hash it as the upright photo.
func TestEXIFOrientation(t *testing.T) {
	upright := decodeFile(t, filepath.Join(vectors, "images/bridge-mods/aaa-orig.jpg"))
	want, _ := FromImage(upright)
	// Through the same JPEG coding, to tell the orientation's effect from
	// the encoder's.
	plain, err := hashBytes(t, encodeJPEG(t, upright, 90))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("re-encoding alone: distance %d", Distance(plain.Hash, want))
	if plain.Dihedral[Original] != plain.Hash {
		t.Fatalf("Result.Dihedral[Original] %v is not Result.Hash %v", plain.Dihedral[Original], plain.Hash)
	}
	if dih, _ := Dihedral(decodeBytes(t, encodeJPEG(t, upright, 90))); dih != plain.Dihedral {
		t.Fatalf("Result.Dihedral differs from Dihedral of the same image")
	}
	maxD := 0
	for k := 1; k <= 8; k++ {
		stored := transform(upright, inverse(exifToVariant[k]))
		jpg := encodeJPEG(t, stored, 90)
		bo := binary.ByteOrder(binary.BigEndian)
		if k%2 == 0 {
			bo = binary.LittleEndian
		}
		pngData := encodePNG(t, stored)
		for _, c := range []struct {
			name string
			data []byte
		}{
			{"JPEG", withAPP1(jpg, exifTIFF(bo, uint16(k)))},
			{"PNG", withChunk(pngData, "eXIf", exifTIFF(bo, uint16(k)))},
		} {
			res, err := hashBytes(t, c.data)
			if err != nil {
				t.Fatalf("%s orientation %d: %v", c.name, k, err)
			}
			d := Distance(res.Hash, want)
			maxD = max(maxD, d)
			if res.Orientation != k || res.Width != 1600 || res.Height != 1004 || d > 8 {
				t.Errorf("%s orientation %d: %+v, distance %d to the upright photo", c.name, k, res, d)
			}
		}
		// Without the orientation, the stored pixels are hashed.
		res, err := hashBytes(t, jpg)
		if err != nil {
			t.Fatal(err)
		}
		if k != 1 && Distance(res.Hash, want) <= DefaultMaxDistance {
			t.Errorf("orientation %d ignored, yet the hash matches the upright photo", k)
		}
	}
	t.Logf("EXIF-oriented JPEGs and PNGs: largest distance to the upright photo %d", maxD)

	// Orientation values out of range, and damaged EXIF, are ignored.
	jpg := encodeJPEG(t, upright, 90)
	for _, tiff := range [][]byte{exifTIFF(binary.BigEndian, 0), exifTIFF(binary.BigEndian, 9), exifTIFF(binary.BigEndian, 6)[:20], []byte("garbage")} {
		res, err := hashBytes(t, withAPP1(jpg, tiff))
		if err != nil || res.Orientation != 1 || res.Hash != plain.Hash {
			t.Errorf("damaged EXIF %x: %+v, %v", tiff, res, err)
		}
	}
}

// bombPNG returns a valid PNG header declaring a w x h image, followed
// by a few compressed rows and no end: a decompression bomb's opening.
func bombPNG(t testing.TB, w, h uint32) []byte {
	small := encodePNG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	ihdr := small[8 : 8+8+13+4]
	binary.BigEndian.PutUint32(ihdr[8:], w)
	binary.BigEndian.PutUint32(ihdr[12:], h)
	binary.BigEndian.PutUint32(ihdr[21:], crc32.ChecksumIEEE(ihdr[4:21]))
	return small
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDecompressionBomb(t *testing.T) {
	b := bombPNG(t, 100000, 100000)
	// A reader that ends in an endless stream of zeros: HashReader must
	// stop at the header.
	cr := &countingReader{r: io.MultiReader(bytes.NewReader(b), zeros{})}
	var before, after runtimeMem
	before.read()
	_, err := HashReader(cr, DefaultLimits)
	after.read()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if want := "image too large: 100000 x 100000 pixels, more than the limit of 67108864"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if cr.n > 4096 {
		t.Errorf("read %d bytes of the stream", cr.n)
	}
	if grew := after.total - before.total; grew > 1<<20 {
		t.Errorf("allocated %d bytes", grew)
	}
	// A JPEG's size comes from its SOF, a GIF's from its screen.
	jpg := encodeJPEG(t, noise(64, 48, 1), 90)
	lim := Limits{MaxPixels: 64*48 - 1}
	if _, err := HashReader(bytes.NewReader(jpg), lim); !errors.Is(err, ErrTooLarge) {
		t.Errorf("JPEG over a limit of %d pixels: %v", lim.MaxPixels, err)
	}
	if _, err := HashReader(bytes.NewReader(jpg), Limits{MaxPixels: 64 * 48}); err != nil {
		t.Errorf("JPEG at the limit: %v", err)
	}
	var g bytes.Buffer
	if err := gif.Encode(&g, noise(64, 48, 1), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := HashReader(bytes.NewReader(g.Bytes()), lim); !errors.Is(err, ErrTooLarge) {
		t.Errorf("GIF over the limit: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestHeaderLimit: a header longer than MaxHeaderBytes is refused, in a
// JPEG (a long comment before the frame) and in a PNG (a long text chunk
// before the pixels).
func TestHeaderLimit(t *testing.T) {
	img := noise(64, 48, 1)
	jpg := encodeJPEG(t, img, 90)
	com := append([]byte{0xff, 0xfe, 0xff, 0xff}, bytes.Repeat([]byte("x"), 0xffff-2)...)
	long := append(append(append([]byte{}, jpg[:2]...), bytes.Repeat(com, 20)...), jpg[2:]...)
	pngData := withChunk(encodePNG(t, img), "tEXt", append([]byte("Comment\x00"), bytes.Repeat([]byte("x"), 2<<20)...))
	for name, b := range map[string][]byte{"JPEG": long, "PNG": pngData} {
		_, err := hashBytes(t, b)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1048576 bytes before the pixel data") {
			t.Errorf("%s: %v", name, err)
		}
		res, err := HashReader(bytes.NewReader(b), Limits{MaxHeaderBytes: 4 << 20})
		if err != nil || res.Width != 64 {
			t.Errorf("%s with a larger limit: %+v, %v", name, res, err)
		}
	}
}

// TestBadInput: garbage, empty and truncated files get a clear error
// and no panic.
func TestBadInput(t *testing.T) {
	jpg, err := os.ReadFile(filepath.Join(vectors, "images/misc-images/small.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	pngData, err := os.ReadFile(filepath.Join(vectors, "images/misc-images/c.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{"empty", nil, "not a JPEG, PNG, GIF or WebP image", ErrNotImage},
		{"text", []byte("hello, this is not an image at all"), "not a JPEG, PNG, GIF or WebP image", ErrNotImage},
		{"PDF", []byte("%PDF-1.7\n"), "not a JPEG, PNG, GIF or WebP image", ErrNotImage},
		{"two bytes of JPEG", jpg[:2], "not a JPEG", ErrNotImage},
		{"JPEG header only", jpg[:100], "damaged or truncated JPEG header: ", nil},
		{"JPEG cut in the scan", jpg[:len(jpg)/2], "damaged or truncated JPEG image: unexpected EOF", io.ErrUnexpectedEOF},
		{"PNG signature only", pngData[:8], "damaged or truncated PNG header: ", nil},
		{"PNG cut in the pixels", pngData[:len(pngData)/2], "damaged or truncated PNG image: ", nil},
		{"RIFF, not WebP", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), "not a JPEG", ErrNotImage},
		{"WebP header only", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "damaged or truncated WebP header: ", nil},
	} {
		_, err := hashBytes(t, c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) || c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

type failingReader struct{ after []byte }

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.after) == 0 {
		return 0, errDisk
	}
	n := copy(p, f.after)
	f.after = f.after[n:]
	return n, nil
}

// TestReadError: a failing reader is reported as such, not as a
// damaged image.
func TestReadError(t *testing.T) {
	jpg := encodeJPEG(t, noise(300, 200, 1), 90)
	for _, n := range []int{0, 5, 300, len(jpg) / 2} {
		_, err := HashReader(&failingReader{jpg[:n]}, DefaultLimits)
		if !errors.Is(err, errDisk) || !strings.HasPrefix(err.Error(), "reading the image: ") {
			t.Errorf("after %d bytes: %v", n, err)
		}
	}
}

func TestGIFAndWebP(t *testing.T) {
	img := noise(120, 90, 1)
	var g bytes.Buffer
	if err := gif.Encode(&g, img, nil); err != nil {
		t.Fatal(err)
	}
	decoded, err := gif.Decode(bytes.NewReader(g.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := FromImage(decoded)
	res, err := hashBytes(t, g.Bytes())
	if err != nil || res.Hash != want || res.Format != "gif" || res.Width != 120 {
		t.Errorf("GIF: %+v, %v", res, err)
	}

	w, err := os.ReadFile("testdata/video-001.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	decoded, err = webp.Decode(bytes.NewReader(w))
	if err != nil {
		t.Fatal(err)
	}
	want, q := FromImage(decoded)
	res, err = hashBytes(t, w)
	if err != nil || res.Hash != want || res.Quality != q || res.Format != "webp" || res.Width != decoded.Bounds().Dx() {
		t.Errorf("WebP: %+v, %v", res, err)
	}
}

// TestColourModels: the same picture as RGBA, NRGBA, grey, paletted and
// 16-bit hashes alike (up to rounding), through the direct readers and
// the generic one.
func TestColourModels(t *testing.T) {
	src := decodeFile(t, filepath.Join(vectors, "images/reg-test-input/labelme-subset/q0291.jpg"))
	b := src.Bounds()
	want, _ := FromImage(src)
	conv := func(m draw) image.Image { return copyInto(m, src) }
	for name, img := range map[string]image.Image{
		"RGBA":    conv(image.NewRGBA(b)),
		"NRGBA":   conv(image.NewNRGBA(b)),
		"RGBA64":  conv(image.NewRGBA64(b)),
		"CMYK":    conv(image.NewCMYK(b)),
		"sub":     conv(image.NewRGBA(image.Rect(-7, -3, b.Dx()+20, b.Dy()+13))).(*image.RGBA).SubImage(b),
		"offset":  offset(src, 11, -5),
		"NRGBA64": conv(image.NewNRGBA64(b)),
	} {
		h, _ := FromImage(img)
		if d := Distance(h, want); d > 4 {
			t.Errorf("%s: distance %d", name, d)
		}
	}
	// Grey: the luminance of the colour image, as grey levels.
	grey := conv(image.NewGray(b))
	gh, _ := FromImage(grey)
	pal := image.NewPaletted(b, color.Palette(func() (p []color.Color) {
		for i := range 256 {
			p = append(p, color.Gray{uint8(i)})
		}
		return p
	}()))
	ph, _ := FromImage(copyInto(pal, grey))
	if d := Distance(gh, want); d > 8 {
		t.Errorf("grey: distance %d", d)
	}
	if gh != ph {
		t.Errorf("paletted grey %v, grey %v", ph, gh)
	}
}

func copyInto(m draw, src image.Image) image.Image {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m.Set(x, y, src.At(x, y))
		}
	}
	return m
}

type draw interface {
	image.Image
	Set(x, y int, c color.Color)
}

// offset returns img's pixels with bounds moved by (dx, dy).
func offset(img image.Image, dx, dy int) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(b.Add(image.Pt(dx, dy)))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x+dx, y+dy, img.At(x, y))
		}
	}
	return out
}

func decodeBytes(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
