package custody

import (
	"fmt"
	"strings"

	"github.com/custos-vault/custos/events"
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
		if d.Retention != "" {
			add("retention %s", Shown(d.Retention))
		}
	case typeItemDeposited:
		e.Action = "Deposited (received into custody)"
		add("%s, sha256 %s", Bytes(d.Size), Shown(d.SHA256))
		if d.Acquisition.SHA256 != "" || d.Acquisition.SHA1 != "" || d.Acquisition.MD5 != "" {
			add("matched the acquisition hash given")
		}
	case typeItemAccessed:
		e.Action = "Viewed (plaintext opened)"
		if d.Access != "" && d.Access != "view" {
			e.Action = "Opened (" + d.Access + ")"
		}
	case typeAccessCompleted:
		if d.Aborted != "" {
			e.Action = "Viewing ended early"
			add("after %s: %s", Bytes(d.Bytes), quoted(d.Aborted))
		} else {
			e.Action = "Viewing completed"
			add("%s streamed, sha256 %s matched the deposit", Bytes(d.Bytes), Shown(d.SHA256))
		}
		if d.AccessEvent != "" {
			add("of access event %s", Shown(d.AccessEvent))
		}
	case typeIntegrityFailed:
		e.Action = "INTEGRITY FAILURE"
		add("%s", quoted(d.Reason))
	case typeAccessRefused:
		e.Action = "Refused"
		add("%s refused: %s", quoted(d.Action), quoted(d.Reason))
		if d.Count > 1 {
			add("%d refusals", d.Count)
		}
	case typePackageSealing:
		e.Action = "Sealing a package"
		add("package %s for %s (%s)", Shown(d.Package), Shown(d.For), Shown(roleOr(d.ForRole, "prosecutor")))
		if d.Request != "" {
			add("requested by %s in request %s, approved by %s", Shown(d.RequestedBy), Shown(d.Request), Shown(e.Actor.Name))
		}
	case typePackageSealed:
		e.Action = "Package sealed"
		add("package %s, %s, sha256 %s", Shown(d.Package), Bytes(d.Size), Shown(d.SHA256))
	case typePackageFetched:
		e.Action = "Package fetched"
		add("package %s", Shown(d.Package))
	case typePackageReceived:
		e.Action = "Package receipt signed"
		add("package %s, sha256 %s, signed with key %s", Shown(d.Package), Shown(d.SHA256), Shown(d.Fingerprint))
	case typeHoldPlaced:
		e.Action = "Legal hold placed"
		add("%s", quoted(d.Reason))
	case typeHoldLifted:
		e.Action = "Legal hold lifted"
		add("%s", quoted(d.Reason))
	case typeMemberAdded:
		e.Action = "Person assigned to the case"
		add("%s", Shown(d.Person))
	case typeMemberRemoved:
		e.Action = "Person's assignment ended"
		add("%s: %s", Shown(d.Person), quoted(d.Reason))
	case typePolicySet:
		e.Action = "Case policy set"
		add("second custodian's approval of exports: %s", Shown(d.ExportApproval))
	case typeDestroyRequested:
		e.Action = "Destruction requested"
		add("order %s: %s", quoted(d.Order), quoted(d.Reason))
	case typeDestroyApproved:
		e.Action = "Destruction approved"
		add("order %s, requested by %s", quoted(d.Order), Shown(d.RequestedBy))
	case typeCaseDestroyed:
		e.Action = "Case destroyed (keys shredded)"
		add("order %s", quoted(d.Order))
	case typeHashesExported:
		e.Action = "Hash list exported"
		add("%s format, sha256 %s", Shown(d.Format), Shown(d.SHA256))
	case typeReport, typeCaseUCOExported:
		e.Action = "Custody report made (" + d.Format + ")" // escaped below
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
		add("%s", quoted(d.Reason))
	default:
		e.Action = x.ev.Type
	}
	e.Action = Shown(e.Action)
	e.Details = strings.Join(details, "; ")
}

func roleOr(role, dflt string) string {
	if role == "" {
		return dflt
	}
	return role
}

// quoted is free text in quotation marks, as documents show it: through
// Shown, with any quotation mark inside written \u201c or \u201d, so that
// a text cannot close its quotes and append a clause of its own.
func quoted(s string) string {
	s = strings.NewReplacer("“", `\u201c`, "”", `\u201d`).Replace(Shown(s))
	return "“" + s + "”"
}

// Describe says in words what one event is, as the custody documents show
// it: its Action ("Viewed (plaintext opened)") and Details (escaped and
// quoted already, as Event's). An event whose data does not decode, or of
// a type this version does not know, is described by its type.
func Describe(ev *events.Event) (action, details string) {
	x := decoded{ev: ev}
	if err := ev.DecodeData(&x.d); err != nil {
		return ev.Type, ""
	}
	describe(&x)
	if x.e.Action == "" {
		x.e.Action = ev.Type
	}
	return x.e.Action, x.e.Details
}
