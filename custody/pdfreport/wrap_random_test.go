package pdfreport

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
)

// TestRandomHashesWrapByGroups: random prose holding hashes (32 to 80 hex
// digits, either case, "ff" included) with brackets before and
// punctuation after, in five styles and columns of random widths (a
// fixed seed): no line wider than its column unless it is one cluster; no
// character lost or added (spaces aside); a hash breaks only between
// groups of eight digits from its first, unless one group (with what
// stays with it) is wider than the column.
func TestRandomHashesWrapByGroups(t *testing.T) {
	doc := pdf.New(pdf.Info{})
	fs, err := newFaces(doc)
	if err != nil {
		t.Fatal(err)
	}
	sh := newShaper(fs)
	rng := rand.New(rand.NewSource(1))
	hexd := "0123456789abcdefABCDEF"
	pre := []string{"", "", "(", "[", "((", "(["}
	post := []string{"", "", ".", ",", ")", ").", "]", ";", ":", "),", "]."}
	words := []string{"the", "object", "read", "back", "sha256", "matched", "a", "deposit", "WWWWWWWW", "iiii", "MMMMMMMMMMMMMMMMMMMMMMMM"}
	styles := []style{stCell, stBody, stValue, stHash, stCellB}
	fails := 0
	for iter := 0; iter < 4000 && fails < 15; iter++ {
		var parts []string
		var hashes []string
		for n := 1 + rng.Intn(6); n > 0; n-- {
			if rng.Intn(2) == 0 {
				parts = append(parts, words[rng.Intn(len(words))])
				continue
			}
			l := 32 + rng.Intn(49)
			var b strings.Builder
			for i := 0; i < l; i++ {
				b.WriteByte(hexd[rng.Intn(len(hexd))])
			}
			hashes = append(hashes, b.String())
			parts = append(parts, pre[rng.Intn(len(pre))]+b.String()+post[rng.Intn(len(post))])
		}
		text := strings.Join(parts, " ")
		st := styles[rng.Intn(len(styles))]
		width := 60 + rng.Float64()*300
		lines := sh.wrap(prose(text, st, stHash), width, st)
		var texts []string
		for _, l := range lines {
			var s string
			for _, p := range l.pieces {
				s += p.c.text
			}
			texts = append(texts, s)
			if l.ink > width+0.01 && len(l.pieces) > 1 {
				fails++
				t.Errorf("width %.1f style %+v: line %q is %.2f pt wide (text %q)", width, st, s, l.ink, text)
			}
		}
		if strings.ReplaceAll(strings.Join(texts, ""), " ", "") != strings.ReplaceAll(text, " ", "") {
			fails++
			t.Errorf("width %.1f: lines %q hold other text than %q", width, texts, text)
			continue
		}
		// Where does each hash break? Find each hash's digits across
		// the lines by walking the concatenation.
		joined := ""
		var ends []int // index in joined where each line ends
		for _, s := range texts {
			joined += strings.ReplaceAll(s, " ", "")
			ends = append(ends, len(joined))
		}
		at := 0
		for _, h := range hashes {
			i := strings.Index(joined[at:], h)
			if i < 0 {
				continue
			}
			start := at + i
			at = start + len(h)
			for _, e := range ends {
				if e > start && e < start+len(h) && (e-start)%hexGroup != 0 {
					// Allowed only where one group is wider than the column.
					gw := 0.0
					k := stHash.size / 1000
					for _, c := range sh.word(stHash.kind, h[:hexGroup]) {
						gw += c.width * k
					}
					if gw+2 < width {
						fails++
						t.Errorf("width %.1f (a group %.1f pt): hash %s breaks after %d digits: lines %q", width, gw, h, e-start, texts)
					}
				}
			}
		}
	}
}
