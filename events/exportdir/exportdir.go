// Package exportdir reads a custody log export folder, as `custos audit
// export` writes one (docs/custody-log.md section 11), as a log store an
// audit reads without the server: `events.ndjson` (every event exactly
// as stored, each followed by one newline, in sequence order from 0) and
// `checkpoints/` (every stored signed checkpoint as issued, one file
// each, named by its tree size in 20 decimal digits; a second, different
// checkpoint of a size already there as SIZE-2, SIZE-3 and so on).
//
// Nothing in the folder is trusted: the reader hands the bytes on, and
// the audit checks them (chain, tree, signatures of the key the auditor
// gives). It refuses what no export holds, naming the file and line: an
// event line longer than [events.MaxEventSize] bytes or ending in a
// carriage return (a copy converted to Windows line ends), a checkpoint
// file longer than [events.MaxCheckpointSize] bytes, under a name the
// export does not give, or holding a checkpoint of another size than its
// name, an empty line, a second file of a checkpoint identical to
// another of its size or without the first beside it, anything but a regular file where a file belongs (a named pipe
// would never end a read). It never loads more than one event line at a
// time. Files whose names begin with "." (such as a desktop's
// .DS_Store) are set aside.
package exportdir

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"syscall"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/smallfile"
)

// Altered is the error of a file the folder holds otherwise than an
// export writes it (a line or checkpoint too long, a carriage return, a
// checkpoint under another size's name): a finding about the folder,
// not a failure to read it.
type Altered struct{ Reason string }

func (e *Altered) Error() string { return e.Reason }

func altered(format string, args ...any) error { return &Altered{fmt.Sprintf(format, args...)} }

// EventsFile and CheckpointsDir are the names of the events and the
// checkpoints in an export folder.
const (
	EventsFile     = "events.ndjson"
	CheckpointsDir = "checkpoints"
)

// Reader is an export folder opened for reading.
type Reader struct {
	dir         string
	checkpoints []checkpointFile // sorted by size, then by n
}

type checkpointFile struct {
	name string
	size uint64
	n    int // 1 for SIZE, 2 for SIZE-2, ...
}

var checkpointName = regexp.MustCompile(`^([0-9]{20})(?:-([2-9]|[1-9][0-9]{1,5}))?$`)

// IsExport reports whether dir is a folder holding an events.ndjson
// file, as an export does.
func IsExport(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	fi, err = os.Stat(filepath.Join(dir, EventsFile))
	return err == nil && fi.Mode().IsRegular()
}

// Open opens the export folder dir: it lists its checkpoints (names
// only; each is read when asked for). It fails on a folder without
// events.ndjson or checkpoints/, and on a name in checkpoints/ the
// export does not give.
func Open(dir string) (*Reader, error) {
	if fi, err := os.Stat(filepath.Join(dir, EventsFile)); err != nil {
		return nil, fmt.Errorf("%s is not a custody log export (custos audit export writes %s in it): %w", dir, EventsFile, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s in %s is not a file", EventsFile, dir)
	}
	entries, err := os.ReadDir(filepath.Join(dir, CheckpointsDir))
	if err != nil {
		return nil, fmt.Errorf("%s is not a whole custody log export (custos audit export writes %s/ in it): %w", dir, CheckpointsDir, err)
	}
	r := &Reader{dir: dir}
	for _, e := range entries {
		name := e.Name()
		if name[0] == '.' {
			continue
		}
		m := checkpointName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("%s: %s is not a checkpoint's name as an export gives it (its tree size in 20 digits, then -2, -3 ... for a second checkpoint of that size)", filepath.Join(dir, CheckpointsDir), name)
		}
		size, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s names a size beyond 2^64", filepath.Join(dir, CheckpointsDir), name)
		}
		n := 1
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
		}
		r.checkpoints = append(r.checkpoints, checkpointFile{name: name, size: size, n: n})
	}
	slices.SortFunc(r.checkpoints, func(a, b checkpointFile) int {
		if a.size != b.size {
			if a.size < b.size {
				return -1
			}
			return 1
		}
		return a.n - b.n
	})
	return r, nil
}

// Dir is the folder read.
func (r *Reader) Dir() string { return r.dir }

// Count returns how many events the folder holds and the position of the
// last (0 for none): the lines of events.ndjson, a last one without its
// newline counted, found by scanning for newlines alone (Read judges the
// lines themselves).
func (r *Reader) Count(ctx context.Context) (n, last uint64, err error) {
	path := filepath.Join(r.dir, EventsFile)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return 0, 0, err
	} else if !fi.Mode().IsRegular() {
		return 0, 0, altered("%s is not a file (%s)", path, fi.Mode().Type())
	}
	buf := make([]byte, 1<<20)
	var lastByte byte = '\n'
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		k, rerr := f.Read(buf)
		if k > 0 {
			n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
			lastByte = buf[k-1]
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, fmt.Errorf("%s: %w", EventsFile, rerr)
		}
	}
	if lastByte != '\n' {
		n++ // a last line without its newline
	}
	if n > 0 {
		last = n - 1
	}
	return n, last, nil
}

// Read calls fn with each event at position from or later, in order;
// Record.Bytes is valid only until fn returns. An export holds no lookup
// values: Record's ID, Case and Item are empty. An error of fn ends the
// read and is returned.
func (r *Reader) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return r.lines(ctx, func(seq uint64, b []byte) error {
		if seq < from {
			return nil
		}
		return fn(events.Record{Seq: seq, Bytes: b})
	})
}

// lines calls fn with each line of events.ndjson without its newline
// and its position (from 0).
func (r *Reader) lines(ctx context.Context, fn func(uint64, []byte) error) error {
	path := filepath.Join(r.dir, EventsFile)
	// O_NONBLOCK: a named pipe put in its place is refused, not waited on.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return altered("%s is not a file (%s)", path, fi.Mode().Type())
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var seq uint64
	for {
		if seq%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return altered("%s line %d (event %d) is longer than an event may be (%d bytes)", EventsFile, seq+1, seq, events.MaxEventSize)
		}
		if err == io.EOF && len(line) == 0 {
			return nil // the end, after a newline (or an empty file)
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", EventsFile, err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 && err != io.EOF {
			return altered("%s line %d (event %d) is empty: an export writes one event on each line, and no empty line", EventsFile, seq+1, seq)
		}
		if len(line) > events.MaxEventSize {
			return altered("%s line %d (event %d) is longer than an event may be (%d bytes)", EventsFile, seq+1, seq, events.MaxEventSize)
		}
		if bytes.HasSuffix(line, []byte("\r")) {
			return altered("%s line %d (event %d) ends with a carriage return: the file was changed by a program that writes Windows line ends, and its events are no longer the bytes the log signed; copy the export as it was written (in a zip or tar file)", EventsFile, seq+1, seq)
		}
		if ferr := fn(seq, line); ferr != nil {
			return ferr
		}
		seq++
		if err == io.EOF {
			return nil
		}
	}
}

// ReadCheckpoints calls fn with each checkpoint of size from or more, in
// order of size (a second checkpoint of a size after the first, which
// must differ from it: an export writes each checkpoint once).
func (r *Reader) ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error {
	// The notes of the size read last, by name: a second file of a size
	// must differ from every one before it.
	var sameSize map[string][]byte
	var lastSize uint64
	for _, c := range r.checkpoints {
		if c.size < from {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		note, err := r.note(c)
		if err != nil {
			return err
		}
		if sameSize == nil || c.size != lastSize {
			sameSize, lastSize = map[string][]byte{}, c.size
			if c.n > 1 {
				// An export keeps a second file of a size only beside
				// the first.
				return altered("%s has no %020d beside it: an export writes a second checkpoint of a size only beside the first", filepath.Join(r.dir, CheckpointsDir, c.name), c.size)
			}
		}
		for name, other := range sameSize {
			if bytes.Equal(note, other) {
				return altered("%s holds the same checkpoint as %s: an export writes each checkpoint once (a second file of a size only for a different checkpoint of it)", filepath.Join(r.dir, CheckpointsDir, c.name), name)
			}
		}
		sameSize[c.name] = note
		if err := fn(events.StoredCheckpoint{Size: c.size, Note: note}); err != nil {
			return err
		}
	}
	return nil
}

// note reads checkpoint file c, refusing one longer than a checkpoint
// may be or of another size than its name gives.
func (r *Reader) note(c checkpointFile) ([]byte, error) {
	path := filepath.Join(r.dir, CheckpointsDir, c.name)
	// smallfile: bounded, and a pipe refused before a byte is read.
	b, err := smallfile.Read(path, events.MaxCheckpointSize)
	switch {
	case errors.Is(err, smallfile.ErrNotRegular):
		return nil, altered("%s is not a file: an export writes each checkpoint as a file", path)
	case errors.Is(err, smallfile.ErrTooLarge):
		return nil, altered("%s is longer than a checkpoint may be (%d bytes)", path, events.MaxCheckpointSize)
	case err != nil:
		return nil, err
	}
	if bytes.Contains(b, []byte("\r\n")) {
		return nil, altered("%s ends its lines with carriage returns: it was changed by a program that writes Windows line ends, and is no longer the note the log's key signed; copy the export as it was written (in a zip or tar file)", path)
	}
	if size, ok := events.StatedSize(b); !ok || size != c.size {
		return nil, altered("%s does not hold a checkpoint of size %d, as its name says: it was changed or renamed after the export", path, c.size)
	}
	return b, nil
}

// LastCheckpoint returns the checkpoint of the largest size (the first
// of that size), or nil if the folder holds none.
func (r *Reader) LastCheckpoint(ctx context.Context) (*events.StoredCheckpoint, error) {
	if len(r.checkpoints) == 0 {
		return nil, nil
	}
	last := r.checkpoints[len(r.checkpoints)-1]
	for i := len(r.checkpoints) - 1; i >= 0 && r.checkpoints[i].size == last.size; i-- {
		last = r.checkpoints[i]
	}
	note, err := r.note(last)
	if err != nil {
		return nil, err
	}
	return &events.StoredCheckpoint{Size: last.size, Note: note}, nil
}

// Seal returns nil: an export holds no batch seal, only the checkpoints
// the vault stored (the export is cut at the largest of them).
func (r *Reader) Seal(context.Context) (*events.StoredCheckpoint, error) { return nil, nil }

// Close releases nothing: every file is opened and closed where read.
func (r *Reader) Close() error { return nil }
