package pdq

import (
	"bytes"
	"encoding/binary"
)

// The EXIF orientation readers below read the header bytes HashReader
// recorded. They look only for tag 0x0112 (Orientation) in the first
// image file directory (IFD0) of the first EXIF block, as viewers do,
// check every offset against the bytes they have, and return 0 when
// there is no orientation or anything is out of place; a damaged EXIF
// block therefore never stops an image from being hashed.

// tiffOrientation returns the Orientation (1..8) in IFD0 of the TIFF
// structure b (EXIF 2.3 section 4.5.2, TIFF 6.0 section 2), in either
// byte order, or 0. The tag must be a SHORT (or, as some writers have
// it, a LONG) with a count of 1.
func tiffOrientation(b []byte) int {
	if len(b) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := uint64(bo.Uint32(b[4:]))
	if ifd < 8 || ifd+2 > uint64(len(b)) {
		return 0
	}
	n := int(bo.Uint16(b[ifd:]))
	for i := range n {
		e := int(ifd) + 2 + 12*i
		if e+12 > len(b) {
			return 0
		}
		if bo.Uint16(b[e:]) != 0x0112 {
			continue
		}
		var v uint32
		switch typ, count := bo.Uint16(b[e+2:]), bo.Uint32(b[e+4:]); {
		case count != 1:
			return 0
		case typ == 3: // SHORT, in the first two bytes of the value field
			v = uint32(bo.Uint16(b[e+8:]))
		case typ == 4: // LONG
			v = bo.Uint32(b[e+8:])
		default:
			return 0
		}
		if v < 1 || v > 8 {
			return 0
		}
		return int(v)
	}
	return 0
}

var exifHeader = []byte("Exif\x00\x00")

// jpegOrientation returns the orientation in the first APP1 segment that
// holds EXIF ("Exif\0\0" and a TIFF structure; EXIF 2.3 section 4.5.4)
// among the segments of JPEG b before its first scan, or 0.
func jpegOrientation(b []byte) int {
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		return 0
	}
	p := 2
	for p+2 <= len(b) {
		if b[p] != 0xff {
			return 0
		}
		m := b[p+1]
		switch {
		case m == 0xff: // fill byte
			p++
			continue
		case m == 0x01 || m >= 0xd0 && m <= 0xd8: // TEM, RSTn, SOI: no length
			p += 2
			continue
		case m == 0xd9 || m == 0xda: // EOI, SOS: no EXIF further on
			return 0
		}
		if p+4 > len(b) {
			return 0
		}
		n := int(binary.BigEndian.Uint16(b[p+2:])) // counts itself, not the marker
		if n < 2 || p+2+n > len(b) {
			return 0
		}
		if seg := b[p+4 : p+2+n]; m == 0xe1 && bytes.HasPrefix(seg, exifHeader) {
			return tiffOrientation(seg[len(exifHeader):])
		}
		p += 2 + n
	}
	return 0
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngOrientation returns the orientation in the eXIf chunk (PNG
// specification, third edition, section 11.3.3.5: a TIFF structure,
// before the first IDAT) of PNG b, or 0.
func pngOrientation(b []byte) int {
	if !bytes.HasPrefix(b, pngSignature) {
		return 0
	}
	p := uint64(len(pngSignature))
	for p+8 <= uint64(len(b)) {
		n := uint64(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if typ == "IDAT" || p+12+n > uint64(len(b)) {
			return 0
		}
		if typ == "eXIf" {
			return tiffOrientation(b[p+8 : p+8+n])
		}
		p += 12 + n
	}
	return 0
}
