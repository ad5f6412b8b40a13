package custody

import (
	"strings"
	"testing"
)

// The sentence on other packages counts them in the right number.
func TestOtherPackagesInWords(t *testing.T) {
	r := &Record{Package: &Package{DisclosesOthers: true}}
	for n, want := range map[int]string{1: "1 other package carried some of these items; it is listed", 2: "2 other packages carried some of these items; they are listed"} {
		r.Disclosures = make([]Disclosure, n)
		if got := OtherPackages(r); !strings.HasPrefix(got, want) {
			t.Errorf("%d disclosures: %q", n, got)
		}
	}
}
