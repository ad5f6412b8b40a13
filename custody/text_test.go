package custody

import (
	"crypto/sha256"
	"fmt"
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

// A hybrid post-quantum recipient (1,959 characters) is shown by its ends
// and the SHA-256 of the whole, which a reader can compare; an X25519
// one is shown whole.
func TestRecipientText(t *testing.T) {
	x := "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
	if got := RecipientText(x); got != x {
		t.Errorf("an X25519 recipient: %q", got)
	}
	pq := "age1pq1" + strings.Repeat("q", 1952)
	got := RecipientText(pq)
	if len(got) > 200 || !strings.HasPrefix(got, pq[:16]+"…") || !strings.Contains(got, fmt.Sprintf("SHA-256 %x", sha256.Sum256([]byte(pq)))) || !strings.Contains(got, "1959 characters") {
		t.Errorf("a hybrid recipient: %q", got)
	}
}
