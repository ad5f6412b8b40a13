package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-vault/custos/vault"
)

// Sealing a package from the web application, as custos package seal
// does (docs/web.md section 4): the case's investigators and the
// custodians choose who it is for, why, and which items. The vault
// decides everything; the page only offers the form.
//
// Which items is said explicitly: "every item of the case" or "the
// items chosen", never inferred from an empty list, and never chosen for
// the person: the form preselects "the items chosen" when items come
// ticked, and nothing otherwise. A choice lost on its way (ticks on
// another page of the list, a reloaded page, the other link) can never
// seal the whole case instead of the few items meant.

func init() {
	register("GET "+Prefix+"cases/{case}/seal", (*Handler).sealPage)
	register("POST "+Prefix+"cases/{case}/packages", (*Handler).sealPackage)
}

// maxSealChoice bounds how many items one form lists by name; more are
// sealed by choosing every item, or with custos package seal --items.
const maxSealChoice = 500

type sealItem struct {
	ID, Name, SHA256 string
	Size             int64
}

type sealData struct {
	Case *vault.CaseDetail
	// Chosen are the items chosen on the case page (?item=ID, repeated),
	// with their names where the person may list them.
	Chosen []sealItem
	// Back is the case page, with the items chosen still ticked.
	Back string
	// Recipients are the prosecutors and defence counsel a custodian,
	// who lists people, may pick from; an investigator types the name
	// (sealing is not a way to list people: security.md).
	Recipients []vault.PersonInfo
	// ApprovalNeeded: the case requires a custodian's approval of every
	// export, so the form opens a request.
	ApprovalNeeded bool
	// Once is the form's one-time value (sentForms).
	Once string
	// Choose: the person ticks items on the case page (an investigator;
	// a custodian types ids).
	Choose bool
}

// mayOfferSeal mirrors the vault's rule of who seals (investigators and
// custodians); it only decides which links a page shows.
func mayOfferSeal(role string) bool {
	return role == vault.RoleInvestigator || role == vault.RoleCustodian
}

func (h *Handler) sealPage(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.v.MaySeal(r.Context(), s.who, r.PathValue("case")); err != nil {
		return err
	}
	c, err := h.v.ShowCase(r.Context(), s.who, r.PathValue("case"))
	if err != nil {
		return err
	}
	d := sealData{Case: c, ApprovalNeeded: c.ExportApproval, Once: newOnce(), Choose: s.who.Role == vault.RoleInvestigator}
	ids, err := chosenItems(r.URL.Query()["item"], "")
	if err != nil {
		return err
	}
	if len(ids) > 0 && s.who.Role == vault.RoleInvestigator {
		// Named where they are the case's; an id of another case or of
		// no item is left out here, unrecorded (a link is not an act of
		// whoever follows it), and refused by the sealing if sent.
		items, err := h.v.ChosenItems(r.Context(), s.who, c.Case, ids)
		if err != nil {
			return err
		}
		for _, it := range items {
			d.Chosen = append(d.Chosen, sealItem{ID: it.ID, Name: it.Name, SHA256: it.SHA256, Size: it.Size})
		}
	} else {
		// A custodian, who lists no case's items, sees the ids chosen.
		for _, id := range ids {
			d.Chosen = append(d.Chosen, sealItem{ID: id})
		}
	}
	if s.who.Role == vault.RoleCustodian {
		ps, err := h.v.Persons(r.Context(), s.who)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if receivesPackages(p.Role) && p.Status == "active" && p.HasRecipient {
				d.Recipients = append(d.Recipients, p)
			}
		}
	}
	back := url.Values{}
	for _, it := range d.Chosen {
		if itemIDForm.MatchString(it.ID) {
			back.Add("item", it.ID)
		}
	}
	d.Back = Prefix + "cases/" + url.PathEscape(c.Case)
	if len(back) > 0 {
		d.Back += "?" + back.Encode()
	}
	return h.render(w, r, s, http.StatusOK, "seal", s.lang.text("seal.title", c.Case), d)
}

// chosenItems reads item ids from a form's repeated item fields and its
// free-text list (ids separated by spaces, commas or new lines), in the
// order given, without repeats. The vault checks each id (its form, its
// case); this only bounds the list.
func chosenItems(fields []string, text string) ([]string, error) {
	all := slices.Clone(fields)
	all = append(all, strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})...)
	var ids []string
	for _, id := range all {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) > maxSealChoice {
		return nil, fmt.Errorf("%w: %d items chosen; a form takes at most %d: choose every item of the case, or seal with custos package seal --items", vault.ErrBadInput, len(ids), maxSealChoice)
	}
	return ids, nil
}

// sealPackage seals a package (or, where the case requires approval of
// exports, opens the request for it) from the seal form: for, purpose,
// scope ("all" or "chosen"), item (repeated) and items (typed ids),
// disclose_others.
func (h *Handler) sealPackage(w http.ResponseWriter, r *http.Request, s *session) error {
	caseID := r.PathValue("case")
	// Who may seal this case first, then the form (security.md rule 9).
	if err := h.v.MaySeal(r.Context(), s.who, caseID); err != nil {
		return err
	}
	if err := form(w, r); err != nil {
		return err
	}
	f := r.PostForm
	// Person names are lowercase; "Vanna" typed means vanna.
	req := vault.SealRequest{Case: caseID, For: strings.ToLower(strings.TrimSpace(f.Get("for"))), Purpose: strings.TrimSpace(f.Get("purpose")),
		DiscloseOthers: f.Get("disclose_others") == "yes"}
	switch f.Get("scope") {
	case "all":
		// Items stays empty: the vault seals every item of the case.
	case "chosen":
		ids, err := chosenItems(f["item"], f.Get("items"))
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("%w: no item is chosen: tick the items to seal, type their ids, or choose every item of the case", vault.ErrBadInput)
		}
		req.Items = ids
	default:
		return fmt.Errorf("%w: say which items to seal: every item of the case, or the items chosen", vault.ErrBadInput)
	}
	// Sealed once per form shown: a reload of the answer, or a second
	// click while the first sealing runs, is answered with the first.
	once := f.Get("once")
	if !validOnce(once) {
		return fmt.Errorf("%w: the form is incomplete: open the seal form again from the case page", vault.ErrBadInput)
	}
	// A sealing once recorded is built to its end even if the browser
	// that asked goes away (Vault.SealPackage); the next sending of the
	// form shows its outcome.
	return h.sendOnce(s.who.Name, caseID+"/"+once,
		"this form was sent already and the vault is still sealing it (a large case takes minutes); reload this page in a minute to see the package it seals: nothing more is sealed",
		func() (any, any, error) {
			p, err := h.v.SealPackage(r.Context(), s.who, req)
			out := sealOutcome{Case: caseID, For: req.For, Package: p}
			return out, out, err
		},
		func(o any, again bool) error { return h.showSealing(w, r, s, o.(sealOutcome), again) })
}

// sealOutcome is what one sending of the seal form did.
type sealOutcome struct {
	Case, For string
	Package   *vault.SealedPackage
}

// showSealing answers a sending of the seal form: the package sealed, or
// the request opened; again says it was sent before, and nothing more
// was done.
func (h *Handler) showSealing(w http.ResponseWriter, r *http.Request, s *session, o sealOutcome, again bool) error {
	back := Prefix + "cases/" + o.Case
	if o.Package.Request != nil {
		d := requestData(o.Package.Request, s.lang.text("decision.seal", o.Case, o.For), back)
		d.Again = again
		return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.request"), d)
	}
	d := decisionData{Sealed: o.Package, For: recipientText(s.lang, o.Package.For, o.Package.ForRole), Back: back, Again: again}
	return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.sealed"), d)
}
