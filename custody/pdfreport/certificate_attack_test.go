package pdfreport

import (
	"strings"
	"testing"

	"github.com/custos-vault/custos/custody"
)

// The PDF's certificate table escapes item names twice: Certificate
// (custody/wording.go) already gives each name as ShownName, and
// certificate() (sections.go) passes it through Shown again, which turns
// the recorded escape of a byte that is not UTF-8 (caf\xe9.txt, a Latin-1
// name from old media, accepted by the vault) into caf\x5cxe9.txt, and a
// backslash (a\x5cb.txt) into a\x5cx5cb.txt. The certificate a custodian
// signs then names files that differ from the item section, from
// report.txt's certificate and from the manifest.
func TestAttackCertificateNamesItemsAsRecorded(t *testing.T) {
	r := testRecord(2, 1)
	r.Items[0].Name = `caf\xe9.txt`
	r.Items[1].Name = `a\x5cb.txt`
	if want := custody.Certificate(r).Rows[0][1]; want != `caf\xe9.txt` {
		t.Fatalf("the text certificate names %q", want)
	}
	out := renderTest(t, r)
	pages := pdfText(t, out.pdf, true)
	cert := squash(pages[len(pages)-1])
	if !strings.Contains(cert, "Certificate") {
		t.Fatalf("the last page is not the certificate:\n%s", pages[len(pages)-1])
	}
	for _, it := range r.Items {
		if !strings.Contains(cert, it.Name) {
			t.Errorf("the PDF certificate does not name item %s as recorded (%s); it reads:\n%s", it.ID, it.Name, pages[len(pages)-1])
		}
	}
}
