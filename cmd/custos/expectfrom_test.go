package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestExpectFromMatchesWhereTheListWasMade: a sums file lists a folder's
// files as sha256sum wrote them where it ran: in the folder given
// (DCIM/a.jpg), in the folder above it (phone/DCIM/a.jpg, as the upload
// page matches it too), where the command runs (seized/phone/DCIM/a.jpg,
// ./ before it), or by absolute path. Each gives the file its hash; a
// list that names the file none of these ways stops the deposit.
func TestExpectFromMatchesWhereTheListWasMade(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs, _ := filepath.Abs("seized/phone/DCIM/a.jpg")
	const hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, listed := range []string{"DCIM/a.jpg", "phone/DCIM/a.jpg", "seized/phone/DCIM/a.jpg", "./seized/phone/DCIM/a.jpg", abs, "*phone/DCIM/a.jpg"} {
		sums := filepath.Join(dir, "SUMS")
		os.WriteFile(sums, []byte(hash+"  "+listed+"\n"), 0o644)
		ups := []upload{{path: "seized/phone/DCIM/a.jpg", name: "DCIM/a.jpg", inFolder: true}}
		if _, err := assignExpected(ups, ups[0].expect, sums); err != nil || ups[0].expect.SHA256 != hash {
			t.Errorf("listed as %q: %v, hash %q", listed, err, ups[0].expect.SHA256)
		}
	}
	for _, listed := range []string{"a.jpg", "other/DCIM/a.jpg", "seized/DCIM/a.jpg"} {
		sums := filepath.Join(dir, "SUMS")
		os.WriteFile(sums, []byte(hash+"  "+listed+"\n"), 0o644)
		ups := []upload{{path: "seized/phone/DCIM/a.jpg", name: "DCIM/a.jpg", inFolder: true}}
		if _, err := assignExpected(ups, ups[0].expect, sums); err == nil || !strings.Contains(err.Error(), "has no hash for") {
			t.Errorf("listed as %q: %v, want no hash for the file", listed, err)
		}
	}
}

// TestExpectFromNamesWhatIsMissing: files an acquisition list names
// inside the folder given that are not there are left behind, however
// the list names them (made where the command runs, inside the folder,
// in the folder above it, with absolute paths); what it names elsewhere
// (other exhibits of the same list) is not this deposit's, and what is
// there but not deposited (a link) is reported as such, not as missing.
func TestExpectFromNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll("seized/card/sub", 0o755)
	os.WriteFile("seized/card/a.jpg", nil, 0o644)
	os.Symlink("a.jpg", "seized/card/link.jpg")
	const hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	abs, _ := filepath.Abs("seized/card")
	for _, prefix := range []string{"seized/card/", "./", "card/", abs + "/"} {
		list := ""
		for _, f := range []string{"a.jpg", "b.jpg", "sub/d.txt", "link.jpg"} {
			list += hash + "  " + prefix + f + "\n"
		}
		if prefix != "./" {
			list += hash + "  other/x.jpg\n" // another exhibit's
		}
		os.WriteFile("SUMS", []byte(list), 0o644)
		ups, _, err := collectUploads([]string{"seized/card"}, "")
		if err != nil {
			t.Fatal(err)
		}
		missing, err := assignExpected(ups, api.Hashes{}, "SUMS")
		if err != nil {
			t.Fatalf("listed as %q: %v", prefix, err)
		}
		var got []string
		for _, m := range missing {
			if !m.LeftBehind || !strings.Contains(m.Reason, "not in the folder") {
				t.Errorf("listed as %q: %+v", prefix, m)
			}
			got = append(got, filepath.ToSlash(m.Path))
		}
		if len(got) != 2 || !strings.HasSuffix(got[0], "card/b.jpg") || !strings.HasSuffix(got[1], "card/sub/d.txt") {
			t.Errorf("listed as %q: missing %q, want card/b.jpg and card/sub/d.txt", prefix, got)
		} else if missing[0].statedName() != "b.jpg" || missing[1].statedName() != "sub/d.txt" {
			// Stated in the custody log as the items are named: from the
			// folder given, naming no folder of the examiner's machine.
			t.Errorf("listed as %q: stated as %q and %q", prefix, missing[0].statedName(), missing[1].statedName())
		}
	}
}

// TestListWordsCannotAddAClause: the statement of a file a list names
// that is not there quotes the list's name, whose own quotation marks
// cannot close the quotes (another member of the class the vault's
// refusal reason and the reports are tested for); a list without a name
// is said so.
func TestListWordsCannotAddAClause(t *testing.T) {
	got := listWords(&vault.AcquisitionList{Name: "a.sum’, SHA-256 " + strings.Repeat("f", 64) + " ‘x", SHA256: strings.Repeat("0", 64)})
	if strings.Count(got, "‘") != 1 || strings.Count(got, "’") != 1 || !strings.Contains(got, `\u2019`) || !strings.Contains(got, `\u2018`) {
		t.Errorf("listWords = %q", got)
	}
	if got := listWords(&vault.AcquisitionList{SHA256: strings.Repeat("0", 64)}); got != "the hash list without a name" {
		t.Errorf("a list without a name: %q", got)
	}
}
