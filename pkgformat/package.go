package pkgformat

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Package is the contents of one sealed package, ready to be written:
// the bytes of every member except the item files, which are read from
// disk as they are written, so that no item is held in memory.
//
// WriteTo writes the members as one tar file in the order of layout,
// and Verify reads them in that same order: the names and the order of a
// package's members are defined in one place (layout.go).
type Package struct {
	// Manifest is the parsed manifest; ManifestJSON is its bytes exactly
	// as signed (manifest.json). The names and sizes of the events and
	// items members come from Manifest.
	Manifest     *Manifest
	ManifestJSON []byte
	// Signature is manifest.sig (SignManifest), Checkpoint the signed
	// checkpoint, Proofs proofs.json, Report report.txt.
	Signature  []byte
	Checkpoint []byte
	Proofs     []byte
	Report     []byte
	// ReportPDF is report.pdf (format 3).
	ReportPDF []byte
	// Timestamps holds the RFC 3161 tokens of Manifest.Timestamps, in
	// that order.
	Timestamps [][]byte
	// Events holds the stored bytes of each event of Manifest.Events, in
	// that order.
	Events [][]byte
	// ItemFiles holds the path on disk of each item's age file, in the
	// order of Manifest.Items; each must be Manifest.Items[i].FileSize
	// bytes long.
	ItemFiles []string
	// ModTime is the time written on every member (UTC, to the second).
	ModTime time.Time
}

// WriteTo writes the package as a tar file to w and returns the number of
// bytes written. It fails if the contents do not match the manifest (the
// number of events or item files, or an item file's size).
func (p *Package) WriteTo(w io.Writer) (int64, error) {
	m := p.Manifest
	if len(p.Timestamps) != len(m.Timestamps) {
		return 0, fmt.Errorf("package: %d time-stamp tokens for a manifest of %d", len(p.Timestamps), len(m.Timestamps))
	}
	if len(p.Events) != len(m.Events) || len(p.ItemFiles) != len(m.Items) {
		return 0, fmt.Errorf("package: %d events and %d item files for a manifest of %d events and %d items",
			len(p.Events), len(p.ItemFiles), len(m.Events), len(m.Items))
	}
	cw := &countingWriter{w: w}
	tw := NewWriter(cw, p.ModTime)
	for _, s := range layout(m) {
		for i, name := range s.names {
			var err error
			switch s.kind {
			case kindManifest:
				err = tw.AddBytes(name, p.ManifestJSON)
			case kindSignature:
				err = tw.AddBytes(name, p.Signature)
			case kindCheckpoint:
				err = tw.AddBytes(name, p.Checkpoint)
			case kindTimestamp:
				err = tw.AddBytes(name, p.Timestamps[i])
			case kindProofs:
				err = tw.AddBytes(name, p.Proofs)
			case kindEvent:
				err = tw.AddBytes(name, p.Events[i])
			case kindItem:
				err = addFile(tw, name, m.Items[i].FileSize, p.ItemFiles[i])
			case kindReport:
				err = tw.AddBytes(name, p.Report)
			case kindReportPDF:
				err = tw.AddBytes(name, p.ReportPDF)
			}
			if err != nil {
				return cw.n, err
			}
		}
	}
	err := tw.Close()
	return cw.n, err
}

func addFile(tw *Writer, name string, size int64, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return tw.Add(name, size, f)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
