package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
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
	// rows is how many events the store holds as the audit began, and
	// last the position of the last, read before its checkpoints and seal
	// (which a server appending meanwhile only makes newer).
	rows, last uint64
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

// openLocalLog opens the log store at path read-only: a SQLite file, or
// a PostgreSQL database given by its URL (postgres://...).
func openLocalLog(path string) (*localLog, error) {
	ctx := context.Background()
	var r logFile
	var err error
	name := path
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		if u, perr := url.Parse(path); perr == nil {
			name = u.Redacted()
		}
		r, err = postgres.OpenReader(ctx, postgres.Config{URL: path})
	} else {
		name = filepath.Clean(path)
		r, err = sqlite.OpenReader(ctx, path)
	}
	if err != nil {
		return nil, inputErr("--store", err)
	}
	l := &localLog{path: name, r: r}
	if _, ok := r.(*sqlite.Reader); ok {
		l.head, l.headMissing = stickyHeadBeside(path)
	}
	l.rows, l.last, err = r.Count(ctx)
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
		return nil, fmt.Errorf("%w: %s: %v", errAuditFailed, name, err)
	}
	return l, nil
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
	if seal != nil {
		head.Newest = string(seal.Note)
		_, goal, _ = events.PeekCheckpoint(seal.Note)
	}
	last, err := l.r.LastCheckpoint(ctx)
	if err != nil {
		return head, nil, 0, fmt.Errorf("--store %s: %w", l.path, err)
	}
	if last != nil {
		goal = max(goal, last.Size)
	}
	return head, l.checkpointFeed(goal), goal, nil
}

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

// uncovered is the failure of a store holding events after those the
// newest signature of the log's key there covers (its checkpoints and
// its seal, covered events of them), or nil: events no key signed, which
// a server refuses to start on (custody-log.md 5.8).
func (l *localLog) uncovered(covered uint64) error {
	if l.rows <= covered {
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

// isStickyHead reports whether a --checkpoint file is a vault's sticky
// head: DATA/keyring/head.checkpoint, or a copy of it that kept its name
// head.checkpoint (of a data folder elsewhere, for a copy of the log's
// file or a PostgreSQL store). It is the vault's own record, which the
// administrators of the log store may hold too, unlike a checkpoint an
// auditor saved outside the vault.
func isStickyHead(file string) bool {
	abs, err := filepath.Abs(file)
	return err == nil && filepath.Base(abs) == vault.HeadFile
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
		return "the vault's sticky head " + file
	}
	return "the saved checkpoint " + file
}
