package pdfreport

import (
	"strings"
	"testing"
)

// TestHeadingsKeepTheirTable: whatever the length of the case's events
// and chains before it, the heading of the other disclosures is on the
// page of its table's header row, never alone at a page's foot.
func TestHeadingsKeepTheirTable(t *testing.T) {
	for n := 1; n <= 40; n++ {
		r := testRecord(1, n)
		out := renderTest(t, r)
		for i, p := range pdfText(t, out.pdf, true) {
			p = norm(p)
			at := strings.Index(p, "Other disclosures of these items")
			if at < 0 {
				continue
			}
			if !strings.Contains(p[at:], "Sealed for") {
				t.Errorf("%d events: page %d ends with the heading of the other disclosures, its table on the next page", n, i+1)
			}
		}
	}
}
