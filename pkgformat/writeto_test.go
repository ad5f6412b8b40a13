package pkgformat_test

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/custos-vault/custos/pkgformat"
)

// TestWriteToReproducesVector takes the committed vector apart into a
// pkgformat.Package and writes it again: the bytes must be the vector's,
// so that the layout WriteTo follows is the one the format specifies
// and Verify reads.
func TestWriteToReproducesVector(t *testing.T) {
	orig := readPackage(t)
	ms, err := members(orig)
	if err != nil {
		t.Fatal(err)
	}
	h, err := tar.NewReader(bytes.NewReader(orig)).Next()
	if err != nil {
		t.Fatal(err)
	}
	m, err := pkgformat.ParseManifest(ms[0].data)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, mb := range ms {
		byName[mb.name] = mb.data
	}
	p := &pkgformat.Package{
		Manifest: m, ManifestJSON: byName[pkgformat.ManifestName], Signature: byName[pkgformat.SignatureName],
		Checkpoint: byName[pkgformat.CheckpointName], Proofs: byName[pkgformat.ProofsName], Report: byName[pkgformat.ReportName], ReportPDF: byName[pkgformat.ReportPDFName],
		ModTime: h.ModTime,
	}
	for _, e := range m.Events {
		p.Events = append(p.Events, byName[e.Path])
	}
	dir := t.TempDir()
	for i, it := range m.Items {
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(path, byName[it.Path], 0o600); err != nil {
			t.Fatal(err)
		}
		p.ItemFiles = append(p.ItemFiles, path)
	}
	var out bytes.Buffer
	n, err := p.WriteTo(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(out.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, out.Len())
	}
	if !bytes.Equal(out.Bytes(), orig) {
		t.Fatalf("WriteTo wrote %d bytes that differ from the %d-byte vector", out.Len(), len(orig))
	}

	// Contents that do not match the manifest are refused.
	p.Events = p.Events[1:]
	if _, err := p.WriteTo(&bytes.Buffer{}); err == nil {
		t.Error("WriteTo wrote a package with an event missing")
	}
}
