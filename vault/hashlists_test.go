package vault

import (
	"strings"
	"testing"
	"time"
)

func TestSumLine(t *testing.T) {
	for name, want := range map[string]string{
		"a b.jpg":        "ab  a b.jpg\n",
		"DCIM/x.jpg":     "ab  DCIM/x.jpg\n",
		`caf\xe9.txt`:    "ab  caf\xe9.txt\n", // the bytes the escape stands for
		"odd\\name":      "\\ab  odd\\\\name\n",
		"two\nlines\r.x": "\\ab  two\\nlines\\r.x\n",
	} {
		if got := sumLine("ab", name); got != want {
			t.Errorf("sumLine(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "a=b": "a=b", "": ""} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every CSV field is quoted, so that a spreadsheet splitting on
// semicolons (European locales) keeps a name whole, never a formula after
// a separator inside it.
func TestCSVQuotesEveryField(t *testing.T) {
	b, err := hashList("C-1", "csv", []recordedItem{{Item{ID: "it_1", DepositAt: 5, At: AsUnixNano(time.Date(2026, 12, 2, 9, 30, 0, 5, time.UTC))}, ItemDeposited{Name: `photo;=2+3*7 "x".jpg`, Size: 10, SHA256: "ab"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `"it_1","photo;=2+3*7 ""x"".jpg","10","ab","","","2026-12-02T09:30:00.000000005Z","5"`
	if got := string(b); !strings.Contains(got, want+"\r\n") || !strings.HasPrefix(got, `"item","name",`) {
		t.Fatalf("csv:\n%s\nwant a row %s", got, want)
	}
}
