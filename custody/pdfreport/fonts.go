package pdfreport

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
)

// The fonts, their versions, source and licence: fonts/README.md and
// fonts/OFL.txt.
//
//go:embed fonts/*.ttf
var fontFiles embed.FS

// fontFile names the embedded fonts.
type fontFile int

const (
	sansRegular fontFile = iota
	sansBold
	khmerRegular
	khmerBold
	tagalogRegular
	thaiRegular
	thaiBold
	laoRegular
	laoBold
	myanmarRegular
	myanmarBold
	monoRegular
	numFontFiles
)

var fontFileNames = [numFontFiles]string{
	sansRegular:    "NotoSans-Regular.ttf",
	sansBold:       "NotoSans-Bold.ttf",
	khmerRegular:   "NotoSansKhmer-Regular.ttf",
	khmerBold:      "NotoSansKhmer-Bold.ttf",
	tagalogRegular: "NotoSansTagalog-Regular.ttf",
	thaiRegular:    "NotoSansThai-Regular.ttf",
	thaiBold:       "NotoSansThai-Bold.ttf",
	laoRegular:     "NotoSansLao-Regular.ttf",
	laoBold:        "NotoSansLao-Bold.ttf",
	myanmarRegular: "NotoSansMyanmar-Regular.ttf",
	myanmarBold:    "NotoSansMyanmar-Bold.ttf",
	monoRegular:    "NotoSansMono-Regular.ttf",
}

// parsedFonts are the embedded fonts parsed once; a *font.Font is safe
// for concurrent use, its Faces are not (each render makes its own).
var parsedFonts = sync.OnceValues(func() (fs [numFontFiles]*parsedFont, err error) {
	for i, name := range fontFileNames {
		data, err := fontFiles.ReadFile("fonts/" + name)
		if err != nil {
			return fs, err
		}
		face, err := font.ParseTTF(bytes.NewReader(data))
		if err != nil {
			return fs, fmt.Errorf("pdfreport: font %s: %w", name, err)
		}
		fs[i] = &parsedFont{name: name, data: data, font: face.Font}
	}
	return fs, nil
})

type parsedFont struct {
	name string
	data []byte
	font *font.Font
}

// face is one font as one render uses it: its shaping face, its PDF
// font, and its vertical metrics in thousandths of the font size.
type face struct {
	file fontFile
	ot   *font.Face
	pdf  *pdf.Font
	// ascent and descent (negative) from the hhea table, in thousandths
	// of the font size.
	ascent, descent float64
	scale           float64 // font units to thousandths
}

// has reports whether the font has a glyph for r.
func (f *face) has(r rune) bool {
	_, ok := f.ot.NominalGlyph(r)
	return ok
}

// style is a typeface as the layout asks for it: a size and a weight or
// the monospaced face.
type style struct {
	size float64 // points
	kind styleKind
	gray float64 // 0 black
}

type styleKind int

const (
	regular styleKind = iota
	bold
	mono
)

// faces are the fonts of one render.
type faces struct {
	all [numFontFiles]*face
}

// newFaces makes the faces of one render and adds their fonts to doc.
func newFaces(doc *pdf.Document) (*faces, error) {
	parsed, err := parsedFonts()
	if err != nil {
		return nil, err
	}
	fs := &faces{}
	for i, p := range parsed {
		pf, err := doc.AddFont(p.data)
		if err != nil {
			return nil, fmt.Errorf("pdfreport: font %s: %w", p.name, err)
		}
		ot := font.NewFace(p.font)
		f := &face{file: fontFile(i), ot: ot, pdf: pf, scale: 1000 / float64(p.font.Upem())}
		if ext, ok := ot.FontHExtents(); ok {
			f.ascent, f.descent = float64(ext.Ascender)*f.scale, float64(ext.Descender)*f.scale
		} else {
			f.ascent, f.descent = 1000, -300
		}
		fs.all[i] = f
	}
	return fs, nil
}

// primary is the font a style draws text with that is not in a script
// with a font of its own, and escapes (\u202e) with.
func (fs *faces) primary(k styleKind) *face {
	switch k {
	case bold:
		return fs.all[sansBold]
	case mono:
		return fs.all[monoRegular]
	}
	return fs.all[sansRegular]
}

// forScript is the font made for a script in a style, or nil.
func (fs *faces) forScript(k styleKind, s language.Script) *face {
	switch s {
	case language.Khmer:
		if k == bold {
			return fs.all[khmerBold]
		}
		return fs.all[khmerRegular]
	case language.Tagalog:
		return fs.all[tagalogRegular]
	case language.Thai:
		if k == bold {
			return fs.all[thaiBold]
		}
		return fs.all[thaiRegular]
	case language.Lao:
		if k == bold {
			return fs.all[laoBold]
		}
		return fs.all[laoRegular]
	case language.Myanmar:
		if k == bold {
			return fs.all[myanmarBold]
		}
		return fs.all[myanmarRegular]
	}
	return nil
}

// fallbacks are the fonts tried, in order, for a character that the
// style's own fonts lack.
func (fs *faces) fallbacks(k styleKind) []*face {
	order := []fontFile{sansRegular, sansBold, khmerRegular, khmerBold, tagalogRegular, thaiRegular, thaiBold, laoRegular, laoBold, myanmarRegular, myanmarBold, monoRegular}
	if k == bold {
		order = []fontFile{sansBold, sansRegular, khmerBold, khmerRegular, tagalogRegular, thaiBold, thaiRegular, laoBold, laoRegular, myanmarBold, myanmarRegular, monoRegular}
	}
	out := make([]*face, len(order))
	for i, f := range order {
		out[i] = fs.all[f]
	}
	return out
}
