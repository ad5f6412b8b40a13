package pkgformat

import (
	"strings"
	"testing"
)

// reportText reads report.txt however its bytes are cut into writes: a
// rune split between two writes is one rune, and a text that ends inside
// one, or holds a hidden character, is refused.
func TestReportTextAcrossWrites(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"Sealed for  chea.sopheap · ត្រួតពិនិត្យ\n  Log key fingerprint:   ab\n", ""},
		{"a name \u202eabc\u202c\n", "U+202E"},
		{"a bell \a\n", "U+0007"},
		{"cut in the middle \xe1\x9e", "not UTF-8"},
		{"not UTF-8 \xff here\n", "not UTF-8"},
	} {
		for _, step := range []int{1, 2, 3, 7, 1 << 20} {
			var r reportText
			for b := []byte(c.text); len(b) > 0; {
				n := min(step, len(b))
				r.Write(b[:n])
				b = b[n:]
			}
			err := r.finish()
			if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Errorf("%q in writes of %d: %v, want %q", c.text, step, err, c.want)
			}
		}
	}
}
