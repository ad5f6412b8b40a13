package exportdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// folder writes an export folder of the given events.ndjson bytes and
// checkpoint files (name to bytes).
func folder(t testing.TB, ndjson []byte, cps map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, EventsFile), ndjson, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, CheckpointsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range cps {
		if err := os.WriteFile(filepath.Join(dir, CheckpointsDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// note is a checkpoint note's body as events.StatedSize reads it; its
// signature is the audit's to check, not the reader's.
func note(size uint64) []byte {
	return fmt.Appendf(nil, "custos-test\n%d\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— custos-test sig\n", size)
}

func readAll(t *testing.T, r *Reader, from uint64) ([]events.Record, error) {
	var out []events.Record
	err := r.Read(context.Background(), from, func(rec events.Record) error {
		rec.Bytes = bytes.Clone(rec.Bytes)
		out = append(out, rec)
		return nil
	})
	return out, err
}

func TestReadsTheFolderAsExported(t *testing.T) {
	dir := folder(t, []byte("{\"a\":0}\n{\"a\":1}\n{\"a\":2}"), map[string][]byte{
		"00000000000000000003":   note(3),
		"00000000000000000001":   note(1),
		"00000000000000000003-2": bytes.Replace(note(3), []byte("AAAA"), []byte("BBBB"), 1),
		".DS_Store":              []byte("desktop"),
	})
	if !IsExport(dir) || IsExport(filepath.Join(dir, CheckpointsDir)) {
		t.Fatal("IsExport")
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, last, err := r.Count(ctx); n != 3 || last != 2 || err != nil {
		t.Fatalf("Count: %d %d %v", n, last, err)
	}
	recs, err := readAll(t, r, 1)
	if err != nil || len(recs) != 2 || recs[0].Seq != 1 || string(recs[1].Bytes) != `{"a":2}` || recs[0].ID != "" {
		t.Fatalf("Read from 1: %+v %v", recs, err)
	}
	var sizes []string
	err = r.ReadCheckpoints(ctx, 2, func(c events.StoredCheckpoint) error {
		sizes = append(sizes, fmt.Sprint(c.Size))
		return nil
	})
	if err != nil || strings.Join(sizes, " ") != "3 3" {
		t.Fatalf("ReadCheckpoints from 2: %v %v", sizes, err)
	}
	if last, err := r.LastCheckpoint(ctx); err != nil || last.Size != 3 {
		t.Fatalf("LastCheckpoint: %+v %v", last, err)
	}
	if seal, err := r.Seal(ctx); seal != nil || err != nil {
		t.Fatalf("Seal: %v %v", seal, err)
	}
}

// TestRefusesWhatNoExportHolds: each refusal names the file (and line),
// says what is wrong, and is an Altered finding where the folder's
// content, not its reading, is at fault.
func TestRefusesWhatNoExportHolds(t *testing.T) {
	long := append(bytes.Repeat([]byte("x"), events.MaxEventSize+1), '\n')
	huge := append(bytes.Repeat([]byte("x"), 2<<20), '\n')
	for _, c := range []struct {
		name    string
		ndjson  []byte
		cps     map[string][]byte
		want    string
		altered bool
		atOpen  bool
	}{
		{"crlf", []byte("{}\r\n"), nil, "line 1 (event 0) ends with a carriage return", true, false},
		{"crlf later", []byte("{}\n{}\r\n"), nil, "line 2 (event 1) ends with a carriage return", true, false},
		{"long line", append([]byte("{}\n"), long...), nil, "line 2 (event 1) is longer than an event may be", true, false},
		{"beyond the buffer", huge, nil, "line 1 (event 0) is longer than an event may be", true, false},
		{"checkpoint of another size", []byte("{}\n"), map[string][]byte{"00000000000000000002": note(1)}, "does not hold a checkpoint of size 2", true, false},
		{"not a checkpoint", []byte("{}\n"), map[string][]byte{"00000000000000000001": []byte("hello")}, "does not hold a checkpoint of size 1", true, false},
		{"long checkpoint", []byte("{}\n"), map[string][]byte{"00000000000000000001": append(note(1), bytes.Repeat([]byte("x"), events.MaxCheckpointSize)...)}, "longer than a checkpoint may be", true, false},
		{"empty line", []byte("{}\n\n{}\n"), nil, "line 2 (event 1) is empty", true, false},
		{"empty last line", []byte("{}\n\n"), nil, "line 2 (event 1) is empty", true, false},
		{"checkpoint with Windows line ends", []byte("{}\n"), map[string][]byte{"00000000000000000001": bytes.ReplaceAll(note(1), []byte("\n"), []byte("\r\n"))}, "ends its lines with carriage returns", true, false},
		{"the same checkpoint as the first, third", []byte("{}\n"), map[string][]byte{"00000000000000000001": note(1), "00000000000000000001-2": bytes.Replace(note(1), []byte("AAAA"), []byte("BBBB"), 1), "00000000000000000001-3": note(1)}, "00000000000000000001-3 holds the same checkpoint as 00000000000000000001:", true, false},
		{"a second checkpoint without the first", []byte("{}\n"), map[string][]byte{"00000000000000000001-2": note(1)}, "has no 00000000000000000001 beside it", true, false},
		{"the same checkpoint twice", []byte("{}\n"), map[string][]byte{"00000000000000000001": note(1), "00000000000000000001-2": note(1)}, "holds the same checkpoint as 00000000000000000001", true, false},
		{"a name no export gives", []byte("{}\n"), map[string][]byte{"checkpoint-1": note(1)}, "checkpoint-1 is not a checkpoint's name", false, true},
		{"a second of size 1 numbered 1", []byte("{}\n"), map[string][]byte{"00000000000000000001-1": note(1)}, "is not a checkpoint's name", false, true},
		{"short size", []byte("{}\n"), map[string][]byte{"1": note(1)}, "1 is not a checkpoint's name", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Open(folder(t, c.ndjson, c.cps))
			if c.atOpen {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Open: %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = readAll(t, r, 0)
			if err == nil {
				err = r.ReadCheckpoints(context.Background(), 0, func(events.StoredCheckpoint) error { return nil })
			}
			var a *Altered
			if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &a) != c.altered {
				t.Fatalf("%v, want %q (altered %v)", err, c.want, c.altered)
			}
		})
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not a custody log export") {
		t.Fatalf("an empty folder: %v", err)
	}
	dir := folder(t, nil, nil)
	os.Remove(filepath.Join(dir, CheckpointsDir))
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a whole custody log export") {
		t.Fatalf("without checkpoints/: %v", err)
	}
}

// FuzzRead: whatever events.ndjson holds, the reader never hands on a
// line longer than an event may be, with a newline or ending in a
// carriage return, and counts what it reads.
func FuzzRead(f *testing.F) {
	f.Add([]byte("{}\n{}\n"))
	f.Add([]byte("{}\r\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(folder(t, b, nil))
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		err = r.Read(context.Background(), 0, func(rec events.Record) error {
			if rec.Seq != n || len(rec.Bytes) > events.MaxEventSize || bytes.ContainsRune(rec.Bytes, '\n') || bytes.HasSuffix(rec.Bytes, []byte("\r")) {
				t.Fatalf("record %d: %q", rec.Seq, rec.Bytes)
			}
			n++
			return nil
		})
		// Count finds lines by their newlines alone; where Read finds
		// every line an event's, the two agree.
		if count, _, cerr := r.Count(context.Background()); cerr != nil || err == nil && count != n {
			t.Fatalf("Count %d %v, Read %d %v", count, cerr, n, err)
		}
	})
}
