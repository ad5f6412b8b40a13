package custody

import (
	"fmt"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
)

// SentText is how an item.accessed's access (docs/custody-log.md,
// section 5) says the content was sent, in words: "to the web viewer"
// (shown), "a copy" (copy), "to view or to save" (view, and accesses
// that say nothing: before 2026-12-07 the two were not told apart);
// another value is quoted as it is.
func SentText(access string) string {
	switch access {
	case "shown":
		return "to the web viewer"
	case "copy":
		return "a copy"
	case "", "view":
		return "to view or to save"
	}
	return quoted(access)
}

// describe fills an event's Action, Purpose and Details in words, from
// its type and data (docs/custody-log.md, section 8). The Action is the
// type's words in Labels unless a case below says more. An event of a type
// this version does not know is shown by its type.
func describe(x *decoded) {
	d, e := &x.d, &x.e
	e.Purpose = d.Purpose
	var details []string
	add := func(format string, args ...any) { details = append(details, fmt.Sprintf(format, args...)) }
	switch x.ev.Type {
	case typeCaseOpened:
		if d.Retention != "" {
			add("retention %s", Shown(d.Retention))
		}
	case "deposit.skipped":
		left := 0
		for _, f := range d.Files {
			if f.LeftBehind {
				left++
			}
		}
		// Said as what it is: the depositor's statement, which the vault
		// cannot check against the media.
		what := "1 file or folder"
		if d.Count != 1 {
			what = fmt.Sprintf("%d files or folders", d.Count)
		}
		are := "are"
		if left == 1 {
			are = "is"
		}
		add("the depositor stated %s found and not deposited, %d listed here, of which %d %s content the case does not hold (left behind or refused)", what, len(d.Files), left, are)
		add("the same run deposited %d and found %d in the case already", d.Deposited, d.Already)
		if d.Source != "" {
			add("from %s", quoted(d.Source))
		}
		for i, f := range d.Files {
			if i == maxSkippedShown {
				add("and %d more listed", len(d.Files)-i)
				break
			}
			add("%s: %s", quoted(shortened(f.Path)), quoted(shortenedWords(f.Reason)))
		}
	case typeItemDeposited:
		add("%s, sha256 %s", Bytes(d.Size), Shown(d.SHA256))
		if d.Acquisition.SHA256 != "" || d.Acquisition.SHA1 != "" || d.Acquisition.MD5 != "" {
			if l := d.Acquisition.List; l.Name != "" {
				add("matched the acquisition hash given, from the hash list %s (SHA-256 %s)", QuotedName(shortenedName(l.Name)), Shown(l.SHA256))
			} else if l.SHA256 != "" {
				add("matched the acquisition hash given, from a hash list without a name (SHA-256 %s)", Shown(l.SHA256))
			} else {
				add("matched the acquisition hash given")
			}
		}
		if d.Report != "" {
			add("for hotline report %s", Shown(d.Report))
		}
		for _, m := range d.Matches {
			add("matched %s", m.words())
		}
	case "hashset.imported":
		meaning := "the category each entry names"
		if d.Category != "" {
			meaning = Shown(d.Category)
		}
		add("%s (%s, a match means %s)", Shown(d.Name), Shown(d.Format), meaning)
		if d.RequestedBy != "" {
			add("asked for by %s in request %s", Shown(d.RequestedBy), Shown(d.Request))
		}
	case "server.stopped":
		if d.Reason != "" {
			add("by a %s", Shown(d.Reason))
		}
		if d.Started != 0 {
			add("it had started at event %d", d.Started)
		}
	case "server.started":
		if d.Run != "" {
			e.Action = "Opened by " + Shown(d.Run) + " (the server stopped)"
		}
		if d.Build != "" {
			add("build %s", Shown(d.Build))
		}
		switch kind, _, _ := strings.Cut(d.Sealer, ":"); kind {
		case "":
		case "soft":
			add("keys sealed by the development sealer (soft), never one for real evidence")
		default:
			add("keys sealed by %s", Shown(kind))
		}
		if d.SnapshotsDiscarded != "" {
			add("state snapshots not used, set aside: %s", Shown(d.SnapshotsDiscarded))
		}
		// What decides what is known material and who decides it, so
		// that a timeline shows a start that changed it (custos audit
		// verify says each change).
		if d.PDQMaxDistance != "" {
			add("near-copies within %s bits (PDQ)", Shown(d.PDQMaxDistance))
		}
		switch {
		case d.HashSetApproval == "required" && d.HashSetRemoval == "request":
			add("hash-set imports and removals need a second custodian")
		case d.HashSetApproval == "required":
			add("hash-set imports need a second custodian")
		case d.HashSetApproval == "none":
			add("one custodian imports a hash set")
		}
		if d.SessionTTL != "" {
			add("sessions last %s", Shown(d.SessionTTL))
		}
		if d.LocalAccounts == "off" {
			add("no local accounts")
		}
	case "hashset.removed", "hashset.unused":
		add("%s", Shown(d.Name))
	case typeItemAccessed:
		e.Sent = SentText(d.Access)
		switch d.Access {
		case "", "view":
			// Every access before 2026-12-07: the default label.
		case "shown":
			e.Action = "Sent to the vault's web viewer (plaintext sent on a request made as the viewer page makes it, which shows it and offers no save; the vault cannot tell whether the browser, or a program imitating it, kept it)"
		case "copy":
			e.Action = "Copy sent (plaintext sent to the person as a file their computer may keep)"
		default:
			e.Action = "Opened (" + Shown(d.Access) + ")"
		}
		if d.Override != "" {
			switch d.Access {
			case "shown":
				e.Action = "Sent to the web viewer, known material revealed explicitly"
			case "copy":
				e.Action = "Copy sent, known material revealed explicitly"
			default:
				e.Action = "Viewed, known material revealed explicitly"
			}
			add("known material because %s", quoted(d.Override))
		}
	case typeAccessCompleted:
		if d.Aborted != "" {
			e.Action = "Opening ended early"
			add("the person's program did not receive the whole file: %s sent, then %s", Bytes(d.Bytes), quoted(d.Aborted))
		} else {
			e.Action = "Opening completed"
			add("%s streamed, sha256 %s matched the deposit", Bytes(d.Bytes), Shown(d.SHA256))
		}
		if d.AccessEvent != "" {
			add("of access event %s", Shown(d.AccessEvent))
		}
	case typeIntegrityFailed:
		add("%s", quoted(d.Reason))
	case typeAccessRefused:
		// First: a summary is written at the end of its window, and its
		// own time is not when anyone asked.
		when := attempts(d.Count, d.First, d.Last, x.ev.Timestamp())
		if when != "" {
			add("%s", when)
		}
		if w := ActionWords[d.Action]; w != "" {
			add("asked to %s (%s); refused: %s", w, quoted(d.Action), quoted(d.Reason))
		} else {
			add("%s refused: %s", quoted(d.Action), quoted(d.Reason))
		}
		if w := GroundsWords[d.Grounds]; w != "" {
			add("%s", w)
		}
		if d.Count > 1 && when == "" {
			add("%d refusals", d.Count)
		}
	case typePackageSealing:
		add("package %s for %s (%s)", Shown(d.Package), Shown(d.For), Shown(roleOr(d.ForRole, "prosecutor")))
		if d.Request != "" {
			add("requested by %s in request %s, approved by %s", Shown(d.RequestedBy), Shown(d.Request), Shown(x.ev.Actor.Person))
		}
	case typePackageSealed:
		add("package %s, %s, sha256 %s", Shown(d.Package), Bytes(d.Size), Shown(d.SHA256))
	case typePackageFetched:
		add("package %s", Shown(d.Package))
	case typePackageFetchDone:
		if d.Aborted != "" {
			e.Action = "Package download ended early"
			add("package %s: the recipient did not receive the whole file: %s sent, then %s", Shown(d.Package), Bytes(d.Bytes), quoted(d.Aborted))
		} else {
			add("package %s: %s sent, sha256 %s matched the sealed package", Shown(d.Package), Bytes(d.Bytes), Shown(d.SHA256))
		}
		if d.FetchEvent != "" {
			add("of retrieval event %s", Shown(d.FetchEvent))
		}
	case typePackageReceived:
		add("package %s, sha256 %s, signed with key %s", Shown(d.Package), Shown(d.SHA256), Shown(d.Fingerprint))
	case typeHoldPlaced:
		add("%s", quoted(d.Reason))
	case typeHoldLifted:
		add("%s", quoted(d.Reason))
	case typeMemberAdded:
		add("%s", Shown(d.Person))
		granted(x, add)
	case typeMemberRemoved:
		add("%s: %s", Shown(d.Person), quoted(d.Reason))
	case typePolicySet:
		if d.ExportApproval == "required" {
			add("export approval %s", ExportApprovalRequired)
		} else {
			add("export approval %s", Shown(d.ExportApproval))
		}
		if d.Request != "" {
			granted(x, add)
		} else if d.Reason != "" {
			add("because %s", quoted(d.Reason))
		}
	case "person.enrolled":
		add("%s as %s", Shown(d.Name), Shown(d.Role))
		granted(x, add)
	case "person.credential.reissued", "person.reinstated":
		add("%s", Shown(d.Name))
		granted(x, add)
	case "person.suspended", "person.removed":
		add("%s", Shown(d.Name))
		if d.Reason != "" {
			add("because %s", quoted(d.Reason))
		}
	case typeDestroyRequested:
		add("order %s: %s", quoted(d.Order), quoted(d.Reason))
	case typeDestroyApproved:
		add("order %s, requested by %s", quoted(d.Order), Shown(d.RequestedBy))
	case typeCaseDestroyed:
		add("order %s", quoted(d.Order))
	case typeHashesExported:
		add("%s format, sha256 %s", Shown(d.Format), Shown(d.SHA256))
	case typeReport, typeCaseUCOExported:
		e.Action = "Custody report made (" + d.Format + ")" // escaped below
		if x.ev.Type == typeCaseUCOExported {
			e.Action = "CASE/UCO record exported"
		}
		if n := len(d.itemList()); n > 0 {
			add("%s", Count(n, "item"))
		} else {
			add("every item")
		}
	case typeCaseKeyFailed:
		add("%s", quoted(d.Reason))
	case "item.classified":
		add("category %s", Shown(d.Category))
		for _, f := range [][2]string{{"age group", d.AgeGroup}, {"sex", d.Sex}} {
			if f[1] != "" {
				add("%s %s", f[0], Shown(f[1]))
			}
		}
		if d.Series != "" {
			add("series %s", quoted(d.Series)) // free text
		}
		if d.Note != "" {
			add("note %s", quoted(d.Note))
		}
	case "case.classification.policy":
		add("agreeing classifications that settle an item's category: %d", d.Votes)
		if d.Request != "" {
			granted(x, add) // a lowering (since 2026-12-07)
		} else if d.Reason != "" {
			add("because %s", quoted(d.Reason))
		}
	case "report.received", "report.assessing", "report.closed", "report.reopened", "report.forwarded", "report.contact.opened":
		if d.Report != "" {
			add("report %s", Shown(d.Report))
		}
		switch x.ev.Type {
		case "report.received":
			if d.Channel != "" {
				// How it came, in words: "from a partner hotline", not
				// "by hotline", which reads as who received it.
				how, ok := map[string]string{"web": "through the public web form", "email": "by email", "phone": "by phone",
					"hotline": "from a partner hotline", "police": "from the police", "other": "by another channel"}[d.Channel]
				if !ok {
					how = "by " + Shown(d.Channel)
				}
				add("%s", how)
			}
		case "report.assessing":
			if x.ev.Case != "" {
				add("into case %s", Shown(x.ev.Case))
			}
		case "report.closed", "report.reopened":
			if d.Reason != "" {
				add("%s", quoted(d.Reason))
			}
		case "report.forwarded":
			add("to %s (%s, %s format)", quoted(d.To), Shown(d.Kind), Shown(d.Format))
		}
	case "report.notice.sent":
		add("report %s: notice about %s sent to %s by %s", Shown(d.Report), Shown(d.URL), quoted(d.To), Shown(d.Via))
		if d.Country != "" {
			add("hosted in %s", Shown(d.Country))
		}
	case "report.notice.acknowledged", "report.content.removed":
		add("report %s: %s", Shown(d.Report), Shown(d.URL))
	case "case.destruction.rejected":
		add("request %s of %s: %s", Shown(d.Request), Shown(d.RequestedBy), quoted(d.Reason))
	case "request.opened", "request.approved", "request.rejected":
		kind := Shown(d.Kind)
		if w := ActionWords[d.Kind]; w != "" {
			kind = "to " + w + " (" + kind + ")"
		}
		add("request %s, %s", Shown(d.Request), kind)
		if x.ev.Type == "request.opened" && d.Person != "" {
			add("concerning %s", Shown(d.Person))
		}
		if x.ev.Type == "request.opened" {
			// What is asked, where the request's kind says more than
			// its action's words.
			switch p := d.Params; d.Kind {
			case "case.classification.policy":
				add("agreeing classifications that settle an item's category: lower them from %d to %d", p.From, p.Votes)
			case "case.policy":
				add("export approval %s", Shown(p.ExportApproval))
			}
		}
		if x.ev.Type == "request.opened" && d.Kind == "package.seal" && d.Params.Purpose != "" {
			// A sealing's why is its purpose, asked in the request.
			add("for the purpose %s", quoted(d.Params.Purpose))
			break
		}
		if d.RequestedBy != "" {
			add("asked by %s", Shown(d.RequestedBy))
		}
		switch {
		case x.ev.Type == "request.opened" && d.Reason != "":
			add("because %s", quoted(d.Reason))
		case x.ev.Type == "request.opened":
			add("no reason recorded")
		case x.ev.Type == "request.approved" && d.Reason != "":
			// The approver's own (optional), beside the requester's.
			add("approved because %s", quoted(d.Reason))
		case d.Reason != "" && x.ev.Actor.Person == d.RequestedBy:
			add("withdrawn by its requester because %s", quoted(d.Reason))
		case d.Reason != "":
			add("rejected because %s", quoted(d.Reason))
		}
	}
	if strings.HasPrefix(x.ev.Type, "report.") && d.StatedAt != "" {
		add("stated to have happened at %s", Shown(d.StatedAt)) // before it was recorded
	}
	if strings.HasPrefix(x.ev.Type, "report.") && d.Note != "" {
		add("note %s", quoted(d.Note)) // an analyst's, free text
	}
	if e.Action == "" {
		// Every type this version writes has its words (Labels); a
		// type it does not know is shown by its type.
		e.Action = Labels[x.ev.Type]
		if e.Action == "" {
			e.Action = x.ev.Type
		}
	}
	e.Action = Shown(e.Action)
	x.clauses = details
	e.Details = strings.Join(details, "; ")
}

// attempts says when the refusals a summary event stands for happened,
// from its count, first and last (docs/custody-log.md, "Refusals"): "1
// attempt at 12:56:55 UTC", "12 attempts from 12:56:01 to 12:56:58 UTC".
// A summary is written at the end of its window, after them, so that the
// event's own time is not theirs. A time of another day than the event's
// is written with its date. It is "" for a refusal recorded as it
// happened (no first and last), or one whose times do not read.
func attempts(count int64, first, last string, at time.Time) string {
	f, err := time.Parse(time.RFC3339Nano, first)
	if err != nil {
		return ""
	}
	l, err := time.Parse(time.RFC3339Nano, last)
	if err != nil {
		return ""
	}
	clock := func(t time.Time) string {
		t = t.UTC()
		if y, m, d := t.Date(); y == at.UTC().Year() && m == at.UTC().Month() && d == at.UTC().Day() {
			return t.Format("15:04:05")
		}
		return t.Format("2006-01-02 15:04:05")
	}
	n := Count(int(max(count, 1)), "attempt")
	if from, to := clock(f), clock(l); from != to {
		return n + " from " + from + " to " + to + " UTC"
	}
	return n + " at " + clock(f) + " UTC"
}

// granted says, of a decision a second custodian approved (its event
// names the request), who asked for it, in which request, who approved
// it, and why the requester said they asked: "no reason given" when the
// event names the requester (events since 2026-12-05, which carry any
// reason given) and no reason.
func granted(x *decoded, add func(string, ...any)) {
	d := &x.d
	if d.Request == "" {
		return
	}
	if d.RequestedBy == "" {
		add("in request %s, approved by %s", Shown(d.Request), Shown(x.ev.Actor.Person))
		return
	}
	add("asked by %s in request %s, approved by %s", Shown(d.RequestedBy), Shown(d.Request), Shown(x.ev.Actor.Person))
	if d.Reason != "" {
		add("because %s", quoted(d.Reason))
	} else {
		add("no reason given")
	}
}

// Labels are the words a record shows for each event type the vault
// writes (docs/custody-log.md, section 8), where describe has none more
// particular. vault's tests check that every type it defines is here.
var Labels = map[string]string{
	"access.refused":             "Refused",
	"audit.scrubbed":             "Storage checked (scrub)",
	"case.caseuco.exported":      "CASE/UCO record exported",
	"case.classification.policy": "Classification policy set",
	"case.destroyed":             "Case destroyed (keys shredded)",
	"case.destruction.approved":  "Destruction approved",
	"case.destruction.rejected":  "Destruction request rejected or withdrawn",
	"case.destruction.requested": "Destruction requested",
	"case.hashes.exported":       "Hash list exported",
	"case.hold.lifted":           "Legal hold lifted",
	"case.hold.placed":           "Legal hold placed",
	"case.key.failed":            "Case key could not be used",
	"case.member.added":          "Person assigned to the case",
	"case.member.removed":        "Person's assignment ended",
	"case.opened":                "Case opened",
	"case.policy.set":            "Case policy set",
	"custody.report":             "Custody report made",
	"hashset.imported":           "Hash set of known material imported",
	"hashset.removed":            "Hash set of known material removed",
	"identity.source.accepted":   "Identity source accepted (a sign-in provider or client CA, on a request a second custodian approved)",
	"identity.source.retired":    "Identity source retired (it signs no one in from then on; on a request a second custodian approved)",
	"hashset.unused":             "Hash set of known material set aside",
	"integrity.failed":           "INTEGRITY FAILURE",
	"item.access.completed":      "Opening completed (plaintext sent in full)",
	"item.accessed":              "Opened (plaintext sent to the person, to view or to save)",
	"item.classified":            "Classified",
	"item.deposited":             "Deposited (received into custody)",
	"deposit.skipped":            "Statement of files not deposited, as the person named stated it",
	"key.stored":                 "Key files recorded",
	"keys.recovered":             "Case keys recovered",
	"keys.rotated":               "Keys rotated",
	"keys.rotating":              "Key rotation started",
	"log.opened":                 "Custody log opened",
	"log.rollback.accepted":      "Custody log restored from an older copy (loss accepted)",
	"objects.retained":           "Objects kept by their retention",
	"objects.swept":              "Orphaned objects swept (deleted unless their retention keeps them)",
	"package.fetched":            "Package fetched",
	"package.fetch.completed":    "Package download completed",
	"package.received":           "Package receipt signed",
	"package.sealed":             "Package sealed",
	"package.sealing":            "Sealing a package",
	"person.credential.issued":   "Credential issued",
	"person.credential.reissued": "Credential re-issued",
	"person.enrolled":            "Person enrolled",
	"person.reinstated":          "Person reinstated",
	"person.removed":             "Person removed",
	"person.suspended":           "Person suspended",
	"receipt.key.set":            "Receipt key registered",
	"recipient.set":              "Package recipient registered",
	"report.assessing":           "Report taken up for assessment",
	"report.closed":              "Report closed",
	"report.content.removed":     "Content reported removed",
	"report.forwarded":           "Report forwarded",
	"report.contact.opened":      "Reporter's contact opened",
	"report.notice.acknowledged": "Notice acknowledged",
	"report.notice.sent":         "Notice and takedown sent",
	"report.received":            "Report received",
	"report.reopened":            "Report reopened",
	"reports.contacts.key":       "Reporters' contact key set",
	"request.approved":           "Request approved by a custodian other than who asked",
	"request.opened":             "Request opened, for a custodian to approve",
	"request.rejected":           "Request rejected or withdrawn",
	"server.started":             "Server started",
	"server.stopped":             "Server stopped as asked",
	"session.ended":              "Session ended",
	"session.opened":             "Session opened",
}

func roleOr(role, dflt string) string {
	if role == "" {
		return dflt
	}
	return role
}

// GroundsWords says in words on what grounds a request was refused, by
// the "grounds" an access.refused event records (docs/custody-log.md):
// a refusal of what the person may not do reads differently to a court
// from one of what the record did not allow at that moment. Events
// written before grounds were recorded have none, and get no words.
var GroundsWords = map[string]string{
	"permission":  "on the grounds that their role, or their assignment to the case, does not include it (the vault refused it; nothing was done or shown)",
	"unknown":     "on the grounds that what they named does not exist",
	"state":       "on the grounds that the record did not allow it at that moment, whoever asked (the reason says why: a case destroyed or on hold, known material hidden from review, a request already decided, for instance)",
	"input":       "on the grounds that the request as sent could not be carried out (the reason says what was wrong or missing: most often a mistake, such as a name misspelt or a field left out; sometimes content that does not match the hash stated for it, or a form that did not come from the vault's own pages)",
	"credentials": "on the grounds that the request carried no valid credentials",
	"limit":       "on the grounds that there were too many requests",
}

// ActionWords says in words what a person asked to do, by the action
// name an access.refused event records (its "action"), for the custody
// documents: a judge reads "asked to see the item's description (not
// its content)", not "item.show". An action without words here is shown
// by its name.
var ActionWords = map[string]string{
	"audit.checkpoints":          "read the custody log's checkpoints",
	"audit.consistency":          "read a consistency proof of the custody log",
	"audit.events":               "read the custody log",
	"audit.log":                  "read the custody log",
	"audit.lookups":              "read the custody log's lookup values",
	"audit.records":              "read the custody log",
	"audit.timestamps":           "read the time-stamp tokens the object store keeps",
	"audit.scrub":                "check the stored evidence (a scrub)",
	"case.caseuco":               "export the case as CASE/UCO",
	"case.classification.policy": "set the case's classification policy",
	"case.destroy.approve":       "approve the case's destruction",
	"case.destroy.reject":        "end a request to destroy the case",
	"case.destroy.request":       "ask for the case's destruction",
	"case.hashes":                "export the case's hash list",
	"case.hold":                  "place the case under a legal hold",
	"case.member.add":            "add a member to the case",
	"case.member.remove":         "remove a member from the case",
	"case.open":                  "open a case",
	"case.policy":                "set the case's export policy",
	"case.release":               "lift the case's legal hold",
	"case.hold.set":              "place or lift the case's legal hold",
	"case.show":                  "see the case's details (not its evidence)",
	"case.similar":               "look for similar images in the case",
	"custody.report":             "make a custody report",
	"exposure.show":              "see a person's exposure to evidence",
	"exposure.staff":             "see every member of staff's exposure to evidence",
	"hashset.import":             "import a hash set",
	"hashset.list":               "list the hash sets",
	"hashset.remove":             "remove a hash set",
	"identity.source":            "ask to accept an identity source (a sign-in provider or client CA)",
	"identity.source.retire":     "ask to retire an identity source",
	"identity.sources":           "list the identity sources",
	"invitation.redeem":          "redeem an invitation",
	"item.classify":              "classify the item",
	"item.deposit":               "deposit evidence",
	"deposit.skipped":            "record what a deposit skipped",
	"item.get":                   "be sent the item's content (to the web viewer, or as a copy)",
	"item.list":                  "list the case's items (names and hashes, not content)",
	"item.show":                  "see the item's description (not its content)",
	"item.similar":               "look for images similar to the item",
	"keys.rotate":                "rotate the vault's keys",
	"package.fetch":              "fetch a sealed package",
	"package.receipt":            "acknowledge receipt of a package",
	"package.seal":               "seal a package of evidence",
	"person.enroll":              "enrol a person",
	"person.list":                "list the people the vault knows",
	"person.reinstate":           "reinstate a person",
	"person.reissue":             "issue a person a new credential",
	"person.remove":              "remove a person",
	"person.suspend":             "suspend a person",
	"public.report":              "file a report through the public form",
	"receipt.key.replace":        "replace a receipt key",
	"receipt.key.set":            "register a receipt key",
	"recipient.replace":          "replace an age recipient",
	"recipient.set":              "register an age recipient",
	"report.acknowledged":        "record a notice's acknowledgement for a hotline report",
	"report.assess":              "assess a hotline report",
	"report.close":               "close a hotline report",
	"report.forward":             "forward a hotline report",
	"report.list":                "list the hotline reports",
	"report.notice":              "record a notice for a hotline report",
	"report.record":              "record a hotline report",
	"report.removed":             "record a reported URL's content removed",
	"report.reopen":              "reopen a hotline report",
	"report.show":                "read a hotline report",
	"request.approve":            "approve a request",
	"request.reject":             "reject a request",
	"route.method":               "use an address of the vault in a way it does not answer",
	"route.unknown":              "reach an address the vault does not have",
	"session.open":               "sign in",
	"stats":                      "read the hotline's statistics",
}

// maxSkippedShown bounds the files of a deposit.skipped event a
// document lists (the event itself lists up to 1,000), maxSkippedRunes
// the characters of each path it shows and maxReasonRunes of each
// reason (a refusal's reason holds three SHA-256 in full): a case's
// thousand statements stay a few megabytes of report.
const (
	maxSkippedShown = 20
	maxSkippedRunes = 200
	maxReasonRunes  = 480
)

// shortenedWords is s cut to maxReasonRunes characters at the last space
// before them, with "…": a hash is shown whole or not at all.
func shortenedWords(s string) string {
	r := []rune(s)
	if len(r) <= maxReasonRunes {
		return s
	}
	cut := maxReasonRunes - 1
	if i := strings.LastIndex(string(r[:cut]), " "); i > 0 {
		return string(r[:cut])[:i] + " …"
	}
	return string(r[:cut]) + "…"
}

// shortened is s cut to maxSkippedRunes characters, with "…".
func shortened(s string) string {
	r := []rune(s)
	if len(r) <= maxSkippedRunes {
		return s
	}
	return string(r[:maxSkippedRunes-1]) + "…"
}

// QuotedName is a name in the escaped form item names are recorded in
// (vault.EscapeName) in quotation marks, as documents show it: through
// ShownName, with any quotation mark inside written \u201c or \u201d. A
// recorded name holds a backslash only as the start of an escape, so
// the quotes it shows are its own.
func QuotedName(name string) string {
	return "“" + strings.NewReplacer("“", `\u201c`, "”", `\u201d`).Replace(ShownName(name)) + "”"
}

// shortenedName is shortened for a recorded name: cut where no escape
// (\xHH) is cut in two.
func shortenedName(name string) string {
	r := []rune(name)
	if len(r) <= maxSkippedRunes {
		return name
	}
	cut := maxSkippedRunes - 1
	for i := max(cut-3, 0); i < cut; i++ {
		if r[i] == '\\' {
			cut = i
		}
	}
	return string(r[:cut]) + "…"
}

// quoted is free text in quotation marks, as documents show it: through
// Shown, with any quotation mark inside written \u201c or \u201d, so that
// a text cannot close its quotes and append a clause of its own.
func quoted(s string) string {
	s = strings.NewReplacer("“", `\u201c`, "”", `\u201d`).Replace(Shown(s))
	return "“" + s + "”"
}

// Describe says in words what one event is, as the custody documents show
// it: its Action ("Opened (plaintext sent to the person, to view or to save)") and Details (escaped and
// quoted already, as Event's). An event whose data does not decode, or of
// a type this version does not know, is described by its type.
func Describe(ev *events.Event) (action, details string) {
	action, _, details = DescribeWithPurpose(ev)
	return action, details
}

// DescribeClauses is Describe with the details as the clauses Describe
// joins with "; " (nil if none), for a page that sets each apart: the web
// timeline draws each, and each quoted text in it, in a bidirectional
// isolate of its own, so that an item's name in Hebrew does not draw the
// size after it before it.
func DescribeClauses(ev *events.Event) (action string, clauses []string) {
	x := decoded{ev: ev}
	if err := ev.DecodeData(&x.d); err != nil {
		return ev.Type, nil
	}
	describe(&x)
	if x.e.Action == "" {
		x.e.Action = ev.Type
	}
	return x.e.Action, x.clauses
}

// DescribeWithPurpose is Describe with the purpose the event states (a
// view's, a package's), quoted and escaped as Details are ("" if none),
// which the custody documents show in a column of its own.
func DescribeWithPurpose(ev *events.Event) (action, purpose, details string) {
	x := decoded{ev: ev}
	if err := ev.DecodeData(&x.d); err != nil {
		return ev.Type, "", ""
	}
	describe(&x)
	if x.e.Action == "" {
		x.e.Action = ev.Type
	}
	if x.e.Purpose != "" {
		purpose = quoted(x.e.Purpose)
	}
	return x.e.Action, purpose, x.e.Details
}

// Count says n things in words: "1 item", "2 items" (nouns whose plural
// adds an s).
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
