package hashset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// The VICS data model (Project VIC, github.com/VICSDATAMODEL) is OData
// JSON. A document is an object whose "value" array holds either cases,
// each with a "Media" array (…$metadata#Cases), or media records directly
// (…$metadata#Media, the layout of distributed hash sets and of CAID
// exports). Versions 1.x name the model in an "odata.metadata" member
// (OData v3, http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media);
// version 2.0 in "@odata.context" (OData v4,
// http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases).
// docs/hashsets.md lists the members read.

// vicsMedia is one Media record. Members whose JSON type varies between
// exporters (numbers or strings, booleans or strings) are kept raw.
// encoding/json matches member names without regard to case, as
// exporters differ in case.
type vicsMedia struct {
	MediaID           json.RawMessage
	Category          json.RawMessage
	MD5               json.RawMessage
	SHA1              json.RawMessage
	SHA256            json.RawMessage
	PhotoDNA          json.RawMessage
	Series            json.RawMessage
	VictimIdentified  json.RawMessage
	MediaSize         json.RawMessage
	FileName          json.RawMessage
	Name              json.RawMessage // VICS 1.1
	RelativeFilePath  json.RawMessage
	AlternativeHashes []struct{ HashName, HashValue json.RawMessage }
	MediaFiles        []struct{ FileName json.RawMessage }
}

func parseVICS(r io.Reader, fn func(Entry) error, st *ParseStats, caid bool) (err error) {
	bom := 0
	defer func() { err = jsonReadError(err, bom) }()
	ol := newOffsetLines(r)
	dec := json.NewDecoder(ol)
	dec.UseNumber()
	defer func() { st.Lines = ol.lines() }()
	name := "VICS"
	if caid {
		name = "CAID (VICS 1.2)"
	}
	// A leading byte-order mark, which some exporters write.
	if bom, err = skipBOM(ol); err != nil {
		return err
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not a %s document: %w", name, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("not a %s document: it is not a JSON object", name)
	}
	var model string
	sawValue := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		switch key {
		case "odata.metadata", "@odata.context":
			if err := dec.Decode(&model); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			if !strings.Contains(strings.ToLower(model), "projectvic") {
				return fmt.Errorf("not a %s document: %s is %q", name, key, model)
			}
		case "value":
			sawValue = true
			if err := vicsValue(dec, ol, fn, st); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if !sawValue {
		return fmt.Errorf("not a %s document: no \"value\" array", name)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

// jsonReadError says in words what encoding/json's errors of a document
// cut short say as "EOF" or "unexpected EOF", and where a syntax error
// is, as a byte of the file (bom: the length of the byte-order mark read
// before the decoder's input); other errors pass unchanged.
func jsonReadError(err error, bom int) error {
	var syntax *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the file ends before its JSON document does: it is empty, was cut short, or is not all of what was exported (%w)", err)
	case errors.As(err, &syntax):
		return fmt.Errorf("not valid JSON after the first %d bytes of the file: %w", syntax.Offset+int64(bom), err)
	}
	return err
}

// skipBOM reads past a leading UTF-8 byte-order mark and returns its
// length (3, or 0 where there is none).
func skipBOM(ol *offsetLines) (int, error) {
	// json.Decoder refuses a BOM; peek at the stream through the reader.
	b := make([]byte, 3)
	n, err := io.ReadFull(ol.r, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, err
	}
	b = b[:n]
	skipped := 0
	if bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		b, skipped = nil, 3
	}
	ol.r = io.MultiReader(bytes.NewReader(b), ol.r)
	return skipped, nil
}

// vicsValue reads the "value" array: cases with a Media array, or media
// records.
func vicsValue(dec *json.Decoder, ol *offsetLines, fn func(Entry) error, st *ParseStats) error {
	if t, err := dec.Token(); err != nil {
		return err
	} else if t != json.Delim('[') {
		return errors.New(`"value" is not an array`)
	}
	for dec.More() {
		line := ol.lineAt(dec.InputOffset())
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if t != json.Delim('{') {
			if d, ok := t.(json.Delim); ok {
				if err := skipRest(dec, d); err != nil {
					return err
				}
			}
			st.reject(line, "a member of \"value\" is not an object")
			if err := notFormat(st, "VICS"); err != nil {
				return err
			}
			continue
		}
		// Either a case, whose Media array is streamed, or a media
		// record, whose members are collected and decoded at its end.
		var rec bytes.Buffer
		rec.WriteByte('{')
		sawMedia := false
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := t.(string)
			if strings.EqualFold(key, "Media") && !sawMedia {
				sawMedia = true
				// A case's media without a Category are counted
				// (ParseStats), whatever wrote them.
				each := func(e Entry) error {
					if e.Category == "" {
						st.CaseMediaWithoutCategory++
					}
					return fn(e)
				}
				if err := vicsMediaArray(dec, ol, each, st); err != nil {
					return err
				}
				continue
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if sawMedia {
				continue // a case's own members
			}
			if rec.Len() > 1 {
				rec.WriteByte(',')
			}
			kb, _ := json.Marshal(key)
			rec.Write(kb)
			rec.WriteByte(':')
			rec.Write(raw)
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		if !sawMedia {
			rec.WriteByte('}')
			var m vicsMedia
			if err := json.Unmarshal(rec.Bytes(), &m); err != nil {
				st.reject(line, "%s", jsonReason(err))
			} else if err := vicsEntry(&m, line, fn, st); err != nil {
				return err
			}
			if err := notFormat(st, "VICS"); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token()
	return err
}

func vicsMediaArray(dec *json.Decoder, ol *offsetLines, fn func(Entry) error, st *ParseStats) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		if d, ok := t.(json.Delim); ok {
			return skipRest(dec, d)
		}
		return nil // null or a scalar: a case without media
	}
	for dec.More() {
		line := ol.lineAt(dec.InputOffset())
		var m vicsMedia
		if err := dec.Decode(&m); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
				return err
			}
			st.reject(line, "%s", jsonReason(err))
		} else if err := vicsEntry(&m, line, fn, st); err != nil {
			return err
		}
		if err := notFormat(st, "VICS"); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s is a JSON %s, not %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// skipRest skips the rest of an array or object whose opening d was read.
func skipRest(dec *json.Decoder, d json.Delim) error {
	if d != '[' && d != '{' {
		return nil
	}
	depth := 1
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

// vicsEntry checks one media record and hands it to fn; a malformed
// record is rejected, and only fn's error is returned.
func vicsEntry(m *vicsMedia, line int, fn func(Entry) error, st *ParseStats) error {
	e, reason := vicsToEntry(m)
	if reason != "" {
		st.reject(line, "%s", reason)
		return nil
	}
	return st.accept(line, e, fn)
}

func vicsToEntry(m *vicsMedia) (Entry, string) {
	e := Entry{Size: -1}
	var err error
	hashes := []struct {
		name string
		raw  json.RawMessage
		dst  *[]byte
		n    int
	}{{"MD5", m.MD5, &e.MD5, 16}, {"SHA1", m.SHA1, &e.SHA1, 20}, {"SHA256", m.SHA256, &e.SHA256, 32}}
	for _, h := range hashes {
		s, ok := jsonText(h.raw)
		if !ok {
			return e, h.name + " is not a string"
		}
		if s == "" {
			continue
		}
		if *h.dst, err = decodeHex(s, h.n); err != nil {
			return e, fmt.Sprintf("%s: %v", h.name, err)
		}
	}
	var ok bool
	if e.PhotoDNA, ok = jsonText(m.PhotoDNA); !ok {
		return e, "PhotoDNA is not a string"
	}
	for _, a := range m.AlternativeHashes {
		hn, _ := jsonText(a.HashName)
		hv, ok := jsonText(a.HashValue)
		if !ok {
			return e, "AlternativeHashes: HashValue is not a string"
		}
		switch strings.ToUpper(hn) {
		case "PDQ":
			if e.PDQ, err = decodeHex(hv, 32); err != nil {
				return e, fmt.Sprintf("AlternativeHashes PDQ: %v", err)
			}
		case "PHOTODNA":
			if e.PhotoDNA == "" {
				e.PhotoDNA = hv
			}
		case "MD5", "SHA1", "SHA-1", "SHA256", "SHA-256":
			n, dst := 16, &e.MD5
			switch strings.ReplaceAll(strings.ToUpper(hn), "-", "") {
			case "SHA1":
				n, dst = 20, &e.SHA1
			case "SHA256":
				n, dst = 32, &e.SHA256
			}
			b, err := decodeHex(hv, n)
			if err != nil {
				return e, fmt.Sprintf("AlternativeHashes %s: %v", hn, err)
			}
			if *dst == nil {
				*dst = b
			} else if !bytes.Equal(*dst, b) {
				return e, fmt.Sprintf("AlternativeHashes %s differs from the record's %s", hn, hn)
			}
		}
	}
	if e.MD5 == nil && e.SHA1 == nil && e.SHA256 == nil && e.PDQ == nil {
		return e, "no MD5, SHA1, SHA256 or PDQ"
	}
	if e.Category, ok = jsonScalar(m.Category); !ok {
		return e, "Category is neither a number nor a string"
	}
	if e.Series, ok = jsonScalar(m.Series); !ok {
		return e, "Series is neither a number nor a string"
	}
	if e.ID, ok = jsonScalar(m.MediaID); !ok {
		return e, "MediaID is neither a number nor a string"
	}
	if s, ok := jsonScalar(m.VictimIdentified); !ok {
		return e, "VictimIdentified is not a boolean"
	} else if s != "" {
		v, ok := parseFlag(s)
		if !ok {
			return e, fmt.Sprintf("VictimIdentified is %q, not a boolean", s)
		}
		e.VictimIdentified = &v
	}
	if s, ok := jsonScalar(m.MediaSize); !ok {
		return e, "MediaSize is neither a number nor a string"
	} else if s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return e, fmt.Sprintf("MediaSize %q is not a size in bytes", s)
		}
		e.Size = n
	}
	e.FileName, _ = jsonText(m.FileName)
	if e.FileName == "" {
		e.FileName, _ = jsonText(m.Name)
	}
	for _, f := range m.MediaFiles {
		if e.FileName == "" {
			e.FileName, _ = jsonText(f.FileName)
		}
	}
	if e.FileName == "" {
		if p, _ := jsonText(m.RelativeFilePath); p != "" {
			e.FileName = path.Base(strings.ReplaceAll(p, `\`, "/"))
		}
	}
	return e, ""
}

// jsonText returns a JSON string's text; null and absence are "", true.
func jsonText(raw json.RawMessage) (string, bool) {
	if raw == nil || string(raw) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return strings.TrimSpace(s), true
}

// jsonScalar returns a string's text, a number's or a boolean's JSON
// text; null and absence are "". Arrays and objects are not scalars.
func jsonScalar(raw json.RawMessage) (string, bool) {
	if raw == nil || string(raw) == "null" {
		return "", true
	}
	switch raw[0] {
	case '"':
		return jsonText(raw)
	case '[', '{':
		return "", false
	}
	return string(raw), true
}

// notFormat aborts a parse that has rejected many records and accepted
// none: the source is not in the format at all.
func notFormat(st *ParseStats, name string) error {
	if st.Imported == 0 && st.Rejected >= 1000 {
		return fmt.Errorf("not a %s source: the first %d records are all malformed (first: %v)", name, st.Rejected, st.Problems[0])
	}
	return nil
}
