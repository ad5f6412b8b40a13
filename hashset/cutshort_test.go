package hashset

import (
	"bytes"
	"io"
	"testing"
)

// cutShort gives the first n bytes of data, then fails as net/http's
// request body does for an upload its client cut short: once with
// io.ErrUnexpectedEOF, then io.EOF when read again.
type cutShort struct {
	r      io.Reader
	failed bool
}

func (c *cutShort) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != io.EOF {
		return n, err
	}
	if c.failed {
		return n, io.EOF
	}
	c.failed = true
	return n, io.ErrUnexpectedEOF
}

// TestCutShortImportIsNoSet: an import whose source is cut short fails,
// in every format, however much of it came (within the first read the
// readers peek at, and after it): a set cut short is never built as if
// it were the whole list, which would leave known material unlisted.
func TestCutShortImportIsNoSet(t *testing.T) {
	for _, c := range []struct{ format, file string }{
		{"icse", "icse.csv"}, {"sha256sum", "sha256sum.txt"}, {"vics", "vics-2.0.json"}, {"caid", "caid.json"}, {"nsrl", "nsrl.txt"},
	} {
		src := fixture(t, c.file)
		for _, n := range []int{len(src) / 2, len(src) - 1} {
			_, err := Build(t.TempDir(), "cut", &cutShort{r: bytes.NewReader(src[:n])}, c.format, BuildOptions{DefaultCategory: "baseline"})
			if err == nil {
				t.Errorf("%s cut after %d of %d bytes: built", c.format, n, len(src))
			}
		}
		if _, err := Build(t.TempDir(), "whole", bytes.NewReader(src), c.format, BuildOptions{DefaultCategory: "baseline"}); err != nil {
			t.Errorf("%s whole: %v", c.format, err)
		}
	}
	big := sumLines("big", 20000)
	if _, err := Build(t.TempDir(), "cut", &cutShort{r: bytes.NewReader(big[:len(big)-3000])}, "sha256sum", BuildOptions{DefaultCategory: "baseline"}); err == nil {
		t.Error("a large sha256sum list cut short was built")
	}
}
