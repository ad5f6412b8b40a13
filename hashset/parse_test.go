package hashset

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name, format string) ([]Entry, ParseStats, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "hashset", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []Entry
	st, err := Parse(f, format, func(e Entry) error { es = append(es, e); return nil })
	return es, st, err
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseVICS20(t *testing.T) {
	es, st, err := parseFile(t, "vics-2.0.json", "vics")
	if err != nil {
		t.Fatal(err)
	}
	if st.Imported != 2 || st.Rejected != 0 || len(es) != 2 {
		t.Fatalf("stats %+v", st)
	}
	e := es[0]
	if !bytes.Equal(e.MD5, unhex("0123456789abcdef0123456789abcdef")) ||
		!bytes.Equal(e.SHA1, unhex("0123456789abcdef0123456789abcdef01234567")) || e.SHA256 != nil {
		t.Errorf("hashes %x %x %x", e.MD5, e.SHA1, e.SHA256)
	}
	if !bytes.Equal(e.PDQ, unhex("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")) {
		t.Errorf("PDQ %x", e.PDQ)
	}
	if e.Category != "1" || e.Series != "Synthetic series A" || e.ID != "1" || e.Size != 2835 ||
		e.FileName != "one.jpg" || e.PhotoDNA != "AAMANwABAD0AAQA9HgEBQ5oAFlFMAA0d" ||
		e.VictimIdentified == nil || !*e.VictimIdentified {
		t.Errorf("entry %+v", e)
	}
	e = es[1]
	if e.Category != "2" || e.ID != "2" || e.Size != 100 || e.VictimIdentified == nil || *e.VictimIdentified || e.SHA1 != nil {
		t.Errorf("entry %+v", e)
	}
	if st.Lines != 34 {
		t.Errorf("%d lines", st.Lines)
	}
}

func TestParseVICS13MediaLayout(t *testing.T) {
	es, st, err := parseFile(t, "vics-1.3.json", "vics")
	if err != nil {
		t.Fatal(err)
	}
	if st.Imported != 2 || len(es) != 2 {
		t.Fatalf("stats %+v", st)
	}
	if es[0].Category != "3" || es[0].FileName != "ten.png" || es[0].Size != 512 || es[0].VictimIdentified != nil {
		t.Errorf("entry %+v", es[0])
	}
	if es[1].Category != "" || es[1].MD5 != nil || es[1].Size != -1 || len(es[1].SHA1) != 20 {
		t.Errorf("entry %+v", es[1])
	}
}

func TestParseMalformedRecords(t *testing.T) {
	for _, c := range []struct {
		file, format string
		imported     int
		lines        []int
	}{
		{"vics-malformed.json", "vics", 1, []int{5, 6, 7, 8, 9, 10}},
		{"caid-malformed.json", "caid", 1, []int{5, 6}},
		{"icse-malformed.csv", "icse", 1, []int{2, 3, 4}},
		{"nsrl-malformed.txt", "nsrl", 1, []int{3, 4, 5}},
		{"md5sum-malformed.txt", "md5sum", 1, []int{2, 3, 4}},
	} {
		t.Run(c.format, func(t *testing.T) {
			_, st, err := parseFile(t, c.file, c.format)
			if err != nil {
				t.Fatal(err)
			}
			if st.Imported != c.imported || st.Rejected != len(c.lines) || len(st.Problems) != len(c.lines) {
				t.Fatalf("stats %+v", st)
			}
			for i, p := range st.Problems {
				if p.Line != c.lines[i] || p.Reason == "" {
					t.Errorf("problem %d: %v, want line %d", i, p, c.lines[i])
				}
			}
			t.Log(st.Problems)
		})
	}
}

func TestParseCAID(t *testing.T) {
	es, _, err := parseFile(t, "caid.json", "caid")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Size != 4096 || len(es[0].SHA1) != 20 || es[1].SHA1 != nil || es[1].ID != "2" {
		t.Fatalf("entries %+v", es)
	}
}

func TestParseICSE(t *testing.T) {
	es, _, err := parseFile(t, "icse.csv", "icse")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	if e.ID != "1001" || e.Series != "Synthetic series B" || e.PhotoDNA != "AAMANwAB" ||
		e.VictimIdentified == nil || !*e.VictimIdentified || len(e.SHA1) != 20 || len(e.MD5) != 16 {
		t.Errorf("entry %+v", e)
	}
	if es[1].SHA1 != nil || es[1].VictimIdentified == nil || *es[1].VictimIdentified {
		t.Errorf("entry %+v", es[1])
	}
	// Baseline: yes is INTERPOL's baseline category; no is none.
	if es[0].Category != "" || es[1].Category != "baseline" {
		t.Errorf("categories from the Baseline column: %q, %q", es[0].Category, es[1].Category)
	}
}

func TestParseNSRL(t *testing.T) {
	es, st, err := parseFile(t, "nsrl.txt", "nsrl")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || st.Lines != 4 {
		t.Fatalf("%d entries, stats %+v", len(es), st)
	}
	if es[1].FileName != "printutil.dll" || es[1].Size != 40960 ||
		!bytes.Equal(es[1].MD5, unhex("0e53c14a3e48d94ff596a2824307b492")) ||
		!bytes.Equal(es[1].SHA1, unhex("0000004da6391f7f5d2f7fccf36cebda60c6ea02")) {
		t.Errorf("entry %+v", es[1])
	}
}

func TestParseSums(t *testing.T) {
	es, _, err := parseFile(t, "md5sum.txt", "md5sum")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].FileName != "empty.txt" || es[1].FileName != "a.bin" || es[2].FileName != "" ||
		!bytes.Equal(es[1].MD5, unhex("0cc175b9c0f1b6a831c399e269772661")) || es[1].SHA256 != nil {
		t.Fatalf("entries %+v", es)
	}
	es, _, err = parseFile(t, "sha1sum.txt", "sha1sum")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[1].FileName != "a\\b\nc" || len(es[1].SHA1) != 20 {
		t.Fatalf("entries %+v", es)
	}
	es, _, err = parseFile(t, "sha256sum.txt", "sha256sum")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || !bytes.Equal(es[0].SHA256, unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")) {
		t.Fatalf("entries %+v", es)
	}
}

func TestParseFatal(t *testing.T) {
	for _, c := range []struct{ name, format, src string }{
		{"not JSON", "vics", "MD5,SHA1\n"},
		{"JSON array", "vics", `[{"MD5":"0123456789abcdef0123456789abcdef"}]`},
		{"no value", "vics", `{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"}`},
		{"other model", "vics", `{"@odata.context":"http://example.com/$metadata#People","value":[]}`},
		{"broken JSON", "vics", `{"value":[{"MD5":"0123456789abcdef0123456789abcdef"},{"MD5":`},
		{"trailing data", "caid", `{"value":[{"MD5":"0123456789abcdef0123456789abcdef"}]} {}`},
		{"NSRL header", "nsrl", "MD5,Name\n0123456789abcdef0123456789abcdef,x\n"},
		{"ICSE header", "icse", "Name;Size\nx;1\n"},
		{"no valid entry", "sha256sum", "0123456789abcdef0123456789abcdef  x\n"},
		{"empty", "md5sum", ""},
		{"unknown format", "zip", "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			_, err := Parse(strings.NewReader(c.src), c.format, func(Entry) error { n++; return nil })
			if err == nil {
				t.Fatalf("no error; %d entries", n)
			}
			t.Log(err)
		})
	}
}

func TestParseNotFormatStopsEarly(t *testing.T) {
	var src bytes.Buffer
	for range 5000 {
		src.WriteString("this is not a digest line\n")
	}
	st, err := Parse(&src, "md5sum", func(Entry) error { return nil })
	if err == nil || st.Rejected != 1000 || len(st.Problems) != MaxProblems {
		t.Fatalf("err %v, stats %d rejected, %d problems", err, st.Rejected, len(st.Problems))
	}
}

func TestParseCallbackErrorAborts(t *testing.T) {
	stop := errors.New("stop")
	_, err := Parse(strings.NewReader("d41d8cd98f00b204e9800998ecf8427e\nd41d8cd98f00b204e9800998ecf8427e\n"), "md5sum",
		func(Entry) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
}

func TestParseBOMAndCRLF(t *testing.T) {
	src := "\xef\xbb\xbf{\"odata.metadata\":\"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media\",\r\n\"value\":[\r\n{\"MD5\":\"0123456789abcdef0123456789abcdef\"},\r\n{\"MD5\":\"x\"}]}"
	st, err := Parse(strings.NewReader(src), "vics", func(Entry) error { return nil })
	if err != nil || st.Imported != 1 || st.Problems[0].Line != 4 {
		t.Fatalf("%v %+v", err, st)
	}
}

// TestSumsOfAnotherLengthNameTheirFormat: a checksum file imported as the
// wrong one of md5sum, sha1sum and sha256sum says which it looks like,
// line by line, instead of only that the digest is not followed by a name.
func TestSumsOfAnotherLengthNameTheirFormat(t *testing.T) {
	for _, c := range []struct{ format, line, want string }{
		{"md5sum", strings.Repeat("ab", 32) + "  x.jpg", "looks like sha256sum"},
		{"md5sum", strings.Repeat("ab", 20) + "  x.jpg", "looks like sha1sum"},
		{"sha1sum", strings.Repeat("ab", 32) + "  x.jpg", "looks like sha256sum"},
		{"md5sum", strings.Repeat("ab", 17) + "  x.jpg", `not followed by "  NAME"`},
	} {
		st, _ := Parse(strings.NewReader(c.line+"\n"), c.format, func(Entry) error { return nil })
		if len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Reason, c.want) {
			t.Errorf("%s given a line of %d characters: %+v", c.format, len(c.line), st.Problems)
		}
	}
}

// TestACutShortJSONDocumentSaysSo: a VICS or CAID document cut short at
// any byte, or with a byte that is not JSON, is refused in words (the
// file ends before its JSON document does; where the syntax error is),
// never as encoding/json's bare "EOF" or "unexpected EOF".
func TestACutShortJSONDocumentSaysSo(t *testing.T) {
	for _, tc := range []struct{ file, format string }{{"vics-2.0.json", "vics"}, {"vics-1.3.json", "vics"}, {"caid.json", "caid"}} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "hashset", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(b)-1; cut++ {
			_, err := Parse(bytes.NewReader(b[:cut]), tc.format, func(Entry) error { return nil })
			if err == nil {
				// A cut inside trailing white space leaves a whole document.
				if strings.TrimSpace(string(b[cut:])) != "" {
					t.Fatalf("%s cut at byte %d: accepted", tc.file, cut)
				}
				continue
			}
			if msg := err.Error(); msg == "EOF" || msg == "unexpected EOF" || strings.HasSuffix(msg, ": EOF") || strings.HasSuffix(msg, ": unexpected EOF") {
				t.Fatalf("%s cut at byte %d: %q", tc.file, cut, msg)
			}
		}
		at := bytes.IndexByte(b, ':')
		bad := bytes.Replace(b, []byte(":"), []byte(";"), 1)
		// The bytes before the wrong one are counted, with a byte-order
		// mark before them or without.
		for _, doc := range [][]byte{bad, append([]byte("\xef\xbb\xbf"), bad...)} {
			want := fmt.Sprintf("not valid JSON after the first %d bytes of the file", at+len(doc)-len(bad))
			if _, err := Parse(bytes.NewReader(doc), tc.format, func(Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s with a syntax error after its first %d bytes: %v, want %q", tc.file, at+len(doc)-len(bad), err, want)
			}
		}
	}
}

// TestShownTextWithHiddenCharactersIsRejected: an entry whose series,
// identifier or category holds a control, format or otherwise hidden
// character (an escape sequence that recolours or hides a terminal's
// lines, a newline that forges one, a right-to-left override) is
// rejected at its line, in every format that carries them, and the
// others are kept; a file name, which nobody is shown, is kept as given.
func TestShownTextWithHiddenCharactersIsRejected(t *testing.T) {
	sha1 := "a9993e364706816aba3e25717850c26c9cd0d89d"
	vics := func(series string) string {
		b, _ := json.Marshal(series)
		return `{"odata.metadata":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media","value":[` +
			`{"MediaID":1,"SHA1":"` + sha1 + `","Category":1,"Series":` + string(b) + `},` +
			`{"MediaID":2,"SHA1":"84983e441c3bd26ebaae4aa1f95129e5e54670f1","Category":1,"Series":"fine"}]}`
	}
	for name, c := range map[string]struct {
		body, format, says string
	}{
		"escape in a VICS series":          {vics("S1)\ncategory:   not-illegal\x1b[8m"), "vics", "series holds a control or invisible character (U+000A)"},
		"right-to-left override in series": {vics("abc\u202Egpj.exe"), "vics", "series holds a control or invisible character (U+202E)"},
		"left-to-right isolate in series":  {vics("a\u2066b"), "vics", "U+2066"},
		"zero-width space ending a series": {vics("Series 7\u200b"), "vics", "U+200B"},
		"escape in an ICSE series": {"MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\n" +
			"900150983cd24fb0d6963f7d28e17f72;" + sha1 + ";;7;No;No;No;Series \x1b[31mred;1;No;Image;Yes\n" +
			"e2fc714c4727ee9395f324cd2e7f331f;;;8;No;No;No;Plain;1;No;Image;Yes\n", "icse", "series holds a control or invisible character (U+001B)"},
		"bell in an ICSE identifier": {"MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\n" +
			"900150983cd24fb0d6963f7d28e17f72;;;7\a;No;No;No;S;1;No;Image;Yes\n" +
			"e2fc714c4727ee9395f324cd2e7f331f;;;8;No;No;No;Plain;1;No;Image;Yes\n", "icse", "identifier holds a control or invisible character (U+0007)"},
	} {
		var es []Entry
		st, err := Parse(strings.NewReader(c.body), c.format, func(e Entry) error { es = append(es, e); return nil })
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.Rejected != 1 || len(es) != 1 || len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Reason, c.says) {
			t.Errorf("%s: %d kept, stats %+v; want one rejected saying %q", name, len(es), st, c.says)
		}
	}
	// A series in Khmer, with the zero-width spaces its words are
	// separated by, is kept.
	var kept []Entry
	if st, err := Parse(strings.NewReader(vics("\u179f\u17c1\u200b\u179a\u17b8")), "vics", func(e Entry) error { kept = append(kept, e); return nil }); err != nil || st.Rejected != 0 || len(kept) != 2 {
		t.Errorf("a Khmer series: %d kept, %+v %v", len(kept), st, err)
	}
	// A file name from a seized device, right-to-left override and all,
	// is kept: it is never shown.
	nsrl := `"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"` + "\n" +
		`"A9993E364706816ABA3E25717850C26C9CD0D89D","900150983CD24FB0D6963F7D28E17F72","00000000","abc` + "\u202E" + `gpj.exe",3,1,"WIN",""` + "\n"
	var es []Entry
	if st, err := Parse(strings.NewReader(nsrl), "nsrl", func(e Entry) error { es = append(es, e); return nil }); err != nil || len(es) != 1 || st.Rejected != 0 {
		t.Errorf("a file name with an override: %d kept, %+v %v", len(es), st, err)
	}
}
