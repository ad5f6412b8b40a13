package vault

import (
	"context"
	"testing"
)

// TestSameURLSetsAsideWhatOpensTheSamePage: two reports of one page are
// told to be so however the address was written (RFC 3986 section
// 6.2.2's normalisations, and what the person typed or pasted: the
// scheme, user information, a default port, "www.", a final dot or
// slash, a fragment); a path or query that differs, or differs in case,
// is another page.
func TestSameURLSetsAsideWhatOpensTheSamePage(t *testing.T) {
	base := "https://bad.example/a/b.jpg?id=7"
	for _, same := range []string{
		base,
		"http://bad.example/a/b.jpg?id=7",
		"bad.example/a/b.jpg?id=7",
		"https://www.bad.example/a/b.jpg?id=7",
		"https://BAD.Example/a/b.jpg?id=7",
		"https://bad.example:443/a/b.jpg?id=7",
		"http://bad.example:80/a/b.jpg?id=7",
		"https://bad.example./a/b.jpg?id=7",
		"https://user:pw@bad.example/a/b.jpg?id=7",
		"https://bad.example/a/b.jpg?id=7#frame",
		"https://bad.example/%61/b%2Ejpg?id=%37",
		" https://bad.example/a/b.jpg?id=7 ",
	} {
		if !SameURL(base, same) || !SameURL(same, base) {
			t.Errorf("%q is not taken for %q", same, base)
		}
	}
	for _, other := range []string{
		"https://bad.example/A/b.jpg?id=7",
		"https://bad.example/a/b.jpg?id=8",
		"https://bad.example:8443/a/b.jpg?id=7",
		"https://bad.example.org/a/b.jpg?id=7",
		"https://other.example/a/b.jpg?id=7",
		"https://bad.example/a%2Fb.jpg?id=7", // an encoded slash is not a slash
		"https://bad.example/a/b.jpg",
	} {
		if SameURL(base, other) {
			t.Errorf("%q is taken for %q", other, base)
		}
	}
	if !SameURL("https://bad.example/x%2fy", "https://bad.example/x%2Fy") {
		t.Error("percent-encodings differing only in the case of their hex digits are two pages")
	}
}

// TestAReportOfTheSameURLWrittenOtherwiseIsSeen: a report of a URL
// reported before, written otherwise (a default port, user information,
// a fragment, an encoded letter), is found by custos report list --url
// and named as reported before.
func TestAReportOfTheSameURLWrittenOtherwiseIsSeen(t *testing.T) {
	h := newHotline(t)
	ctx := context.Background()
	first, err := h.v.RecordReport(ctx, h.a1, ReportRequest{URLs: []string{"https://bad.example/a"}, Channel: "email", Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://bad.example:443/a", "https://user@BAD.example./a", "https://bad.example/%61#top"} {
		list, err := h.v.Reports(ctx, h.a1, "", u)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Report != first {
			t.Errorf("report list --url %s: %d reports", u, len(list))
		}
	}
}
