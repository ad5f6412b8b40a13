package custody

import (
	"fmt"
	"strings"
)

// describe fills an event's Action, Purpose and Details in words, from
// its type and data (docs/custody-log.md, section 5). An event of a type
// this version does not know is shown by its type.
func describe(x *decoded) {
	d, e := &x.d, &x.e
	e.Purpose = d.Purpose
	var details []string
	add := func(format string, args ...any) { details = append(details, fmt.Sprintf(format, args...)) }
	switch x.ev.Type {
	case typeCaseOpened:
		e.Action = "Case opened"
		add("title “%s”", d.Title)
		if d.Retention != "" {
			add("retention %s", d.Retention)
		}
	case typeItemDeposited:
		e.Action = "Deposited (received into custody)"
		add("%d bytes, sha256 %s", d.Size, d.SHA256)
		if d.Acquisition.SHA256 != "" || d.Acquisition.SHA1 != "" || d.Acquisition.MD5 != "" {
			add("matched the acquisition hash given")
		}
		if d.Source != "" {
			add("source “%s”", d.Source)
		}
	case typeItemAccessed:
		e.Action = "Viewed (plaintext opened)"
		if d.Access != "" && d.Access != "view" {
			e.Action = "Opened (" + d.Access + ")"
		}
	case typeAccessCompleted:
		if d.Aborted != "" {
			e.Action = "Viewing ended early"
			add("after %d bytes: %s", d.Bytes, d.Aborted)
		} else {
			e.Action = "Viewing completed"
			add("%d bytes streamed, sha256 %s matched the deposit", d.Bytes, d.SHA256)
		}
		if d.AccessEvent != "" {
			add("of access event %s", d.AccessEvent)
		}
	case typeIntegrityFailed:
		e.Action = "INTEGRITY FAILURE"
		add("%s", d.Reason)
	case typeAccessRefused:
		e.Action = "Refused"
		add("%s refused: %s", d.Action, d.Reason)
		if d.Count > 1 {
			add("%d refusals", d.Count)
		}
	case typePackageSealing:
		e.Action = "Sealing a package"
		add("package %s for %s (%s)", d.Package, d.For, roleOr(d.ForRole, "prosecutor"))
		if d.Request != "" {
			add("requested by %s in request %s, approved by %s", d.RequestedBy, d.Request, e.Actor.Name)
		}
	case typePackageSealed:
		e.Action = "Package sealed"
		add("package %s, %d bytes, sha256 %s", d.Package, d.Size, d.SHA256)
	case typePackageFetched:
		e.Action = "Package fetched"
		add("package %s", d.Package)
	case typePackageReceived:
		e.Action = "Package receipt signed"
		add("package %s, sha256 %s, signed with key %s", d.Package, d.SHA256, d.Fingerprint)
	case typeHoldPlaced:
		e.Action = "Legal hold placed"
		add("%s", d.Reason)
	case typeHoldLifted:
		e.Action = "Legal hold lifted"
		add("%s", d.Reason)
	case typeMemberAdded:
		e.Action = "Person assigned to the case"
		add("%s", d.Person)
	case typeMemberRemoved:
		e.Action = "Person's assignment ended"
		add("%s: %s", d.Person, d.Reason)
	case typePolicySet:
		e.Action = "Case policy set"
		add("second custodian's approval of exports: %s", d.ExportApproval)
	case typeDestroyRequested:
		e.Action = "Destruction requested"
		add("order “%s”: %s", d.Order, d.Reason)
	case typeDestroyApproved:
		e.Action = "Destruction approved"
		add("order “%s”, requested by %s", d.Order, d.RequestedBy)
	case typeCaseDestroyed:
		e.Action = "Case destroyed (keys shredded)"
		add("order “%s”", d.Order)
	case typeHashesExported:
		e.Action = "Hash list exported"
		add("%s format, sha256 %s", d.Format, d.SHA256)
	case typeReport, typeCaseUCOExported:
		e.Action = "Custody report made (" + d.Format + ")"
		if x.ev.Type == typeCaseUCOExported {
			e.Action = "CASE/UCO record exported"
		}
		if n := len(d.itemList()); n > 0 {
			add("%d items", n)
		} else {
			add("every item")
		}
	case typeCaseKeyFailed:
		e.Action = "Case key could not be used"
		add("%s", d.Reason)
	default:
		e.Action = x.ev.Type
	}
	e.Details = strings.Join(details, "; ")
}

func roleOr(role, dflt string) string {
	if role == "" {
		return dflt
	}
	return role
}

// quoted is text in quotation marks; documents pass it through Shown.
func quoted(s string) string { return "“" + s + "”" }
