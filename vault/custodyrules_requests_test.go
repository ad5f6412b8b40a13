package vault

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestCustodyRulesOfRequests: two people for every grant of power, read
// from the log alone. Each case is a log a vault could not have written
// (a forged state, another build) next to the one it writes; a finding
// names its event, and what the vault writes passes.
func TestCustodyRulesOfRequests(t *testing.T) {
	type step struct {
		typ, person string
		data        any
		broken      string        // what the finding says; "" if allowed
		at          time.Duration // after the log's first event
		caseID      string        // the event's case ("-" for none), if not CASE-1
	}
	c1, c2, c3, inv, ana, pros := "keo.vanna", "chea.sopheap", "sam.rith", "sok.dara", "lim.sovann", "chan.dara"
	roles := map[string]string{c1: RoleCustodian, c2: RoleCustodian, c3: RoleCustodian, inv: RoleInvestigator, ana: RoleAnalyst, pros: RoleProsecutor, "defence.one": RoleDefence, "custos": RoleSystem}
	started := step{TypeServerStarted, "custos", map[string]string{"sealer": "s", "request_ttl": "72h0m0s", "hashset_approval": "required"}, "", 0, "-"}
	opened := step{TypeCaseOpened, inv, CaseOpened{Title: "t", Members: []string{inv}}, "", 0, ""}
	removals := step{TypeServerStarted, "custos", map[string]string{"sealer": "s", "request_ttl": "72h0m0s", "hashset_approval": "required", "hashset_removal": "request"}, "", 0, "-"}
	lowering := step{TypeServerStarted, "custos", map[string]string{"sealer": "s", "request_ttl": "72h0m0s", "classification_lowering": "request"}, "", 0, "-"}
	ask := func(id, kind, by, person string, expires time.Duration) step {
		caseID := "CASE-1"
		if kind != KindMember && kind != KindPolicy && kind != KindSeal {
			caseID = ""
		}
		return step{TypeRequestOpened, by, RequestOpened{Request: id, Kind: kind, Case: caseID, Person: person, Params: json.RawMessage(`{}`),
			Expires: base.Add(expires).Format(time.RFC3339)}, "", 0, map[bool]string{true: "-", false: ""}[caseID == ""]}
	}
	decide := func(typ, id, kind, by, requester string) step {
		return step{typ, by, RequestDecided{Request: id, Kind: kind, RequestedBy: requester}, "", 0, ""}
	}
	add := func(id, by, person string) step {
		return step{TypeCaseMemberAdded, by, MemberAdded{Person: person, Request: id}, "", 0, ""}
	}
	with := func(s step, broken string) step { s.broken = broken; return s }
	later := func(s step, d time.Duration) step { s.at = d; return s }
	for name, steps := range map[string][]step{
		"an assignment asked, approved by a second custodian, carried out": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			add("rq_1", c2, ana),
		},
		"an assignment without a request, in a log that runs requests": {
			started, opened,
			with(step{TypeCaseMemberAdded, c1, MemberAdded{Person: ana}, "", 0, ""}, "without a request a second custodian approved"),
		},
		"an approval by its requester": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			with(decide(TypeRequestApproved, "rq_1", KindMember, c1, c1), "approved by keo.vanna, who asked for it"),
		},
		"an approval by someone not a custodian": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			with(decide(TypeRequestApproved, "rq_1", KindMember, pros, c1), "a prosecutor: only a custodian does it"),
		},
		"an approval after the request expired": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			later(with(decide(TypeRequestApproved, "rq_1", KindMember, c2, c1), "after it expired"), time.Hour+2*time.Minute),
		},
		"an approval of a request whose requester is suspended, and one rejected then": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			ask("rq_3", KindMember, c1, inv, time.Hour),
			{TypePersonSuspended, c2, PersonStatus{Name: c1, Reason: "inquiry"}, "", 0, "-"},
			with(decide(TypeRequestApproved, "rq_1", KindMember, c2, c1), "is no longer an active custodian"),
			// One finding: the decision is read against its approval.
			add("rq_1", c2, ana),
			// A rejection takes no power: allowed (releases before
			// 2026-12-05 rejected void and expired requests too).
			later(decide(TypeRequestRejected, "rq_3", KindMember, c3, c1), 2*time.Hour),
		},
		"an approval of a request the log never opened, and one approved twice": {
			started, opened,
			with(decide(TypeRequestApproved, "rq_9", KindMember, c2, c1), "holds no pending request"),
			ask("rq_1", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			add("rq_1", c2, ana),
			with(decide(TypeRequestApproved, "rq_1", KindMember, c3, c1), "holds no pending request"),
		},
		"an approval whose decision does not follow it": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			with(step{TypeCaseHoldPlaced, c2, HoldChanged{Reason: "x"}, "", 0, ""}, "is not the case.member.added that carries it out"),
		},
		"a decision that names a request approved earlier": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			add("rq_1", c2, ana),
			{TypeCaseHoldPlaced, c2, HoldChanged{Reason: "x"}, "", 0, ""},
			with(add("rq_1", c2, pros), "the event before it is not that request's approval"),
		},
		"a decision of another person, by another custodian, than approved": {
			started, opened,
			ask("rq_1", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			with(add("rq_1", c2, pros), `for "chan.dara"; it asked for "lim.sovann"`),
			ask("rq_2", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_2", KindMember, c2, c1),
			with(add("rq_2", c3, ana), "but chea.sopheap approved it"),
		},
		"a request opened by someone who may not ask it, or for longer than the TTL": {
			started, opened,
			with(ask("rq_1", KindMember, inv, ana, time.Hour), "an investigator: only a custodian does it"),
			with(ask("rq_2", KindMember, c1, ana, 73*time.Hour), "longer than the request TTL of 72h0m0s"),
			with(ask("rq_3", KindRecipient, pros, "defence.one", time.Hour), "each person asks for their own"),
		},
		"an export approval dropped without a request, and required": {
			started, opened,
			{TypeCasePolicySet, c1, CasePolicySet{ExportApproval: ExportApprovalRequired}, "", 0, ""},
			with(step{TypeCasePolicySet, c1, CasePolicySet{ExportApproval: ExportApprovalNone}, "", 0, ""}, "dropped without a request"),
		},
		"a package sealed without the approval its case requires, and by an investigator not assigned": {
			started, opened,
			{TypeCaseOpened, ana, CaseOpened{Title: "u", Members: []string{ana}}, "", 0, "CASE-2"},
			with(step{TypePackageSealing, inv, PackageSealing{Package: "pk_1", For: pros}, "", 0, "CASE-2"}, "an investigator not assigned to it"),
			{TypePackageSealing, inv, PackageSealing{Package: "pk_2", For: pros}, "", 0, ""},
			{TypeCasePolicySet, c1, CasePolicySet{ExportApproval: ExportApprovalRequired}, "", 0, ""},
			with(step{TypePackageSealing, inv, PackageSealing{Package: "pk_3", For: pros}, "", 0, ""}, "though the case's policy requires one"),
			ask("rq_1", KindSeal, inv, pros, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindSeal, c1, inv),
			{TypePackageSealing, c1, PackageSealing{Package: "pk_4", For: pros, Request: "rq_1", RequestedBy: inv}, "", 0, ""},
		},
		"a recipient replaced without a request, and one registered by another": {
			started,
			{TypeRecipientSet, pros, RecipientSet{Recipient: "age1a"}, "", 0, "-"},
			with(step{TypeRecipientSet, pros, RecipientSet{Recipient: "age1b"}, "", 0, "-"}, "replaced without a request"),
			with(step{TypeReceiptKeySet, c1, ReceiptKeySet{Person: "defence.one"}, "", 0, "-"}, "each person registers their own"),
		},
		"a hash set imported without the approval the start required": {
			started,
			with(step{TypeHashSetImported, c1, HashSetImported{Name: "known"}, "", 0, "-"}, "the vault's last start required one"),
		},
		"an enrolment by a custodian without a request, and the server's own": {
			started,
			{TypePersonEnrolled, "custos", PersonEnrolled{Name: "new.one", Role: RoleAnalyst}, "", 0, "-"},
			with(step{TypePersonEnrolled, c1, PersonEnrolled{Name: "new.two", Role: RoleCustodian}, "", 0, "-"}, "enrolled by keo.vanna without a request"),
		},
		"a destruction approved after its request expired, and one void": {
			started, opened,
			{TypeDestructionRequested, c1, DestructionRequested{Request: "dr_1", Order: "o", Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""},
			later(with(step{TypeDestructionApproved, c2, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "", 0, ""}, "which had expired"), 2*time.Hour),
			{TypeCaseOpened, inv, CaseOpened{Title: "u", Members: []string{inv}}, "", 0, "CASE-2"},
			{TypeDestructionRequested, c1, DestructionRequested{Request: "dr_2", Order: "o"}, "", 0, "CASE-2"},
			{TypePersonSuspended, c2, PersonStatus{Name: c1, Reason: "inquiry"}, "", 0, "-"},
			with(step{TypeDestructionApproved, c3, DestructionApproved{Request: "dr_2", Order: "o", RequestedBy: c1}, "", 0, "CASE-2"}, "is no longer an active custodian"),
		},
		"a destruction request of a release that recorded no expiry, approved weeks later": {
			started, opened,
			{TypeDestructionRequested, c1, DestructionRequested{Request: "dr_1", Order: "o"}, "", 0, ""},
			later(step{TypeDestructionApproved, c2, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "", 0, ""}, 30*24*time.Hour),
		},
		"a decision that does other than what was asked": {
			started, opened,
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_1", Kind: KindEnroll, Person: "pat", Params: json.RawMessage(`{"name":"pat","role":"analyst"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_1", Kind: KindEnroll, RequestedBy: c1}, "", 0, "-"},
			with(step{TypePersonEnrolled, c2, PersonEnrolled{Name: "pat", Role: RoleCustodian, Request: "rq_1"}, "", 0, "-"}, "with another role than it asked"),
			{TypeRequestOpened, pros, RequestOpened{Request: "rq_2", Kind: KindRecipient, Person: pros, Params: json.RawMessage(`{"recipient":"age1asked"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"},
			{TypeRecipientSet, pros, RecipientSet{Recipient: "age1first"}, "", 0, "-"},
			{TypeRequestApproved, c1, RequestDecided{Request: "rq_2", Kind: KindRecipient, RequestedBy: pros}, "", 0, "-"},
			with(step{TypeRecipientSet, c1, RecipientSet{Recipient: "age1other", Person: pros, Request: "rq_2"}, "", 0, "-"}, "with another recipient than it asked"),
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_3", Kind: KindPolicy, Case: "CASE-1", Params: json.RawMessage(`{"export_approval":"required"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_3", Kind: KindPolicy, RequestedBy: c1}, "", 0, ""},
			with(step{TypeCasePolicySet, c2, CasePolicySet{ExportApproval: ExportApprovalNone, Request: "rq_3"}, "", 0, ""}, "with another export approval than it asked"),
		},
		"an approval of a request never opened, and its decision: one finding": {
			started, opened,
			with(decide(TypeRequestApproved, "rq_9", KindMember, c2, c1), "holds no pending request"),
			add("rq_9", c2, ana),
		},
		"a destruction request longer than the request TTL": {
			started, opened,
			with(step{TypeDestructionRequested, c1, DestructionRequested{Request: "dr_1", Order: "o", Expires: base.Add(100 * time.Hour).Format(time.RFC3339)}, "", 0, ""}, "longer than the request TTL of 72h0m0s"),
		},
		"a case opened again, or with others assigned; an item deposited again": {
			started, opened,
			{TypeItemDeposited, inv, ItemDeposited{Name: "a.jpg"}, "", 0, ""},
			{TypeCaseOpened, inv, CaseOpened{Title: "u", Members: []string{inv}}, "", 0, "CASE-2"},
			with(step{TypeItemDeposited, inv, ItemDeposited{Name: "a.jpg"}, "", 0, "CASE-2"}, "was deposited again"),
			with(step{TypeCaseOpened, inv, CaseOpened{Title: "t", Members: []string{inv}}, "", 0, ""}, "case CASE-1 was opened again"),
			with(step{TypeCaseOpened, inv, CaseOpened{Title: "v", Members: []string{inv, ana}}, "", 0, "CASE-3"}, "opened with its opener alone assigned"),
		},
		"acts of people the log suspended, and decisions for custodians only": {
			started, opened,
			{TypeItemDeposited, inv, ItemDeposited{Name: "a.jpg"}, "", 0, ""},
			with(step{TypePersonSuspended, ana, PersonStatus{Name: inv, Reason: "x"}, "", 0, "-"}, "an analyst: only a custodian does it"),
			{TypePersonSuspended, c1, PersonStatus{Name: ana, Reason: "x"}, "", 0, "-"},
			with(step{TypeItemClassified, ana, map[string]string{"category": "x"}, "", 0, ""}, "whom the log had suspended"),
			{TypeItemAccessCompleted, ana, map[string]string{}, "", 0, ""},
			with(step{TypeHashSetRemoved, pros, HashSetRemoved{Name: "known", Reason: "x"}, "", 0, "-"}, "a prosecutor: only a custodian does it"),
			with(step{TypeClassificationPolicySet, pros, map[string]string{}, "", 0, ""}, "a prosecutor: only a custodian does it"),
		},
		"a decision naming another requester, and a package for defence without its role": {
			started, opened,
			{TypeRecipientSet, "defence.one", RecipientSet{Recipient: "age1def"}, "", 0, "-"},
			ask("rq_1", KindMember, c1, ana, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			with(step{TypeCaseMemberAdded, c2, MemberAdded{Person: ana, Request: "rq_1", RequestedBy: c3}, "", 0, ""}, `as asked by "sam.rith"`),
			with(step{TypePackageSealing, inv, PackageSealing{Package: "pk_1", For: "defence.one", Recipient: "age1def"}, "", 0, ""}, "did not enroll as the prosecutor or defence counsel it names"),
			{TypePackageSealing, inv, PackageSealing{Package: "pk_2", For: "defence.one", ForRole: RoleDefence, Recipient: "age1def"}, "", 0, ""},
		},
		"params read by the grammar of event data, and an import of another table": {
			started, opened,
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_1", Kind: KindPolicy, Case: "CASE-1", Params: json.RawMessage(`{"export_approval":"required","Export_approval":"none"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_1", Kind: KindPolicy, RequestedBy: c1}, "", 0, ""},
			with(step{TypeCasePolicySet, c2, CasePolicySet{ExportApproval: ExportApprovalNone, Request: "rq_1"}, "", 0, ""}, "with another export approval than it asked"),
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_2", Kind: KindHashSetImport, Person: "known", Params: json.RawMessage(`{"name":"known","format":"sha256","source_sha256":"aa","imported":10,"table_sha256":"22"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_2", Kind: KindHashSetImport, RequestedBy: c1}, "", 0, "-"},
			with(step{TypeHashSetImported, c2, HashSetImported{Name: "known", Format: "sha256", SourceSHA256: "aa", Imported: 3, Rejected: 7, TableSHA256: "ff", Request: "rq_2"}, "", 0, "-"}, "with another hash set file or table"),
		},
		"a recipient kept over a re-enrolment of a log before requests": {
			opened,
			{TypeRecipientSet, pros, RecipientSet{Recipient: "age1pros"}, "", 0, "-"},
			{TypePersonEnrolled, "custos", PersonEnrolled{Name: pros, Role: RoleProsecutor}, "", 0, "-"},
			{TypePackageSealing, inv, PackageSealing{Package: "pk_1", For: pros, Recipient: "age1pros"}, "", 0, ""},
		},
		"requests that name no case or person their kind needs": {
			started, opened,
			with(step{TypeRequestOpened, c1, RequestOpened{Request: "rq_1", Kind: KindMember, Person: ana, Params: json.RawMessage(`{}`), Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"}, "names no case"),
			with(step{TypeRequestOpened, c1, RequestOpened{Request: "rq_2", Kind: KindReinstate, Params: json.RawMessage(`{}`), Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"}, "names no person"),
		},
		"an assignment of someone who handles no evidence, and enrolments of known names": {
			started, opened,
			ask("rq_1", KindMember, c1, pros, time.Hour),
			decide(TypeRequestApproved, "rq_1", KindMember, c2, c1),
			with(add("rq_1", c2, pros), "did not enroll them as an active investigator or analyst"),
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_2", Kind: KindEnroll, Person: ana, Params: json.RawMessage(`{"name":"lim.sovann","role":"custodian"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_2", Kind: KindEnroll, RequestedBy: c1}, "", 0, "-"},
			with(step{TypePersonEnrolled, c2, PersonEnrolled{Name: ana, Role: RoleCustodian, Request: "rq_2"}, "", 0, "-"}, "was enrolled again"),
		},
		"a package of another case's items, for someone not a recipient, or to another recipient": {
			started, opened,
			{TypeRecipientSet, pros, RecipientSet{Recipient: "age1pros"}, "", 0, "-"},
			{TypeCaseOpened, inv, CaseOpened{Title: "u", Members: []string{inv}}, "", 0, "CASE-2"},
			{TypeItemDeposited, inv, ItemDeposited{Name: "a.jpg"}, "", 0, "CASE-2"},
			with(step{TypePackageSealing, inv, PackageSealing{Package: "pk_1", For: pros, Recipient: "age1pros", Items: []string{"it_0123456789abcdef01234567"}}, "", 0, ""}, "which the log did not deposit in that case"),
			with(step{TypePackageSealing, inv, PackageSealing{Package: "pk_2", For: ana, Recipient: "age1pros"}, "", 0, ""}, "did not enroll as the prosecutor or defence counsel"),
			with(step{TypePackageSealing, inv, PackageSealing{Package: "pk_3", For: pros, Recipient: "age1mallory"}, "", 0, ""}, "not the one chan.dara registered"),
			{TypePackageSealing, inv, PackageSealing{Package: "pk_4", For: pros, Recipient: "age1pros"}, "", 0, ""},
		},
		"an approval after a clock set forward was put right, read by its own time": {
			started, opened,
			later(step{TypeCaseHoldPlaced, c1, HoldChanged{Reason: "x"}, "", 0, ""}, 30*24*time.Hour),
			ask("rq_1", KindMember, c1, ana, time.Hour),
			later(decide(TypeRequestApproved, "rq_1", KindMember, c2, c1), 30*time.Minute),
			add("rq_1", c2, ana),
		},
		"a classification policy lowered alone, after a start that says lowering is a request": {
			lowering, opened,
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 3, Reason: "CAID-style review"}, "", 0, ""},
			with(step{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 1}, "", 0, ""}, "lowered from 3 agreeing votes to 1 without a request a second custodian approved"),
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 2}, "", 0, ""},
			// Read as the vault reads it: 0 is the default of 1.
			with(step{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 0}, "", 0, ""}, "lowered from 2 agreeing votes to 0"),
		},
		"a classification policy lowered alone under a later start that does not say lowering is a request": {
			lowering, opened,
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 2}, "", 0, ""},
			started,
			with(step{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 1}, "", 0, ""}, "lowered from 2 agreeing votes to 1 without a request"),
		},
		"a classification policy lowered alone in a log whose starts never said lowering is a request": {
			started, opened,
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 3}, "", 0, ""},
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 1}, "", 0, ""},
		},
		"a classification policy lowered on a request, and one lowered further than asked": {
			lowering, opened,
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 3}, "", 0, ""},
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_1", Kind: KindClassificationPolicy, Case: "CASE-1", Params: json.RawMessage(`{"votes":2,"from":3}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_1", Kind: KindClassificationPolicy, RequestedBy: c1}, "", 0, ""},
			{TypeClassificationPolicySet, c2, ClassificationPolicySet{Votes: 2, Request: "rq_1", RequestedBy: c1}, "", 0, ""},
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_2", Kind: KindClassificationPolicy, Case: "CASE-1", Params: json.RawMessage(`{"votes":2,"from":3}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_2", Kind: KindClassificationPolicy, RequestedBy: c1}, "", 0, ""},
			with(step{TypeClassificationPolicySet, c2, ClassificationPolicySet{Votes: 1, Request: "rq_2", RequestedBy: c1}, "", 0, ""}, "with another number of votes than it asked"),
			{TypeClassificationPolicySet, c1, ClassificationPolicySet{Votes: 5}, "", 0, ""},
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_5", Kind: KindClassificationPolicy, Case: "CASE-1", Params: json.RawMessage(`{"votes":4,"from":2}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_5", Kind: KindClassificationPolicy, RequestedBy: c1}, "", 0, ""},
			with(step{TypeClassificationPolicySet, c2, ClassificationPolicySet{Votes: 4, Request: "rq_5", RequestedBy: c1}, "", 0, ""}, "asked to lower the case's classification policy from 2 agreeing votes, but it was 5 agreeing votes then"),
			with(step{TypeRequestOpened, ana, RequestOpened{Request: "rq_3", Kind: KindClassificationPolicy, Case: "CASE-1", Params: json.RawMessage(`{"votes":1,"from":2}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, ""}, "by lim.sovann, an analyst: only a custodian does it"),
			with(step{TypeRequestOpened, c1, RequestOpened{Request: "rq_4", Kind: KindClassificationPolicy, Params: json.RawMessage(`{"votes":1,"from":2}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"}, "names no case"),
		},
		"a hash set removed alone, where the last start says removals are requests": {
			removals, opened,
			with(step{TypeHashSetRemoved, c1, HashSetRemoved{Name: "known", Reason: "x"}, "", 0, "-"}, "hash set known was removed without a request a second custodian approved"),
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_1", Kind: KindHashSetRemove, Params: json.RawMessage(`{"name":"known","imported":1,"table_sha256":"aa"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_1", Kind: KindHashSetRemove, RequestedBy: c1}, "", 0, "-"},
			{TypeHashSetRemoved, c2, HashSetRemoved{Name: "known", Reason: "x", Request: "rq_1", RequestedBy: c1}, "", 0, "-"},
			{TypeRequestOpened, c1, RequestOpened{Request: "rq_2", Kind: KindHashSetRemove, Params: json.RawMessage(`{"name":"known","imported":1,"table_sha256":"aa"}`),
				Expires: base.Add(time.Hour).Format(time.RFC3339)}, "", 0, "-"},
			{TypeRequestApproved, c2, RequestDecided{Request: "rq_2", Kind: KindHashSetRemove, RequestedBy: c1}, "", 0, "-"},
			with(step{TypeHashSetRemoved, c2, HashSetRemoved{Name: "other", Reason: "x", Request: "rq_2", RequestedBy: c1}, "", 0, "-"}, `for "other"; it asked for "known"`),
		},
		"a hash set removed alone under a start of a build that did not ask removals to be requests": {
			started, opened,
			{TypeHashSetRemoved, c1, HashSetRemoved{Name: "known", Reason: "x"}, "", 0, "-"},
		},
		"a log from before requests: assignments and enrolments alone": {
			opened,
			{TypeCaseMemberAdded, c1, MemberAdded{Person: ana}, "", 0, ""},
			{TypePersonEnrolled, c1, PersonEnrolled{Name: "new.two", Role: RoleInvestigator}, "", 0, "-"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			enroll(t, &r, roles)
			for i, s := range steps {
				ev := ruleStep(t, uint64(i), s.typ, s.person, roles[s.person], s.data, s.at, s.caseID)
				checkRule(t, &r, ev, s.broken)
			}
		})
	}
}

// base is the time of the first event of TestCustodyRulesOfRequests' logs.
var base = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

// TestCustodyRulesOfTheServersEnrolments: the server enrols people
// itself only for the development persons of a first start, before
// anyone acted, and for the first two custodians (custos admin enroll).
func TestCustodyRulesOfTheServersEnrolments(t *testing.T) {
	system := events.Actor{Person: "custos", Role: RoleSystem, Auth: "server"}
	for name, tc := range map[string]struct {
		enrol  [][2]string // name, role, by the server, after one person's act
		broken string      // the finding of the last; "" if allowed
	}{
		"a third custodian":                  {[][2]string{{"c1", RoleCustodian}, {"c2", RoleCustodian}, {"c3", RoleCustodian}}, "not as one of its first two custodians"},
		"an investigator":                    {[][2]string{{"c1", RoleCustodian}, {"i1", RoleInvestigator}}, "after people had acted"},
		"the second custodian, after acting": {[][2]string{{"c1", RoleCustodian}, {"c2", RoleCustodian}}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			seq := uint64(0)
			check := func(ev *events.Event) error {
				ev.Seq, ev.Time = seq, events.FormatTime(base)
				seq++
				return r.Check(ev)
			}
			started, _ := json.Marshal(map[string]string{"request_ttl": "72h0m0s"})
			if err := check(&events.Event{Type: TypeServerStarted, Actor: system, Data: started}); err != nil {
				t.Fatal(err)
			}
			for i, p := range tc.enrol {
				if i == 1 {
					// The first custodian signs in.
					if err := check(&events.Event{Type: TypeSessionOpened, Actor: events.Actor{Person: tc.enrol[0][0], Role: tc.enrol[0][1]}, Data: []byte(`{}`)}); err != nil {
						t.Fatal(err)
					}
				}
				b, _ := json.Marshal(PersonEnrolled{Name: p[0], Role: p[1]})
				err := check(&events.Event{Type: TypePersonEnrolled, Actor: system, Data: b})
				var rb *RuleBroken
				switch last := i == len(tc.enrol)-1; {
				case !last || tc.broken == "":
					if err != nil {
						t.Fatalf("enrolling %s: %v, want it allowed", p[0], err)
					}
				case !errors.As(err, &rb) || !strings.Contains(rb.Reason, tc.broken):
					t.Fatalf("enrolling %s: %v, want a finding saying %q", p[0], err, tc.broken)
				}
			}
		})
	}
}

// ruleStep is the event of a rules test's step: at seq, of typ, by
// person in role, with data (as JSON), at base plus at, in case
// CASE-1, or caseID ("-": none).
func ruleStep(t *testing.T, seq uint64, typ, person, role string, data any, at time.Duration, caseID string) *events.Event {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	ev := &events.Event{Seq: seq, Type: typ, Case: "CASE-1", Actor: events.Actor{Person: person, Role: role}, Time: events.FormatTime(base.Add(at)), Data: b}
	switch caseID {
	case "-":
		ev.Case = ""
	case "":
	default:
		ev.Case = caseID
	}
	return ev
}
