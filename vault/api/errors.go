package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault"
)

// ErrorResponse is the body of every answer that is not a success.
type ErrorResponse struct {
	Error string `json:"error"`
}

// status is the HTTP status that answers err.
func status(err error) int {
	switch {
	case errors.Is(err, vault.ErrLogHalted):
		// Before ErrIntegrity, which it wraps: the vault is not
		// answering this request's integrity but its log's.
		return http.StatusServiceUnavailable
	case errors.Is(err, vault.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, vault.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, vault.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, vault.ErrBadInput):
		return http.StatusBadRequest
	case errors.Is(err, vault.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, vault.ErrIntegrity):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, vault.ErrUnavailable), errors.Is(err, events.ErrStoreReplaced), diskFull(err):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return 499
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// fail answers err. Refusals and bad input (4xx but 422) carry the
// vault's message, with any character that is not printable escaped
// (sanitize). Internal errors, unavailable backends and integrity
// failures (5xx, 422) can carry local paths and backend addresses: their
// detail goes only to the server's log, under a reference id that the
// answer names.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := h.answer(r, err)
	writeJSON(w, code, ErrorResponse{Error: msg})
}

// answer is the status and message err is answered with; a server fault
// is logged with a reference that the message names.
func (h *Handler) answer(r *http.Request, err error) (int, string) {
	code := status(err)
	msg := sanitize(err.Error())
	if code >= 500 || code == http.StatusUnprocessableEntity || code == 499 {
		ref := newRef()
		level := slog.LevelError
		if code == 499 {
			level = slog.LevelInfo
		}
		h.log.Log(r.Context(), level, "request failed", "ref", ref, "status", code, "method", r.Method, "path", shortTarget(r.URL.EscapedPath()), "err", err)
		msg = genericMessage(code)
		if errors.Is(err, vault.ErrAnotherServer) {
			msg = anotherServerWarning
		} else if errors.Is(err, vault.ErrLogHalted) && errors.Is(err, vault.ErrSnapshotSuspect) {
			msg = snapshotHaltedWarning
		} else if errors.Is(err, vault.ErrLogHalted) {
			msg = "the custody log is halted: the vault found that the events its store holds are not the log's, and stopped (recording that as integrity.failed where the store still took a record; the server's log says what it found); nothing can be recorded, so nothing that must be recorded is done (sign-ins, views, deposits, packages, audits), until the altered events are put back from a backup and the server restarted (docs/operations.md, \"The custody log halted\"); an auditor checks the store without the server: custos audit verify --store"
		}
		if errors.Is(err, vault.ErrUploadAltered) {
			// Two digests and what to do: nothing of the server's.
			msg = strings.TrimPrefix(sanitize(err.Error()), vault.ErrIntegrity.Error()+": ")
		}
		if code == http.StatusUnprocessableEntity && vault.IntegrityRecorded(err) {
			msg += "; the failure is recorded in the custody log (integrity.failed)"
		}
		if diskFull(err) {
			msg = diskFullMessage
		}
		if errors.Is(err, events.ErrStoreReplaced) {
			msg = storeReplacedMessage
		}
		if errors.Is(err, events.ErrOutcomeUnknown) {
			msg += "; " + OutcomeUnknown
		}
		switch {
		case errors.Is(err, vault.ErrRecordedUnkept):
			msg = RecordedUnkept
		case errors.Is(err, vault.ErrHeadUnkept):
			msg = headUnkeptMessage
		}
		if errors.Is(err, vault.ErrKey) {
			msg = "case key unavailable: the case's key is missing, cannot be unsealed, or is not the case's own; this is a problem of the keys, recorded in the custody log, not of the evidence"
		}
		msg += " (reference " + ref + " in the server log)"
	}
	return code, msg
}

// OutcomeUnknown ends the answer of a request whose record the custody
// log may or may not hold (its store's answer to the append was lost):
// the client says so instead of saying that nothing was kept.
const OutcomeUnknown = "whether it was recorded is not known: the custody log may hold it (look for it, in the case's items or the log, before doing it again)"

// RecordedUnkept answers a person's act that the custody log recorded
// while no checkpoint covering it could be kept as the log's head: the
// act stands, but the vault does not confirm it (vault.ErrRecordedUnkept).
// The client says so instead of saying that nothing was kept.
const RecordedUnkept = "the custody log recorded this, but the vault could not keep a signed checkpoint covering it as the log's head (in its keyring folder and object store), so it does not confirm it: look for it in the case's items or the log before doing it again; until a head can be kept the vault records and does nothing for anyone; tell the server's operator (the server's log says why)"

// headUnkeptMessage answers a person's act refused while no checkpoint
// can be kept as the log's head (vault.ErrHeadUnkept).
const headUnkeptMessage = "the vault cannot keep its custody log's head (its newest signed checkpoint, in its keyring folder and object store), so it records and does nothing for now: nothing of this was recorded or done; try again later, and tell the server's operator (the server's log says why)"

// storeReplacedMessage answers every request that must be recorded once
// the log store found its files replaced under the running vault.
const storeReplacedMessage = "the custody log's files were replaced, moved or removed while the vault ran: what it recorded from then on would be lost at its next start, so nothing more is recorded, and nothing that must be recorded is done (sign-ins, views, deposits, packages, audits); an operator saves the files the vault still holds open, then stops it, and finds out who changed them (docs/operations.md, \"The log's file replaced under the vault\")"

// diskFullMessage answers a request a full disk stopped: retrying
// cannot help until an operator frees space.
const diskFullMessage = "the server's storage is full (the custody log's, the object store's or the spool's disk): nothing of this was kept or done; an operator must free space (docs/operations.md, \"Errors and file permissions\"), then run the command again"

// diskFull reports whether err comes of storage that is full: a write the
// kernel refused (ENOSPC, EDQUOT: the local object store, the spool, a
// key file), SQLite's SQLITE_FULL (the embedded log; its primary code in
// an extended code's low byte, https://sqlite.org/rescode.html, read
// through the driver's Code method), or PostgreSQL's disk_full (SQLSTATE
// 53100, https://www.postgresql.org/docs/current/errcodes-appendix.html).
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
		return true
	}
	var pg interface{ SQLState() string }
	return errors.As(err, &pg) && pg.SQLState() == "53100"
}

// sqliteFull is SQLITE_FULL.
const sqliteFull = 13

func genericMessage(code int) string {
	switch code {
	case http.StatusUnprocessableEntity:
		return "integrity failure: stored evidence or the custody log's stored events did not match what was recorded"
	case http.StatusServiceUnavailable:
		return "a backend is unavailable"
	case 499:
		return "request canceled"
	}
	return "internal error"
}

func newRef() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sanitize escapes every character of an answer's message that a
// terminal would not show as itself: controls, line and paragraph
// separators, invisible and default-ignorable code points
// (printable.Invisible), invalid UTF-8
// (as \u or \x escapes, as strconv.QuoteToASCII writes them), but the
// joiners writing needs where they stand (printable.Needed), so that a
// Khmer file name a message names reads as written.
func sanitize(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError || printable.Invisible(r) && !(printable.Joiner(r) && printable.Needed(s, i)) {
			_, size := utf8.DecodeRuneInString(s[i:])
			q := strconv.QuoteToASCII(s[i : i+size])
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
