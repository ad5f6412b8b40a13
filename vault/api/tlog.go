package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/custos-vault/custos/events/tiles"
	"github.com/custos-vault/custos/vault"
)

// The custody log read-only, as C2SP tlog-tiles clients (witnesses,
// monitors) read a log: /checkpoint and /tile/<L>/<N>[.p/<W>]. Only hash
// tiles are served, and only for the tree of the served checkpoint;
// entry bundles (/tile/entries/...) are never served, because events
// name cases and people (docs/witnesses.md). No sign-in is needed.

func (h *Handler) publicCheckpoint(w http.ResponseWriter, r *http.Request, _ vault.Principal) error {
	_, note := h.v.PublicCheckpoint()
	if note == nil {
		return fmt.Errorf("%w: the custody log has no checkpoint yet", vault.ErrNotFound)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(note)
	return nil
}

func (h *Handler) tile(w http.ResponseWriter, r *http.Request, _ vault.Principal) error {
	level, index, width, err := tiles.ParsePath("tile/" + r.PathValue("path"))
	if err != nil {
		return fmt.Errorf("%w: not a C2SP hash tile path (tile/<L>/<N>[.p/<W>]); entry bundles are never served", vault.ErrNotFound)
	}
	cp, _ := h.v.PublicCheckpoint()
	if cp == nil {
		return fmt.Errorf("%w: the custody log has no checkpoint yet", vault.ErrNotFound)
	}
	data, err := h.v.Log().Tree().Data(level, index, width, cp.Size)
	if errors.Is(err, tiles.ErrNotFound) {
		return fmt.Errorf("%w: no such tile in the tree of the served checkpoint (%d events)", vault.ErrNotFound, cp.Size)
	}
	if err != nil {
		h.log.Error("a tile of the custody log could not be read", "tile", r.URL.Path, "err", err)
		return fmt.Errorf("%w: tile unavailable", vault.ErrIntegrity)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if width == tiles.Width {
		// A full tile never changes.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	w.Write(data)
	return nil
}
