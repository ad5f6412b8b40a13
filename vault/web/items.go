package web

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

func init() {
	register("GET "+Prefix+"items/{item}", (*Handler).itemPage)
	registerAsks("POST "+Prefix+"items/{item}/reveal", "item.get", (*Handler).reveal)
	registerAsks("POST "+Prefix+"items/{item}/classify", "item.classify", (*Handler).classify)
}

type itemData struct {
	Item *vault.ItemDetail
	// Show is how the viewer may show the item: "image" with MIME type
	// Type for the raster formats a browser decodes without script,
	// "video" for MP4, "" (download only) for everything else: an HTML
	// or SVG file is never shown.
	Show, Type string
	Exposure   *vault.ExposureView
	Categories []string
	AgeGroups  []string
	Sexes      []string
}

// viewable decides from what the vault's own probe found in the content
// (never from the file's name) whether the browser may show it.
func viewable(m *vault.MediaInfo) (show, typ string) {
	if m == nil {
		return "", ""
	}
	switch {
	case m.Kind == "image" && slices.Contains([]string{"jpeg", "png", "gif", "webp"}, m.Format):
		return "image", "image/" + m.Format
	case m.Kind == "video" && m.Format == "mp4":
		return "video", "video/mp4"
	}
	return "", ""
}

func (h *Handler) itemPage(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := h.v.ShowItem(r.Context(), s.who, r.PathValue("item"))
	if err != nil {
		return err
	}
	d := itemData{Item: it, Categories: vault.Categories, AgeGroups: vault.AgeGroups, Sexes: vault.Sexes}
	d.Show, d.Type = viewable(it.Media)
	if e, err := h.v.Exposure(r.Context(), s.who, ""); err == nil {
		d.Exposure = &e
	}
	return h.renderValueTitle(w, r, s, http.StatusOK, "item", printable.LookalikeMarks(it.Name), d)
}

// reveal sends an item's plaintext to the person who asked for it with a
// purpose, after the vault has recorded the access (vault.Open: nothing
// is read from the store before the access event is durable). The answer
// is an attachment under a sandboxing policy, never cached: the page's
// script turns it into an in-memory Blob of a safe type; without script
// it is a download, never a page of the vault's origin.
func (h *Handler) reveal(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	known := r.PostForm.Get("reveal_known")
	// Recorded as shown (not as a copy) only where the page's script
	// asked for it to show in the viewer (viewer=yes, in a request the
	// browser says a script made: Sec-Fetch-Dest empty, where a form's
	// navigation says document), which offers no save, and the content
	// is of a kind it shows: without script the answer is a download,
	// which the browser keeps.
	var shownIf func(*vault.MediaInfo) bool
	if r.PostForm.Get("viewer") == "yes" && r.Header.Get("Sec-Fetch-Dest") == "empty" {
		shownIf = func(m *vault.MediaInfo) bool { show, _ := viewable(m); return show != "" }
	}
	rev, err := h.v.Open(r.Context(), s.who, vault.RevealRequest{Item: r.PathValue("item"),
		Purpose: strings.TrimSpace(r.PostForm.Get("purpose")), RevealKnown: known == "yes", ShownIf: shownIf})
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(rev.Item.ID, rev.Media)}))
	hd.Set("Content-Security-Policy", evidencePolicy)
	hd.Set("Cache-Control", "no-store")
	if e, err := h.v.Exposure(r.Context(), s.who, ""); err == nil {
		hd.Set("Custos-Exposure-Today", strconv.Itoa(e.Today.Items))
	}
	api.ServeReveal(w, r, rev)
	return nil
}

// downloadName is the file name an item is downloaded under: its id,
// never its name (which the depositor chose, and which may name a
// victim), with an extension only for content the vault's own probe found
// to be an image or a video a viewer shows (viewable: JPEG, PNG, GIF,
// WebP, MP4), whatever the name says: it_0123456789abcdef01234567.jpg.
// Anything else could run script or reach the network when opened,
// which for evidence can tell its makers who is looking: it is saved
// without an extension, to be opened deliberately in an examination
// environment.
func downloadName(id string, m *vault.MediaInfo) string {
	if _, typ := viewable(m); typ != "" {
		ext, _ := strings.CutPrefix(typ, "image/")
		ext, _ = strings.CutPrefix(ext, "video/")
		if ext == "jpeg" {
			ext = "jpg"
		}
		return id + "." + ext
	}
	return id
}

func (h *Handler) classify(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	f := r.PostForm
	id := r.PathValue("item")
	cl, err := h.v.Classify(r.Context(), s.who, id, vault.ClassifyRequest{Category: f.Get("category"), AgeGroup: f.Get("age_group"),
		Sex: f.Get("sex"), Series: strings.TrimSpace(f.Get("series")), Note: strings.TrimSpace(f.Get("note"))})
	if err != nil {
		return err
	}
	notice := "classified"
	if cl.Unchanged() {
		notice = "classified.unchanged"
	}
	h.redirectDone(w, r, Prefix+"items/"+id, notice)
	return nil
}
