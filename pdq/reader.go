package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Limits bound what HashReader decodes. A zero or negative field takes
// DefaultLimits' value.
type Limits struct {
	// MaxPixels bounds width x height, checked from the header before
	// any pixel is decoded. Decoding needs between 1.5 (a baseline
	// 4:2:0 JPEG) and about 8 (a 16-bit PNG or a progressive JPEG) bytes
	// a pixel.
	MaxPixels int64
	// MaxHeaderBytes bounds the bytes before the pixel data that are
	// held to be read twice: the format's header and metadata (EXIF,
	// colour profiles, comments), which may be no longer.
	MaxHeaderBytes int
}

// DefaultLimits allows 64 megapixels (8192 x 8192, more than any camera
// in common use) and a 1 MiB header.
var DefaultLimits = Limits{MaxPixels: 64 << 20, MaxHeaderBytes: 1 << 20}

func (l Limits) orDefault() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	return l
}

// Result is what HashReader found.
type Result struct {
	Hash Hash
	// Dihedral are the eight dihedral variants of the image as shown
	// (Dihedral[Original] is Hash), in the order of Dihedral.
	Dihedral [8]Hash
	Quality  int // 0 to 100; below MinQuality the hash is not for matching
	// Width and Height are as the image is shown, after its orientation.
	Width, Height int
	// Format is "jpeg", "png", "gif" or "webp".
	Format string
	// Orientation is the EXIF orientation applied (TIFF 6.0: 1 upright,
	// 3 rotated 180°, 6 and 8 shown rotated 90° clockwise and
	// counter-clockwise, 2, 4, 5 and 7 mirrored); 1 when the image has
	// none.
	Orientation int
}

var (
	// ErrNotImage is returned when the stream does not start as a JPEG,
	// PNG, GIF or WebP file.
	ErrNotImage = errors.New("not a JPEG, PNG, GIF or WebP image")
	// ErrTooLarge is returned, wrapped with the figures, when an image
	// has more pixels than Limits.MaxPixels or a longer header than
	// Limits.MaxHeaderBytes. Nothing is decoded then.
	ErrTooLarge = errors.New("image too large")
)

type format struct {
	name, upper  string
	magic        func([]byte) bool
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
	orientation  func(header []byte) int
	// header reads the rest of the header into rec where decodeConfig
	// would stop short of what orientation needs (nil: nothing to do).
	header func(rec *recorder) error
}

var formats = []format{
	{"jpeg", "JPEG", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}) },
		jpeg.DecodeConfig, jpeg.Decode, jpegOrientation, nil},
	{"png", "PNG", func(b []byte) bool { return bytes.HasPrefix(b, pngSignature) },
		png.DecodeConfig, png.Decode, pngOrientation, pngHeader},
	{"gif", "GIF", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	}, gif.DecodeConfig, gif.Decode, nil, nil},
	{"webp", "WebP", func(b []byte) bool {
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	}, webpDecodeConfig, webp.Decode, nil, nil},
}

// ErrExtendedWebP is returned for an extended WebP file (a VP8X chunk:
// alpha, animation or metadata). Its canvas size, which the header gives,
// need not be the size its bitstream decodes to, so the pixel limit could
// not be enforced before decoding: it is not decoded at all.
var ErrExtendedWebP = errors.New("extended WebP (VP8X) is not decoded: its declared canvas need not be the size its bitstream decodes to")

// webpDecodeConfig is webp.DecodeConfig for simple WebP files (a VP8 or
// VP8L chunk first, whose own header gives the size decoded).
func webpDecodeConfig(r io.Reader) (image.Config, error) {
	head := make([]byte, 16)
	if _, err := io.ReadFull(r, head); err != nil {
		return image.Config{}, err
	}
	if string(head[12:16]) == "VP8X" {
		return image.Config{}, ErrExtendedWebP
	}
	return webp.DecodeConfig(io.MultiReader(bytes.NewReader(head), r))
}

// HashReader reads one image from r, JPEG, PNG, GIF (its first frame) or
// WebP, and returns its PDQ hash as a viewer shows it. In order:
//
//   - it reads the file's signature and returns ErrNotImage unless it is
//     one of the four;
//   - it reads the header (for a PNG, every chunk before the first
//     IDAT) while keeping at most lim.MaxHeaderBytes of it, and returns
//     ErrTooLarge if that is not enough;
//   - it returns ErrTooLarge if width x height exceeds lim.MaxPixels,
//     before it allocates or decodes any pixel, so that a small file
//     declaring a huge image (a decompression bomb) costs nothing;
//   - it decodes the pixels from the kept header and the rest of r, and
//     returns a decoder's error wrapped with the format's name;
//   - it applies the EXIF orientation of a JPEG (APP1 Exif) or PNG
//     (eXIf chunk), and hashes the pixels as FromImage does.
//
// Errors read as the reason an image was not hashed ("image too large:
// 100000 x 100000 pixels, more than the limit of 67108864"). A failure
// to read r is returned wrapped, with the words "reading the image".
//
// HashReader may stop reading before r's end (a decoder stops at the
// image's end, a GIF after its first frame); a caller that needs the
// whole stream consumed (to hash or store it) drains the rest itself.
func HashReader(r io.Reader, lim Limits) (Result, error) {
	lim = lim.orDefault()
	src := &sourceReader{r: r}
	rec := &recorder{r: src, max: lim.MaxHeaderBytes}
	if err := rec.need(12); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Result{}, src.explain(err)
	}
	var f *format
	for i := range formats {
		if formats[i].magic(rec.buf) {
			f = &formats[i]
			break
		}
	}
	if f == nil {
		return Result{}, ErrNotImage
	}
	if f.header != nil {
		if err := f.header(rec); err != nil {
			return Result{}, headerError(f, src, err)
		}
	}
	cfg, err := f.decodeConfig(io.MultiReader(bytes.NewReader(rec.buf), rec))
	if err != nil {
		return Result{}, headerError(f, src, err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return Result{}, fmt.Errorf("%w: %d x %d pixels, more than the limit of %d", ErrTooLarge, cfg.Width, cfg.Height, lim.MaxPixels)
	}
	exif := 0
	if f.orientation != nil {
		exif = f.orientation(rec.buf)
	}
	var body io.Reader = io.MultiReader(bytes.NewReader(rec.buf), src)
	scans := &scanCounter{r: body, max: maxJPEGScans}
	if f.name == "jpeg" {
		body = scans
	}
	img, err := f.decode(body)
	if err != nil {
		if src.err != nil {
			return Result{}, src.explain(err)
		}
		if scans.over {
			return Result{}, fmt.Errorf("%w: a JPEG of more than %d scans", ErrTooLarge, maxJPEGScans)
		}
		return Result{}, fmt.Errorf("damaged or truncated %s image: %w", f.upper, err)
	}
	o := exifOrientation(exif)
	c, q := coefficients(img, o)
	res := Result{Hash: c.hash(), Dihedral: c.dihedral(), Quality: q, Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Format: f.name, Orientation: max(exif, 1)}
	if o.transpose {
		res.Width, res.Height = res.Height, res.Width
	}
	return res, nil
}

func headerError(f *format, src *sourceReader, err error) error {
	switch {
	case errors.Is(err, errHeaderTooLong(0)):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case src.err != nil:
		return src.explain(err)
	case errors.Is(err, ErrExtendedWebP):
		return err
	}
	return fmt.Errorf("damaged or truncated %s header: %w", f.upper, err)
}

// pngHeader reads the chunks of a PNG up to the first IDAT's length and
// type, so that an eXIf chunk before it is in the recorded header.
func pngHeader(rec *recorder) error {
	p := len(pngSignature)
	for {
		if err := rec.need(p + 8); err != nil {
			return err
		}
		if string(rec.buf[p+4:p+8]) == "IDAT" {
			return nil
		}
		n := int64(binary.BigEndian.Uint32(rec.buf[p:]))
		if int64(p)+12+n > int64(rec.max) {
			return errHeaderTooLong(rec.max)
		}
		p += 12 + int(n)
	}
}

// errHeaderTooLong is the error of a header longer than max bytes.
type errHeaderTooLong int

func (e errHeaderTooLong) Error() string {
	return fmt.Sprintf("more than %d bytes before the pixel data", int(e))
}

func (e errHeaderTooLong) Is(target error) bool {
	_, ok := target.(errHeaderTooLong)
	return ok
}

// recorder reads from r and keeps what it read, up to max bytes, so that
// the header can be read again by the decoder.
type recorder struct {
	r   io.Reader
	buf []byte
	max int
}

func (rc *recorder) Read(p []byte) (int, error) {
	if len(rc.buf) >= rc.max {
		return 0, errHeaderTooLong(rc.max)
	}
	p = p[:min(len(p), rc.max-len(rc.buf))]
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

// need reads until n bytes are recorded: io.ErrUnexpectedEOF or io.EOF
// if the stream ends first, errHeaderTooLong if n is over the limit.
func (rc *recorder) need(n int) error {
	if n > rc.max {
		return errHeaderTooLong(rc.max)
	}
	if have := len(rc.buf); have < n {
		rc.buf = append(rc.buf, make([]byte, n-have)...)
		k, err := io.ReadFull(rc.r, rc.buf[have:n])
		rc.buf = rc.buf[:have+k]
		return err
	}
	return nil
}

// sourceReader keeps the first error other than io.EOF that the caller's
// reader returned, so that a failure to read is not reported as damage
// to the image.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

func (s *sourceReader) explain(err error) error {
	if s.err != nil {
		return fmt.Errorf("reading the image: %w", s.err)
	}
	return fmt.Errorf("reading the image: %w", err)
}

// maxJPEGScans bounds the scans (start-of-scan markers) of a JPEG that is
// decoded. Each scan of a progressive JPEG costs a pass over the whole
// image's coefficients, so a small file of thousands of tiny scans costs
// minutes; encoders write about ten (libjpeg's progressive default), and
// 64 leaves room for any camera or editor.
const maxJPEGScans = 64

// scanCounter passes a JPEG through and fails the read once more than max
// start-of-scan markers (0xFF 0xDA) have gone by. In entropy-coded data a
// 0xFF byte is followed by 0x00 or a restart marker, never 0xDA; a marker
// inside a header segment (an EXIF thumbnail's own scan) counts too,
// which the bound allows for.
type scanCounter struct {
	r      io.Reader
	max    int
	n      int
	lastFF bool
	over   bool
}

var errTooManyScans = errors.New("too many JPEG scans")

func (s *scanCounter) Read(p []byte) (int, error) {
	if s.over {
		return 0, errTooManyScans
	}
	n, err := s.r.Read(p)
	for _, b := range p[:n] {
		if s.lastFF && b == 0xDA {
			s.n++
		}
		s.lastFF = b == 0xFF
	}
	if s.n > s.max {
		s.over = true
		return 0, errTooManyScans
	}
	return n, err
}
