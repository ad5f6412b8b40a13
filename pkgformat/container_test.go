package pkgformat_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-vault/custos/pkgformat"
)

// The container is read as docs/package-format.md section 1 states it:
// the archive ends with exactly two zero blocks after the last member's
// padding, and every member's type flag is '0'. archive/tar alone
// accepts an archive cut before its end blocks and reads the old NUL
// type flag as a regular file.
func TestContainerEndAndTypeFlag(t *testing.T) {
	pkg := readPackage(t)
	_, vkey := packageKeys(t)
	opts := pkgformat.VerifyOptions{TrustedKey: vkey}
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), opts); err != nil {
		t.Fatal(err)
	}
	end := len(pkg)
	for end > 0 && pkg[end-1] == 0 {
		end--
	}
	// end is now inside the last member's data; its padding and the two
	// zero blocks follow.
	withTrailer := (end+511)/512*512 + 1024
	if withTrailer > len(pkg) {
		t.Fatalf("the vector ends at %d, its last data at %d", len(pkg), end)
	}
	pkg = pkg[:withTrailer] // what a tar writer writes, without the record padding

	typeFlag := func(b []byte, member string) []byte {
		i := bytes.Index(b, []byte(member+"\x00"))
		if i < 0 || i%512 != 0 {
			t.Fatalf("no header of %s", member)
		}
		out := append([]byte(nil), b...)
		out[i+156] = 0
		// The header checksum covers the flag: fix it as a writer would.
		var sum int
		for j := i; j < i+512; j++ {
			if j >= i+148 && j < i+156 {
				sum += ' '
			} else {
				sum += int(out[j])
			}
		}
		copy(out[i+148:i+156], fmt.Sprintf("%06o\x00 ", sum))
		return out
	}
	for name, bad := range map[string][]byte{
		"no end blocks":          pkg[:withTrailer-1024],
		"one end block":          pkg[:withTrailer-512],
		"a NUL type flag":        typeFlag(pkg, pkgformat.ProofsName),
		"a NUL flag on a report": typeFlag(pkg, pkgformat.ReportName),
	} {
		if _, err := pkgformat.Verify(bytes.NewReader(bad), opts); err == nil {
			t.Errorf("%s: verified", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Zeros filling the last tar record may follow the end blocks (section
	// 1); nothing else may.
	fill := (pkgformat.TarRecord - len(pkg)%pkgformat.TarRecord) % pkgformat.TarRecord
	if _, err := pkgformat.Verify(bytes.NewReader(append(append([]byte(nil), pkg...), make([]byte, fill)...)), opts); err != nil {
		t.Errorf("zero record padding after the end blocks: %v", err)
	}
	for name, tail := range map[string][]byte{
		"a non-zero byte in the record padding": append(make([]byte, fill-1), 1),
		"zeros past the record":                 make([]byte, fill+pkgformat.TarRecord),
	} {
		if _, err := pkgformat.Verify(bytes.NewReader(append(append([]byte(nil), pkg...), tail...)), opts); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// A file that is not a package at all is said to be none, whether it is
// not a tar archive or a tar archive of something else.
func TestNotAPackageSaidSo(t *testing.T) {
	var other bytes.Buffer
	tw := tar.NewWriter(&other)
	tw.WriteHeader(&tar.Header{Name: "chat.txt", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg})
	tw.Write([]byte("hello"))
	tw.Close()
	for name, b := range map[string][]byte{
		"a text file":         []byte("chat export, report 118\n"),
		"an empty file":       nil,
		"a tar of other file": other.Bytes(),
	} {
		_, err := pkgformat.Verify(bytes.NewReader(b), pkgformat.VerifyOptions{})
		if err == nil || !strings.Contains(err.Error(), "not a Custos package") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
