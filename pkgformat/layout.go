package pkgformat

// kind is one part of a package (docs/package-format.md, section 1).
type kind int

const (
	kindManifest kind = iota
	kindSignature
	kindCheckpoint
	kindTimestamp
	kindProofs
	kindEvent
	kindItem
	kindReport
	kindReportPDF
)

// section is one part of a package and the names of its members, in
// order. Only events and items have more (or fewer) than one member.
type section struct {
	kind  kind
	names []string
}

// layout returns the members of the package m describes, in the one
// order in which Package.WriteTo writes them and Verify reads them
// (docs/package-format.md, section 1): manifest.json, manifest.sig,
// checkpoint, each time-stamp token in the manifest's order, proofs.json,
// each event in the manifest's order, each item file in the manifest's
// order, report.txt, and (format 3) report.pdf. There are no other
// members.
//
// The manifest comes first because the rest of the layout is read from
// it: a reader reads ManifestName, parses it, and then follows the layout
// from its second section.
func layout(m *Manifest) []section {
	evs := make([]string, len(m.Events))
	for i, e := range m.Events {
		evs[i] = e.Path
	}
	its := make([]string, len(m.Items))
	for i, it := range m.Items {
		its[i] = it.Path
	}
	tss := make([]string, len(m.Timestamps))
	for i, ts := range m.Timestamps {
		tss[i] = ts.Path
	}
	var pdf []string
	if m.Format != FormatV2 {
		pdf = []string{ReportPDFName}
	}
	return []section{
		{kindManifest, []string{ManifestName}},
		{kindSignature, []string{SignatureName}},
		{kindCheckpoint, []string{CheckpointName}},
		{kindTimestamp, tss},
		{kindProofs, []string{ProofsName}},
		{kindEvent, evs},
		{kindItem, its},
		{kindReport, []string{ReportName}},
		{kindReportPDF, pdf},
	}
}
