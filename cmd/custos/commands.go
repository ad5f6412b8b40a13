package main

import (
	"io"
	"strings"

	"github.com/custos-vault/custos/vault"
)

// command is one verb of the CLI, declared once: dispatch, `custos help`,
// `custos VERB --help`, usage errors and docs/cli.md's command table
// (TestCLIDoc) are all built from this table.
type command struct {
	// name is the verb as typed: "case open".
	name string
	// args is the synopsis after the name: "CASE --title TEXT [--retention DURATION]".
	args    string
	summary string // one line
	// who may use it; "" for anyone.
	who string
	// details says more, for --help and the docs (one paragraph).
	details string
	// json is what --json prints ("" for verbs without --json).
	json     string
	examples []string
	group    string
	run      func(args []string, stdout, stderr io.Writer) error
	// lastWins: a flag given twice takes the last value (a server's
	// settings, where a unit's flags are followed by an operator's);
	// every other command refuses a flag of one value given twice.
	lastWins bool
}

// Groups, in the order help lists them.
var groups = []string{"Signing in", "Cases and evidence", "Hotline work", "Packages", "Court documents and exports", "People and approvals", "Audit", "Server and administration (on the server host)"}

func out(f func([]string, io.Writer) error) func([]string, io.Writer, io.Writer) error {
	return func(args []string, stdout, _ io.Writer) error { return f(args, stdout) }
}

func errOnly(f func([]string, io.Writer) error) func([]string, io.Writer, io.Writer) error {
	return func(args []string, _, stderr io.Writer) error { return f(args, stderr) }
}

var commands []command

func init() {
	const sg, cs, pk, pe, au, ad = "Signing in", "Cases and evidence", "Packages", "People and approvals", "Audit", "Server and administration (on the server host)"
	const cd = "Court documents and exports"
	const hw = "Hotline work"
	person := func(sub string) func([]string, io.Writer, io.Writer) error {
		return func(args []string, stdout, _ io.Writer) error { return runPerson(sub, args, stdout) }
	}
	decide := func(verb string) func([]string, io.Writer, io.Writer) error {
		return func(args []string, stdout, _ io.Writer) error { return runDecide(verb, args, stdout) }
	}
	hold := func(on bool) func([]string, io.Writer, io.Writer) error {
		return func(args []string, stdout, _ io.Writer) error { return runCaseHold(args, stdout, on) }
	}
	commands = []command{
		{name: "login", args: "[--browser]", group: sg, summary: "sign in through the organisation's identity provider",
			details: "Learns the provider from the vault (only CUSTOS_SERVER is needed), prints a URL and a code to open on any device (device grant), or with --browser opens the provider on this machine (PKCE, loopback redirect), and waits. Keeps the session and the provider's tokens in the config folder.",
			json:    `{"name","role","auth",...}` + " (as `whoami`)", run: runLogin,
			examples: []string{"export CUSTOS_SERVER=https://vault.hotline.example", "custos login"}},
		{name: "login", args: "--name NAME --invitation", group: sg, who: "a newly enrolled person",
			summary: "redeem your invitation (one half from each custodian) for your own credential",
			details: "Asks for the two halves without showing them (or reads them from standard input): never put them on the command line, where other users of the machine can read them. The credential is kept in your config folder and never printed; nobody else ever sees it.",
			json:    "as `whoami`", run: runLogin,
			examples: []string{"custos login --name dara --invitation"}},
		{name: "login", args: "--moved-from URL", group: sg, who: "anyone with a redeemed credential",
			summary: "after the vault moved (a new address, or TLS), move your kept login to CUSTOS_SERVER",
			details: "Your credential was never printed, so it cannot be typed again: this takes the login kept for the vault's former address (as CUSTOS_SERVER was set when you signed in) to the new one, once it signs you in there, and removes it from the former. A command at the new address that finds no login names the addresses a login is kept for. A login through the identity provider is not moved: run custos login at the new address.",
			json:    "as `whoami`", run: runLogin,
			examples: []string{"export CUSTOS_SERVER=https://vault.hotline.example", "custos login --moved-from http://127.0.0.1:8443"}},
		{name: "logout", args: "[--forget]", group: sg, who: "anyone signed in", summary: "end your session",
			details: "The credential redeemed from your invitation stays in your config folder and signs you in at the next command; --forget removes it too (then only a re-issue, approved by two custodians, signs you in again). A login through the identity provider is forgotten at once.",
			json:    `{"session","ended"}`, run: out(runLogout)},
		{name: "whoami", group: sg, who: "anyone signed in", summary: "who you are signed in as, and with what",
			json: `{"name","role","auth","session"?,"expires"?,"issuer"?,"subject"?,"acr"?,"amr"?,"certificate"?}`, run: out(runWhoami)},
		{name: "version", group: sg, who: "anyone, without signing in", summary: "this program's build, as the custody documents it makes name it (Made with)",
			json: `{"version"}`, run: out(runVersion)},

		{name: "case list", group: cs, who: "anyone (their own cases; all for custodians and auditors)", summary: "the cases you may know",
			json: `{"cases":[{"case","title","items","held","destroyed","opened_at"}]}`, run: out(runCaseList)},
		{name: "case show", args: "CASE", group: cs, who: "the case's investigators and analysts, custodians, auditors, and prosecutors with a package of the case",
			summary: "a case's title, members, hold, retention, item count and size, and whether its packages need approval (who decided so, when and why); to its analysts, custodians and auditors, the reports assessed into it",
			json:    `{"case","title","items","members","size","held","hold"?:{"by","at","reason","event"},"retention"?,"vault_retention","export_approval","export_policy"?:{"by","at","reason"?,"requested_by"?},"classification_votes","opened_by","opened_at","destroyed","destructions"?,"void_destructions"?,"reports"?:[{"report","status","received_at","urls","first_url"}]}`, run: out(runCaseShow)},
		{name: "case open", args: "CASE --title TEXT [--retention DURATION [--yes]]", group: cs, who: "investigator, analyst, custodian",
			summary: "open a case with its own key; the opener is a member",
			details: "--retention gives the case its own write-once period (10y, 3650d or 87600h); shorter than a year needs --yes, shorter than the vault's default is a custodian's decision, and never below the vault's floor.",
			json:    `{"case"}`, run: out(runCaseOpen),
			examples: []string{`custos case open KH-2026-014 --title "Live-streamed abuse, report 118"`}},
		{name: "deposit", args: "--case CASE [--source URL] [--note TEXT] [--expect-sha256 HASH|--expect-md5 HASH|--expect-sha1 HASH|--expect-from SUMS] [--again] [--name NAME] [--report REPORT] FILE|DIR|-...", group: cs, who: "investigator or analyst assigned to the case",
			summary: "encrypt, store and record each file, folder or standard input",
			details: "Folders are walked: each file keeps its path relative to the folder given, and what is not a regular file (links, devices, pipes) is reported, never followed. A file or a part of a folder that cannot be read (no permission, nested beyond the system's path limit) is left behind: the rest is deposited, that part listed as skipped with left_behind, and the command exits 1; run it again once that is put right. What a folder deposit did not store (with where each link pointed, and how many files it stored and found stored already) is recorded in the custody log as the depositor's statement (deposit.skipped, skipped_event in the answer). --source is compared exactly, spaces around it dropped. A file found in a folder that the case already holds under the same name, SHA-256 and --source is reported as already deposited and not stored again (a resumed deposit), unless --again; the same files from another --source (a second suspect's phone) are deposited as that exhibit's (files named one by one, and standard input, are always deposited; the answer then names the item the case already held, as again). A file whose name and --source the case already holds with other content (a file changed since it was deposited, or another file of that name given in the same run) is deposited as a new item and told (other_content, with the earlier items; other_content_unchecked where the vault could not say): both are kept. Two files of one run with the same name and content (two folders given, each with DCIM/IMG_0001.jpg) are both deposited. - deposits standard input under --name. --expect-sha256/--expect-md5/--expect-sha1 (one file) or --expect-from SUMS (a sha256sum, sha1sum or md5sum file listing every file, as made where the command runs, inside the folder given, in the folder above it, or with absolute paths) carry acquisition hashes into custody: an item whose content differs is refused, nothing of it kept, the refusal recorded, and the rest of a folder deposited (listed as refused; exit 1); a file the list names inside the folder given that is not there is left behind (exit 1). Each item records the list its hashes were read from, by the list file's name (a link's target; none for a pipe) and SHA-256; a list inside the folder it lists is deposited with it, so that the vault holds it too. Every file keeps its name's exact bytes: bytes that are not UTF-8, and characters that would not be seen as themselves (a newline, a right-to-left override, a zero-width space out of place), are recorded and shown as the escapes of their bytes (\\xe9, \\xe2\\x80\\xae); emoji and the joiners Khmer, Thai or Indic names need stay as written. Ctrl-C stops cleanly: the file being sent is not stored. The vault checks the client's own SHA-256 before the object commits. Each file is matched, in the same pass, against the imported hash sets (MD5, SHA-1, SHA-256) and, for images, hashed with PDQ; matches and known material are printed under the item (docs/hotline.md). --report names the hotline report the files were captured for.",
			json:    `{"items":[{"id","name","size","sha256","md5"?,"sha1"?,"event","matches"?,"media"?,"known"?,"again"?}],"already"?,"skipped"?:[{"path","reason","left_behind"?}],"refused"?:[{"path","reason"}],"other_content"?:[{"id","name","earlier"}],"other_content_unchecked"?:["ITEM"],"skipped_event"?}`, run: runDeposit,
			examples: []string{"custos deposit --case KH-2026-014 --source https://hotline.example/r/118 chat.txt video.mp4",
				"custos deposit --case KH-2026-014 --expect-from phone.sha256 phone-dump/",
				"adb exec-out cat /sdcard/chat.db | custos deposit --case KH-2026-014 --name chat.db -"}},
		{name: "get", args: "ITEM --purpose TEXT [--reveal-known] -o FILE", group: cs, who: "investigator or analyst assigned to the case",
			summary: "record the access, then write the plaintext and check its SHA-256",
			details: "The access is recorded as a copy (item.accessed with access copy): the plaintext leaves the vault as a file on this computer. Writes to a hidden temporary file beside FILE and renames it into place only if the size and SHA-256 match; never overwrites a file. Interrupted (Ctrl-C, SIGTERM, a closed terminal), it removes the temporary file; one that a kill beyond catching left is removed by the next get to the same name (a live fetch holds a lock on its own). Known material (classified, or matching a known-illegal hash set or a classified item) is refused for reviewer welfare unless --reveal-known, which the access event records with the reason it was known. Past the vault's daily exposure limit each access warns on standard error.",
			json:    `{"id","sha256","size","file"}`, run: runGet,
			examples: []string{`custos get it_0f1e2d3c4b5a69788796a5b4 --purpose "identify the victim's location" -o copy.mp4`}},
		{name: "item list", args: "--case CASE [--name GLOB] [--sha256 HASH] [--md5 HASH] [--sha1 HASH]", group: cs, who: "investigator or analyst assigned to the case",
			summary: "a case's items, by name pattern or hash",
			json:    `{"items":[{"id","name","size","sha256","category"?,"disputed"?,"known"?,"report"?}]}`, run: out(runItemList),
			examples: []string{"custos item list --case KH-2026-014 --name '*.mp4'"}},
		{name: "item show", args: "ITEM", group: cs, who: "investigator or analyst assigned to the case",
			summary: "an item's name, size, hashes (the acquisition hashes it matched, and their list, too), source, depositor and how many times it was opened (shown or copied), without its content",
			json:    `{"id","case","name","size","sha256","md5"?,"sha1"?,"acquisition"?:{"sha256"?,"sha1"?,"md5"?,"list"?:{"name","sha256","entry"?}},"source"?,"note"?,"report"?,"deposited_by","deposited_at","accesses","classification","known"?,"matches"?,"media"?,"case_destroyed"?}`, run: out(runItemShow),
			examples: []string{"custos item show it_0123456789abcdef01234567"}},
		{name: "case add-member", args: "CASE PERSON [--reason TEXT]", group: cs, who: "custodian",
			summary: "ask for an investigator or analyst to be assigned to a case; a second custodian approves",
			json:    "a request, as `person add`", run: out(runCaseAddMember)},
		{name: "case remove-member", args: "CASE PERSON --reason TEXT", group: cs, who: "custodian",
			summary: "end an investigator's or analyst's assignment to a case",
			details: "Their views, deposits and sealings at a later position in the log are refused.",
			json:    `{"case","person"}`, run: out(runCaseRemoveMember)},
		{name: "case hold", args: "CASE --reason TEXT", group: cs, who: "custodian", summary: "place a legal hold on every object of the case",
			details: "S3 legal hold on MinIO; objects deposited while held are held too. Asking again for a case already held records nothing, keeps no reason, and says so (recorded false); the hold is applied to its objects again. A destruction request waiting when the hold is placed is void (named in the answer, voided): lifting the hold does not bring it back, and destruction is asked again.",
			json:    `{"case","held","objects","recorded","voided"?}`, run: hold(true)},
		{name: "case release", args: "CASE --reason TEXT", group: cs, who: "custodian", summary: "lift a case's legal hold",
			json: `{"case","held","objects","recorded"}`, run: hold(false)},
		{name: "case policy", args: "CASE --export-approval required|none [--reason TEXT]", group: cs, who: "custodian",
			summary: "whether every package of the case needs a custodian's approval, never its requester's own",
			details: "Under required, an investigator's sealing is a request a custodian approves, and a custodian's one another custodian approves. Requiring approval takes effect at once; dropping it is a request another custodian approves.",
			json:    `{"case","export_approval","recorded"}` + " or a request", run: out(runCasePolicy)},
		{name: "case destroy", args: "CASE --order REF --reason TEXT", group: cs, who: "custodian",
			summary: "request a case's destruction under a court order (refused while the case is held)",
			details: "The request may be approved until it expires (the vault's request TTL, 7 days by default); it is void if its custodian is suspended or removed before then, or if a legal hold is placed on the case while it waits (lifting the hold does not bring it back: destruction is asked again once the hold is lifted, so that the custodian who lifts a hold cannot approve a destruction asked before it). custos reject REQUEST --reason TEXT ends it sooner (withdrawn by its custodian, rejected by another).",
			json:    `{"case","request"}`, run: out(runCaseDestroy)},
		{name: "case approve-destruction", args: "CASE REQUEST", group: cs, who: "a second custodian",
			summary: "destroy the case's keys (crypto-shredding) and delete its objects where retention allows",
			details: "The vault can no longer read anything of the case afterwards: its items' files need the destroyed keys. Packages sealed before are encrypted to their recipients' own keys, not the case's: a copy its recipient fetched stays readable by them; the vault no longer hands out or acknowledges the case's packages (one never fetched is lost to its recipient), and their package list marks the case destroyed.",
			json:    `{"case","deleted","retained"}`, run: out(runCaseApproveDestruction)},

		{name: "report new", args: "--url URL [--url URL...] [--channel CHANNEL] [--description TEXT] [--anonymous | --contact CONTACT] [--reference REF] [--at TIME]", group: hw, who: "analyst",
			summary: "record a report received by email, phone or from a partner hotline",
			details: "Reports from the public arrive through the public intake (custos server --public-listen) by themselves. The vault never opens a reported URL: capture what you find with your own tools and deposit it with --report. A URL is taken as a browser's address bar shows it, as the public form takes it: without http:// (added), or with a host in another script (recorded in its punycode form).",
			json:    `{"report"}`, run: out(runReportNew),
			examples: []string{"custos report new --channel email --url https://host.example/a.jpg --description 'sent by a parent'"}},
		{name: "report list", args: "[--status received|assessing|actioned|closed|open] [--url URL] [--case CASE]", group: hw, who: "analyst, custodian, auditor",
			summary: "reports, oldest first; --case: those assessed into a case (its analysts, custodians, auditors)", json: `{"reports":[{"report","channel","status","received_at","urls","case",...}]}`, run: out(runReportList),
			examples: []string{"custos report list --status open", "custos report list --url https://imgshare.example/g/7781", "custos report list --case HL-2026-0042"}},
		{name: "report show", args: "REPORT [--contact]", group: hw, who: "analyst, custodian, auditor",
			summary: "one report: its URLs with their notices and takedowns, its items, its forwardings",
			details: "The reporter's contact is personal data: it is shown only with --contact, to analysts, and its opening is recorded in the report's history first, naming you.",
			json:    `{"report","status","urls","notices","items","forwards",...}`, run: out(runReportShow),
			examples: []string{"custos report show rp_0123456789abcdef01234567", "custos report show rp_0123456789abcdef01234567 --contact"}},
		{name: "report assess", args: "REPORT --case CASE [--note TEXT]", group: hw, who: "analyst assigned to the case",
			summary: "take a report on into a case; its captures are then deposited with --report",
			json:    "the report, as `report show`", run: out(runReportAssess),
			examples: []string{"custos report assess rp_0123456789abcdef01234567 --case HL-2026-0042", "custos deposit --case HL-2026-0042 --report rp_0123456789abcdef01234567 capture/"}},
		{name: "report notice", args: "REPORT --url URL --to PROVIDER [--via email|web-form|iccam|phone|letter|api|other] [--reference REF] [--country CC] [--at TIME]", group: hw, who: "analyst",
			summary: "record the notice and takedown request sent for one reported URL",
			details: "Times to removal are measured from the first notice of each URL (custos stats).",
			json:    "the report, as `report show`", run: out(runReportNotice),
			examples: []string{"custos report notice rp_0123456789abcdef01234567 --url https://imgshare.example/g/7781 --to abuse@imgshare.example --via email --country NL", "custos report notice rp_0123456789abcdef01234567 --url https://imgshare.example/g/7781 --to 'INHOPE partner NL' --via iccam --at 2026-12-08T09:30:00+07:00"}},
		{name: "report acknowledged", args: "REPORT --url URL [--note TEXT] [--at TIME]", group: hw, who: "analyst",
			summary: "record that the provider acknowledged the notice", json: "the report, as `report show`", run: out(runNoticeProgress("report acknowledged", "acknowledged")),
			examples: []string{"custos report acknowledged rp_0123456789abcdef01234567 --url https://imgshare.example/g/7781 --note 'ticket 5521 opened'"}},
		{name: "report removed", args: "REPORT --url URL [--note TEXT] [--at TIME]", group: hw, who: "analyst",
			summary: "record that the content is confirmed gone from the URL", json: "the report, as `report show`", run: out(runNoticeProgress("report removed", "removed")),
			examples: []string{"custos report removed rp_0123456789abcdef01234567 --url https://imgshare.example/g/7781 --note 'checked from the isolated VM: 404'"}},
		{name: "report forward", args: "REPORT --to NAME [--kind hotline|police] [--format csv|vics] -o FILE", group: hw, who: "analyst",
			summary: "export a report's URLs and item hashes for a partner hotline or the police, recorded before it is written",
			details: "Evidence itself goes to the police as a sealed package (custos package seal); this export carries hashes, URLs and notices only.",
			json:    `{"report","to","format","sha256","size","file"}`, run: runReportForward,
			examples: []string{"custos report forward rp_0123456789abcdef01234567 --to 'ECPAT Philippines' --kind hotline --format csv -o rp_0123456789abcdef01234567.csv", "custos report forward rp_0123456789abcdef01234567 --to 'National Police, TIP unit' --kind police --format vics -o rp_0123456789abcdef01234567.json"}},
		{name: "report close", args: "REPORT --reason " + strings.Join(vault.ReportCloseReasons, "|") + " [--note TEXT]", group: hw, who: "analyst",
			summary: "close a report", json: "the report, as `report show`", run: out(runReportClose),
			examples: []string{"custos report close rp_0123456789abcdef01234567 --reason actioned", "custos report close rp_0123456789abcdef01234567 --reason duplicate --note 'same gallery as rp_...'"}},
		{name: "report reopen", args: "REPORT --reason TEXT", group: hw, who: "analyst",
			summary: "open a closed report again", json: "the report, as `report show`", run: out(runReportReopen),
			examples: []string{"custos report reopen rp_0123456789abcdef01234567 --reason 'the gallery is back at another address'"}},
		{name: "classify", args: "ITEM --category baseline|national|not-illegal [--age-group GROUP] [--sex SEX] [--series NAME] [--note TEXT]", group: hw, who: "analyst, investigator assigned to the case",
			summary: "vote on an item's category (INHOPE's universal classification)",
			details: "Each vote is recorded; your later vote replaces your earlier one. The case's policy (case classification-votes) says how many agreeing votes settle a category; disagreements are shown. An item whose category is settled as baseline or national, and every copy or near-copy of it (same SHA-256, or PDQ within 31 bits), is then known material: hidden from review unless revealed with get --reveal-known. A vote changed or a dissent afterwards leaves it hidden; so does one not-illegal vote on material a hash set lists: two people must agree it is not illegal.",
			json:    `{"item","category","votes","needed","settled"?,"disputed","classification","known"?}`, run: out(runClassify),
			examples: []string{"custos classify it_0123456789abcdef01234567 --category baseline --age-group pre-pubescent --sex female", "custos classify it_0123456789abcdef01234567 --category not-illegal --note 'adult, age verified by the studio'"}},
		{name: "similar", args: "ITEM | --case CASE [--max-distance BITS]", group: hw, who: "analyst, investigator assigned to the case",
			summary: "near-duplicates of an image, or of every image of a case: items of your cases, items of others classified illegal (not named), hash-set entries",
			details: "Compares PDQ hashes (docs/pdq.md) and their rotations and flips, within 31 bits of 256 by default (--max-distance 1 to 64); hashes of quality below 50 are not used. Items of cases you are not assigned to are shown only when classified illegal, and never named.",
			json:    `{"items":[{"item","name","matches":[{"item"?,"name"?,"case"?,"set"?,"entry"?,"category","distance"}],"not_searched"?}]}`, run: out(runSimilar),
			examples: []string{"custos similar it_0123456789abcdef01234567", "custos similar --case HL-2026-0042 --max-distance 20"}},
		{name: "case classification-votes", args: "CASE N [--reason TEXT]", group: hw, who: "custodian",
			summary: "how many agreeing votes settle an item's category in the case (default 1; 3 where three analysts must agree, as CAID-style review asks; lowering it is a request)",
			details: "Raising it takes effect at once and says how many of the case's items it unsettled (those known material by their category, and their copies, may come back for review) or settled. Lowering it lets fewer people settle a category (one analyst could settle what two had to), so it is a request another custodian approves (custos approve REQUEST, which says what it settled). --reason is recorded with either.",
			json:    `{"case","votes","unsettled","settled","recorded"}` + " or a request", run: out(runCaseClassificationPolicy),
			examples: []string{"custos case classification-votes HL-2026-0042 3 --reason 'CAID review: three analysts agree'"}},
		{name: "exposure", args: "[--person NAME | --staff [--date DAY]]", group: hw, who: "anyone (their own), custodian (anyone's, or every analyst's and investigator's)",
			summary: "what a person was shown, day by day: items, known items revealed, minutes of video",
			details: "--staff gives one day for every analyst and investigator, most items first, with who reached the daily limit.",
			json:    `{"person","daily_limit","today","days":[{"date","items","overrides","video_minutes"}]}` + " or, with --staff, " + `{"date","daily_limit","people":[{"person","role","items",...,"over_limit"}]}`, run: out(runExposure),
			examples: []string{"custos exposure", "custos exposure --staff --date 2026-12-08", "custos exposure --person sophea"}},
		{name: "hashset import", args: "FILE --format vics|caid|icse|nsrl|md5sum|sha1sum|sha256sum --name NAME [--category CATEGORY]", group: hw, who: "custodian",
			summary: "import a known-material hash set; every later deposit is matched against it (on a vault with --hashset-approval required, once a second custodian approves the import)",
			details: "Project VIC VICS 1.3 and 2.0 JSON, CAID (the VICS 1.2 layout), INTERPOL ICSE CSV, NIST NSRL RDS text, and the md5sum, sha1sum and sha256sum formats (docs/hashsets.md). Malformed lines are reported with their line numbers, counted and skipped; a fatal error (not that format, broken structure, no valid entry) changes nothing, and so does a refusal: a hash list this vault wrote itself (a case's export or a report's forwarding, in any format; it is for partners), or, with --category, a VICS file of cases with items without a category, each of which would take it (docs/hotline.md section 4). The import is recorded with the file's SHA-256, the counts and the digest of the tables built; a later import of the same name replaces the set. On a vault started with --hashset-approval required, the import is a request (request in the answer) and the set is used only once a second custodian approves it (custos approve REQUEST): a set decides what is hidden from review in every case. --category says what a match means where an entry names no category of its own (required for nsrl, md5sum, sha1sum and sha256sum files, whose entries name none): baseline or national (known-illegal: matching items inherit it and are hidden from review), not-illegal, or known-good (NSRL: ordinary files).",
			json:    `{"hashset","format","category"?,"imported","rejected","lines","problems","source_sha256","table_sha256","event" or "request","expires","requested_by"}`, run: runHashSetImport,
			examples: []string{"custos hashset import vics-2026-11.json --format vics --name projectvic --category baseline", "custos hashset import NSRLFile.txt --format nsrl --name nsrl --category known-good"}},
		{name: "hashset list", group: hw, who: "custodian, auditor, analyst", summary: "the imported hash sets, and whether each is in use",
			details: "A set whose files do not hash to what its import recorded (edited on disk, or left half-replaced by a crash) is not used, and says so here. CATEGORY is the one the set was imported with; a set imported without one shows (each entry's own), and its JSON has no category.",
			json:    `{"hashsets":[{"name","format","category"?,"imported","status",...}]}`, run: out(runHashSetList),
			examples: []string{"custos hashset list"}},
		{name: "hashset remove", args: "NAME --reason TEXT", group: hw, who: "custodian", summary: "stop matching against a hash set and delete it (on a vault with --hashset-approval required, once a second custodian approves)",
			details: "What the set lists is no longer known material by it, unless a deposit recorded the match: such items may come back for review, and one analyst's not-illegal vote may then settle them. So, where imports need a second custodian, removals do too.",
			json:    `{"hashset","removed"}` + " or a request", run: out(runHashSetRemove),
			examples: []string{"custos hashset remove projectvic-2025 --reason 'replaced by the December list'"}},
		{name: "stats", args: "[--from DATE] [--to DATE]", group: hw, who: "custodian, auditor, analyst",
			summary: "the figures hotlines publish: reports, items by category, hash-set matches, new material, notices and times to removal",
			details: "Derived from the custody events; log_size says how many (whether an item is known material also depends on the hash sets in use now; docs/hotline.md section 7 says how each figure is counted). --to is exclusive: --from 2026-01-01 --to 2026-07-01 is the first half of 2026.",
			json:    `{"reports","items","by_category","matches_by_hashset","notices","forwarded"}`, run: out(runStats),
			examples: []string{"custos stats --from 2026-01-01 --to 2027-01-01", "custos stats --from 2026-12-08 --to 2026-12-09"}},

		{name: "recipient set", args: "AGE_RECIPIENT", group: pk, who: "prosecutor, defence",
			summary: "register your own age recipient for packages",
			details: "The first registration takes effect at once; replacing a registered recipient is a request a custodian approves. Make the key with age-keygen -pq (hybrid post-quantum, as docs/keys.md advises) and keep its file safe and backed up, on your own machine, never in the vault: every package sealed for you opens only with it, and nobody, the vault's custodians included, can open one for you if it is lost.",
			json:    `{"recipient"}` + " or a request", run: out(runRecipientSet),
			examples: []string{"age-keygen -pq -o prosecutor.key", `custos recipient set "$(age-keygen -y prosecutor.key)"`}},
		{name: "package seal", args: "--case CASE --for PERSON --purpose TEXT [--items ID,...] [--disclose-others]", group: pk, who: "investigator assigned to the case, custodian",
			summary: "seal a package of the case's items (or the listed ones) for a prosecutor or defence counsel",
			details: "The package is encrypted to the age key the person it is for registered first (custos recipient set, as that person). The package holds report.txt and report.pdf, the items' chain of custody; --disclose-others makes them state the other packages the same items were sealed in. Under a case's export approval policy, opens a request that a custodian other than you approves (custos approve), which seals the package.",
			json:    `{"package","size","sha256","items","for","for_role","warnings"?}` + " or a request", run: out(runPackageSeal)},
		{name: "package list", group: pk, who: "anyone (a prosecutor or defence counsel: theirs; all for custodians and auditors)", summary: "the packages you may know",
			details: "RECEIVED is when the person it is sealed for acknowledged it (custos package receipt); a case marked (destroyed) was destroyed since: its packages are not fetched any more, and copies fetched before stay readable by the people they were sealed for; --json gives each package file's SHA-256, which custos-verify prints of the file it checks.",
			json:    `{"packages":[{"package","case","for","items","purpose","sealed_at","size","sha256","receipt"?,"case_destroyed"?}]}`, run: out(runPackageList)},
		{name: "package fetch", args: "ID -o FILE", group: pk, who: "the prosecutor or defence counsel it is sealed for",
			summary: "record the retrieval, then write and check the package file",
			json:    `{"package","sha256","size","file"}`, run: runPackageFetch},
		{name: "receipt-key set", args: "KEY.pub", group: pk, who: "prosecutor, defence",
			summary: "register the SSH key you sign package receipts with",
			details: "An OpenSSH public key file (ssh-ed25519 recommended; ecdsa, or RSA of 3072 bits or more). The first registration takes effect at once; replacing a registered key (lost or compromised) is a request a custodian approves.",
			json:    `{"key","fingerprint"}` + " or a request", run: out(runReceiptKeySet)},
		{name: "package receipt", args: "ID --file FILE --ssh-key KEY", group: pk, who: "the prosecutor or defence counsel it is sealed for",
			summary: "acknowledge a package: sign its SHA-256 with ssh-keygen -Y sign and have the vault record it",
			details: "FILE is the package as fetched; KEY the private key of the registered receipt key (ssh-keygen may ask for its passphrase). The receipt is kept beside FILE as FILE.receipt.txt (the message) and FILE.receipt.sig (the signature), and can be checked later with ssh-keygen -Y verify alone (docs/formats.md).",
			json:    `{"package","sha256","signature","fingerprint"}`, run: runPackageReceipt},
		{name: "report", args: "--case CASE [--items ID,...] [--purpose TEXT] [--format pdf|text] -o FILE", group: cd, who: "auditor, custodian",
			summary: "the chain-of-custody report of a case's items, for a court, recorded before it is made (a hotline's reports are report new, list and show)",
			details: "Made from the custody log: each item's hashes and every event of its custody (who, when, how they signed in, what, why), holds and destruction, the checkpoint with its witnesses and time-stamps, how to verify, and a certificate page to sign. --format defaults to pdf, or text when FILE ends in .txt (docs/custody-report.md).",
			json:    `{"case","format","sha256","size","file","event","checkpoint","items","events"}`, run: runReport},
		{name: "export case-uco", args: "--case CASE [--items ID,...] [--purpose TEXT] -o FILE", group: cd, who: "auditor, custodian, investigator assigned to the case",
			summary: "the case's custody as CASE 1.4 JSON-LD for partner agencies and forensic tools, recorded",
			details: "Items as uco-observable:File with their hashes, each custody event as a case-investigation:InvestigativeAction, provenance records, and the checkpoint as a signed attestation (docs/formats.md).",
			json:    `{"case","format","sha256","size","file","event","checkpoint","items","events"}`, run: runExportCaseUCO},
		{name: "export hashes", args: "--case CASE --format sha256sum|sha1sum|md5sum|csv|vics -o FILE", group: cd, who: "investigator or analyst assigned to the case, custodian",
			summary: "the case's hash list for partner agencies, recorded before it is written",
			details: "The plain formats are what sha256sum -c, sha1sum -c and md5sum -c read (names as deposited, relative to the folder custos-verify --extract writes); csv has one row an item; vics is Project VIC's VICS 2.0 JSON (docs/formats.md).",
			json:    `{"case","format","sha256","size","file","items","event"}`, run: runExportHashes},

		{name: "person add", args: "NAME --role ROLE [--oidc V] [--certificate V] [--reason TEXT]", group: pe, who: "custodian",
			summary: "ask for a person to be enrolled; prints your half of their invitation, once",
			details: "A second custodian approves (and gets the other half). --oidc and --certificate name the identity-provider claim value and the certificate name that sign the person in (default: the name).",
			json:    `{"request","kind","person","by","expires","approved":false,"invitation_part"}`, run: person("add"),
			examples: []string{"custos person add dara --role investigator"}},
		{name: "identity-source list", group: pe, who: "custodian, auditor", summary: "the sign-in providers, their signing keys and the client CAs the server is configured with, and whether two custodians accepted each",
			details: "A source is oidc-key ISSUER THUMBPRINT (one signing key of an OpenID provider: its RFC 7638 thumbprint), oidc-client ISSUER CLIENT_ID CLAIM (the client the vault is registered as at the provider, and the claim that names people), ca SHA256 (a client CA certificate, as the server's start records it: client_ca_sha256) or oidc ISSUER (a provider, as accepted before keys were pinned). Whoever runs the server chooses them at start, and a person enrolled without an identity-provider value or certificate name is matched by their name, whatever source vouches for it; so, from the first start of a release that guards them (its own sources accepted with it), a source signs no one in until a custodian asks to accept it and another approves. A provider's key is listed as configured if the provider served it at the start or serves it now: accept a key it publishes ahead of a rotation before it signs with it, or sign-ins through it stop at the rotation. Each key's line also says whether the provider serves it as this computer reaches it: the server lists what the provider's address answered the server, which whoever runs the server controls (docs/identity.md section 9).",
			json:    `{"guarded","sources":[{"source","configured","accepted","accepted_at"?,"retired_at"?}]}`, run: out(runIdentitySourceList)},
		{name: "identity-source accept", args: "SOURCE --reason TEXT", group: pe, who: "custodian",
			summary: "ask to accept a sign-in provider's key or client, or a client CA (a second custodian approves)",
			details: "SOURCE is as identity-source list shows it, quoted: \"oidc-key https://id.example.org/realms/hotline THUMBPRINT\" (the issuer exactly as the provider states it, and the thumbprint of one of its keys), \"oidc-client ISSUER CLIENT_ID CLAIM\" or \"ca SHA256\". The custodians who ask and approve sign in another way (local credentials, or a source accepted already); before approving, make sure it is your organisation's own provider or CA, and for a key, that the provider's administrators give you the same thumbprint (their key's RFC 7638 SHA-256 thumbprint): once accepted it signs in whoever it vouches for, custodians included. A provider's key is first read from the provider as this computer reaches it: one it does not serve is refused (custos approve checks the same before approving such a request); if the provider cannot be reached from here, a warning says so.",
			json:    "a request, as `person add`", run: out(runIdentitySourceAccept),
			examples: []string{`custos identity-source accept "oidc-key https://id.example.org/realms/hotline NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" --reason "the provider's next signing key, published for the rotation of 1 March (change CR-2031)"`}},
		{name: "identity-source retire", args: "SOURCE --reason TEXT", group: pe, who: "custodian",
			summary: "ask to retire an accepted sign-in provider's key, client or CA (a second custodian approves)",
			details: "SOURCE is an accepted source as identity-source list shows it, quoted. Once approved it signs no one in, and sessions opened through it end: retire a provider's key it no longer uses or that leaked, a client the vault is no longer registered as, a CA withdrawn. Before retiring, make sure its people can sign in another way (for example through the provider's new key, accepted), and keep two custodians who sign in otherwise; accepting it again is a new request (custos identity-source accept), and does not bring back the sessions the retirement ended.",
			json:    "a request, as `person add`", run: out(runIdentitySourceRetire),
			examples: []string{`custos identity-source retire "oidc-key https://id.example.org/realms/hotline NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" --reason "the provider's key of 2025, retired after its rotation (change CR-2040)"`}},
		{name: "person list", group: pe, who: "custodian, auditor", summary: "every person, with role and status (a suspended person's: by whom, when and why; an invitation an identity source's retirement voided: which source) and who enrolled them (approved, and asked), then the enrolments awaiting a second custodian",
			json: `{"persons":[{"name","role","status","enrolment",...}],"pending"?}`, run: person("list")},
		{name: "person reissue", args: "NAME [--reason TEXT]", group: pe, who: "custodian",
			summary: "ask for a new credential; at the approval the old one and its sessions end",
			json:    "a request, as `person add`", run: person("reissue")},
		{name: "person suspend", args: "NAME --reason TEXT [--leaving-fewer-custodians]", group: pe, who: "custodian", summary: "take a person's power away at once: their sessions end",
			details: "Suspending a custodian that would leave fewer than two active custodians is refused unless --leaving-fewer-custodians confirms it: no two-person decision can be approved after that, not even a reinstatement.",
			json:    `{"person","status","recorded"}`, run: person("suspend")},
		{name: "person reinstate", args: "NAME [--reason TEXT]", group: pe, who: "custodian", summary: "ask for a suspended person to be reinstated",
			json: "a request, as `person add`", run: person("reinstate")},
		{name: "person remove", args: "NAME --reason TEXT [--leaving-fewer-custodians]", group: pe, who: "custodian", summary: "remove a person for good",
			details: "As person suspend, removing a custodian that would leave fewer than two active custodians needs --leaving-fewer-custodians.",
			json:    `{"person","status","recorded"}`, run: person("remove")},
		{name: "requests", group: pe, who: "custodians (all), anyone (their own)", summary: "pending two-person requests, and how your own ended",
			details: "A sealing's items are named below the table, with how many of each category and how many are known material, hidden from review (of the first 1,000 checked); below those, a hash-set import's warning of each set in use of the other kind that lists some of the same files (a deposit of one matches both and counts as known material), as the sets stand now. Custodians also see the cases' pending destruction requests (kind case.destroy, ids dr_...): a second custodian approves one with case approve-destruction, or rejects it with reject; the custodian who asked may withdraw it with reject too. " +
				"Below them, your own requests that ended in the last 30 days, two-person requests (rq_...) and destruction requests (dr_..., with their court order and reason): approved (with the package a sealing made, once stored), rejected or withdrawn (by whom, and why), void (you were suspended or removed while it waited; for a destruction request, also a legal hold placed on the case while it waited), superseded (another request's approval destroyed the case), or expired unanswered.",
			json: `{"requests":[{"request","kind","by","expires",...}],"ended":[{"request","kind","asked","case"?,"person"?,"params"?,"outcome","by"?,"at","reason"?,"package"?,...}]}`, run: out(runRequests)},
		{name: "approve", args: "REQUEST [--reason TEXT]", group: pe, who: "a custodian other than the requester",
			summary: "carry out a request (for a sealing, seal the package; for a hash-set import, put the set in use; for a classification policy lowered, say what it settled)",
			details: "--reason says why you approve (what you checked, with whom): optional, recorded in the request.approved event beside the requester's reason, and shown by custos audit log, in the custody reports of a sealing's case, and to the requester (custos requests).",
			json:    `{"request","kind","by","expires","approved":true,"invitation_part"?,"package"?,"hashset"?,"classification_policy"?}`, run: decide("approve"),
			examples: []string{"custos requests", "custos approve rq_0123456789abcdef01234567 --reason 'the court order 2026/118 names this defence counsel'"}},
		{name: "reject", args: "REQUEST --reason TEXT", group: pe, who: "a custodian other than the requester, or the requester (withdrawing it)", summary: "end a request unapproved (a custodian), or withdraw your own",
			details: "--reason is recorded in the request.rejected event, and shown to the requester for 30 days (custos requests, and the web application's requests page, titled My requests for those who are not custodians). A case's destruction request (dr_...) is ended the same way (its reason is recorded in case.destruction.rejected, and shown to its requester alike). A request that expired, or was voided by its requester's suspension or removal (a destruction request also by a legal hold placed on its case), is decided no more.",
			json:    `{"request","kind","approved":false,"withdrawn"}`, run: decide("reject")},

		{name: "audit verify", args: "[--checkpoint FILE] [--save-checkpoint FILE] [--key KEY] [--witness-policy FILE] [--tsa-cert FILE] [--store FILE|URL|DIR] [--accept-finding N]", group: au, who: "auditor (with --store: whoever holds the store or export, and the key)",
			summary: "replay and check the whole custody log",
			details: "In everyday use: save a checkpoint at your first audit (--save-checkpoint FILE) and give it to each later one (--checkpoint FILE), which then also proves the log only grew since; it exits non-zero on any discrepancy, naming it. In detail: downloads the log and every checkpoint and checks them locally: encoding, sequence, hash chain, tree, signatures, and that the lookup values the log store keeps beside each event (its case, item, id and position, which nobody signs) agree with its signed bytes, and that what it records was allowed where it stands (no destruction approved under a legal hold or by its own requester, no view after a destruction was approved or by anyone not assigned to the case, no grant of power without a second custodian's approval right before it doing what was asked, no act in a session the log never opened for that person or by someone it had suspended or removed: docs/custody-log.md section 7, step 8, for what the signatures cannot show: every finding is named, and the audit fails after every other check; --accept-finding N, once for each, accepts the finding at position N once looked into, reported as a warning); each integrity failure the log records (an integrity.failed event: something the vault found altered, missing or unreadable) is said as a warning, the first ten, and counted (integrity_failures), though the audit passes: the log holds its record (docs/operations.md, \"Integrity failures an audit reports\"); so is each hash set the log records taken out of use (hashset.unused: its files changed under the vault), counted in hashsets_unused; so is each change of the server's configuration from one start to the next (a PDQ threshold, a hash-set approval, a session's life, a retention...: what server.started records), once: those before your newest saved checkpoint (--checkpoint, or the file --save-checkpoint replaces) are only counted, as the audit that saved it said them; the others are counted in configuration_changes (docs/operations.md, \"Configuration changes an audit reports\"); so, alike, is each server start that set state snapshots aside (a file it could not use: of an older state version after an upgrade, or changed or unreadable on disk), counted in snapshots_discarded; with --checkpoint, that the log extends it (each saved checkpoint named by its size and the time of the log it holds, its last event's); with --witness-policy, that the newest checkpoint carries the policy's quorum of witness cosignatures (docs/witnesses.md); with --tsa-cert, that an RFC 3161 token of one of those time-stamping authorities covers it, printing the attested time (docs/timestamps.md). The log is checked up to the checkpoint the vault signs as the audit begins; events appended while it runs are for the next audit. --key takes the key, its fingerprint, or a file holding it (what custos audit key writes, or its --json; - reads standard input). --save-checkpoint replaces an earlier checkpoint of this vault only once the log is proven to extend it, and only if no other audit saved to the file meanwhile; it never replaces a file holding anything else, and a link keeps its target updated. With --store, the log is read from its store without the server (a SQLite file such as DATA/custody.db, or a PostgreSQL URL), read-only, up to the newest checkpoint or batch seal signed there: for a server that is stopped, refuses to start, or has halted its log; or from a folder custos audit export wrote, on any machine (the export holds no lookup values, which are then not compared, and no sticky head: give a copy of its newest checkpoint, handed over apart from it, with --checkpoint to prove none was cut from its end; with --witness-policy, the export's witnessed checkpoint must carry the quorum's cosignatures of its newest); it needs --key (saved while the vault ran, or the published fingerprint), fails on events no signature of the log's key covers, checks the vault's sticky head beside a SQLite file (DATA/keyring/head.checkpoint, the vault's own record, and its copy in DATA/objects/head/) without being asked, fails on seal or checkpoint rows rolled back under events the sticky head covers, as a start does, and with --checkpoint (one you saved earlier, outside the vault; for PostgreSQL, give the sticky head too) proves the store was not cut short since; without one of your own it says what that leaves unproven. Where the sticky head is neither beside the file nor given (a copy of the file alone, a PostgreSQL store; a copy of the head is known by its name, head.checkpoint), the audit passes all the same but says so in its first line and in a warning: that a log cut short after the newest checkpoint it was compared with would pass, and where to copy the head from (with --json, sticky_head_compared false and warnings). A SQLite file with no write-ahead log beside it when the audit begins (a stopped vault's) is read as a file nobody writes; if a server is started on it while the audit reads it, the audit reports neither a finding nor a pass (what it read may mix two states of the file) but says so, and to audit again (exit 1, without a finding's advice). Exits 1 on any discrepancy, naming it (a log cut short: every event known to be missing) and saying what to do next; with --json a failure prints {\"ok\":false,\"error\",\"events\",\"event\"}, event being the position the failure names, where it names one.",
			json:    `{"events","ok","approved_decisions","checkpoints","root","root_base64","origin","key","fingerprint","key_pinned","integrity_failures","hashsets_unused","configuration_changes","snapshots_discarded","extends_checkpoint","extends_checkpoints","sticky_head_compared"?,"warnings"?,"witnessed","timestamps"}`, run: runAuditVerify,
			examples: []string{"custos audit verify --save-checkpoint november.checkpoint", "custos audit verify --checkpoint november.checkpoint",
				"custos audit verify --store /var/lib/custos/custody.db --key vault.key --checkpoint /var/lib/custos/keyring/head.checkpoint",
				"custos audit verify --store custody-2026-12/ --key vault.key --checkpoint head-2026-12.checkpoint"}},
		{name: "audit scrub", group: au, who: "auditor, custodian", summary: "re-hash every stored object against the event that recorded it",
			details: "Without keys; packages included; lists missing and altered items and packages and objects no event accounts for, reads each object under the names of the vault's own metadata (head/, key/, witnessed/, timestamps/) and lists those that do not hold what the vault stores there, and lists as foreign what the object store holds besides objects (names no object has, nested folders, lock records or bucket versions the store did not write). A store that fails part-way is reported as incomplete, with what was found up to then; the outcome is recorded in the custody log either way (docs/operations.md, \"Incident response\"). Exits 1 unless ok.",
			json:    `{"objects","packages","ok","mismatched","missing","unaccounted","retained_destroyed","awaiting_sweep","in_flight","foreign","incomplete"}`, run: out(runAuditScrub)},
		{name: "audit key", group: au, who: "anyone signed in", summary: "the custody log's verifier key and fingerprint, to pin with custos-verify --key",
			details: "Save it to a file (custos audit key > vault.key) and compare its fingerprint with the one the vault's operators publish; the file is taken as it is by --key of custos audit verify and custos-verify, and by custos-verify --trusted-keys.",
			json:    `{"key","origin","fingerprint"}`, examples: []string{"custos audit key > vault.key", "custos audit verify --key vault.key", "custos-verify bundle.tar --key vault.key"}, run: out(runAuditKey)},
		{name: "audit export", args: "-o DIR", group: au, who: "auditor",
			summary: "write the custody log, its checkpoints and its key into a new folder, for a verifier outside the vault",
			details: "Writes into DIR (new, or an empty folder): key (the log's verifier key, one line), events.ndjson (every event exactly as stored, one per line, in sequence order, up to the newest checkpoint), checkpoints/ (every stored signed checkpoint as issued, named by its size in 20 digits), witnessed (with witnesses: the newest cosigned checkpoint) and README.txt, which says what each file is and points to docs/custody-log.md. custos audit verify --store DIR --key KEY replays and checks it on any machine, without the vault, as it checks the vault's own store; the export is also for anyone else's verifier (docs/custody-log.md section 11). Reads are those of `audit verify` (auditors only).",
			json:    `{"dir","events","checkpoints","key_fingerprint","newest_checkpoint"}`, run: runAuditExport,
			examples: []string{"custos audit export -o log-2026-03"}},
		{name: "audit timestamps", args: "-o DIR [--from SIZE] [--to SIZE] [--tsa-cert FILE] [--key KEY]", group: au, who: "auditor",
			summary: "fetch and check the time-stamp tokens the object store keeps, with the notes they date",
			details: "Writes into DIR (new, or an empty folder) every time-stamp note and token the vault's object store keeps for checkpoint sizes from --from up to, not including, --to, each under its stored name (docs/timestamps.md section 5), and checks each here: that its bytes have the SHA-256 its name gives, that each note is a checkpoint signed by the log's key (pin it with --key) of the size its name gives, that each token has its note beside it, and with --tsa-cert, each token over its note, printing the range of attested times (a token of a TSA whose certificates were not given is listed as not counted, as custos-verify lists it; a note whose tokens are all not counted fails: no one trusted dates it). Without --key the notes are checked against the key the vault names, and the output says so. A name the vault does not give, an object the vault could not read (a link or pipe in a file store) and one larger than a token may be are not written, only named in the output: keep it (--json) with the folder. custos-verify --timestamps DIR checks the folder again without the vault. A note proves what the log held at its size only with the log: give one to custos audit verify --checkpoint to prove the log extends it. It holds about 500 bytes of memory an object: fetch a large vault's a range of sizes at a time. Exits 1 naming every object that fails (bytes stored under a vault's name by someone else among them; the first 1,000 listed, the rest counted).",
			json:    `{"dir","failures","first","key_pinned","last","notes","not_counted","ok","tokens","tokens_checked","verified"}`, run: runAuditTimestamps,
			examples: []string{"custos audit timestamps -o stamps --tsa-cert tsa-ca.pem --key vault.key", "custos audit timestamps -o stamps-nov --from 120000 --to 180000 --tsa-cert tsa-ca.pem --key vault.key"}},
		{name: "audit log", args: "[--case CASE] [--item ITEM] [--person NAME] [--since TIME] [--verbose] [--store FILE|URL|DIR --key KEY [--checkpoint FILE] [--witness-policy FILE]]", group: au, who: "auditor (with --store: whoever holds the store or export, and the key)", summary: "the custody timeline",
			details: "One line per event: time (UTC), sequence number, who, role and how they signed in, what they did in words (as the custody report words it), the case, the item and its name, what the event says of it, and its purpose; --verbose adds each event's type, full credential and data. An item's timeline (--item) includes the packages that carried it out of the vault (their sealing, fetches and signed receipts) and the destruction of its case (asked, approved, done), as its custody report does. --person keeps the events by a person or naming them (their refused attempts included, also those a suspension or removal refused), --since those recorded from a time on; both filter what the vault sends, the whole log or the case's or item's. With --store, the timeline is read without the server from what custos audit verify --store reads (the log's SQLite file, a PostgreSQL URL, or a folder custos audit export wrote), in the same pass as that audit, which runs first with the same --key, --checkpoint and --witness-policy: a log that fails it is not shown (the audit's failure is said instead), and one whose only findings are of the custody rules is shown, the findings said first on standard error.",
			json:    `{"events":[...]}`, run: runAuditLog,
			examples: []string{"custos audit log --item it_6f1c2a9e04b7d3815c2e9a70", "custos audit log --case KH-2026-014 --since 2026-12-01", "custos audit log --person sok.dara --since 2026-12-05T08:00:00Z", "custos audit log --store export/ --key vault.key --item it_6f1c2a9e04b7d3815c2e9a70"}},

		{name: "server", args: "--dev --data DIR --listen 127.0.0.1:PORT", group: ad, summary: "run the vault", lastWins: true,
			details: "Production: --data DIR --log URL --objects URL --sealer URL --recovery-recipient age1... --listen ADDR --tls-cert F --tls-key F, the sign-in flags (--oidc-issuer, --oidc-client-id, --client-ca, ...), and the anchors outside the vault (--witness NAME=KEY@URL with --witness-quorum K, or --witness-policy FILE; --tsa URL with --tsa-interval D and --tsa-cert FILE, the authorities' certificates their tokens must verify against; docs/witnesses.md, docs/timestamps.md), and hotline work (--public-listen ADDR: the public report form, which may face the internet; --hotline-name, --exposure-daily-limit N, --pdq-max-distance BITS, --hashset-approval required|none; docs/hotline.md). Every flag is also a config-file key (--config FILE).",
			run:     errOnly(func(args []string, stderr io.Writer) error { return runServer(args, stderr) })},
		{name: "admin enroll", args: "--data DIR [backend flags] NAME --role custodian", group: ad, who: "operator, server stopped",
			summary: "enrol one of a new vault's first two custodians; prints their credential once",
			json:    `{"name","credential"}`, run: runAdminEnroll},
		{name: "admin recover", args: "--data DIR [backend flags] --identity FILE", group: ad, who: "operator, server stopped",
			summary: "re-seal every key under the sealer now configured, from the recovery identity",
			json:    `{"sealer","cases","lost"}`, run: runAdminRecover},
		{name: "admin accept-rollback", args: "--data DIR [backend flags] --reason TEXT [--checkpoint FILE]", group: ad, who: "operator, server stopped",
			summary: "continue on a log older than the vault's head, recorded",
			details: "Only once no newer copy of the log exists anywhere (docs/operations.md, \"Restoring\"). Records log.rollback.accepted as the restored log's next event: the vault's head it had, the size the log restarts from, and the reason. A whole backup restored, head and all, leaves a head that knows less than the auditors: give their newest saved checkpoint with --checkpoint (custos audit verify --save-checkpoint), and the loss recorded is what it proves (a checkpoint of another log, or one the restored log extends, is refused).",
			json:    `{"lost_size","lost_root","lost_head","size","reason","head_missing"?}`, run: runAdminAcceptRollback},
		{name: "admin migrate-log", args: "--from URL --to URL (--data DIR | --key KEY)", group: ad, who: "operator, server stopped",
			summary: "copy the custody log to another backend, verified", json: `{"events","ok"}`, run: out(runAdminMigrateLog)},
		{name: "admin rotate-kek", args: "[--retire-old]", group: ad, who: "custodian",
			summary: "re-seal every case key under a new key-encryption-key version",
			json:    `{"sealer","cases","retired"}`, run: out(runAdminRotate)},
	}
}

// lookup finds the command args start with: the longest name that
// matches the first one or two words. It returns the rest of args.
func lookup(args []string) (*command, []string) {
	if len(args) >= 2 {
		for i := range commands {
			if commands[i].name == args[0]+" "+args[1] {
				return &commands[i], args[2:]
			}
		}
	}
	for i := range commands {
		if commands[i].name == args[0] {
			return &commands[i], args[1:]
		}
	}
	return nil, nil
}

// known reports whether word starts some command's name.
func known(word string) bool {
	for _, c := range commands {
		if c.name == word || strings.HasPrefix(c.name, word+" ") {
			return true
		}
	}
	return false
}
