package pdq

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

func TestTIFFOrientation(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		for v := range uint16(12) {
			want := int(v)
			if v > 8 {
				want = 0
			}
			if got := tiffOrientation(exifTIFF(bo, v)); got != want {
				t.Errorf("%v, %d: got %d", bo, v, got)
			}
		}
		// A LONG is read too; a count other than 1 or another type is not.
		b := exifTIFF(bo, 0)
		bo.PutUint16(b[22+2:], 4)
		bo.PutUint32(b[22+8:], 6)
		if got := tiffOrientation(b); got != 6 {
			t.Errorf("%v LONG: %d", bo, got)
		}
		bo.PutUint32(b[22+4:], 2)
		if got := tiffOrientation(b); got != 0 {
			t.Errorf("%v count 2: %d", bo, got)
		}
		// Every truncation is harmless.
		full := exifTIFF(bo, 6)
		for n := range len(full) {
			want := 0
			if n >= 8+2+2*12 { // the next IFD's offset is not needed
				want = 6
			}
			if got := tiffOrientation(full[:n]); got != want {
				t.Errorf("%v cut at %d: %d", bo, n, got)
			}
		}
		// An IFD offset past the end, or into the header, is refused.
		bad := exifTIFF(bo, 6)
		bo.PutUint32(bad[4:], 0xfffffff0)
		if got := tiffOrientation(bad); got != 0 {
			t.Errorf("far offset: %d", got)
		}
		bo.PutUint32(bad[4:], 2)
		if got := tiffOrientation(bad); got != 0 {
			t.Errorf("offset into the header: %d", got)
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	jpg := encodeJPEG(t, noise(16, 16, 1), 80)
	if got := jpegOrientation(jpg); got != 0 {
		t.Errorf("no EXIF: %d", got)
	}
	with := withAPP1(jpg, exifTIFF(binary.LittleEndian, 8))
	if got := jpegOrientation(with); got != 8 {
		t.Errorf("APP1: %d", got)
	}
	// After an APP0 and fill bytes, still found.
	app0 := []byte{0xff, 0xe0, 0x00, 0x07, 'J', 'F', 'I', 'F', 0, 0xff, 0xff}
	with2 := append(append(append([]byte{}, with[:2]...), app0...), with[3:]...)
	if got := jpegOrientation(with2); got != 8 {
		t.Errorf("after APP0 and fill: %d", got)
	}
	// An APP1 that is XMP, not EXIF, is passed over; one that comes
	// after the first scan is not looked at.
	xmp := []byte{0xff, 0xe1, 0x00, 0x08, 'h', 't', 't', 'p', ':', '/'}
	with3 := append(append(append([]byte{}, jpg[:2]...), xmp...), with[2:]...)
	if got := jpegOrientation(with3); got != 8 {
		t.Errorf("after XMP: %d", got)
	}
	sos := bytes.Index(jpg, []byte{0xff, 0xda})
	late := append(append([]byte{}, jpg[:sos]...), withAPP1([]byte{0xff, 0xd8}, exifTIFF(binary.BigEndian, 6))[2:]...)
	late = append(late, jpg[sos:]...)
	if got := jpegOrientation(late); got != 6 {
		t.Errorf("before SOS: %d", got)
	}
	for n := range len(with) {
		if got := jpegOrientation(with[:n]); got != 0 && n < 2+4+6+len(exifTIFF(binary.LittleEndian, 8)) {
			t.Errorf("cut at %d: %d", n, got)
		}
	}
}

func TestPNGOrientation(t *testing.T) {
	p := encodePNG(t, noise(16, 16, 1))
	if got := pngOrientation(p); got != 0 {
		t.Errorf("no eXIf: %d", got)
	}
	with := withChunk(p, "eXIf", exifTIFF(binary.BigEndian, 3))
	if got := pngOrientation(with); got != 3 {
		t.Errorf("eXIf: %d", got)
	}
	// After IDAT it does not count.
	idat := bytes.Index(p, []byte("IDAT")) - 4
	after := append(append([]byte{}, p[:idat]...), p[idat:len(p)-12]...)
	c := binary.BigEndian.AppendUint32(nil, uint32(len(exifTIFF(binary.BigEndian, 3))))
	c = append(append(c, "eXIf"...), exifTIFF(binary.BigEndian, 3)...)
	c = append(c, 0, 0, 0, 0)
	after = append(append(after, c...), p[len(p)-12:]...)
	if got := pngOrientation(after); got != 0 {
		t.Errorf("eXIf after IDAT: %d", got)
	}
}

// FuzzTIFFOrientation: any bytes give 0..8 and no panic; a valid
// orientation in either byte order survives any bytes appended.
func FuzzTIFFOrientation(f *testing.F) {
	f.Add(exifTIFF(binary.BigEndian, 6), uint8(0))
	f.Add(exifTIFF(binary.LittleEndian, 8), uint8(1))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\xff\xff"), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, v uint8) {
		if got := tiffOrientation(b); got < 0 || got > 8 {
			t.Fatalf("orientation %d", got)
		}
		jpegOrientation(b)
		pngOrientation(b)
		bo := binary.ByteOrder(binary.BigEndian)
		if v&0x80 != 0 {
			bo = binary.LittleEndian
		}
		want := int(v&0x0f) % 9
		tiff := append(exifTIFF(bo, uint16(want)), b...)
		if got := tiffOrientation(tiff); got != want {
			t.Fatalf("orientation %d with %d bytes appended: got %d", want, len(b), got)
		}
		jpg := withAPP1([]byte{0xff, 0xd8, 0xff, 0xd9}, tiff)
		if len(tiff) < 0xfff0 {
			if got := jpegOrientation(jpg); got != want {
				t.Fatalf("in APP1: got %d, want %d", got, want)
			}
		}
	})
}

// FuzzHashReader: any bytes give a result or an error, never a panic,
// and a result's fields are in range.
func FuzzHashReader(f *testing.F) {
	for _, p := range []string{
		"../testdata/pdq/images/misc-images/wee.jpg",
		"testdata/video-001.lossy.webp",
	} {
		b, err := os.ReadFile(filepath.Clean(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(encodePNG(f, noise(9, 7, 1)))
	f.Add(withChunk(encodePNG(f, noise(9, 7, 1)), "eXIf", exifTIFF(binary.BigEndian, 6)))
	f.Add(withAPP1(encodeJPEG(f, noise(9, 7, 1), 50), exifTIFF(binary.LittleEndian, 5)))
	f.Add(bombPNG(f, 1<<20, 1<<20))
	lim := Limits{MaxPixels: 1 << 20, MaxHeaderBytes: 64 << 10}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := HashReader(bytes.NewReader(b), lim)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if res.Quality < 0 || res.Quality > 100 || res.Orientation < 1 || res.Orientation > 8 ||
			int64(res.Width)*int64(res.Height) > lim.MaxPixels {
			t.Fatalf("result %+v", res)
		}
	})
}
