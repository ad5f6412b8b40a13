package vault

// The page index and the summary of a state snapshot (state version 14,
// docs/state-snapshots.md section 2.2): the last lines of a snapshot say
// where each page is and what its bytes hash to, and a MAC of its first
// two lines and of its tail (the lines after the pages, the index
// included) lets a start check and read those alone: loading a snapshot
// reads no page, so what it costs no longer grows with the items
// deposited. The pages, and the index against them, are checked beside
// the running vault (checkSnapshotPages).

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"strconv"
)

// The kinds of page, in the order of the file: items, then the object,
// content and case indexes.
const pageKinds = 4

var pageKindNames = [pageKinds]string{"items", "objects", "content", "cases"}

// snapPageIndex is a line of the page index: pages of one kind, in the
// file's order, and how many entries that kind's pages hold in all.
type snapPageIndex struct {
	Kind    string        `json:"kind"`
	Entries int           `json:"entries"`
	Pages   []snapPageRef `json:"pages"`
}

// snapPageRef is a page as the index gives it: the key of its first
// entry, how many entries the pages of its kind before it hold, its
// offset and length in the file (the newline included) and the SHA-256
// of those bytes, in hex.
type snapPageRef struct {
	First  string `json:"first"`
	Rank   int    `json:"rank"`
	Off    int64  `json:"off"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// pageIndexKind is what the index gives of one kind of page.
type pageIndexKind struct {
	entries int
	pages   []pageRef
}

// pageIndexLine is how many pages one line of the index holds, and
// caseRowsLine how many cases one line of counts.
const (
	pageIndexLine = 4096
	caseRowsLine  = 512
)

// addIndex adds a line of the page index or of the cases' counts of
// rows. The index's lines come after the rest of the state, one kind
// after the other in the file's order; the pages they give must lie in
// the file's order, each after the one before, within the pages' part of
// the file (indexed), and rank their entries in order.
func (r *restorer) addIndex(part *snapState) error {
	if r.stage < 4 {
		return errors.New("its page index comes before the rest of the state")
	}
	r.stage = 5
	only := *part
	only.PageIndex, only.CaseRows = nil, nil
	if !isZeroSnapState(&only) || part.PageIndex != nil && part.CaseRows != nil {
		return errors.New("a line of its page index holds more")
	}
	if part.CaseRows != nil {
		if r.caseRows == nil {
			r.caseRows = map[string]int{}
		}
		for id, n := range part.CaseRows {
			if n <= 0 {
				return fmt.Errorf("its page index counts %d rows of case %q", n, id)
			}
			if !addCanon(&r.caseRows, 0, id, n) {
				return errSnapshotDup
			}
		}
		return nil
	}
	x := part.PageIndex
	k := slices.Index(pageKindNames[:], x.Kind)
	switch {
	case k < 0:
		return fmt.Errorf("its page index names a kind of page %q", x.Kind)
	case slices.ContainsFunc(r.index[k+1:], func(i *pageIndexKind) bool { return i != nil }):
		return fmt.Errorf("its page index gives pages of %s after a later kind", x.Kind)
	case r.caseRows != nil:
		return errors.New("its page index gives pages after the cases' counts")
	case x.Entries < 0 || len(x.Pages) > pageIndexLine:
		return fmt.Errorf("a line of its page index of %d pages, %d entries", len(x.Pages), x.Entries)
	}
	ix := r.index[k]
	if ix == nil {
		ix = &pageIndexKind{entries: x.Entries}
		r.index[k] = ix
	} else if ix.entries != x.Entries {
		return fmt.Errorf("its page index counts the %s twice, differently", x.Kind)
	}
	for _, p := range x.Pages {
		sum, err := hex.DecodeString(p.SHA256)
		var prev *pageRef
		if n := len(ix.pages); n > 0 {
			prev = &ix.pages[n-1]
		}
		switch {
		case err != nil || len(sum) != sha256.Size:
			return fmt.Errorf("its page index gives a page's SHA-256 as %q", p.SHA256)
		case p.Off < r.indexEnd || p.Size <= 0 || p.Size > maxSnapshotSize || p.Off > maxSnapshotSize:
			return fmt.Errorf("its page index puts a page of %s at %d (%d bytes), not after the one before", x.Kind, p.Off, p.Size)
		case r.indexed && (p.Off < r.pagesFrom || p.Off+int64(p.Size) > r.pagesTo):
			return fmt.Errorf("its page index puts a page of %s at %d, outside its pages", x.Kind, p.Off)
		case p.First == "":
			return fmt.Errorf("its page index gives a page of %s without a first key", x.Kind)
		case prev == nil && p.Rank != 0, prev != nil && p.Rank <= prev.rank, p.Rank >= x.Entries:
			return fmt.Errorf("its page index ranks a page of %s at %d", x.Kind, p.Rank)
		case prev != nil && (p.First < prev.first || k < 2 && p.First == prev.first):
			return fmt.Errorf("its page index gives the pages of %s out of order", x.Kind)
		}
		ref := pageRef{first: p.First, rank: p.Rank, off: p.Off, size: p.Size}
		copy(ref.sum[:], sum)
		ix.pages = append(ix.pages, ref)
		r.indexEnd = p.Off + int64(p.Size)
	}
	return nil
}

// pages returns the state's pages of each kind, their counts of entries
// and each case's count of rows in the case index: the index's, if the
// pages were not read (indexed), else those read, which the index must
// give exactly.
func (r *restorer) pages() (pages [pageKinds][]pageRef, counts [pageKinds]int, onList map[string]int, err error) {
	for k, ix := range r.index {
		if ix == nil {
			return pages, counts, nil, fmt.Errorf("it lacks its page index of %s", pageKindNames[k])
		}
		if n := len(ix.pages); n == 0 && ix.entries != 0 || n > 0 && ix.entries <= ix.pages[n-1].rank {
			return pages, counts, nil, fmt.Errorf("its page index counts %d entries of %s", ix.entries, pageKindNames[k])
		}
		pages[k], counts[k] = ix.pages, ix.entries
	}
	if r.indexed {
		return pages, counts, r.caseRows, nil
	}
	read := [pageKinds][]pageRef{r.items, r.objects, r.content, r.cases}
	readCounts := [pageKinds]int{len(r.keys), r.rows[0], r.rows[1], r.rows[2]}
	for k := range pageKinds {
		if readCounts[k] != counts[k] || !slices.Equal(read[k], pages[k]) {
			return pages, counts, nil, fmt.Errorf("its page index does not give its pages of %s as they are", pageKindNames[k])
		}
	}
	if !maps.Equal(r.onList, r.caseRows) {
		return pages, counts, nil, errors.New("its page index does not count each case's rows in the case index as they are")
	}
	return pages, counts, r.onList, nil
}

// writePageIndex writes the page index of the pages written (pw) and
// each case's count of rows in the case index (caseRows).
func writePageIndex(w io.Writer, pw *writtenPages, caseRows map[string]int) error {
	kinds := [pageKinds]*pageWriter[[2]string]{nil, pw.objects, pw.content, pw.cases}
	for k := range pageKinds {
		refs, entries := pw.items.index, pw.items.count
		if k > 0 {
			refs, entries = kinds[k].index, kinds[k].count
		}
		for from := 0; from == 0 || from < len(refs); from += pageIndexLine {
			line := &snapPageIndex{Kind: pageKindNames[k], Entries: entries, Pages: []snapPageRef{}}
			for _, p := range refs[from:min(len(refs), from+pageIndexLine)] {
				line.Pages = append(line.Pages, snapPageRef{First: p.first, Rank: p.rank, Off: p.off, Size: p.size, SHA256: hex.EncodeToString(p.sum[:])})
			}
			if err := writeSnapLine(w, &snapState{PageIndex: line}); err != nil {
				return err
			}
		}
	}
	ids := slices.Sorted(maps.Keys(caseRows))
	for from := 0; from < len(ids); from += caseRowsLine {
		part := map[string]int{}
		for _, id := range ids[from:min(len(ids), from+caseRowsLine)] {
			part[id] = caseRows[id]
		}
		if err := writeSnapLine(w, &snapState{CaseRows: part}); err != nil {
			return err
		}
	}
	return nil
}

// writeSnapLine writes part as a line of a snapshot.
func writeSnapLine(w io.Writer, part *snapState) error {
	b, err := encodeSnapState(part)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// The summary line, a snapshot's last but one: "summary", the offset of
// the tail (the first line after the pages) in 20 decimal digits, and the
// HMAC-SHA256 of the summary (summaryMAC) in hex. The summary is what
// that MAC covers: the first two lines and the tail, the lines from the
// tail's offset up to the summary line (the rest of the state and the
// page index).
const (
	summaryLinePrefix = "summary "
	summaryLineLen    = int64(len(summaryLinePrefix) + 20 + 1 + 64 + 1)
	summaryDomain     = "custos state snapshot summary v1\n"
)

// summaryMAC returns the MAC of a snapshot's summary: HMAC-SHA256 over
// summaryDomain; then len(first), tailOff and tailLen as 8-byte
// big-endian integers; then first (the magic line and the header); then
// the tail, read from tail (tailLen bytes, from offset tailOff up to the
// summary line).
func summaryMAC(key snapshotKey, first []byte, tailOff int64, tail io.Reader, tailLen int64) ([]byte, error) {
	m := key.mac()
	summaryInput(m, first, tailOff, tailLen)
	n, err := io.Copy(m, io.LimitReader(tail, tailLen))
	if err != nil {
		return nil, err
	}
	if n != tailLen {
		return nil, fmt.Errorf("%w: %w", errSnapshotRead, io.ErrUnexpectedEOF)
	}
	return m.Sum(nil), nil
}

// summaryInput writes what comes before the tail in a summary's MAC.
func summaryInput(m hash.Hash, first []byte, tailOff, tailLen int64) {
	var n [24]byte
	binary.BigEndian.PutUint64(n[0:], uint64(len(first)))
	binary.BigEndian.PutUint64(n[8:], uint64(tailOff))
	binary.BigEndian.PutUint64(n[16:], uint64(tailLen))
	m.Write([]byte(summaryDomain))
	m.Write(n[:])
	m.Write(first)
}

// summaryLine formats a snapshot's summary line.
func summaryLine(tailOff int64, mac []byte) []byte {
	return fmt.Appendf(nil, "%s%020d %x\n", summaryLinePrefix, tailOff, mac)
}

// parseSummaryLine parses a summary line: the tail's offset and the MAC;
// false if b is not one.
func parseSummaryLine(b []byte) (tailOff int64, mac []byte, ok bool) {
	digits, ok := bytes.CutPrefix(b, []byte(summaryLinePrefix))
	if !ok || int64(len(b)) != summaryLineLen || b[len(b)-1] != '\n' || digits[20] != ' ' {
		return 0, nil, false
	}
	n, err := strconv.ParseUint(string(digits[:20]), 10, 63)
	if err != nil {
		return 0, nil, false
	}
	mac, err = hex.DecodeString(string(digits[21 : 21+64]))
	if err != nil || hex.EncodeToString(mac) != string(digits[21:21+64]) {
		return 0, nil, false
	}
	return int64(n), mac, true
}
