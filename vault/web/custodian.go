package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault"
)

// The custodian's pages: people and their roles, the two-person
// requests waiting for a second custodian, a case's members, hold,
// policies and destruction, and the known-material hash sets. Every
// decision is the vault's: these pages only offer the forms.
//
// A decision that needs a second custodian answers with the request it
// opened, shown at once rather than after a redirect: it may carry this
// custodian's half of an invitation, shown this once and never put in an
// address.

func init() {
	register("GET "+Prefix+"people", (*Handler).people)
	registerAsks("POST "+Prefix+"people", "person.enroll", (*Handler).enroll)
	registerAsks("POST "+Prefix+"people/{person}/suspend", "person.suspend", (*Handler).suspend)
	registerAsks("POST "+Prefix+"people/{person}/remove", "person.remove", (*Handler).removePerson)
	registerAsks("POST "+Prefix+"people/{person}/reinstate", "person.reinstate", (*Handler).reinstate)
	registerAsks("POST "+Prefix+"people/{person}/reissue", "person.reissue", (*Handler).reissue)
	register("GET "+Prefix+"requests", (*Handler).requests)
	registerAsks("POST "+Prefix+"requests/{request}/approve", "request.approve", (*Handler).approve)
	register("POST "+Prefix+"requests/{request}/reject", (*Handler).reject)
	register("GET "+Prefix+"cases/{case}/manage", (*Handler).manageCase)
	registerAsks("POST "+Prefix+"cases/{case}/members", "case.member.add", (*Handler).addMember)
	registerAsks("POST "+Prefix+"cases/{case}/members/{person}/remove", "case.member.remove", (*Handler).removeMember)
	register("POST "+Prefix+"cases/{case}/hold", (*Handler).hold)
	registerAsks("POST "+Prefix+"cases/{case}/policy", "case.policy", (*Handler).casePolicy)
	registerAsks("POST "+Prefix+"cases/{case}/classification-policy", "case.classification.policy", (*Handler).classificationPolicy)
	registerAsks("POST "+Prefix+"cases/{case}/destruction", "case.destroy.request", (*Handler).requestDestruction)
	registerAsks("POST "+Prefix+"cases/{case}/destruction/approve", "case.destroy.approve", (*Handler).approveDestruction)
	register("GET "+Prefix+"hashsets", (*Handler).hashSets)
	registerAsks("POST "+Prefix+"hashsets/{name}/remove", "hashset.remove", (*Handler).removeHashSet)
}

// enrolRoles are the roles a person is enrolled in, in the order the
// form offers them.
var enrolRoles = []string{vault.RoleInvestigator, vault.RoleAnalyst, vault.RoleProsecutor, vault.RoleDefence, vault.RoleAuditor, vault.RoleCustodian}

type personRow struct {
	vault.PersonInfo
	StatusText string
	// Invitation says until when the person's invitation may be
	// redeemed, or that it expired ("" if none, or void).
	Invitation string
	// Enrolled says when the person was enrolled, who approved and who
	// asked.
	Enrolled string
}

type peopleData struct {
	Persons []personRow
	// Pending are the enrolments asked for and not yet decided.
	Pending   []vault.PendingEnrolment
	Custodian bool
	Roles     []string
}

// enrolledText says how a person was enrolled, in the page's language.
func enrolledText(c *catalog, n *vault.StatusNote) string {
	if n == nil {
		return ""
	}
	at := n.At.UTC().Format("2006-01-02 15:04 UTC")
	switch {
	case n.By == vault.System.Person:
		return c.text("people.enrolled.setup", at)
	case n.RequestedBy == "":
		return c.text("people.enrolled.by", at, n.By)
	}
	return c.text("people.enrolled.asked", at, n.RequestedBy, n.By)
}

// personStatus is a person's status in the page's language.
func personStatus(c *catalog, status string) string {
	switch status {
	case "active":
		return c.text("people.status.active")
	case "suspended":
		return c.text("people.status.suspended")
	case "removed":
		return c.text("people.status.removed")
	case "invited":
		return c.text("people.status.invited")
	}
	return status
}

func (h *Handler) people(w http.ResponseWriter, r *http.Request, s *session) error {
	ps, err := h.v.Persons(r.Context(), s.who)
	if err != nil {
		return err
	}
	pending, err := h.v.PendingEnrolments(r.Context(), s.who)
	if err != nil {
		return err
	}
	d := peopleData{Custodian: s.who.Role == vault.RoleCustodian, Roles: enrolRoles, Pending: pending}
	for _, p := range ps {
		row := personRow{PersonInfo: p, StatusText: personStatus(s.lang, p.Status), Enrolled: enrolledText(s.lang, p.Enrolment)}
		if e := p.InvitationExpires; e != nil && p.InvitationVoid == "" {
			key := "people.invitation_until"
			if !e.After(time.Now()) {
				key = "people.invitation_expired"
			}
			row.Invitation = s.lang.text(key, e.UTC().Format("2006-01-02 15:04 UTC"))
		}
		d.Persons = append(d.Persons, row)
	}
	return h.render(w, r, s, http.StatusOK, "people", s.lang.text("people.title"), d)
}

// decisionData is the outcome of a decision, shown at once: a request
// opened (with this custodian's invitation half, if any), a request
// approved, a destruction requested or carried out.
type decisionData struct {
	// What says what was asked or done, in the page's language.
	What string
	// Request is the request opened or decided.
	Request *vault.RequestInfo
	// Approved: Request was approved and carried out; Package is the
	// package its approval sealed.
	Approved bool
	Package  *vault.SealedPackage
	// Conflicts are those of the hash set an approval put in use
	// (vault.HashSetImportResult.Conflicts).
	Conflicts []vault.HashSetConflict
	// PolicyEffect is what an approved lowering of a classification
	// policy did to the case's items.
	PolicyEffect *vault.PolicyEffect
	// Half is this custodian's half of an invitation (shown once);
	// HalfHours how many hours the invitation may be redeemed once
	// issued.
	Half      string
	HalfHours int
	// HalfUntil is when an approved invitation stops being redeemable
	// (its approval's time plus the invitation's life), in UTC.
	HalfUntil time.Time
	// Custodial: the request needs "a custodian's approval" rather than a
	// second custodian (a person's own recipient, receipt key, a seal).
	Custodial bool
	// Destruction is the id of a destruction request opened for Case;
	// Destroyed the outcome of an approved one.
	Case        string
	Destruction string
	Destroyed   *vault.DestroyResult
	// Sealed is a package just sealed from the seal form. For names
	// whom Sealed or Package is for, with their role in words
	// (recipientText).
	Sealed *vault.SealedPackage
	For    string
	// Again: the form was sent before; this is what that sending did,
	// and nothing more was done. HalfShown: that answer showed an
	// invitation half, which is not shown again.
	Again, HalfShown bool
	// Back is the page to go back to.
	Back string
}

// showRequest shows a request just opened, as custos prints it
// (printRequest): who approves it, and the invitation half if any.
func (h *Handler) showRequest(w http.ResponseWriter, r *http.Request, s *session, info *vault.RequestInfo, what, back string) error {
	d := requestData(info, what, back)
	d.HalfHours = int(h.v.InvitationTTL().Hours())
	return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.request"), d)
}

// requestData is the page of a request just opened.
func requestData(info *vault.RequestInfo, what, back string) decisionData {
	return decisionData{What: what, Request: info, Half: info.InvitationPart.Reveal(), Back: back,
		Custodial: info.Kind == vault.KindRecipient || info.Kind == vault.KindReceiptKey || info.Kind == vault.KindSeal}
}

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	f := r.PostForm
	e := vault.Enrolment{Name: strings.TrimSpace(f.Get("name")), Role: f.Get("role"), OIDC: strings.TrimSpace(f.Get("oidc")), Certificate: strings.TrimSpace(f.Get("certificate")),
		Reason: reason(r)}
	info, err := h.v.EnrollBy(r.Context(), s.who, e)
	if err != nil {
		return err
	}
	return h.showRequest(w, r, s, info, s.lang.text("decision.enroll", e.Name, e.Role), Prefix+"people")
}

// reason is a form's reason field: what the person typed, recorded as
// typed (the vault checks it).
func reason(r *http.Request) string { return strings.TrimSpace(r.PostForm.Get("reason")) }

// statusOptions are a suspension's or removal's options from its form: the
// box that confirms leaving fewer than two active custodians.
func statusOptions(r *http.Request) []vault.StatusOption {
	if r.PostForm.Get("leaving_fewer_custodians") == "yes" {
		return []vault.StatusOption{vault.LeavingFewerCustodians}
	}
	return nil
}

func (h *Handler) suspend(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	recorded, err := h.v.Suspend(r.Context(), s.who, r.PathValue("person"), reason(r), statusOptions(r)...)
	if err != nil {
		return err
	}
	done := "person-suspended"
	if !recorded {
		done = "person-already-suspended"
	}
	h.redirectDone(w, r, Prefix+"people", done)
	return nil
}

func (h *Handler) removePerson(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	// For good: only with its own box ticked, never on a key press in
	// another form.
	if r.PostForm.Get("confirm") != "yes" {
		return fmt.Errorf("%w: tick the box that confirms that the person is removed for good", vault.ErrBadInput)
	}
	if _, err := h.v.Remove(r.Context(), s.who, r.PathValue("person"), reason(r), statusOptions(r)...); err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"people", "person-removed")
	return nil
}

func (h *Handler) reinstate(w http.ResponseWriter, r *http.Request, s *session) error {
	name := r.PathValue("person")
	if err := form(w, r); err != nil {
		return err
	}
	info, err := h.v.Reinstate(r.Context(), s.who, name, reason(r))
	if err != nil {
		return err
	}
	return h.showRequest(w, r, s, info, s.lang.text("decision.reinstate", name), Prefix+"people")
}

func (h *Handler) reissue(w http.ResponseWriter, r *http.Request, s *session) error {
	name := r.PathValue("person")
	if err := form(w, r); err != nil {
		return err
	}
	info, err := h.v.Reissue(r.Context(), s.who, name, reason(r))
	if err != nil {
		return err
	}
	return h.showRequest(w, r, s, info, s.lang.text("decision.reissue", name), Prefix+"people")
}

// requestRow is a pending request as the approvals page shows it.
type requestRow struct {
	vault.PendingRequest
	// Asks says what it asks, as its approver must check it.
	Asks template.HTML
	// Mine: the signed-in person asked it (they may withdraw it, not
	// approve it).
	Mine bool
}

type requestsData struct {
	Requests  []requestRow
	Custodian bool
	// Destructions are the cases' pending destruction requests
	// (custodians only), decided on each case's page; Me is the viewer,
	// who does not decide their own.
	Destructions []vault.PendingDestruction
	Me           string
	// Once is the approval forms' one-time value (sentForms).
	Once string
	// Ended are the viewer's own requests that ended lately
	// (vault.EndedRequests), each with what it asked in words: a
	// rejected or expired one does not just vanish from their list.
	Ended []endedRow
}

type endedRow struct {
	vault.EndedRequest
	Asks template.HTML
}

// recipientText names whom a package is for, with their role in words
// where it is known ("dara (defence counsel)"), so that a person named
// after a role reads clearly.
func recipientText(c *catalog, name, role string) string {
	switch role {
	case "":
		return name
	case vault.RoleDefence:
		role = c.text("role.defence")
	case vault.RoleProsecutor:
		role = c.text("role.prosecutor")
	}
	return c.text("recipient.role", name, role)
}

// entriesText is n entries, in words.
func entriesText(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}

// hashSetMeaning is what a match against a set imported with category
// means, as the request describes it.
func hashSetMeaning(category string) string {
	if category == "" {
		return "the category each entry names"
	}
	return category
}

// quoted is text a requester typed, to be shown between the “ and ” of
// a request's description: quotation marks of its own are shown as
// straight ones, so that it cannot close the description's quotes and
// go on in words that read as the vault's own.
var quoted = strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "‟", `"`, "«", `"`, "»", `"`, "＂", `"`).Replace

// describeRequest says what a request asks, as custos requests does, as
// HTML: each value in its own bidirectional isolate (bidi.go).
// forRole is the role of whom a sealing is for, where the vault says it
// (to custodians), "" otherwise.
func describeRequest(c *catalog, r vault.Request, forRole string) template.HTML {
	p := r.Parameters()
	switch r.Kind {
	case vault.KindIdentitySource:
		return c.isolatedText("request.asks.identity.source", p.Source)
	case vault.KindIdentitySourceRetire:
		return c.isolatedText("request.asks.identity.source.retire", p.Source)
	case vault.KindHashSetRemove:
		return c.isolatedText("request.asks.hashset.remove", p.Name, p.Category, p.Imported)
	case vault.KindHashSetImport:
		s := c.isolatedText("request.asks.hashset", p.Name, p.Format, hashSetMeaning(p.Category), entriesText(p.Imported), p.SourceSHA256)
		if other := vault.OtherMeanings(p.Categories, p.Category); other != "" {
			s += c.isolatedText("request.asks.hashset.meanings", other)
			if n := p.Categories[vault.CategoryNotIllegal]; n > 0 && p.Category != vault.CategoryNotIllegal {
				s += c.isolatedText("request.asks.hashset.notillegal", n)
			}
		}
		if p.Replaces != nil {
			s += c.isolatedText("request.asks.hashset.replaces", p.Name, entriesText(p.Replaces.Imported), hashSetMeaning(p.Replaces.Category))
		} else {
			s += c.isolatedText("request.asks.hashset.new")
		}
		return s + c.isolatedText("request.asks.hashset.check")
	case vault.KindEnroll:
		s := c.isolatedText("request.asks.enroll", r.Person, p.Role)
		if p.OIDC != "" {
			s += c.isolatedText("request.asks.oidc", quoted(p.OIDC))
		}
		if p.Certificate != "" {
			s += c.isolatedText("request.asks.certificate", quoted(p.Certificate))
		}
		return s
	case vault.KindMember:
		return c.isolatedText("request.asks.member", r.Person, r.Case)
	case vault.KindRecipient:
		return c.isolatedText("request.asks.recipient", r.Person, custody.RecipientText(p.Recipient))
	case vault.KindReceiptKey:
		return c.isolatedText("request.asks.receiptkey", r.Person, p.Fingerprint)
	case vault.KindSeal:
		// The items themselves are listed beside it (PendingRequest.Items).
		s := c.isolatedText("request.asks.seal", r.Case, recipientText(c, p.For, forRole), quoted(p.Purpose))
		if p.DiscloseOthers {
			s += c.isolatedText("request.asks.seal.disclose")
		}
		return s
	case vault.KindPolicy:
		return c.isolatedText("request.asks.policy", r.Case, p.ExportApproval)
	case vault.KindClassificationPolicy:
		return c.isolatedText("request.asks.votes", r.Case, p.From, p.Votes)
	case vault.KindDestroy:
		return c.isolatedText("request.asks.destroy", r.Case, quoted(p.Order), quoted(p.Reason))
	case vault.KindReissue:
		return c.isolatedText("request.asks.reissue", r.Person)
	case vault.KindReinstate:
		return c.isolatedText("request.asks.reinstate", r.Person)
	}
	return iso(r.Person)
}

func (h *Handler) requests(w http.ResponseWriter, r *http.Request, s *session) error {
	d := requestsData{Custodian: s.who.Role == vault.RoleCustodian, Destructions: h.v.Destructions(s.who), Me: s.who.Name, Once: newOnce()}
	for _, e := range h.v.EndedRequests(s.who) {
		// Described as it was while pending.
		asks := describeRequest(s.lang, vault.Request{Kind: e.Kind, Case: e.Case, Person: e.Person, Params: e.Params}, "")
		d.Ended = append(d.Ended, endedRow{EndedRequest: e, Asks: asks})
	}
	for _, q := range h.v.Requests(s.who) {
		asks := describeRequest(s.lang, q.Request, q.ForRole)
		d.Requests = append(d.Requests, requestRow{PendingRequest: q, Asks: asks, Mine: q.By == s.who.Name})
	}
	title := "requests.title"
	if !d.Custodian {
		title = "requests.title.mine" // as the menu names it
	}
	return h.render(w, r, s, http.StatusOK, "requests", s.lang.text(title), d)
}

// approve approves and carries out a request, and shows what the
// approval gives, as custos approve prints it: the package an approved
// seal made, this custodian's half of an invitation.
//
// The Approvals page's forms carry a one-time value (sentForms): a
// second click while an approval is carried out (a sealing takes
// minutes), or a reload of its answer, approves nothing again and shows
// what the first did, without the invitation half, which is shown once.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	id := r.PathValue("request")
	do := func() (any, any, error) {
		a, err := h.v.ApproveWithReason(r.Context(), s.who, id, reason(r))
		if err != nil {
			return nil, nil, err
		}
		info, kept := a.RequestInfo, a.RequestInfo
		d := decisionData{Request: &info, Approved: true, Package: a.Package, Back: Prefix + "requests",
			HalfHours: int(h.v.InvitationTTL().Hours()), HalfUntil: h.opts.Now().Add(h.v.InvitationTTL()).UTC()}
		if a.Package != nil {
			d.For = recipientText(s.lang, a.Package.For, a.Package.ForRole)
		}
		if a.HashSet != nil {
			d.Conflicts = a.HashSet.Conflicts
		}
		d.PolicyEffect = a.ClassificationPolicy
		// Remembered without the invitation half: it is shown once.
		cached := d
		kept.InvitationPart = secret.New("")
		cached.Request, cached.HalfShown = &kept, info.InvitationPart.Reveal() != ""
		d.Half = info.InvitationPart.Reveal()
		return d, cached, nil
	}
	show := func(o any, again bool) error {
		d := o.(decisionData)
		d.Again = again
		return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.approved"), d)
	}
	once := r.PostForm.Get("once")
	if !validOnce(once) {
		// A form of before the one-time values: approved as asked.
		d, _, err := do()
		if err != nil {
			return err
		}
		return show(d, false)
	}
	return h.sendOnce(s.who.Name, "approve/"+id+"/"+once,
		"this approval was sent already and is still being carried out (a sealing takes minutes); reload this page in a minute to see its outcome",
		do, show)
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	info, err := h.v.Reject(r.Context(), s.who, r.PathValue("request"), reason(r))
	if err != nil {
		return err
	}
	done := "request-rejected"
	if info.By == s.who.Name {
		done = "request-withdrawn"
	}
	h.redirectDone(w, r, Prefix+"requests", done)
	return nil
}

type manageData struct {
	*vault.CaseDetail
	Custodian bool
	// Candidates are the investigators and analysts not assigned to the
	// case, offered (not imposed) by the add-member form, with their
	// roles.
	Candidates []vault.PersonInfo
	// Roles are the members' roles, to whoever lists people (custodians
	// and auditors).
	Roles map[string]string
	// Asked are the pending requests to assign someone to the case, for
	// custodians: a second one decides them on the Approvals page.
	Asked    []vault.PendingRequest
	MaxVotes int
	// Me is the viewer: their own destruction request is not offered
	// for their approval.
	Me string
}

// manageCase shows a case's members, hold and policies, with the
// custodian's forms. Whoever else may see the case (vault.ShowCase) sees
// it without the forms.
func (h *Handler) manageCase(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.v.ShowCase(r.Context(), s.who, r.PathValue("case"))
	if err != nil {
		return err
	}
	d := manageData{CaseDetail: c, Custodian: s.who.Role == vault.RoleCustodian, MaxVotes: vault.MaxClassificationVotes, Me: s.who.Name}
	if d.Custodian || s.who.Role == vault.RoleAuditor {
		// Both list people; only custodians assign them.
		ps, err := h.v.Persons(r.Context(), s.who)
		if err != nil {
			return err
		}
		d.Roles = map[string]string{}
		for _, p := range ps {
			d.Roles[p.Name] = p.Role
			if d.Custodian && (p.Role == vault.RoleInvestigator || p.Role == vault.RoleAnalyst) && (p.Status == "active" || p.Status == "invited") && !slices.Contains(c.Members, p.Name) {
				d.Candidates = append(d.Candidates, p)
			}
		}
	}
	if d.Custodian {
		for _, q := range h.v.Requests(s.who) {
			if q.Kind == vault.KindMember && q.Case == c.Case {
				d.Asked = append(d.Asked, q)
			}
		}
	}
	return h.render(w, r, s, http.StatusOK, "manage", s.lang.text("manage.title", c.Case), d)
}

func managePath(r *http.Request) string { return Prefix + "cases/" + r.PathValue("case") + "/manage" }

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	person := strings.TrimSpace(r.PostForm.Get("person"))
	info, err := h.v.AddMember(r.Context(), s.who, r.PathValue("case"), person, reason(r))
	if err != nil {
		return err
	}
	return h.showRequest(w, r, s, info, s.lang.text("decision.member", person, r.PathValue("case")), managePath(r))
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	if err := h.v.RemoveMember(r.Context(), s.who, r.PathValue("case"), r.PathValue("person"), reason(r)); err != nil {
		return err
	}
	h.redirectDone(w, r, managePath(r), "member-removed")
	return nil
}

// hold places (hold=place) or lifts (hold=lift) a legal hold.
func (h *Handler) hold(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	// Who may ask first (vault/askers.go), as SetHold asks: for what
	// was chosen, or, where neither was, for either.
	var on bool
	switch r.PostForm.Get("hold") {
	case "place":
		on = true
	case "lift":
	default:
		if err := h.v.MayAsk(r.Context(), s.who, "case.hold.set", r.PathValue("case")); err != nil {
			return err
		}
		return fmt.Errorf("%w: say whether to place or lift the hold", vault.ErrBadInput)
	}
	if err := h.v.MaySetHold(r.Context(), s.who, r.PathValue("case"), on); err != nil {
		return err
	}
	res, err := h.v.SetHold(r.Context(), s.who, r.PathValue("case"), on, reason(r))
	if err != nil {
		return err
	}
	var done string
	switch {
	case on && res.Recorded:
		done = "hold-placed"
	case on:
		done = "hold-already-placed"
	case res.Recorded:
		done = "hold-lifted"
	default:
		done = "hold-already-lifted"
	}
	h.redirectDone(w, r, managePath(r), done)
	return nil
}

// casePolicy sets the export policy; dropping the approval is a request.
func (h *Handler) casePolicy(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	policy := r.PostForm.Get("export_approval")
	ch, err := h.v.SetCasePolicy(r.Context(), s.who, r.PathValue("case"), policy, reason(r))
	if err != nil {
		return err
	}
	if ch.Request != nil {
		return h.showRequest(w, r, s, ch.Request, s.lang.text("decision.policy", r.PathValue("case")), managePath(r))
	}
	done := "policy-required"
	switch {
	case policy == vault.ExportApprovalNone:
		done = "policy-none" // already so: nothing was asked
	case !ch.Recorded && reason(r) == "":
		done = "policy-already-required-noreason"
	case !ch.Recorded:
		done = "policy-already-required"
	}
	h.redirectDone(w, r, managePath(r), done)
	return nil
}

func (h *Handler) classificationPolicy(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	if err := h.v.MaySetClassificationPolicy(r.Context(), s.who, r.PathValue("case")); err != nil {
		return err
	}
	votes, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("votes")))
	if err != nil {
		return fmt.Errorf("%w: the number of votes must be a whole number", vault.ErrBadInput)
	}
	ch, err := h.v.SetClassificationPolicy(r.Context(), s.who, r.PathValue("case"), votes, reason(r))
	if err != nil {
		return err
	}
	switch {
	case ch.Request != nil:
		return h.showRequest(w, r, s, ch.Request, s.lang.text("decision.votes", r.PathValue("case"), votes), managePath(r))
	case !ch.Recorded:
		h.redirectDone(w, r, managePath(r), "votes-unchanged")
	case ch.Effect.Unsettled > 0:
		h.redirectDone(w, r, managePath(r), "votes-set-unsettled")
	default:
		h.redirectDone(w, r, managePath(r), "votes-set")
	}
	return nil
}

// requestDestruction records a destruction request under a court order;
// its id is shown for the second custodian who approves it.
func (h *Handler) requestDestruction(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	caseID := r.PathValue("case")
	id, err := h.v.RequestDestruction(r.Context(), s.who, caseID, strings.TrimSpace(r.PostForm.Get("order")), reason(r))
	if err != nil {
		return err
	}
	d := decisionData{Case: caseID, Destruction: id, Back: managePath(r)}
	return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.destruction"), d)
}

// approveDestruction is the second custodian's approval: the case's keys
// are destroyed and its objects deleted where retention allows.
func (h *Handler) approveDestruction(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	caseID := r.PathValue("case")
	if err := h.v.MayApproveDestruction(r.Context(), s.who, caseID); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "yes" {
		return fmt.Errorf("%w: tick the box that confirms the destruction of case %s", vault.ErrBadInput, caseID)
	}
	res, err := h.v.ApproveDestruction(r.Context(), s.who, caseID, strings.TrimSpace(r.PostForm.Get("request")))
	if err != nil {
		return err
	}
	d := decisionData{Case: caseID, Destroyed: res, Back: managePath(r)}
	return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.destroyed"), d)
}

type hashSetsData struct {
	Sets      []vault.HashSetView
	Custodian bool
}

func (h *Handler) hashSets(w http.ResponseWriter, r *http.Request, s *session) error {
	list, err := h.v.HashSets(r.Context(), s.who)
	if err != nil {
		return err
	}
	d := hashSetsData{Sets: list, Custodian: s.who.Role == vault.RoleCustodian}
	return h.render(w, r, s, http.StatusOK, "hashsets", s.lang.text("hashsets.title"), d)
}

func (h *Handler) removeHashSet(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	info, err := h.v.RemoveHashSet(r.Context(), s.who, r.PathValue("name"), reason(r))
	if err != nil {
		return err
	}
	if info != nil {
		return h.showRequest(w, r, s, info, s.lang.text("decision.hashset.remove", r.PathValue("name")), Prefix+"hashsets")
	}
	h.redirectDone(w, r, Prefix+"hashsets", "hashset-removed")
	return nil
}
