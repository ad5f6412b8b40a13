package testenv

import (
	"archive/tar"
	"io"
	"testing"
)

// TarMember is one member of a tar archive: its name and content.
type TarMember struct {
	Name string
	Data []byte
}

// TarMembers reads every member of the tar archive r, in order; a
// damaged archive fails the test.
func TarMembers(t testing.TB, r io.Reader) []TarMember {
	t.Helper()
	tr := tar.NewReader(r)
	var out []TarMember
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, TarMember{h.Name, b})
	}
}
