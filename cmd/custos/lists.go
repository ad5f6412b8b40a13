package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/rivo/uniseg"
)

// Finding one's work: case list/show, item list/show, package list.

// size formats a byte count in binary units, with the exact count.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}

// whenText is when of a time the vault gave as RFC 3339 text; text that
// is not one is shown as it is.
func whenText(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return when(t)
}

// when formats a time in UTC with the zone written.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// table writes rows as aligned columns, two spaces apart, each cell
// measured by the columns a terminal gives it (uniseg.StringWidth, after
// Unicode's grapheme clusters and East Asian widths): a Thai or Khmer
// name's marks take none, a CJK character two, so the columns after such
// a name stay in line (text/tabwriter counted runes).
func table(header []string, rows [][]string) string {
	all := append([][]string{header}, rows...)
	var widths []int
	for _, r := range all {
		for i, c := range r {
			w := uniseg.StringWidth(c)
			if i == len(widths) {
				widths = append(widths, w)
			} else if w > widths[i] {
				widths[i] = w
			}
		}
	}
	var b strings.Builder
	for n, r := range all {
		if n > 0 {
			b.WriteByte('\n')
		}
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-uniseg.StringWidth(c)+2))
			}
		}
	}
	return b.String()
}

func runCaseList(args []string, stdout io.Writer) error {
	fs := newFlags("case list")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("case list takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.CasesResponse
	if err := c.call("GET", "/v1/cases", nil, nil, &out); err != nil {
		return err
	}
	if len(out.Cases) == 0 {
		msg := "no cases: you are assigned to none (open one with custos case open, or ask a custodian to assign you: custos case add-member)"
		var who api.WhoAmIResponse
		if err := c.call("GET", "/v1/whoami", nil, nil, &who); err == nil && (who.Role == vault.RoleDefence || who.Role == vault.RoleProsecutor) {
			msg = "no cases (prosecutors and defence counsel receive packages, not cases: see custos package list)"
		}
		return printResult(stdout, *asJSON, out, msg)
	}
	var rows [][]string
	for _, cs := range out.Cases {
		state := "open"
		switch {
		case cs.Destroyed:
			state = "destroyed"
		case cs.Held:
			state = "on hold"
		}
		rows = append(rows, []string{cs.Case, cs.Title, fmt.Sprint(cs.Items), when(cs.OpenedAt), state})
	}
	return printResult(stdout, *asJSON, out, table([]string{"CASE", "TITLE", "ITEMS", "OPENED", "STATE"}, rows))
}

func runCaseShow(args []string, stdout io.Writer) error {
	fs := newFlags("case show")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("case show takes one CASE")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var d api.CaseDetailResponse
	if err := c.call("GET", "/v1/cases/"+url.PathEscape(pos[0]), nil, nil, &d); err != nil {
		return err
	}
	retention := humanDurationText(d.Retention)
	if retention == "" {
		retention = humanDurationText(d.VaultRetention) + " (the vault's default)"
	}
	lines := []string{
		"case:       " + d.Case,
		"title:      " + d.Title,
		"opened:     " + when(d.OpenedAt) + " by " + d.OpenedBy,
		"members:    " + membersText(d),
		fmt.Sprintf("items:      %d, %s", d.Items, size(d.Size)),
		"retention:  " + retention,
		"legal hold: " + holdText(d),
		"exports:    " + map[bool]string{true: "need a custodian's approval, never the requester's own", false: "no approval needed"}[d.ExportApproval] + policyText(d.ExportPolicy),
		"votes:      " + map[bool]string{true: "1 classification settles an item's category", false: fmt.Sprintf("%d agreeing classifications settle an item's category", d.ClassificationVotes)}[d.ClassificationVotes == 1] + policyText(d.ClassificationPolicy),
	}
	if d.Destroyed {
		lines = append(lines, destructionLines(d.Destruction)...)
	}
	for _, r := range d.Destructions {
		// Shown to custodians, who decide it.
		lines = append(lines, fmt.Sprintf("destruction requested: %s by %s at %s under order %s, approvable until %s (custos case approve-destruction %s %s)",
			r.Request, r.By, when(r.At), safeText(r.Order), when(r.Expires), d.Case, r.Request))
	}
	for _, r := range d.VoidDestructions {
		lines = append(lines, fmt.Sprintf("destruction request %s by %s at %s under order %s can no longer be approved: %s", r.Request, r.By, when(r.At), safeText(r.Order), safeText(r.Why)))
	}
	// To those who read reports: the reports assessed into the case.
	for _, r := range d.Reports {
		more := ""
		if r.URLs > 1 {
			more = fmt.Sprintf(" and %d more", r.URLs-1)
		}
		lines = append(lines, fmt.Sprintf("report:     %s, %s, received %s: %s%s", r.Report, r.Status, when(r.ReceivedAt), cut(r.FirstURL, 80), more))
	}
	return printResult(stdout, *asJSON, d, strings.Join(lines, "\n"))
}

// destructionLines say who asked for a destroyed case's destruction,
// under which order and why, who approved it and when, and whether its
// keys are gone yet.
func destructionLines(x *vault.DestructionView) []string {
	if x == nil {
		return []string{"destroyed:  yes"}
	}
	keys := fmt.Sprintf("its keys are gone (event %d)", x.Done)
	if x.Done == 0 {
		keys = "its keys are being destroyed: the shredding is not recorded yet (the next start finishes it)"
	}
	lines := []string{"destroyed:  yes, under order " + safeText(x.Order) + "; " + keys}
	if x.Requested != 0 {
		lines = append(lines, fmt.Sprintf("  asked:    by %s at %s (event %d), because “%s”", safeText(x.RequestedBy), when(x.RequestedAt), x.Requested, safeText(x.Reason)))
	}
	if x.Approved != 0 {
		lines = append(lines, fmt.Sprintf("  approved: by %s at %s (event %d)", safeText(x.ApprovedBy), when(x.ApprovedAt), x.Approved))
	}
	return lines
}

// membersText lists a case's members, each who can no longer act with
// why: "bob (suspended)", "carol (removed from the vault)".
func membersText(d api.CaseDetailResponse) string {
	if len(d.Members) == 0 {
		return "none"
	}
	out := make([]string, len(d.Members))
	for i, m := range d.Members {
		out[i] = m
		switch d.Inactive[m] {
		case "suspended":
			out[i] += " (suspended)"
		case "removed":
			out[i] += " (removed from the vault)"
		}
	}
	return strings.Join(out, ", ")
}

func runItemList(args []string, stdout io.Writer) error {
	fs := newFlags("item list")
	caseID := fs.String("case", "", "the case")
	name := fs.String("name", "", "only items whose name (or its last path element, or a folder above it) matches this pattern (*, ?, [...]), letter case aside; a name copied as a list shows it, escapes (\\x0a, \\u0301) and all, finds its item")
	sha256 := fs.String("sha256", "", "only items with this SHA-256")
	md5 := fs.String("md5", "", "only items with this MD5")
	sha1 := fs.String("sha1", "", "only items with this SHA-1")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 || *caseID == "" {
		return usageErr("item list needs --case CASE and takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"name": *name, "sha256": *sha256, "md5": *md5, "sha1": *sha1} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out api.ItemsResponse
	if err := c.call("GET", "/v1/cases/"+url.PathEscape(*caseID)+"/items", q, nil, &out); err != nil {
		return err
	}
	if len(out.Items) == 0 {
		return printResult(stdout, *asJSON, out, "no items")
	}
	var rows [][]string
	for _, it := range out.Items {
		note := it.Category
		switch {
		case it.Disputed:
			note = "disputed (votes disagree: item show)"
		case it.Category == "" && it.Votes > 0:
			note = fmt.Sprintf("unsettled: %d of %d votes for %s", it.Votes, it.Needed, it.Voted)
		case it.Category == "":
			note = "not classified"
		case it.Votes > 0:
			// A hash set's category, votes pending beside it.
			note += fmt.Sprintf("; pending: %d of %d votes for %s", it.Votes, it.Needed, it.Voted)
		}
		if it.Known != "" {
			// Hidden from review, and what the votes say of it.
			note = "known material, " + note
		}
		if c := it.SameAs; c != nil {
			where := ""
			if c.Case != "" {
				where = " in case " + c.Case
			}
			note += fmt.Sprintf(" (the same file as %s%s, settled %s)", c.Item, where, c.Category)
		}
		rows = append(rows, []string{it.ID, displayName(it.Name), size(it.Size), it.SHA256, note})
	}
	return printResult(stdout, *asJSON, out, table([]string{"ITEM", "NAME", "SIZE", "SHA-256", "CLASSIFICATION"}, rows))
}

func runItemShow(args []string, stdout io.Writer) error {
	fs := newFlags("item show")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("item show takes one ITEM")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var d api.ItemDetailResponse
	if err := c.call("GET", "/v1/items/"+url.PathEscape(pos[0])+"/details", nil, nil, &d); err != nil {
		return err
	}
	lines := []string{
		"item:       " + d.ID,
		"case:       " + d.Case + map[bool]string{true: " (destroyed under a court order: the item can no longer be opened; custos case show " + d.Case + " says who decided it)"}[d.CaseDestroyed],
		"name:       " + displayName(d.Name),
		"size:       " + size(d.Size),
		"sha256:     " + d.SHA256,
	}
	if d.MD5 != "" {
		lines = append(lines, "md5:        "+d.MD5)
	}
	if d.SHA1 != "" {
		lines = append(lines, "sha1:       "+d.SHA1)
	}
	if a := d.Acquisition; a != nil {
		for _, h := range [][2]string{{"sha256", a.SHA256}, {"sha1", a.SHA1}, {"md5", a.MD5}} {
			if h[1] != "" {
				lines = append(lines, "acquired:   "+h[0]+" "+h[1]+" (the acquisition hash given, matched at deposit)")
			}
		}
		if l := a.List; l != nil {
			what := "a hash list without a name"
			if l.Name != "" {
				what = "the hash list " + displayName(l.Name)
			}
			if l.Entry != "" {
				what += ", its line for " + displayName(l.Entry)
			}
			what += ", sha256 " + l.SHA256
			// The list deposited in the case (custos deposit deposits one
			// inside the folder it lists): its item, to open and compare.
			var held api.ItemsResponse
			if err := c.call("GET", "/v1/cases/"+url.PathEscape(d.Case)+"/items", url.Values{"sha256": {l.SHA256}}, nil, &held); err == nil && len(held.Items) > 0 {
				var ids []string
				for _, it := range held.Items {
					ids = append(ids, it.ID)
				}
				what += " (held in the case as item " + strings.Join(ids, ", ") + ")"
			}
			lines = append(lines, "read from:  "+what)
		}
	}
	if d.Source != "" {
		lines = append(lines, "source:     "+d.Source)
	}
	lines = append(lines, "deposited:  "+when(d.DepositedAt)+" by "+d.DepositedBy, fmt.Sprintf("opened:     %s, shown or copied (each one in the custody log: an auditor's custos audit log --item %s)", timesText(d.Accesses), d.ID))
	if d.Note != "" {
		lines = append(lines, "note:       "+strings.ReplaceAll(d.Note, "\n", "\n            "))
	}
	lines = append(lines, hotlineLines(d)...)
	return printResult(stdout, *asJSON, d, strings.Join(lines, "\n"))
}

func runPackageList(args []string, stdout io.Writer) error {
	fs := newFlags("package list")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("package list takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.PackagesResponse
	if err := c.call("GET", "/v1/packages", nil, nil, &out); err != nil {
		return err
	}
	if len(out.Packages) == 0 {
		return printResult(stdout, *asJSON, out, "no packages")
	}
	var rows [][]string
	for _, p := range out.Packages {
		received := "-"
		if p.Receipt != nil {
			received = when(p.Receipt.At)
		}
		caseID := p.Case
		if p.CaseDestroyed {
			caseID += " (destroyed)"
		}
		by := p.SealedBy
		if p.RequestedBy != "" {
			// Under the case's export approval: who asked, and the
			// custodian who approved and sealed.
			by += " (asked by " + p.RequestedBy + ")"
		}
		if by == "" {
			by = "-"
		}
		rows = append(rows, []string{p.Package, caseID, p.For, fmt.Sprint(p.Items), size(p.Size), when(p.SealedAt), by, received, p.Purpose})
	}
	return printResult(stdout, *asJSON, out, table([]string{"PACKAGE", "CASE", "FOR", "ITEMS", "SIZE", "SEALED", "SEALED BY", "RECEIVED", "PURPOSE"}, rows))
}

// holdText says whether a case is held, and by whom, since when and why.
func holdText(d api.CaseDetailResponse) string {
	switch {
	case d.Hold != nil:
		return fmt.Sprintf("yes, placed by %s at %s (event %d): %s", d.Hold.By, when(d.Hold.At), d.Hold.Event, printable.Readable(d.Hold.Reason))
	case d.Held:
		return "yes"
	}
	return "no"
}

// policyText says who set a case's export policy, when and why.
func policyText(n *vault.StatusNote) string {
	if n == nil {
		return ""
	}
	s := fmt.Sprintf(" (set by %s at %s", n.By, when(n.At))
	if n.RequestedBy != "" {
		s += ", asked by " + n.RequestedBy
	}
	if n.Reason != "" {
		s += ", because: " + strconv.Quote(n.Reason)
	}
	return s + ")"
}

// timesText is a count of times in words: "never", "once", "2 times".
func timesText(n int) string {
	switch n {
	case 0:
		return "never"
	case 1:
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
