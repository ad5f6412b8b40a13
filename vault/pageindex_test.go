package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
)

// pageLinePrefixes begin the lines of pages, of each kind.
var pageLinePrefixes = [][]byte{[]byte(`{"paged":`), []byte(`{"objects_paged":`), []byte(`{"content_paged":`), []byte(`{"case_items_paged":`)}

// restOffset returns the offset of the first line of lines (whose first
// byte is at offset off) that is not a page: where a snapshot's summary
// begins.
func restOffset(lines []byte, off int64) int64 {
	for len(lines) > 0 {
		n := bytes.IndexByte(lines, '\n') + 1
		if n == 0 {
			n = len(lines)
		}
		page := false
		for _, p := range pageLinePrefixes {
			page = page || bytes.HasPrefix(lines, p)
		}
		if !page {
			return off
		}
		lines, off = lines[n:], off+int64(n)
	}
	return off
}

// restoreStateSummary is restoreStateBody as a start reads a snapshot by
// its summary: only the lines after the pages, the pages read from enc
// when the state needs them.
func restoreStateSummary(enc []byte, sizes snapshotEntries) (*State, error) {
	rest := restOffset(enc, 0)
	back := restorer{sizes: sizes, r: bytes.NewReader(enc), indexed: true, pagesTo: rest}
	if err := decodeLines(bufio.NewReader(bytes.NewReader(enc[rest:])), rest, back.add); err != nil {
		return nil, err
	}
	return back.state()
}

// sealSnapshot returns content (a snapshot's magic line, header and state
// lines) with its summary line and MAC line, as only the vault's key can
// write them.
func sealSnapshot(key snapshotKey, content []byte) []byte {
	first := bytes.IndexByte(content, '\n') + 1
	head := first + bytes.IndexByte(content[first:], '\n') + 1
	rest := restOffset(content[head:], int64(head))
	sum, err := summaryMAC(key, content[:head], rest, bytes.NewReader(content[rest:]), int64(len(content))-rest)
	if err != nil {
		panic(err)
	}
	out := append(bytes.Clone(content), summaryLine(rest, sum)...)
	mac := key.mac()
	mac.Write(out)
	return fmt.Appendf(out, "mac %x\n", mac.Sum(nil))
}

// unsealed returns a snapshot file's bytes without its summary and MAC
// lines.
func unsealed(b []byte) []byte {
	b = b[:len(b)-macLineLen]
	if _, _, ok := parseSummaryLine(b[len(b)-int(summaryLineLen):]); ok {
		b = b[:len(b)-int(summaryLineLen)]
	}
	return b
}

// shiftPageIndex returns a snapshot's state lines with the offsets its
// page index gives moved by delta: what a header of another length
// makes of them.
func shiftPageIndex(lines []byte, delta int64) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(lines, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(`{"page_index":`)) {
			var part snapState
			if err := decodeSnapState(line, &part); err != nil {
				panic(err)
			}
			for i := range part.PageIndex.Pages {
				part.PageIndex.Pages[i].Off += delta
			}
			b, err := encodeSnapState(&part)
			if err != nil {
				panic(err)
			}
			line = append(b, '\n')
		}
		out = append(out, line...)
	}
	return out
}

// sealOlder returns content with the MAC line alone, as a snapshot of a
// state version before 14 ends.
func sealOlder(key snapshotKey, content []byte) []byte {
	mac := key.mac()
	mac.Write(content)
	return fmt.Appendf(bytes.Clone(content), "mac %x\n", mac.Sum(nil))
}

// reindex returns a snapshot's state lines (as at offset off of a file)
// without their page index, and with one made afresh of the pages they
// hold, in the order they hold them: so that a test that edits pages
// meets the check of what it edited, not the index's.
func reindex(lines []byte, off int64) []byte {
	var out []byte
	var index [pageKinds]*snapPageIndex
	caseRows := map[string]int{}
	for _, line := range bytes.SplitAfter(lines, []byte("\n")) {
		if len(line) == 0 || bytes.HasPrefix(line, []byte(`{"page_index":`)) || bytes.HasPrefix(line, []byte(`{"case_rows":`)) {
			continue
		}
		var part snapState
		decodeSnapState(line, &part)
		k, first, n := -1, "", 0
		switch {
		case part.Paged != nil:
			k, n = 0, len(part.Paged)
			if it := part.Paged[0].Item; it != nil {
				first = it.ID
			}
		case part.Objects != nil:
			k, n, first = 1, len(part.Objects), part.Objects[0][0]
		case part.Content != nil:
			k, n, first = 2, len(part.Content), part.Content[0][0]
		case part.CaseItems != nil:
			k, n, first = 3, len(part.CaseItems), part.CaseItems[0][0]
			for _, row := range part.CaseItems {
				caseRows[row[0]]++
			}
		}
		if k >= 0 {
			if index[k] == nil {
				index[k] = &snapPageIndex{Kind: pageKindNames[k], Pages: []snapPageRef{}}
			}
			sum := sha256.Sum256(line)
			index[k].Pages = append(index[k].Pages, snapPageRef{First: first, Rank: index[k].Entries, Off: off + int64(len(out)), Size: len(line), SHA256: hex.EncodeToString(sum[:])})
			index[k].Entries += n
		}
		out = append(out, line...)
	}
	for k := range pageKinds {
		if index[k] == nil {
			index[k] = &snapPageIndex{Kind: pageKindNames[k], Pages: []snapPageRef{}}
		}
		b, _ := encodeSnapState(&snapState{PageIndex: index[k]})
		out = append(append(out, b...), '\n')
	}
	if len(caseRows) > 0 {
		b, _ := encodeSnapState(&snapState{CaseRows: caseRows})
		out = append(append(out, b...), '\n')
	}
	return out
}

// The page index is checked against the pages wherever the whole file is
// read (an older start, and the check of the pages beside a running
// vault); a start that reads the summary alone checks what it can
// without the pages: the index's form, and that it fits the file and the
// state. What it cannot (a page's bytes, its first key, the counts) is
// found by the whole read, and by each page's read (its SHA-256).
func TestPageIndexChecked(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "P-1", "t"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
		if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "P-1", Name: name, Body: strings.NewReader(name)}); err != nil {
			t.Fatal(err)
		}
	}
	enc, sizes := encodeStateBody(t, v.state)
	// kind returns the index line of pages of kind k.
	kind := func(ix []*snapState, k int) *snapPageIndex {
		for _, p := range ix {
			if p.PageIndex != nil && p.PageIndex.Kind == pageKindNames[k] {
				return p.PageIndex
			}
		}
		t.Fatalf("no index of %s", pageKindNames[k])
		return nil
	}
	rows := func(ix []*snapState) map[string]int {
		for _, p := range ix {
			if p.CaseRows != nil {
				return p.CaseRows
			}
		}
		t.Fatal("no line of case rows")
		return nil
	}
	for _, tc := range []struct {
		name string
		// edit changes the index lines (ix) or moves lines (body: the
		// lines before the index, the rest last; index: its lines).
		edit func(ix []*snapState)
		move func(body, index [][]byte) [][]byte
		// atStart: the start, which reads the summary alone, refuses it
		// too; otherwise it is found beside the running vault.
		atStart bool
	}{
		{name: "a page's SHA-256 changed", edit: func(ix []*snapState) { kind(ix, 0).Pages[0].SHA256 = strings.Repeat("0", 64) }},
		{name: "a page's first key changed", edit: func(ix []*snapState) { kind(ix, 1).Pages[0].First = "ev/" }},
		{name: "entries miscounted", edit: func(ix []*snapState) { kind(ix, 2).Entries++ }},
		{name: "a case's rows miscounted", edit: func(ix []*snapState) { rows(ix)["P-1"]++ }},
		{name: "rows of a case the state lacks", edit: func(ix []*snapState) { rows(ix)["P-9"] = 1 }, atStart: true},
		{name: "no rows of a case", edit: func(ix []*snapState) { rows(ix)["P-1"] = 0 }, atStart: true},
		{name: "a kind missing", move: func(body, index [][]byte) [][]byte {
			return append(append(body, index[:2]...), index[3:]...)
		}, atStart: true},
		{name: "an unknown kind", edit: func(ix []*snapState) { kind(ix, 3).Kind = "persons" }, atStart: true},
		{name: "a page given twice", edit: func(ix []*snapState) {
			x := kind(ix, 0)
			p := x.Pages[0]
			p.Rank++
			x.Pages = append(x.Pages, p)
			x.Entries++
		}, atStart: true},
		{name: "a rank out of order", edit: func(ix []*snapState) { kind(ix, 1).Pages[0].Rank = 1 }, atStart: true},
		{name: "a page outside the pages", edit: func(ix []*snapState) { kind(ix, 3).Pages[0].Off += 1 << 20 }, atStart: true},
		{name: "no SHA-256", edit: func(ix []*snapState) { kind(ix, 0).Pages[0].SHA256 = "" }, atStart: true},
		{name: "kinds out of order", move: func(body, index [][]byte) [][]byte {
			index[0], index[1] = index[1], index[0]
			return append(body, index...)
		}, atStart: true},
		{name: "the index before the rest", move: func(body, index [][]byte) [][]byte {
			n := len(body)
			return append(append(body[:n-1:n-1], index...), body[n-1])
		}, atStart: true},
		{name: "a line of the index holding more", edit: func(ix []*snapState) { ix[0].CaseRows = map[string]int{"P-1": 1} }, atStart: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body, index [][]byte
			var ix []*snapState
			for _, line := range bytes.SplitAfter(enc, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if bytes.HasPrefix(line, []byte(`{"page_index":`)) || bytes.HasPrefix(line, []byte(`{"case_rows":`)) {
					var p snapState
					if err := decodeSnapState(line, &p); err != nil {
						t.Fatal(err)
					}
					ix = append(ix, &p)
					continue
				}
				body = append(body, line)
			}
			if tc.edit != nil {
				tc.edit(ix)
			}
			for _, p := range ix {
				b, err := encodeSnapState(p)
				if err != nil {
					t.Fatal(err)
				}
				index = append(index, append(b, '\n'))
			}
			var lines [][]byte
			if tc.move != nil {
				lines = tc.move(body, index)
			} else {
				lines = append(body, index...)
			}
			edited := bytes.Join(lines, nil)
			_, err := restoreStateBody(edited, sizes)
			if err == nil {
				t.Error("read whole, it restored")
			}
			t.Logf("read whole: %v", err)
			_, err = restoreStateSummary(edited, sizes)
			t.Logf("read by its summary: %v", err)
			if tc.atStart && err == nil {
				t.Error("read by its summary, it restored")
			}
			if !tc.atStart && err != nil {
				t.Errorf("read by its summary: %v (a start cannot tell without reading the pages; the test's case is wrong)", err)
			}
		})
	}
}

// A start reads a snapshot by its summary and no page: a page altered on
// disk while the vault was stopped does not stop the start, and is found
// beside the running vault by the read of the whole file, which halts
// the log as an altered event under a snapshot does; the next start
// replays the log. So is an index that does not give the pages as they
// are (a snapshot the vault wrote wrong: no one else can seal one).
func TestSnapshotPagesCheckedBesideTheStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, key snapshotKey, b []byte) []byte
		reason string
	}{
		{"a byte of a page of the content index altered", func(t *testing.T, _ snapshotKey, b []byte) []byte {
			// A page no start reads: the sweep of unaccounted objects
			// reads the object index, and the retention of the objects
			// recorded within the pending window reads their items
			// (extendRecentRetention), which here are all of them.
			i := bytes.Index(b, []byte(`{"content_paged":[["`))
			if i < 0 {
				t.Fatal("no page of the content index")
			}
			b[i+len(`{"content_paged":[["`)] ^= 0x01
			return b
		}, "its MAC does not match"},
		{"a case's rows miscounted by the index, sealed with the key", func(t *testing.T, key snapshotKey, b []byte) []byte {
			body := unsealed(b)
			at := bytes.Index(body, []byte(`{"case_rows":{"CASE-a":`))
			if at < 0 {
				t.Fatal("no count of CASE-a's rows")
			}
			n := at + len(`{"case_rows":{"CASE-a":`)
			return sealSnapshot(key, append(append(bytes.Clone(body[:n]), '9'), body[n:]...))
		}, "does not count each case's rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := stoppedBusyVault(t, 2)
			dir, rec, key, snap := s.dir, s.rec, s.key, s.snap
			names := []string{filepath.Base(snap)}
			b, err := os.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(snap, tc.damage(t, key, b), 0o600); err != nil {
				t.Fatal(err)
			}
			logs := &logBuffer{}
			v, st := snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec)
			started := lastOfType(t, v, TypeServerStarted)
			if started["state_snapshot"] == "" || len(started["state_snapshot_summary_sha256"]) != 64 {
				t.Fatalf("server.started %v: want the start to resume from the snapshot, read by its summary", started)
			}
			<-v.checkDone
			if err := v.log.Halted(); err == nil || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), names[0]) {
				t.Fatalf("the log after the check: %v, want it halted, naming the snapshot and %q", err, tc.reason)
			}
			// The snapshot is in question, not the log: nothing of the
			// log is to be put back.
			if out := logs.String(); !strings.Contains(out, "the state snapshot in use cannot be vouched for") || strings.Contains(out, "put back the altered events") || !errors.Is(v.log.Halted(), ErrSnapshotSuspect) {
				t.Fatalf("the halt does not say the snapshot is suspect, not the log: %s", out)
			}
			failed := lastOfType(t, v, TypeIntegrityFailed)
			if !strings.Contains(failed["reason"], names[0]) {
				t.Fatalf("integrity.failed %v does not name the snapshot", failed)
			}
			v.Close()
			st.Close()
			if left, _ := (&snapshots{dir: filepath.Join(dir, "snapshots")}).list(); len(left) != 0 {
				t.Fatalf("snapshots left after the failed check: %v", left)
			}
			// The next start replays the log from event 0.
			v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec)
			defer st.Close()
			defer v.Close()
			if s := lastOfType(t, v, TypeServerStarted); s["state_snapshot"] != "" {
				t.Fatalf("server.started %v: want a full replay", s)
			}
			if diff := diffFromReplay(t, v); diff != "" {
				t.Fatalf("state differs from a full replay in %s", diff)
			}
		})
	}
}

// An intact snapshot's pages pass the check beside the start, which says
// so, and the vault goes on.
func TestSnapshotPagesCheckPasses(t *testing.T) {
	s := stoppedBusyVault(t, 1)
	logs := &logBuffer{}
	v, st := snapshotVault(t, s.dir, slog.New(slog.NewTextHandler(logs, nil)), s.rec)
	defer st.Close()
	defer v.Close()
	<-v.checkDone
	if err := v.log.Halted(); err != nil {
		t.Fatalf("halted: %v", err)
	}
	if !strings.Contains(logs.String(), "checked the pages of the state snapshot") {
		t.Fatalf("the check of the pages is not logged: %s", logs.String())
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
}

// FuzzSummaryLine: what parseSummaryLine accepts is exactly what
// summaryLine writes.
func FuzzSummaryLine(f *testing.F) {
	f.Add(summaryLine(1234, bytes.Repeat([]byte{0xab}, 32)))
	f.Add([]byte("summary 00000000000000001234 " + strings.Repeat("AB", 32) + "\n"))
	f.Add([]byte("summary 99999999999999999999 " + strings.Repeat("0", 64) + "\n"))
	f.Add([]byte("mac " + strings.Repeat("0", 64) + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rest, mac, ok := parseSummaryLine(b)
		if ok && (rest < 0 || !bytes.Equal(summaryLine(rest, mac), b)) {
			t.Fatalf("parseSummaryLine(%q) = %d, %x: not what summaryLine writes", b, rest, mac)
		}
	})
}

// FuzzPageIndexLines: lines after the pages, read as a start reads a
// summary, never panic, and an index accepted gives pages in the file's
// order within the pages' part, ranks below each kind's count.
func FuzzPageIndexLines(f *testing.F) {
	v := openTestVault(f)
	ctx := context.Background()
	inv := enrolled(f, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "F-1", "t"); err != nil {
		f.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "F-1", Name: "f.bin", Body: strings.NewReader("f")}); err != nil {
		f.Fatal(err)
	}
	enc, _ := encodeStateBody(f, v.state)
	rest := restOffset(enc, 0)
	f.Add(enc[rest:], rest)
	f.Add([]byte(`{"page_index":{"kind":"items","entries":1,"pages":[{"first":"a","rank":0,"off":0,"size":1,"sha256":"`+strings.Repeat("0", 64)+`"}]}}`+"\n"), int64(1))
	f.Fuzz(func(t *testing.T, tail []byte, pagesTo int64) {
		r := restorer{indexed: true, pagesTo: pagesTo, r: bytes.NewReader(nil)}
		if decodeLines(bufio.NewReader(bytes.NewReader(tail)), pagesTo, r.add) != nil {
			return
		}
		pages, counts, _, err := r.pages()
		if err != nil {
			return
		}
		end := int64(0)
		for k := range pageKinds {
			for _, p := range pages[k] {
				if p.off < end || p.off+int64(p.size) > pagesTo || p.rank >= counts[k] {
					t.Fatalf("accepted a page of %s at %d (%d bytes, rank %d of %d) in pages up to %d", pageKindNames[k], p.off, p.size, p.rank, counts[k], pagesTo)
				}
				end = p.off + int64(p.size)
			}
		}
	})
}

// A file that ends as a snapshot does but whose header runs on is refused
// without reading it whole: the first two lines are read before any MAC
// can be checked.
func TestSummaryHeadBounded(t *testing.T) {
	dir := t.TempDir()
	key, err := deriveSnapshotKey([]byte("a test key of the log"))
	if err != nil {
		t.Fatal(err)
	}
	sn := &snapshots{dir: dir, key: key, logger: slog.New(slog.DiscardHandler)}
	head := append([]byte(snapshotMagic+`{"checkpoint":"`), bytes.Repeat([]byte("a"), 2*maxHeadLen)...)
	head = append(head, "\"}\n"...)
	file := append(head, summaryLine(int64(len(head)), make([]byte, 32))...)
	file = fmt.Appendf(file, "mac %064x\n", 0)
	name := snapshotName(10)
	if err := os.WriteFile(filepath.Join(dir, name), file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.read(name, "origin", nil, 100); err == nil || !strings.Contains(err.Error(), "header line is cut short") {
		t.Fatalf("read: %v, want the header refused as cut short", err)
	}
}

// A page read is the page the index says it is: its first key and its
// count of entries, as well as its bytes (a start takes the index on the
// summary's MAC alone; a vault that wrote it wrong must not have a
// lookup land on the wrong page).
func TestPageReadMatchesItsIndexEntry(t *testing.T) {
	p, _, enc := indexRows(t)
	for name, edit := range map[string]func([]pageRef){
		"another first key": func(ix []pageRef) { ix[1].first = ix[1].first + "0" },
		"another rank":      func(ix []pageRef) { ix[2].rank++ },
	} {
		ix := slices.Clone(p.index)
		edit(ix)
		q := newPageSet(&snapFile{r: bytes.NewReader(enc)}, "content SHA-256s", ix, p.count, contentRows)
		var err error
		for n := range 3 {
			if _, err = q.read(n); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrIntegrity) || !errors.Is(err, errPageNotIndexed) {
			t.Errorf("%s: %v, want the page refused as not the one indexed", name, err)
		}
	}
	if _, err := p.read(len(p.index) - 1); err != nil {
		t.Fatalf("the last page as written: %v", err)
	}
}

// The check beside the start reads the file the start read: a file put
// back in its place since (here the vault's own, after a start from one
// whose index it had written wrong) halts the vault.
func TestSnapshotCheckReadsWhatTheStartRead(t *testing.T) {
	s := stoppedBusyVault(t, 1)
	snap := s.snap
	good, _ := os.ReadFile(snap)
	body := unsealed(good)
	at := bytes.Index(body, []byte(`{"case_rows":{"CASE-a":`))
	if at < 0 {
		t.Fatal("no count of CASE-a's rows")
	}
	n := at + len(`{"case_rows":{"CASE-a":`)
	wrong := bytes.Clone(body)
	// Another count of the same length.
	if wrong[n] == '9' {
		wrong[n] = '8'
	} else {
		wrong[n]++
	}
	os.WriteFile(snap, sealSnapshot(s.key, wrong), 0o600)
	afterSnapshotRead = func(path string) { os.WriteFile(path, good, 0o600) }
	defer func() { afterSnapshotRead = nil }()
	v, st := snapshotVault(t, s.dir, slog.New(slog.DiscardHandler), s.rec)
	defer st.Close()
	defer v.Close()
	<-v.checkDone
	if err := v.log.Halted(); err == nil || !strings.Contains(err.Error(), "not the one the start read") {
		t.Fatalf("the log after the check: %v, want it halted: the file changed since the start", err)
	}
}

// A snapshot file the storage cannot read for the check beside the start
// halts nothing, and the events the snapshot covers are checked all the
// same: an event altered under it still halts the vault.
func TestUnreadableSnapshotStillChecksTheEvents(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 0)
	item := caseItemIDs(t, v.state, "CASE-a")[0]
	v.Close()
	st.Close()
	tamperAccess(t, dir, item, false)
	// A folder: every read of it fails (EISDIR), as a failing disk's.
	beforeSnapshotCheck = func(f *os.File) *os.File {
		f.Close()
		d, err := os.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	defer func() { beforeSnapshotCheck = nil }()
	logs := &logBuffer{}
	v, st = snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
	defer st.Close()
	defer v.Close()
	<-v.checkDone
	if !strings.Contains(logs.String(), "could not be read to be checked") {
		t.Fatalf("the unreadable snapshot is not logged: %s", logs.String())
	}
	if err := v.log.Halted(); err == nil || !strings.Contains(err.Error(), "which the state snapshot of this start covers") {
		t.Fatalf("the log after the checks: %v, want it halted by the check of the events", err)
	}
}

// stoppedVault is a vault's folder once stopped: its recovery recipient,
// snapshot key and newest snapshot.
type stoppedVault struct {
	dir, rec, snap string
	key            snapshotKey
}

// stoppedBusyVault makes a vault in a new folder, gives it rounds of
// busyVault's history, and stops it (which writes a snapshot).
func stoppedBusyVault(t *testing.T, rounds int) stoppedVault {
	t.Helper()
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	for round := range rounds {
		busyVault(t, v, round)
	}
	key := v.snaps.key
	v.Close()
	st.Close()
	names, _ := (&snapshots{dir: filepath.Join(dir, "snapshots")}).list()
	if len(names) == 0 {
		t.Fatal("no snapshot written")
	}
	return stoppedVault{dir: dir, rec: rec.Recipient().String(), snap: filepath.Join(dir, "snapshots", names[0]), key: key}
}

// A snapshot file cut short after the start read it is a change, not a
// read the storage failed: the check beside the start halts the vault.
func TestSnapshotCutShortAfterTheStartHalts(t *testing.T) {
	s := stoppedBusyVault(t, 1)
	beforeSnapshotCheck = func(f *os.File) *os.File {
		if err := os.Truncate(s.snap, 100); err != nil {
			t.Error(err)
		}
		return f
	}
	defer func() { beforeSnapshotCheck = nil }()
	v, st := snapshotVault(t, s.dir, slog.New(slog.DiscardHandler), s.rec)
	defer st.Close()
	defer v.Close()
	<-v.checkDone
	if err := v.log.Halted(); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("the log after the check: %v, want it halted: the file was cut short", err)
	}
}

// A page the start's own steps read after the replay (here a page of
// items: the retention of recent objects reads them) that fails its
// check does not end the start, nor halt the vault as if its log were in
// question: the start sets the snapshot aside, records why in its
// server.started, with every other file it found unfit (a planted one
// here), and begins again from an older snapshot or event 0, coming up
// with the state a replay gives; the files are renamed only then.
func TestPageFailedDuringTheStartIsSetAside(t *testing.T) {
	s := stoppedBusyVault(t, 2)
	b, err := os.ReadFile(s.snap)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`{"paged":[`))
	if i < 0 {
		t.Fatal("no page of items")
	}
	b[i+len(`{"paged":[`)+40] ^= 0x01
	if err := os.WriteFile(s.snap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(s.dir, "snapshots", snapshotName(1_000_000))
	if err := os.WriteFile(planted, []byte("junk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	v, st := snapshotVault(t, s.dir, slog.New(slog.NewTextHandler(logs, nil)), s.rec)
	defer st.Close()
	defer v.Close()
	started := lastOfType(t, v, TypeServerStarted)
	discarded := started["state_snapshots_discarded"]
	if !strings.Contains(discarded, filepath.Base(s.snap)+": a page failed its check during the start") || !strings.Contains(discarded, filepath.Base(planted)) {
		t.Fatalf("server.started %v: want the altered snapshot set aside during the start, and the planted file, named", started)
	}
	if n, _ := strconv.ParseUint(started["state_snapshot"], 10, 64); started["state_snapshot"] != "" && n >= v.log.Size() {
		t.Fatalf("server.started %v: resumed from a snapshot that is not older", started)
	}
	for _, f := range []string{s.snap, planted} {
		if _, err := os.Stat(f + ".discarded"); err != nil {
			t.Errorf("%s was not renamed once the start went on: %v", f, err)
		}
	}
	if err := v.log.Halted(); err != nil {
		t.Fatalf("the vault halted: %v", err)
	}
	for _, ev := range logged(t, v) {
		if ev.Type == TypeIntegrityFailed {
			t.Fatalf("integrity.failed recorded for the snapshot's page: %s", ev.Data)
		}
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
	if !strings.Contains(logs.String(), "the start begins again without it") {
		t.Fatalf("the set-aside is not logged: %s", logs.String())
	}
}
