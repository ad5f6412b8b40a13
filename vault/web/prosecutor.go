package web

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// The pages of prosecutors and defence counsel: the packages sealed for
// them (fetched, and acknowledged with a signed receipt), and how to
// verify a package offline. Custodians, auditors and a case's
// investigators see the packages they may know, without the forms.

func init() {
	register("GET "+Prefix+"packages", (*Handler).packages)
	register("GET "+Prefix+"packages/{package}", (*Handler).packagePage)
	register("POST "+Prefix+"packages/{package}/download", (*Handler).downloadPackage)
	registerAsks("POST "+Prefix+"packages/{package}/receipt", "package.receipt", (*Handler).packageReceipt)
	register("GET "+Prefix+"verify", (*Handler).verifyPage)
}

// packageRow is one package as the pages show it; its Receipt is the
// vault's, from the verified log.
type packageRow struct {
	vault.PackageSummary
	// Mine: sealed for the signed-in person, who fetches and acknowledges
	// it.
	Mine bool
}

type packagesData struct {
	Packages []packageRow
	// Receives: the person's role receives packages (prosecutor, defence).
	Receives bool
}

// receivesPackages mirrors the vault's rule for whom packages are sealed;
// it only decides which forms a page offers (the vault decides the rest).
func receivesPackages(role string) bool {
	return role == vault.RoleProsecutor || role == vault.RoleDefence
}

// packageRows are the packages who may know (vault.Packages).
func (h *Handler) packageRows(_ context.Context, s *session) ([]packageRow, error) {
	list := h.v.Packages(s.who)
	rows := make([]packageRow, 0, len(list))
	for _, p := range list {
		rows = append(rows, packageRow{PackageSummary: p, Mine: p.For == s.who.Name && receivesPackages(s.who.Role)})
	}
	return rows, nil
}

func (h *Handler) packages(w http.ResponseWriter, r *http.Request, s *session) error {
	rows, err := h.packageRows(r.Context(), s)
	if err != nil {
		return err
	}
	d := packagesData{Packages: rows, Receives: receivesPackages(s.who.Role)}
	return h.render(w, r, s, http.StatusOK, "packages", s.lang.text("packages.title"), d)
}

type packageData struct {
	packageRow
	// Message is the receipt message to sign (vault.ReceiptMessage).
	Message   string
	Namespace string
	// Fingerprint is the log key's fingerprint, to pin with custos-verify.
	Fingerprint string
	// NoReceiptKey: the package is the person's, and they have not
	// registered the key their receipt is checked with.
	NoReceiptKey bool
}

// packagePage shows one package the person may know: its facts, its
// receipt, and for the person it is sealed for the download and the
// receipt form. A package they may not know is answered as unknown.
func (h *Handler) packagePage(w http.ResponseWriter, r *http.Request, s *session) error {
	rows, err := h.packageRows(r.Context(), s)
	if err != nil {
		return err
	}
	id := r.PathValue("package")
	for _, p := range rows {
		if p.Package == id {
			d := packageData{packageRow: p, Message: string(vault.ReceiptMessage(p.Package, p.SHA256)), Namespace: vault.ReceiptNamespace,
				Fingerprint: pkgformat.KeyFingerprint(h.v.VerifierKey()), NoReceiptKey: p.Mine && h.v.WhoAmI(s.who).ReceiptKey == ""}
			return h.render(w, r, s, http.StatusOK, "package", s.lang.text("package.title", p.Package), d)
		}
	}
	// The id is the refusal's target (the path); the reason stays one, so
	// that repeated refusals share one budget.
	return fmt.Errorf("%w: no such package that you may see", vault.ErrNotFound)
}

// downloadPackage streams a package file to the person it is sealed for,
// as an attachment: the vault records the fetch (package.fetched) before
// the first byte and checks the file against its package.sealed event.
func (h *Handler) downloadPackage(w http.ResponseWriter, r *http.Request, s *session) error {
	f, sealed, err := h.v.FetchPackage(r.Context(), s.who, r.PathValue("package"))
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": r.PathValue("package") + ".tar"}))
	hd.Set("Content-Security-Policy", evidencePolicy)
	hd.Set("Cache-Control", "no-store")
	hd.Set(api.HeaderSHA256, sealed.SHA256)
	hd.Set(api.HeaderSize, strconv.FormatInt(sealed.Size, 10))
	hd.Set("Content-Length", strconv.FormatInt(sealed.Size, 10))
	// A failure midway cuts the connection: a short file is never taken
	// for a whole one. How the retrieval ended is recorded either way.
	api.ServePackage(w, r, f)
	return nil
}

// packageReceipt records the signed acknowledgement of a package, as
// POST /v1/packages/{package}/receipt: the SHA-256 of the file received
// and the armored SSH signature over the receipt message.
func (h *Handler) packageReceipt(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	id := r.PathValue("package")
	// The first word: sha256sum prints the hash, then the file's name.
	sum := ""
	if f := strings.Fields(r.PostForm.Get("sha256")); len(f) > 0 {
		sum = strings.ToLower(f[0])
	}
	// A signature pasted from a browser arrives with CRLF line ends.
	sig := strings.ReplaceAll(r.PostForm.Get("signature"), "\r\n", "\n")
	if _, err := h.v.ReceivePackage(r.Context(), s.who, id, sum, sig); err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"packages/"+id, "receipt-recorded")
	return nil
}

type verifyData struct {
	Origin, Key, Fingerprint string
	// Build is this vault's build (custody.Generator), whose source
	// revision a verifier may be built from.
	Build string
}

// verifyPage says how to check a package offline with custos-verify, and
// gives the log key and its fingerprint to pin (as custos audit key).
func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request, s *session) error {
	d := verifyData{Origin: h.v.Origin(), Key: h.v.VerifierKey(), Fingerprint: pkgformat.KeyFingerprint(h.v.VerifierKey()), Build: custody.Generator()}
	return h.render(w, r, s, http.StatusOK, "verify", s.lang.text("verify.title"), d)
}
