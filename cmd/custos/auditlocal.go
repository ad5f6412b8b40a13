package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/exportdir"
	"github.com/custos-vault/custos/events/logstream"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/internal/keyfile"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// localLog is a custody log read from its SQLite file without the
// server (audit verify --store): what the vault's audit routes would
// serve, read straight from the store, for a server that is stopped,
// refuses to start, or has halted its log.
type localLog struct {
	path string
	r    logFile
	// key is the key the log's first event names (its log.opened); the
	// auditor's --key must match it.
	key api.KeyResponse
	// head is the vault's sticky head beside a SQLite file in its data
	// folder, checked with the audit's --checkpoint files ("" if none).
	head string
	// headMissing says why there is no sticky head where the data
	// folder's keyring is ("" if there is one, or no keyring).
	headMissing string
	// objectHeads are the copies of the sticky head in the data folder's
	// file object store (DATA/objects/head/), newest first.
	objectHeads []string
	// heads are the sticky head's and its copies' bytes, read before the
	// store was opened (readHeads), by path.
	heads map[string][]byte
	// rows is how many events the store holds as the audit began, and
	// last the position of the last, read before its checkpoints and seal
	// (which a server appending meanwhile only makes newer).
	rows, last uint64
	// storeCovered is how many events the store's own signatures cover:
	// its batch seal and its newest stored checkpoint (checkpoints).
	storeCovered uint64
	// export says the log is an export folder (custos audit export):
	// no lookup values, no batch seal, no sticky head beside it.
	export bool
}

// logFile is what a log store's reader gives an audit without the
// server (sqlite.Reader; postgres.OpenReader's store).
type logFile interface {
	Read(ctx context.Context, from uint64, fn func(events.Record) error) error
	ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error
	LastCheckpoint(ctx context.Context) (*events.StoredCheckpoint, error)
	Seal(ctx context.Context) (*events.StoredCheckpoint, error)
	Count(ctx context.Context) (n, last uint64, err error)
	Close() error
}

// afterHeadsRead, when a test sets it, runs once the sticky head and its
// copies are read, as a vault running beside the audit may append and
// write a newer head then.
var afterHeadsRead func()

// afterStoreOpened, when a test sets it, runs once the store is opened
// and its events counted, as a server started on a stopped vault's store
// may write it then.
var afterStoreOpened func()

// openLocalLog opens the log store at path read-only: a SQLite file, or
// a PostgreSQL database given by its URL (postgres://...).
func openLocalLog(path string) (*localLog, error) {
	ctx := context.Background()
	var r logFile
	var err error
	var head, missing string
	var heads map[string][]byte
	var copies []string
	name := path
	export := false
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		if u, perr := url.Parse(path); perr == nil {
			name = u.Redacted()
		}
		r, err = postgres.OpenReader(ctx, postgres.Config{URL: path})
	} else if why := notAStore(path); why != "" {
		return nil, inputErr("--store", errors.New(why))
	} else if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
		// A folder custos audit export wrote: what the vault served,
		// with no sticky head beside it.
		name, export = filepath.Clean(path), true
		r, err = exportdir.Open(path)
	} else {
		name = filepath.Clean(path)
		// The heads beside the file are read before the store: a vault
		// running beside the audit writes its head only once the events
		// it covers are durable, so a head read first is never ahead of
		// the store read after it (and is not removed under the audit).
		head, missing = stickyHeadBeside(path)
		if heads, copies, err = readHeads(head, objectHeadsBeside(path)); err != nil {
			return nil, err
		}
		r, err = sqlite.OpenReader(ctx, path)
	}
	if err != nil {
		return nil, inputErr("--store", err)
	}
	l := &localLog{path: name, r: r, head: head, headMissing: missing, objectHeads: copies, heads: heads, export: export}
	l.rows, l.last, err = r.Count(ctx)
	if afterStoreOpened != nil {
		afterStoreOpened()
	}
	var first []byte
	if err == nil {
		err = r.Read(ctx, 0, func(rec events.Record) error {
			if rec.Seq != 0 {
				return fmt.Errorf("its first stored event is at position %d, not 0", rec.Seq)
			}
			first = append([]byte(nil), rec.Bytes...)
			return errStopLocal
		})
		if errors.Is(err, errStopLocal) {
			err = nil
		}
	}
	if err == nil && first == nil {
		err = errors.New("it holds no events")
	}
	if err == nil {
		l.key.Origin, l.key.Key, err = verify.GenesisKey(first)
	}
	if err != nil {
		r.Close()
		err = fmt.Errorf("%w: %s: %v", errAuditFailed, name, err)
		if export {
			return nil, &exportFailure{err}
		}
		return nil, err
	}
	return l, nil
}

// insideFolder reports whether file names a file inside folder dir (at
// any depth, links resolved); false for "", "-" and what is no file
// (a key given by value or fingerprint).
func insideFolder(file, dir string) bool {
	if file == "" || file == "-" {
		return false
	}
	if fi, err := os.Stat(file); err != nil || fi.IsDir() {
		return false
	}
	f, err1 := filepath.EvalSymlinks(file)
	d, err2 := filepath.EvalSymlinks(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	f, err1 = filepath.Abs(f)
	d, err2 = filepath.Abs(d)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// exportKeyFile is the key an export folder's key file names, or what is
// wrong with the file (problem, "" if nothing): missing, not a regular
// file, longer than 4 KiB, empty, or more than one line (custos audit
// export writes the key and one newline). Spaces and a carriage return
// around the line are set aside.
func exportKeyFile(dir string) (key, problem string) {
	b, err := smallfile.Read(filepath.Join(dir, "key"), 4<<10)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "the export holds no key file (custos audit export writes one): the log is checked against the key you gave alone"
	case errors.Is(err, smallfile.ErrNotRegular):
		return "", "the export's key file is not a file: the log is checked against the key you gave alone"
	case errors.Is(err, smallfile.ErrTooLarge):
		return "", "the export's key file is longer than a key (4 KiB): the log is checked against the key you gave alone"
	case err != nil:
		return "", fmt.Sprintf("the export's key file could not be read (%v)", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	key = strings.TrimSpace(lines[0])
	switch {
	case key == "":
		return "", "the export's key file is empty: the log is checked against the key you gave alone"
	case len(lines) > 1:
		return key, fmt.Sprintf("the export's key file holds %d lines, where an export writes one: the folder was changed after it was made; the log is checked against the key you gave alone", len(lines))
	}
	return key, ""
}

// isRegularFile reports whether path names a regular file (through links).
func isRegularFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// notAStore says what a --store path that is neither a log store nor an
// export folder is, and what to give instead, or "" if it may be one (a
// SQLite file, or something the SQLite reader says it is not).
func notAStore(path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s: no such file or folder: give the log's SQLite file (DATA/custody.db), a postgres:// URL, or the folder custos audit export wrote", path)
	case err != nil:
		return ""
	case fi.IsDir() && exportdir.IsExport(path):
		return ""
	case fi.IsDir():
		if filepath.Base(filepath.Clean(path)) == exportdir.CheckpointsDir && exportdir.IsExport(filepath.Dir(filepath.Clean(path))) {
			return fmt.Sprintf("%s is the export's checkpoints folder: give the folder above it, %s", path, filepath.Dir(filepath.Clean(path)))
		}
		var inside []string
		if ents, err := os.ReadDir(path); err == nil {
			for _, e := range ents {
				if e.IsDir() && exportdir.IsExport(filepath.Join(path, e.Name())) {
					inside = append(inside, filepath.Join(path, e.Name()))
				}
			}
		}
		if len(inside) > 0 {
			more := ""
			if len(inside) > 3 {
				more = fmt.Sprintf(" (or one of %d more)", len(inside)-3)
				inside = inside[:3]
			}
			return fmt.Sprintf("%s is not itself a custody log export, but holds one: give %s%s", path, strings.Join(inside, " or "), more)
		}
		if db := filepath.Join(path, "custody.db"); isRegularFile(db) {
			return fmt.Sprintf("%s is a vault's data folder, not an export: give its log's file, %s", path, db)
		}
		return ""
	}
	if !fi.Mode().IsRegular() {
		// A pipe would hold the audit at its opening.
		return fmt.Sprintf("%s is neither a file nor a folder (%s): give the log's SQLite file, a postgres:// URL, or the folder custos audit export wrote", path, fi.Mode().Type())
	}
	if filepath.Base(path) == exportdir.EventsFile {
		return fmt.Sprintf("%s is one file of an export: give the folder that holds it, %s (its checkpoints are read from there too)", path, filepath.Dir(path))
	}
	head := make([]byte, 262)
	if f, err := os.Open(path); err == nil {
		n, _ := io.ReadFull(f, head)
		f.Close()
		head = head[:n]
	}
	switch {
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		return fmt.Sprintf("%s is a zip file: unpack it first (unzip), and give the folder it holds", path)
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return fmt.Sprintf("%s is a gzip-compressed file (a .tar.gz?): unpack it first (tar -xzf), and give the folder it holds", path)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return fmt.Sprintf("%s is a tar file: unpack it first (tar -xf), and give the folder it holds", path)
	}
	return ""
}

// checkpoints are the file's checkpoints as GET /v1/log/checkpoints
// gives them: head.Newest is its batch seal (custody-log.md 5.8), a
// checkpoint of the newest batch the server signed (what the vault's own
// answer ends with, a checkpoint of every event so far, is not in the
// file, and the seal is the nearest to it), and the feed its stored
// checkpoints, read a page at a time as the replay reaches them. goal is
// the largest size among them: the seal's, or a stored one's beyond it.
func (l *localLog) checkpoints() (head api.CheckpointsResponse, feed *checkpointFeed, goal uint64, err error) {
	ctx := context.Background()
	seal, err := l.r.Seal(ctx)
	if err != nil {
		return head, nil, 0, fmt.Errorf("--store %s: %w", l.path, err)
	}
	// The seal is given whatever the rows' size columns (not signed) say:
	// a seal of a size a checkpoint has too is checked twice, no harm.
	// A seal row whose size column is not the size its note signs was
	// edited, and a server refuses to start on it: so does the audit.
	if seal != nil {
		head.Newest = string(seal.Note)
		_, goal, _ = events.PeekCheckpoint(seal.Note)
		if goal != seal.Size {
			return head, nil, 0, fmt.Errorf("%w: --store %s: the log's seal is stored for size %d but signs size %d: the seal row was altered by someone with write access to the store (a server refuses to start on it)", errAuditFailed, l.path, seal.Size, goal)
		}
	}
	last, err := l.r.LastCheckpoint(ctx)
	var altered *exportdir.Altered
	if errors.As(err, &altered) {
		return head, nil, 0, fmt.Errorf("%w: %v", errAuditFailed, altered)
	}
	if err != nil {
		return head, nil, 0, fmt.Errorf("--store %s: %w", l.path, err)
	}
	if last != nil {
		goal = max(goal, last.Size)
	}
	if l.export && last == nil {
		return head, nil, 0, fmt.Errorf("%w: the export %s holds no checkpoint in %s/: nothing in it is signed by the log's key (custos audit export writes every checkpoint the vault stored)", errAuditFailed, l.path, exportdir.CheckpointsDir)
	}
	l.storeCovered = goal
	if l.export {
		// The vault's newest witnessed checkpoint as the export found
		// it (checked by --witness-policy; its root by the replay).
		w, err := l.exportWitnessed()
		if err != nil {
			return head, nil, 0, err
		}
		head.Witnessed = w
	}
	return head, l.checkpointFeed(goal), goal, nil
}

// exportWitnessedFile is the file of an export that holds the vault's
// newest witnessed checkpoint, with its cosignature lines.
const exportWitnessedFile = "witnessed"

// exportWitnessed is an export's witnessed checkpoint ("" if it has
// none), read only from a regular file and refused beyond what a note
// with its cosignatures may hold.
func (l *localLog) exportWitnessed() (string, error) {
	path := filepath.Join(l.path, exportWitnessedFile)
	b, err := smallfile.Read(path, maxWitnessedNote)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case errors.Is(err, smallfile.ErrNotRegular):
		return "", fmt.Errorf("%w: %s is not a file: an export writes the witnessed checkpoint as a file", errAuditFailed, path)
	case errors.Is(err, smallfile.ErrTooLarge):
		return "", fmt.Errorf("%w: %s is longer than a witnessed checkpoint may be (%d bytes)", errAuditFailed, path, maxWitnessedNote)
	case err != nil:
		return "", inputErr("--store", err)
	}
	return string(b), nil
}

// maxWitnessedNote bounds an export's witnessed checkpoint: a checkpoint
// note with the cosignatures of many witnesses.
const maxWitnessedNote = 64 << 10

// records streams the file's events before position upto as GET
// /v1/log/records does (the same reader reads both), from a goroutine
// of its own; closing the answer stops it.
func (l *localLog) records(upto uint64) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		sw := logstream.NewWriter(pw)
		err := l.r.Read(context.Background(), 0, func(rec events.Record) error {
			if rec.Seq >= upto {
				return errStopLocal
			}
			return sw.Write(rec)
		})
		if err == nil || errors.Is(err, errStopLocal) {
			err = sw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

var errStopLocal = errors.New("end of the range")

func (l *localLog) Close() error { return l.r.Close() }

// written is the answer of an audit of a SQLite file that was written
// while it was read as a file nobody writes (sqlite.Reader.Changed: no
// write-ahead log was beside it at the start, as of a stopped vault, and
// a server was started on it since), or nil. What was read may mix the
// file's states before and after, so the audit reports neither a finding
// nor a pass: it says to audit again.
func (l *localLog) written() error {
	if c, ok := l.r.(interface{ Changed() bool }); !ok || !c.Changed() {
		return nil
	}
	return fmt.Errorf("%s was written while this audit read it: no write-ahead log was beside it when the audit began (as of a stopped vault), so it was read as a file nobody writes, and a server was started on it since. What was read may mix the file's states before and after that, so nothing is reported of it, neither a finding nor a pass: audit it again, beside the running server or with the server kept stopped until the audit ends", l.path)
}

// savedBytes reads a --checkpoint file: the bytes read before the store
// was opened for the sticky head and its copies (readHeads; given by
// another path to the same file too), any other file now. l may be nil.
func (l *localLog) savedBytes(file string) ([]byte, error) {
	if l != nil {
		if b, ok := l.heads[file]; ok {
			return b, nil
		}
		for p, b := range l.heads {
			if sameFile(p, file) {
				return b, nil
			}
		}
	}
	return keyfile.ReadCheckpoint(file)
}

// uncovered is the failure of a store holding events after those the
// newest signature of the log's key there covers (its checkpoints and
// its seal, covered events of them), or nil: events no key signed, which
// a server refuses to start on (custody-log.md 5.8).
//
// Events the checkpoints given with --checkpoint cover (the sticky head,
// a saved one) but the store's own seal and checkpoints do not fail too,
// as they make a server refuse to start (sequencer.ErrSealRolledBack):
// the vault wrote them, and someone with write access to the store
// rolled back or deleted its seal and checkpoint rows.
func (l *localLog) uncovered(covered uint64) error {
	if l.rows > l.last+1 {
		// Positions are unique and the replay read 0 to last without a
		// gap: the other rows are below 0, where no event is, and
		// neither the server nor the replay reads them.
		return fmt.Errorf("%s holds %d rows at positions below 0, besides the events at positions 0 to %d: no event of the log is there, so someone with write access to the store added them (the server never reads them)", l.path, l.rows-(l.last+1), l.last)
	}
	if l.export && l.rows > l.storeCovered {
		// An export is cut at its newest checkpoint: events beyond it
		// were added after it was written, whatever else covers them.
		return fmt.Errorf("the export %s holds %s after the %d that its newest checkpoint covers (up to position %d): an export is cut at its newest checkpoint, so either they were added to its %s after it was written, or its newest checkpoints were removed from %s/", l.path, plural(int(l.rows-l.storeCovered), "event"), l.storeCovered, l.last, exportdir.EventsFile, exportdir.CheckpointsDir)
	}
	if l.rows <= covered {
		if l.rows > l.storeCovered {
			return fmt.Errorf("%s holds %d events, but its batch seal and stored checkpoints cover %d: events %d to %d are covered only by the checkpoints given with --checkpoint (the vault's sticky head, or one you saved), so the vault wrote them and the store's seal or checkpoint rows were rolled back or deleted by someone with write access to it; a server refuses to start on it. Do not restore an older backup of the store or accept a rollback (either would lose those events); put the seal back from the sticky head (docs/operations.md, \"A seal row rolled back\")", l.path, l.rows, l.storeCovered, l.storeCovered, l.rows-1)
		}
		return nil
	}
	return fmt.Errorf("%s holds %d events after the %d that its newest checkpoint or batch seal covers (up to position %d): no signature of the log's key covers them, so they were written without the key (custody-log.md 5.8), or the store lost the checkpoints and seal that covered them", l.path, l.rows-covered, covered, l.last)
}

// stickyHeadBeside returns the vault's sticky head beside a SQLite log
// file in the vault's data folder (DATA/custody.db beside
// DATA/keyring/head.checkpoint), or "" if there is none. missing says
// why there is none where the keyring folder is there: the head was
// removed, or is not a file.
func stickyHeadBeside(store string) (head, missing string) {
	keyring := filepath.Join(filepath.Dir(store), keyringDir)
	if st, err := os.Stat(keyring); err != nil || !st.IsDir() {
		return "", "" // a copy of the file alone, or not a data folder
	}
	head = filepath.Join(keyring, vault.HeadFile)
	st, err := os.Stat(head)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", head + " is missing, though the keyring folder is there"
	case err != nil:
		return "", fmt.Sprintf("%s cannot be read (%v)", head, err)
	case !st.Mode().IsRegular():
		return "", head + " is not a file"
	}
	return head, ""
}

// objectHeadsBeside returns the copies of the vault's sticky head in the
// file object store of the data folder a SQLite log file is in
// (DATA/objects/head/ and the size in 20 digits, as the vault names
// them), newest first, at most maxHeadCopies: the vault keeps its head
// there too, and a start refuses a log that does not extend the largest,
// so the audit compares them all. An object store elsewhere (another
// folder, MinIO) is not looked for.
func objectHeadsBeside(store string) []string {
	dir := filepath.Join(filepath.Dir(store), "objects", "head")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if _, ok := objectHeadSize(e.Name()); ok && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	slices.Reverse(names)
	var out []string
	for _, n := range names[:min(len(names), maxHeadCopies)] {
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

// maxHeadCopies bounds the head copies an audit reads from the object
// store, as a start does (vault's maxHeadObjects).
const maxHeadCopies = 64

// readHeads reads the sticky head (head, "" for none) and its copies in
// the object store. A copy gone since it was listed is passed over (the
// vault removes its older one once a newer is written); a copy whose
// note is not a checkpoint of the size its name gives fails the audit,
// as it refuses a start: whoever could write the object store could
// otherwise hide the largest head behind a name that sorts higher.
// It returns the bytes by path, and the copies read, newest first.
func readHeads(head string, copies []string) (map[string][]byte, []string, error) {
	out := map[string][]byte{}
	if head != "" {
		b, err := keyfile.ReadCheckpoint(head)
		if err != nil {
			return nil, nil, inputErr("the sticky head", err)
		}
		out[head] = b
	}
	var read []string
	for _, c := range copies {
		b, err := keyfile.ReadCheckpoint(c)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, inputErr("the sticky head's copy in the object store", err)
		}
		want, _ := objectHeadSize(filepath.Base(c))
		if _, size, err := events.PeekCheckpoint(b); err != nil || size != want {
			return nil, nil, fmt.Errorf("%w: the vault's log head in the object store (%s) is not a checkpoint of %d events, the size its name gives: it was altered or copied there by someone with write access to the object store (a server refuses to start on it)", errAuditFailed, c, want)
		}
		out[c] = b
		read = append(read, c)
	}
	if afterHeadsRead != nil {
		afterHeadsRead()
	}
	return out, read, nil
}

// objectHeadSize is the size a file of a file object store's head/
// folder gives by its name (vault.HeadObjectSize), and false for a name
// the vault never gives its head.
func objectHeadSize(name string) (uint64, bool) { return vault.HeadObjectSize("head/" + name) }

// isStickyHead reports whether a --checkpoint file is a vault's sticky
// head: DATA/keyring/head.checkpoint, or a copy of it that kept its name
// head.checkpoint (of a data folder elsewhere, for a copy of the log's
// file or a PostgreSQL store), or a copy in a file object store
// (objects/head/ and 20 digits). It is the vault's own record, which the
// administrators of the log store may hold too, unlike a checkpoint an
// auditor saved outside the vault.
func isStickyHead(file string) bool {
	abs, err := filepath.Abs(file)
	if err != nil {
		return false
	}
	if filepath.Base(abs) == vault.HeadFile {
		return true
	}
	dir := filepath.Dir(abs)
	_, named := objectHeadSize(filepath.Base(abs))
	return named && filepath.Base(dir) == "head" && filepath.Base(filepath.Dir(dir)) == "objects"
}

// headNotCompared is the warning of an audit of the store that passed
// without the vault's sticky head, its own record of how long the log
// is: where it was looked for, what a pass without it leaves unproven
// (own names the newest checkpoint of the auditor's own the log extends,
// "your saved checkpoint of 22 events (...)", or "" for none), and where
// to find the head to give it. An audit that found a keyring folder
// without the head fails instead (stickyHeadBeside).
func (l *localLog) headNotCompared(own string) string {
	where := "it was not given with --checkpoint, and a PostgreSQL store has no data folder beside it where it could be found"
	if l.export {
		cut := "a log cut short together with its newest checkpoints would pass it"
		if own != "" {
			cut = "events after " + own + " could have been cut from the export with its newest checkpoints and it would pass"
		}
		return "the vault's sticky head, its own record of how long the log is, was not compared: an export folder holds none (custos audit export writes what the vault serves). " +
			"So this audit proves the events the export holds, and that the log extends the checkpoints you gave, not that none were cut from its end: " + cut + ". " +
			"Ask the vault's operators for the vault's head as it was when the export was made (DATA/keyring/" + vault.HeadFile + ", or a checkpoint they saved then, or one witnesses cosigned), " +
			"kept apart from the export, and give it with --checkpoint"
	}
	if _, ok := l.r.(*sqlite.Reader); ok {
		where = fmt.Sprintf("there is no %s beside %s (a copy of the log's file alone, without the vault's data folder), and none was given with --checkpoint",
			filepath.Join(filepath.Dir(l.path), keyringDir, vault.HeadFile), l.path)
	}
	cut := "a log cut short together with its newest checkpoints and batch seal would pass it"
	if own != "" {
		cut = "a log cut short after " + own + " would pass it"
	}
	return "the vault's sticky head, its own record of how long the log is, was not compared: " + where + ". " +
		"So this audit proves the events the store holds, not that none were cut from its end: " + cut + ". " +
		"Copy the head from the vault's data folder (DATA/keyring/" + vault.HeadFile + "; its object store's head/ object of the largest size holds the same) " +
		"and give it too, named " + vault.HeadFile + ": --checkpoint " + vault.HeadFile + " (docs/custody-log.md 5.6)"
}

// savedLabel names a --checkpoint file in the audit's findings.
func savedLabel(file string) string {
	if isStickyHead(file) {
		return headLabel(file) + " " + file
	}
	return "the saved checkpoint " + file
}

// headLabel names a sticky head by where it is kept: the vault's own
// (vault.HeadFile, in the keyring, or a copy that kept its name), or its
// copy in the file object store (DATA/objects/head/), so that an audit
// that compares both tells them apart.
func headLabel(file string) string {
	if filepath.Base(file) == vault.HeadFile {
		return "the vault's sticky head"
	}
	return "the sticky head's copy in the vault's object store"
}
