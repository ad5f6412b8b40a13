package api

import (
	"net/http"
	"slices"

	"github.com/custos-vault/custos/vault"
)

// Route is one route of the API, as docs/api.yaml documents it: New
// registers exactly the routes Routes returns, and the tests check the
// table against the document (paths, operation ids, summaries, bearer
// token, and the JSON fields of each body).
type Route struct {
	Method string
	// Pattern is the path, with {wildcards} as net/http.ServeMux reads
	// them; Method and Pattern joined by a space are the route's action
	// in recorded refusals.
	Pattern string
	// Name is the operation's operationId.
	Name string
	// Asks, if set, is the vault's action whose gate (vault.MayAsk)
	// decides who may ask at all: a request found malformed is put to
	// it (with the path's first wildcard as the target) before it is
	// answered as bad input, so that a malformed body from someone who
	// may not ask is their recorded refusal (security.md rule 9; gated).
	Asks    string
	Summary string
	// Auth: the route needs a signed-in person (a session token or a client
	// certificate). /v1/health and the sign-in routes do not.
	Auth bool
	// Request and Response are zero values of the JSON bodies' types, or
	// nil where the body is not JSON (a deposit's bytes, a plaintext, a
	// package file, the stored events) or there is none. A response that
	// streams one JSON object per line (application/x-ndjson) names the
	// type of one line.
	Request, Response any

	serve handlerFunc
}

// handlerFunc serves one route for an authenticated person (the zero
// Principal on a route without Auth).
type handlerFunc func(h *Handler, w http.ResponseWriter, r *http.Request, who vault.Principal) error

var routes = []Route{
	{Method: "GET", Pattern: "/v1/health", Name: "health", Summary: "Liveness check",
		Response: HealthResponse{}, serve: (*Handler).health},

	{Method: "GET", Pattern: "/v1/auth", Name: "authConfig", Summary: "How people sign in to this vault",
		Response: AuthResponse{}, serve: (*Handler).authConfig},
	{Method: "POST", Pattern: "/v1/sessions", Name: "openSession",
		Summary: "Sign in with a local credential or an OpenID provider's ID token; answers a session token",
		Request: SessionRequest{}, Response: SessionResponse{}, serve: (*Handler).openSession},
	{Method: "POST", Pattern: "/v1/invitations/redeem", Name: "redeemInvitation",
		Summary: "Redeem both halves of an invitation for one's own local credential",
		Request: RedeemRequest{}, Response: RedeemResponse{}, serve: (*Handler).redeem},
	{Method: "POST", Pattern: "/v1/sessions/refresh", Name: "refreshSession", Auth: true,
		Summary:  "Replace the caller's local session with a new one",
		Response: SessionResponse{}, serve: (*Handler).refreshSession},
	{Method: "POST", Pattern: "/v1/sessions/end", Name: "endSession", Auth: true,
		Summary:  "Sign out: end the caller's session",
		Response: EndSessionResponse{}, serve: (*Handler).endSession},
	{Method: "GET", Pattern: "/v1/whoami", Name: "whoami", Auth: true,
		Summary:  "The caller's name, role and credential",
		Response: WhoAmIResponse{}, serve: (*Handler).whoami},

	{Method: "GET", Pattern: "/v1/cases", Name: "listCases", Auth: true,
		Summary:  "The caller's cases (every case for custodians and auditors)",
		Response: CasesResponse{}, serve: (*Handler).listCases},
	{Method: "GET", Pattern: "/v1/cases/{case}", Name: "showCase", Auth: true,
		Summary:  "A case's title, members, hold, retention, item count and size (its investigators, custodians, auditors)",
		Response: CaseDetailResponse{}, serve: (*Handler).showCase},
	{Method: "GET", Pattern: "/v1/cases/{case}/items", Name: "listItems", Auth: true,
		Summary:  "A case's items, optionally by name pattern or hash (investigators assigned to the case)",
		Response: ItemsResponse{}, serve: (*Handler).listItems},
	{Method: "POST", Pattern: "/v1/cases", Name: "openCase", Asks: "case.open", Auth: true,
		Summary: "Open a case (investigator, custodian); the opener becomes a member",
		Request: CaseRequest{}, Response: CaseResponse{}, serve: (*Handler).openCase},
	{Method: "POST", Pattern: "/v1/cases/{case}/items", Name: "deposit", Auth: true,
		Summary:  "Deposit one evidence file (investigator assigned to the case)",
		Response: DepositResponse{}, serve: (*Handler).deposit},
	{Method: "POST", Pattern: "/v1/cases/{case}/skipped", Name: "recordSkipped", Asks: "deposit.skipped", Auth: true,
		Summary: "Record what a deposit of seized media found and did not store (investigator or analyst assigned to the case)",
		Request: SkippedRequest{}, Response: SkippedResponse{}, serve: (*Handler).recordSkipped},
	{Method: "GET", Pattern: "/v1/cases/{case}/hashes", Name: "exportHashes", Auth: true,
		Summary:  "A case's hash list for partner agencies: sha256sum, sha1sum, md5sum, csv or vics (investigators assigned to the case, custodians; recorded)",
		Response: vault.VICSDocument{}, serve: (*Handler).exportHashes},
	{Method: "GET", Pattern: "/v1/cases/{case}/report", Name: "custodyReport", Auth: true,
		Summary: "A custody report of the case's items (?format=pdf or text, ?items=ID,..., ?purpose=), made from the custody log (auditors, custodians; recorded)",
		serve:   (*Handler).custodyReport},
	{Method: "GET", Pattern: "/v1/cases/{case}/case-uco", Name: "exportCaseUCO", Auth: true,
		Summary: "The case's custody as CASE 1.4 JSON-LD (?items=ID,..., ?purpose=) (auditors, custodians, investigators assigned to the case; recorded)",
		serve:   (*Handler).exportCaseUCO},
	{Method: "POST", Pattern: "/v1/cases/{case}/members", Name: "addMember", Asks: "case.member.add", Auth: true,
		Summary: "Ask for an investigator to be assigned to a case (custodian; another custodian approves)",
		Request: MemberRequest{}, Response: RequestResponse{}, serve: (*Handler).addMember},
	{Method: "POST", Pattern: "/v1/cases/{case}/policy", Name: "setPolicy", Asks: "case.policy", Auth: true,
		Summary: "Set whether the case's packages need a custodian's approval, never their requester's own (custodian; dropping it is a request)",
		Request: PolicyRequest{}, Response: PolicyResponse{}, serve: (*Handler).setPolicy},
	{Method: "POST", Pattern: "/v1/cases/{case}/members/{person}/remove", Name: "removeMember", Asks: "case.member.remove", Auth: true,
		Summary: "End a person's assignment to a case (custodian)",
		Request: RemoveMemberRequest{}, Response: MemberResponse{}, serve: (*Handler).removeMember},
	{Method: "POST", Pattern: "/v1/cases/{case}/hold", Name: "hold", Asks: "case.hold.set", Auth: true,
		Summary: "Place or lift a legal hold on a case (custodian)",
		Request: HoldRequest{}, Response: HoldResponse{}, serve: (*Handler).hold},
	{Method: "POST", Pattern: "/v1/cases/{case}/destruction", Name: "requestDestruction", Asks: "case.destroy.request", Auth: true,
		Summary: "Request the destruction of a case under a court order (custodian)",
		Request: DestructionRequest{}, Response: DestructionResponse{}, serve: (*Handler).requestDestruction},
	{Method: "POST", Pattern: "/v1/cases/{case}/destruction/{request}/approve", Name: "approveDestruction", Asks: "case.destroy.approve", Auth: true,
		Summary:  "Approve a destruction request (a second custodian, not the requester)",
		Response: DestroyResponse{}, serve: (*Handler).approveDestruction},

	{Method: "POST", Pattern: "/v1/persons", Name: "enroll", Asks: "person.enroll", Auth: true,
		Summary: "Ask for a person to be enrolled (custodian; another custodian approves)",
		Request: PersonRequest{}, Response: RequestResponse{}, serve: (*Handler).enroll},
	{Method: "GET", Pattern: "/v1/persons", Name: "persons", Auth: true,
		Summary:  "Every person the vault knows, with their status (custodian, auditor)",
		Response: PersonsResponse{}, serve: (*Handler).persons},
	{Method: "POST", Pattern: "/v1/persons/{person}/reissue", Name: "reissue", Asks: "person.reissue", Auth: true,
		Summary: "Ask for a person's local credential to be replaced by a new invitation (custodian; another approves)",
		Request: ReasonRequest{}, Response: RequestResponse{}, serve: (*Handler).reissue},
	{Method: "POST", Pattern: "/v1/persons/{person}/suspend", Name: "suspend", Asks: "person.suspend", Auth: true,
		Summary: "Suspend a person at once: their sessions end (custodian)",
		Request: PersonStatusRequest{}, Response: PersonStatusResponse{}, serve: (*Handler).suspend},
	{Method: "POST", Pattern: "/v1/persons/{person}/reinstate", Name: "reinstate", Asks: "person.reinstate", Auth: true,
		Summary: "Ask for a suspended person to be reinstated (custodian; another approves)",
		Request: ReasonRequest{}, Response: RequestResponse{}, serve: (*Handler).reinstate},
	{Method: "POST", Pattern: "/v1/persons/{person}/remove", Name: "remove", Asks: "person.remove", Auth: true,
		Summary: "Remove a person for good (custodian)",
		Request: PersonStatusRequest{}, Response: PersonStatusResponse{}, serve: (*Handler).remove},
	{Method: "GET", Pattern: "/v1/requests", Name: "requests", Auth: true,
		Summary:  "Pending two-person requests (all for custodians, one's own for others), and how one's own ended in the last 30 days",
		Response: RequestsResponse{}, serve: (*Handler).requests},
	{Method: "POST", Pattern: "/v1/requests/{request}/approve", Name: "approve", Asks: "request.approve", Auth: true,
		Summary: "Approve and carry out a request (a custodian other than the requester)",
		Request: ReasonRequest{}, Response: RequestResponse{}, serve: (*Handler).approve},
	{Method: "POST", Pattern: "/v1/requests/{request}/reject", Name: "reject", Auth: true,
		Summary: "Reject a request (a custodian other than the requester)",
		Request: RejectRequest{}, Response: RequestResponse{}, serve: (*Handler).reject},
	{Method: "POST", Pattern: "/v1/recipient", Name: "setRecipient", Asks: "recipient.set", Auth: true,
		Summary: "Register the caller's own age recipient for packages (prosecutor, defence; a replacement is a request a custodian approves)",
		Request: RecipientRequest{}, Response: RecipientResponse{}, serve: (*Handler).setRecipient},

	{Method: "GET", Pattern: "/v1/items/{item}/details", Name: "showItem", Asks: "item.show", Auth: true,
		Summary:  "An item's name, size, hashes, source, depositor and access count, without its content (investigators assigned to the case)",
		Response: ItemDetailResponse{}, serve: (*Handler).showItem},
	{Method: "GET", Pattern: "/v1/items/{item}", Name: "getItem", Asks: "item.get", Auth: true,
		Summary: "Get a copy of an item's plaintext (investigator or analyst assigned to the case)",
		serve:   (*Handler).getItem},

	{Method: "GET", Pattern: "/v1/packages", Name: "listPackages", Auth: true,
		Summary:  "Packages the caller may know: a prosecutor's or defence counsel's own, an investigator's cases', all for custodians and auditors",
		Response: PackagesResponse{}, serve: (*Handler).listPackages},
	{Method: "POST", Pattern: "/v1/packages", Name: "sealPackage", Asks: "package.seal", Auth: true,
		Summary: "Seal a package of a case's items for a prosecutor or defence counsel (investigator of the case, custodian)",
		Request: PackageRequest{}, Response: PackageResponse{}, serve: (*Handler).sealPackage},
	{Method: "POST", Pattern: "/v1/receipt-key", Name: "setReceiptKey", Asks: "receipt.key.set", Auth: true,
		Summary: "Register the SSH key the caller signs package receipts with (prosecutor, defence; a replacement is a request a custodian approves)",
		Request: ReceiptKeyRequest{}, Response: ReceiptKeyResponse{}, serve: (*Handler).setReceiptKey},
	{Method: "POST", Pattern: "/v1/packages/{package}/receipt", Name: "receivePackage", Asks: "package.receipt", Auth: true,
		Summary: "Acknowledge a package with an SSH signature over its SHA-256 (the person it is sealed for; recorded)",
		Request: ReceiptRequest{}, Response: ReceiptResponse{}, serve: (*Handler).receivePackage},
	{Method: "GET", Pattern: "/v1/packages/{package}", Name: "fetchPackage", Auth: true,
		Summary: "Fetch a sealed package file (the person it is sealed for)",
		serve:   (*Handler).fetchPackage},

	{Method: "POST", Pattern: "/v1/reports", Name: "recordReport", Asks: "report.record", Auth: true,
		Summary: "Record a report received by email, phone or from a partner hotline (analyst)",
		Request: ReportRequest{}, Response: ReportCreated{}, serve: (*Handler).recordReport},
	{Method: "GET", Pattern: "/v1/reports", Name: "listReports", Auth: true,
		Summary:  "Reports, oldest first (?status=received|assessing|actioned|closed|open) (analysts, custodians, auditors)",
		Response: ReportsResponse{}, serve: (*Handler).listReports},
	{Method: "GET", Pattern: "/v1/reports/{report}", Name: "showReport", Asks: "report.show", Auth: true,
		Summary:  "One report with its notices, items and forwardings (analysts, custodians, auditors; ?contact=open adds the reporter's contact, to analysts only, its opening recorded)",
		Response: vault.ReportView{}, serve: (*Handler).showReport},
	{Method: "POST", Pattern: "/v1/reports/{report}/assess", Name: "assessReport", Asks: "report.assess", Auth: true,
		Summary: "Take a report on into a case its captures are deposited to (analyst assigned to the case)",
		Request: AssessRequest{}, Response: vault.ReportView{}, serve: (*Handler).assessReport},
	{Method: "POST", Pattern: "/v1/reports/{report}/close", Name: "closeReport", Asks: "report.close", Auth: true,
		Summary: "Close a report with a reason (analyst)",
		Request: CloseReportRequest{}, Response: vault.ReportView{}, serve: (*Handler).closeReport},
	{Method: "POST", Pattern: "/v1/reports/{report}/reopen", Name: "reopenReport", Asks: "report.reopen", Auth: true,
		Summary: "Open a closed report again, with the reason (analyst)",
		Request: ReopenReportRequest{}, Response: vault.ReportView{}, serve: (*Handler).reopenReport},
	{Method: "POST", Pattern: "/v1/reports/{report}/notices", Name: "sendNotice", Asks: "report.notice", Auth: true,
		Summary: "Record a notice sent for one of the report's URLs (analyst)",
		Request: NoticeRequest{}, Response: vault.ReportView{}, serve: (*Handler).sendNotice},
	{Method: "POST", Pattern: "/v1/reports/{report}/acknowledged", Name: "noticeAcknowledged", Asks: "report.acknowledged", Auth: true,
		Summary: "Record that a notice was acknowledged (analyst)",
		Request: NoticeProgressRequest{}, Response: vault.ReportView{}, serve: noticeProgress(false)},
	{Method: "POST", Pattern: "/v1/reports/{report}/removed", Name: "contentRemoved", Asks: "report.removed", Auth: true,
		Summary: "Record that a URL's content is confirmed removed (analyst)",
		Request: NoticeProgressRequest{}, Response: vault.ReportView{}, serve: noticeProgress(true)},
	{Method: "GET", Pattern: "/v1/reports/{report}/forward", Name: "forwardReport", Asks: "report.forward", Auth: true,
		Summary: "A report's URLs and item hashes for a partner hotline or the police (?to=&kind=hotline|police&format=csv|vics) (analyst; recorded before it is sent)",
		serve:   (*Handler).forwardReport},
	{Method: "POST", Pattern: "/v1/items/{item}/classification", Name: "classify", Asks: "item.classify", Auth: true,
		Summary: "Vote on an item's category (analysts and investigators assigned to the case)",
		Request: ClassifyRequest{}, Response: ClassifyResponse{}, serve: (*Handler).classify},
	{Method: "GET", Pattern: "/v1/items/{item}/similar", Name: "similarItem", Asks: "item.similar", Auth: true,
		Summary:  "Near-duplicates of an image: classified items and hash-set entries within the PDQ threshold (?max_distance=BITS) (analysts and investigators assigned to the case)",
		Response: SimilarResponse{}, serve: (*Handler).similar},
	{Method: "GET", Pattern: "/v1/cases/{case}/similar", Name: "similarCase", Asks: "case.similar", Auth: true,
		Summary:  "Near-duplicates of every image of a case (?max_distance=BITS) (analysts and investigators assigned to the case)",
		Response: SimilarResponse{}, serve: (*Handler).similar},
	{Method: "POST", Pattern: "/v1/cases/{case}/classification-policy", Name: "setClassificationPolicy", Asks: "case.classification.policy", Auth: true,
		Summary: "How many agreeing votes settle an item's category in the case (custodian; lowering it is a request)",
		Request: ClassificationPolicyRequest{}, Response: ClassificationPolicyResponse{}, serve: (*Handler).setClassificationPolicy},
	{Method: "GET", Pattern: "/v1/exposure", Name: "exposure", Auth: true,
		Summary:  "What a person was shown, day by day (?person=; one's own, anyone's for custodians)",
		Response: vault.ExposureView{}, serve: (*Handler).exposure},
	{Method: "GET", Pattern: "/v1/exposure/staff", Name: "staffExposure", Auth: true,
		Summary:  "One day's exposure of every analyst and investigator, most items first (?date=YYYY-MM-DD, UTC; default today) (custodians)",
		Response: vault.StaffExposure{}, serve: (*Handler).staffExposure},
	{Method: "POST", Pattern: "/v1/hashsets", Name: "importHashSet", Asks: "hashset.import", Auth: true,
		Summary:  "Ask for the import of a known-material hash set (?name=&format=vics|caid|icse|nsrl|md5sum|sha1sum|sha256sum&category=); the body is the file (custodian; a request another custodian approves)",
		Response: vault.HashSetImportResult{}, serve: (*Handler).importHashSet},
	{Method: "GET", Pattern: "/v1/hashsets", Name: "listHashSets", Auth: true,
		Summary:  "The imported hash sets, and whether each is in use (custodians, auditors, analysts)",
		Response: HashSetsResponse{}, serve: (*Handler).listHashSets},
	{Method: "POST", Pattern: "/v1/hashsets/{name}/remove", Name: "removeHashSet", Asks: "hashset.remove", Auth: true,
		Summary: "Remove a hash set (custodian; recorded)",
		Request: RemoveHashSetRequest{}, Response: RemoveHashSetResponse{}, serve: (*Handler).removeHashSet},
	{Method: "GET", Pattern: "/v1/identity-sources", Name: "listIdentitySources", Asks: "identity.sources", Auth: true,
		Summary:  "The identity sources (OpenID provider, client CAs) the server is configured with and those two custodians accepted (custodians, auditors)",
		Response: IdentitySourcesResponse{}, serve: (*Handler).listIdentitySources},
	{Method: "POST", Pattern: "/v1/identity-sources", Name: "acceptIdentitySource", Asks: "identity.source", Auth: true,
		Summary: "Ask to accept an identity source (custodian; a request another custodian approves)",
		Request: AcceptIdentitySourceRequest{}, Response: RequestResponse{}, serve: (*Handler).acceptIdentitySource},
	{Method: "POST", Pattern: "/v1/identity-sources/retire", Name: "retireIdentitySource", Asks: "identity.source.retire", Auth: true,
		Summary: "Ask to retire an accepted identity source (custodian; a request another custodian approves)",
		Request: AcceptIdentitySourceRequest{}, Response: RequestResponse{}, serve: (*Handler).retireIdentitySource},
	{Method: "GET", Pattern: "/v1/stats", Name: "stats", Asks: "stats", Auth: true,
		Summary:  "Hotline statistics of a period (?from=&to=, dates or RFC 3339) (custodians, auditors, analysts)",
		Response: vault.Stats{}, serve: (*Handler).stats},

	{Method: "GET", Pattern: "/v1/log/key", Name: "logKey", Auth: true,
		Summary:  "The custody log's origin and checkpoint verifier key (any authenticated person)",
		Response: KeyResponse{}, serve: (*Handler).logKey},
	{Method: "GET", Pattern: "/v1/log/checkpoints", Name: "checkpoints", Auth: true,
		Summary:  "Every stored signed checkpoint, oldest first (auditor)",
		Response: CheckpointsResponse{}, serve: (*Handler).checkpoints},
	{Method: "GET", Pattern: "/v1/log/events", Name: "logEvents", Auth: true,
		Summary: "The custody log's stored event bytes (auditor)",
		serve:   (*Handler).logEvents},
	{Method: "GET", Pattern: "/v1/log/records", Name: "logRecords", Auth: true,
		Summary: "The custody log's stored event bytes with their lookup values, in one binary stream (auditor)",
		serve:   (*Handler).logRecords},
	{Method: "GET", Pattern: "/v1/log/timestamps", Name: "logTimestamps", Auth: true,
		Summary:  "The time-stamp notes and tokens the object store keeps (auditor)",
		Response: TimestampObject{}, serve: (*Handler).logTimestamps},
	{Method: "GET", Pattern: "/v1/log/lookups", Name: "logLookups", Auth: true,
		Summary:  "The lookup values the log store keeps beside each event (auditor)",
		Response: Lookup{}, serve: (*Handler).logLookups},
	{Method: "GET", Pattern: "/v1/log/timeline", Name: "timeline", Auth: true,
		Summary:  "Decoded events of an item, a case, or the whole log (auditor)",
		Response: TimelineResponse{}, serve: (*Handler).timeline},
	{Method: "GET", Pattern: "/v1/log/consistency", Name: "consistency", Auth: true,
		Summary:  "A consistency proof between two tree sizes (auditor)",
		Response: ConsistencyResponse{}, serve: (*Handler).consistency},

	{Method: "GET", Pattern: "/metrics", Name: "metrics",
		Summary: "The custody log's size, checkpoint and witnesses, and the server's goroutines, open files and memory, as Prometheus metrics (no sign-in)",
		serve:   (*Handler).metrics},
	{Method: "GET", Pattern: "/checkpoint", Name: "publicCheckpoint",
		Summary: "The newest witnessed checkpoint with its cosignatures (C2SP tlog-tiles; no sign-in)",
		serve:   (*Handler).publicCheckpoint},
	{Method: "GET", Pattern: "/tile/{path...}", Name: "tile",
		Summary: "A hash tile of the custody log's Merkle tree (C2SP tlog-tiles; no sign-in; never entry bundles)",
		serve:   (*Handler).tile},

	{Method: "POST", Pattern: "/v1/audit/scrub", Name: "scrub", Asks: "audit.scrub", Auth: true,
		Summary:  "Re-hash every stored object against the event that recorded it, without keys (auditor, custodian)",
		Response: ScrubResponse{}, serve: (*Handler).scrub},

	{Method: "POST", Pattern: "/v1/admin/rotate-kek", Name: "rotateKEK", Asks: "keys.rotate", Auth: true,
		Summary: "Re-seal every case key under a new key-encryption-key version (custodian)",
		Request: RotateRequest{}, Response: RotateResponse{}, serve: (*Handler).rotateKEK},
}

// Routes returns the API's routes, in the order New registers them.
func Routes() []Route { return slices.Clone(routes) }

// action is the route's pattern as net/http.ServeMux reads it, and its
// action in recorded refusals: "POST /v1/cases".
func (rt Route) action() string { return rt.Method + " " + rt.Pattern }

// HealthResponse is the answer of GET /v1/health.
type HealthResponse struct {
	OK bool `json:"ok"`
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, HealthResponse{OK: true})
	return nil
}
