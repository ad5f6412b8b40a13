package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault"
)

// parsePages parses each page template with the layout: page NAME is
// templates/NAME.html, which defines "content".
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	files, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+f.Name())
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", f.Name(), err)
		}
		pages[name] = t
	}
	return pages, nil
}

// funcs are the helpers templates may call: formatting only.
var funcs = template.FuncMap{
	"bytes":     humanBytes,
	"tzOffsets": tzOffsets,
	// short is s cut to at most n bytes, at a character's start (a
	// description in Khmer is not cut inside a letter), and "…".
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n] + "…"
	},
	"add": func(a, b int) int { return a + b },
	// itemname shows an item's name as the command line and the custody
	// documents do, with the marks that would make it read as another
	// name escaped (printable.LookalikeMarks: café spelt with a
	// combining accent is cafe\u0301).
	"itemname": printable.LookalikeMarks,
	// iso puts a value people wrote in the page's text in its own
	// bidirectional isolate (bidi.go): {{iso .Case.Title}}.
	"iso": iso,
	// isotext isolates a value where HTML takes no element (an option's
	// text), with Unicode's isolate characters (bidi.go).
	"isotext": isoText,
	// clauses writes an event's details in words with each clause and
	// each quoted text isolated (bidi.go).
	"clauses": clauses,
	// words is clauses of details given joined (a report's history, as
	// the API gives it).
	"words": func(details string) template.HTML { return clauses([]string{details}) },
	// upper writes a media format as people name it: PNG, JPEG, MP4.
	"upper": strings.ToUpper,
	// seconds writes a duration in milliseconds as seconds: "12.5 s".
	"seconds": func(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + " s" },
	// recipient shows an age recipient as documents do
	// (custody.RecipientText): a post-quantum one by its ends and
	// SHA-256, not as 1,959 characters.
	"recipient": custody.RecipientText,
	// when writes a time the API gives in RFC 3339 as the pages write
	// every time: "2006-01-02 15:04:05 UTC" (anything else as it is).
	"when": func(s string) string {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return s
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	// otherMeanings says what a hash set's entries mean where that is
	// not all its category (vault.OtherMeanings).
	"otherMeanings": vault.OtherMeanings,
	// hours writes a span given in hours as people read it (45 min,
	// 3.5 h, 2.1 days).
	"hours": func(h float64) string { return vault.ElapsedWords(time.Duration(h * float64(time.Hour))) },
	// duration writes a Go duration as people read it ("10y", "90d").
	"duration": func(s string) string {
		d, err := time.ParseDuration(s)
		if err != nil {
			return s
		}
		return vault.ReadableDuration(d)
	},
}

// humanBytes writes a size as people read it (1.5 GiB), in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// navFor is the main menu of a role: what that role's daily work needs.
func navFor(who vault.Principal, path string, c *catalog) []navLink {
	var links []navLink
	add := func(href, key string) {
		links = append(links, navLink{Href: href, Label: c.text(key), Current: path == href || href != Prefix && strings.HasPrefix(path, href)})
	}
	add(Prefix, "nav.home")
	switch who.Role {
	case vault.RoleInvestigator, vault.RoleAnalyst:
		add(Prefix+"triage", "nav.triage")
		if who.Role == vault.RoleAnalyst {
			add(Prefix+"reports", "nav.reports")
		}
		add(Prefix+"packages", "nav.packages")
		if who.Role == vault.RoleAnalyst {
			// What the known material they are not shown comes from.
			add(Prefix+"hashsets", "nav.hashsets")
		}
		if who.Role == vault.RoleInvestigator {
			// A sealing under export approval is their request.
			add(Prefix+"requests", "nav.myrequests")
		}
	case vault.RoleProsecutor, vault.RoleDefence:
		add(Prefix+"packages", "nav.packages")
		add(Prefix+"verify", "nav.verify")
		// A replaced recipient or receipt key is their request.
		add(Prefix+"requests", "nav.myrequests")
	case vault.RoleAuditor:
		add(Prefix+"audit", "nav.audit")
		// Who is enrolled, and by whom; the sets that hide material:
		// theirs to review, read only.
		add(Prefix+"people", "nav.people")
		add(Prefix+"hashsets", "nav.hashsets")
		add(Prefix+"reports", "nav.reports")
		add(Prefix+"packages", "nav.packages")
		add(Prefix+"verify", "nav.verify")
	case vault.RoleCustodian:
		add(Prefix+"people", "nav.people")
		add(Prefix+"requests", "nav.requests")
		add(Prefix+"hashsets", "nav.hashsets")
		add(Prefix+"exposure", "nav.exposure")
		add(Prefix+"audit", "nav.audit")
		add(Prefix+"reports", "nav.reports")
	}
	if who.Role == vault.RoleAnalyst || who.Role == vault.RoleCustodian || who.Role == vault.RoleAuditor {
		// The figures a hotline reports (to INHOPE, to its board).
		add(Prefix+"stats", "nav.stats")
	}
	return links
}

type homeData struct {
	Cases    []vault.CaseSummary
	AllCases bool
	// OpensCases: the role opens cases (investigators, analysts,
	// custodians).
	OpensCases bool
	// Defence: defence counsel see their packages, never cases.
	Defence  bool
	Exposure *vault.ExposureView
	Tasks    []navLink
	// NoRecipient: a prosecutor or defence counsel who has registered
	// no age recipient yet, for whom nothing can be sealed.
	NoRecipient bool
	// ToDecide counts, for a custodian, the requests and destruction
	// requests waiting for them (not their own); Waiting the viewer's
	// own pending requests; Ended those of theirs that ended in the
	// last week, and Unapproved how many of those were not approved:
	// so that nobody has to think of opening the requests page to learn
	// that something changed.
	ToDecide, Waiting, Ended, Unapproved int
	// Custodian: the requests page is their Approvals page.
	Custodian bool
}

// recentlyEnded is how far back the Start page counts the viewer's
// requests that ended.
const recentlyEnded = 7 * 24 * time.Hour

func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *session) error {
	d := homeData{Cases: h.v.Cases(s.who), AllCases: s.who.Role == vault.RoleCustodian || s.who.Role == vault.RoleAuditor,
		OpensCases: s.who.Role == vault.RoleInvestigator || s.who.Role == vault.RoleAnalyst || s.who.Role == vault.RoleCustodian,
		Defence:    s.who.Role == vault.RoleDefence, Custodian: s.who.Role == vault.RoleCustodian}
	if s.who.Role == vault.RoleProsecutor || s.who.Role == vault.RoleDefence {
		d.NoRecipient = h.v.WhoAmI(s.who).Recipient == ""
	}
	if s.who.Role == vault.RoleAnalyst || s.who.Role == vault.RoleInvestigator {
		if e, err := h.v.Exposure(r.Context(), s.who, ""); err == nil {
			d.Exposure = &e
		}
	}
	d.ToDecide, d.Waiting = h.v.RequestCounts(s.who)
	for _, q := range h.v.Destructions(s.who) {
		if q.By != s.who.Name {
			d.ToDecide++
		}
	}
	for _, e := range h.v.EndedRequests(s.who) {
		if e.At.After(h.opts.Now().Add(-recentlyEnded)) {
			d.Ended++
			if e.Outcome != vault.OutcomeApproved {
				d.Unapproved++
			}
		}
	}
	for _, l := range navFor(s.who, "", s.lang)[1:] {
		key := "task." + strings.TrimPrefix(l.Href, Prefix)
		if key == "task.requests" && s.who.Role != vault.RoleCustodian {
			key = "task.myrequests" // they decide none
		}
		l.Label = s.lang.text(key)
		d.Tasks = append(d.Tasks, l)
	}
	title := s.lang.text("home.title")
	return h.render(w, r, s, http.StatusOK, "home", title, d)
}

type meData struct {
	Who      vault.Principal
	Exposure *vault.ExposureView
	// Receives: a prosecutor or defence counsel, who registers the age
	// recipient packages are sealed to and the SSH key receipts are
	// signed with.
	Receives bool
	// Registered is what the person registered (their recipient and
	// receipt key), shown above the forms that replace them.
	Registered vault.WhoAmI
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request, s *session) error {
	d := meData{Who: s.who, Receives: receivesPackages(s.who.Role), Registered: h.v.WhoAmI(s.who)}
	if s.who.Role == vault.RoleAnalyst || s.who.Role == vault.RoleInvestigator {
		if e, err := h.v.Exposure(r.Context(), s.who, ""); err == nil {
			d.Exposure = &e
		}
	}
	return h.render(w, r, s, http.StatusOK, "me", s.lang.text("me.title"), d)
}

func init() {
	registerAsks("POST "+Prefix+"cases", "case.open", (*Handler).openCase)
	registerAsks("POST "+Prefix+"me/recipient", "recipient.set", (*Handler).setRecipient)
	registerAsks("POST "+Prefix+"me/receipt-key", "receipt.key.set", (*Handler).setReceiptKey)
}

// pastedRecipient is the recipient in what a person pasted: age-keygen
// prints it as "Public key: age1...", and the whole line is often what
// is copied; the label is set aside, the rest is the vault's to check.
func pastedRecipient(s string) string {
	const label = "public key:"
	s = strings.TrimSpace(s)
	// The label is ASCII: its length in bytes is the same in any case,
	// and a prefix cut inside another character compares unequal.
	if len(s) >= len(label) && strings.EqualFold(s[:len(label)], label) {
		s = strings.TrimSpace(s[len(label):])
	}
	return s
}

// setRecipient registers the person's own age recipient, as `custos
// recipient set`: the first at once, a replacement as a request a
// custodian approves.
func (h *Handler) setRecipient(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	_, info, err := h.v.SetRecipient(r.Context(), s.who, pastedRecipient(r.PostForm.Get("recipient")))
	if err != nil {
		return err
	}
	if info != nil {
		return h.showRequest(w, r, s, info, s.lang.text("me.recipient.request"), Prefix+"me")
	}
	h.redirectDone(w, r, Prefix+"me", "recipient-set")
	return nil
}

// setReceiptKey registers the SSH key the person signs receipts with, as
// `custos receipt-key set`.
func (h *Handler) setReceiptKey(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	_, info, err := h.v.SetReceiptKey(r.Context(), s.who, strings.TrimSpace(r.PostForm.Get("key")))
	if err != nil {
		return err
	}
	if info != nil {
		return h.showRequest(w, r, s, info, s.lang.text("me.receiptkey.request"), Prefix+"me")
	}
	h.redirectDone(w, r, Prefix+"me", "receipt-key-set")
	return nil
}

// openCase opens a case, as `custos case open`: the opener becomes its
// member.
func (h *Handler) openCase(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	id := strings.TrimSpace(r.PostForm.Get("case"))
	if err := h.v.OpenCase(r.Context(), s.who, id, strings.TrimSpace(r.PostForm.Get("title"))); err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"cases/"+url.PathEscape(id), "case-opened")
	return nil
}

// tzOption is one time zone offset a form offers where the browser's
// scripts, which give the person's own, are off: minutes east of UTC, and
// its label ("UTC+05:45").
type tzOption struct {
	Minutes int
	Label   string
}

// tzOffsets are the offsets from UTC-12:00 to UTC+14:00 in steps of a
// quarter hour, every offset in use (Nepal's +05:45, Chatham's +12:45).
func tzOffsets() []tzOption {
	var out []tzOption
	for m := -12 * 60; m <= 14*60; m += 15 {
		sign, a := "+", m
		if m < 0 {
			sign, a = "-", -m
		}
		out = append(out, tzOption{Minutes: m, Label: fmt.Sprintf("UTC%s%02d:%02d", sign, a/60, a%60)})
	}
	return out
}
