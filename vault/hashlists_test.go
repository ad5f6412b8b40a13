package vault

import "testing"

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
