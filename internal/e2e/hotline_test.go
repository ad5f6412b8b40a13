package e2e

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// digests returns a file's MD5, SHA-1 and SHA-256 in hex.
func digests(b []byte) (string, string, string) {
	m, s1, s2 := md5.Sum(b), sha1.Sum(b), sha256.Sum256(b)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:])
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func itemOf(t *testing.T, r result) map[string]any {
	t.Helper()
	items := r.json(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("%d items deposited", len(items))
	}
	return items[0].(map[string]any)
}

// TestHotlineEndToEnd is a hotline's day on a development vault, through
// the public intake and the CLI: a public report, assessed into a case;
// hash sets of every format imported from fixtures written here (and a
// malformed one that changes nothing); captures deposited for the
// report, among them a photo classified by three analysts, then a
// shrunk and a rotated copy of it (PDQ matches, hidden from review), an
// NSRL-known file and a VICS-listed file (category inherited); notice
// and takedown; and statistics that match what happened.
func TestHotlineEndToEnd(t *testing.T) {
	public := testenv.Addr(testenv.FreePort(t))
	s := newServer(t, "--public-listen", public, "--hotline-name", "Test Hotline", "--exposure-daily-limit", "1",
		"--pdq-max-distance", "31", "--public-reports-per-minute", "2")
	work := t.TempDir()

	// 1. A member of the public reports two URLs.
	body := `{"urls":["https://abuse-host.example/gallery/1","https://abuse-host.example/v.mp4"],"description":"found through a chat link","anonymous":true}`
	resp, err := http.Post("http://"+public+"/report", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var receipt struct{ Report string }
	json.NewDecoder(resp.Body).Decode(&receipt)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(receipt.Report, "rp_") {
		t.Fatalf("public report: %d %+v", resp.StatusCode, receipt)
	}
	rep := receipt.Report
	if resp, err := http.Get("http://" + public + "/v1/reports"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("the public listener served the API: %v %v", resp, err)
	}

	// 2. The analyst takes it on.
	s.ok("analyst", work, "case", "open", "HL-2026-1", "--title", "reports of November")
	list := s.ok("analyst", work, "report", "list", "--status", "received", "--json").json(t)
	if reps := list["reports"].([]any); len(reps) != 1 || reps[0].(map[string]any)["report"] != rep {
		t.Fatalf("report list: %v", list)
	}
	s.refused("investigator", work, "no such report", "report", "assess", rep, "--case", "HL-2026-1")
	s.ok("analyst", work, "report", "assess", rep, "--case", "HL-2026-1")

	// 3. Hash sets of every format, from fixtures written here.
	photoDir := filepath.Join(testenv.Root(), "testdata", "pdq", "images")
	orig := filepath.Join(photoDir, "bridge-mods", "aaa-orig.jpg")
	listed := []byte("a capture a partner hotline already listed (sha256sum)")
	vicsListed := []byte("a capture Project VIC lists with category 1")
	caidListed := []byte("a capture CAID lists")
	icseListed := []byte("a capture ICSE lists as baseline")
	ordinary := []byte("MZ an ordinary Windows program NSRL lists")
	md5Listed := []byte("listed by MD5 only")
	sha1Listed := []byte("listed by SHA-1 only")
	_, _, listedSHA := digests(listed)
	vicsMD5, vicsSHA1, _ := digests(vicsListed)
	caidMD5, _, _ := digests(caidListed)
	icseMD5, _, _ := digests(icseListed)
	goodMD5, goodSHA1, _ := digests(ordinary)
	m5, _, _ := digests(md5Listed)
	_, s1, _ := digests(sha1Listed)
	fixtures := []struct{ name, format, category, content string }{
		{"partner", "sha256sum", "national", listedSHA + "  capture.png\n"},
		{"md5list", "md5sum", "baseline", strings.ToUpper(m5) + " *x.bin\n"},
		{"sha1list", "sha1sum", "baseline", s1 + "  y.bin\n"},
		{"projectvic", "vics", "", fmt.Sprintf(`{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases","value":[{"CaseNumber":"PV-1","Media":[{"MediaID":1,"Category":1,"MD5":"%s","SHA1":"%s","MediaSize":%d,"Series":"Series-A","VictimIdentified":false}]}]}`,
			strings.ToUpper(vicsMD5), strings.ToUpper(vicsSHA1), len(vicsListed))},
		{"caid", "caid", "baseline", fmt.Sprintf(`{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml#Media","value":[{"MediaID":1,"MD5":"%s","MediaSize":"%d"}]}`,
			strings.ToUpper(caidMD5), len(caidListed))},
		{"icse", "icse", "", "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\n" +
			icseMD5 + ";;;77;Yes;No;No;;1;Yes;Image;Yes\n"},
		{"nsrl", "nsrl", "known-good", `"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"` + "\n" +
			fmt.Sprintf(`"%s","%s","00000000","prog.exe",%d,1,"WIN",""`, strings.ToUpper(goodSHA1), strings.ToUpper(goodMD5), len(ordinary)) + "\n"},
	}
	s.refused("analyst", work, "only custodians", "hashset", "import", write(t, work, "x.sha256", []byte(listedSHA+"  a\n")), "--format", "sha256sum", "--name", "x")
	for _, f := range fixtures {
		p := write(t, work, f.name+".set", []byte(f.content))
		args := []string{"hashset", "import", p, "--format", f.format, "--name", f.name, "--json"}
		if f.category != "" {
			args = append(args, "--category", f.category)
		}
		out := s.ok("custodian", work, args...).json(t)
		if out["imported"] != 1.0 || out["rejected"] != 0.0 || out["hashset"] != f.name {
			t.Fatalf("import %s: %v", f.name, out)
		}
	}
	before := s.ok("custodian", work, "hashset", "list", "--json").stdout
	bad := write(t, work, "bad.json", []byte(`{"@odata.context":"x","value":[{"Media":[{"MD5":"00"`))
	s.refused("custodian", work, "nothing was imported", "hashset", "import", bad, "--format", "vics", "--name", "projectvic")
	// A VICS export given as ICSE is told to be JSON, not a CSV parser's
	// complaint, and changes nothing either.
	s.refused("custodian", work, "it is JSON, as VICS and CAID exports are", "hashset", "import", filepath.Join(work, "projectvic.set"), "--format", "icse", "--name", "wrongformat")
	if after := s.ok("custodian", work, "hashset", "list", "--json").stdout; after != before {
		t.Fatalf("a malformed import changed the sets:\n%s\n%s", before, after)
	}
	// A set whose entries name their own categories says so, not "-".
	for _, line := range strings.Split(s.ok("custodian", work, "hashset", "list").stdout, "\n") {
		if strings.HasPrefix(line, "icse ") && !strings.Contains(line, "(each entry's own)") {
			t.Errorf("hashset list shows the ICSE set, imported without a category, as %q", line)
		}
	}
	withBadLines := write(t, work, "partial.sha256", []byte(strings.Repeat("1", 64)+"  a\nnot a hash\n\n"+strings.Repeat("0", 64)+"  b\n"))
	s.refused("custodian", work, "names no category", "hashset", "import", withBadLines, "--format", "sha256sum", "--name", "partial")
	out := s.ok("custodian", work, "hashset", "import", withBadLines, "--format", "sha256sum", "--name", "partial", "--category", "national", "--json").json(t)
	if out["imported"] != 2.0 || out["rejected"] != 1.0 || !strings.Contains(fmt.Sprint(out["problems"]), "2") {
		t.Fatalf("an import with a malformed line: %v", out)
	}

	// 4. Three analysts, and a case that needs three agreeing votes.
	configs := map[string]string{}
	for _, name := range []string{"sokha", "maria"} {
		configs[name] = t.TempDir()
		h1, h2 := s.enrolByTwo(work, name, "analyst")
		if r := s.redeem(configs[name], work, name, []string{h1, h2}); r.code != 0 {
			t.Fatalf("redeem %s: %s", name, r.stderr)
		}
		req := s.ok("custodian", work, "case", "add-member", "HL-2026-1", name, "--json").json(t)
		s.ok("custodian2", work, "approve", req["request"].(string))
	}
	s.refused("analyst", work, "only custodians", "case", "classification-votes", "HL-2026-1", "3")
	s.ok("custodian", work, "case", "classification-votes", "HL-2026-1", "3")

	// 5. The photo, deposited for the report and classified by three.
	photo := itemOf(t, s.ok("analyst", work, "deposit", "--case", "HL-2026-1", "--report", rep, orig, "--json"))
	pid := photo["id"].(string)
	if m := photo["media"].(map[string]any); len(m["pdq"].(string)) != 64 {
		t.Fatalf("the photo's PDQ: %v", m)
	}
	v1 := s.ok("analyst", work, "classify", pid, "--category", "baseline", "--age-group", "pre-pubescent", "--json").json(t)
	if v1["votes"] != 1.0 || v1["needed"] != 3.0 || v1["settled"] != nil {
		t.Fatalf("first vote: %v", v1)
	}
	if r := s.asUser(configs["sokha"], work, "classify", pid, "--category", "national", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"disputed":true`) {
		t.Fatalf("a disagreeing vote: %s %s", r.stdout, r.stderr)
	}
	s.asUser(configs["sokha"], work, "classify", pid, "--category", "baseline")
	// Two agreeing votes of three: the case's list says how far they are.
	if list := s.ok("analyst", work, "item", "list", "--case", "HL-2026-1").stdout; !strings.Contains(list, "unsettled: 2 of 3 votes for baseline") {
		t.Fatalf("item list with two votes of three:\n%s", list)
	}
	r := s.asUser(configs["maria"], work, "classify", pid, "--category", "baseline", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"settled":"baseline"`) {
		t.Fatalf("third vote: %s %s", r.stdout, r.stderr)
	}

	// 6. A shrunk and a rotated copy: known by PDQ, hidden by default.
	for _, c := range []struct{ name, path string }{
		{"shrunk", filepath.Join(photoDir, "bridge-mods", "shrink-a-lot.jpg")},
		{"rotated", write(t, work, "rotated.jpg", testenv.RotatedJPEG(t, mustRead(t, orig)))},
	} {
		it := itemOf(t, s.ok("analyst", work, "deposit", "--case", "HL-2026-1", "--report", rep, c.path, "--json"))
		if known, _ := it["known"].(string); !strings.Contains(known, "PDQ distance") {
			t.Fatalf("%s copy: %v", c.name, it)
		}
		id := it["id"].(string)
		s.refused("analyst", work, "known material, not shown for review", "get", id, "--purpose", "review", "-o", filepath.Join(work, c.name+".out"))
		if r := s.run("analyst", work, "custos", "get", id, "--purpose", "review", "-o", filepath.Join(work, c.name+".out")); !strings.Contains(r.stderr, "(add --reveal-known)") {
			t.Fatalf("a refused get of known material does not say how to ask for it: %s", r.stderr)
		}
		if _, err := os.Stat(filepath.Join(work, c.name+".out")); err == nil {
			t.Fatalf("a refused reveal wrote a file")
		}
		r := s.ok("analyst", work, "get", id, "--purpose", "confirm the match for the police referral", "--reveal-known", "-o", filepath.Join(work, c.name+".out"))
		// --exposure-daily-limit 1: the second reveal of the day warns.
		if warned := strings.Contains(r.stderr, "custos: warning:"); warned != (c.name == "rotated") {
			t.Fatalf("%s: warning on stderr %v: %q", c.name, warned, r.stderr)
		}
	}
	if out := s.ok("analyst", work, "similar", pid).stdout; !strings.Contains(out, "distance") || strings.Count(out, "\n") < 2 {
		t.Fatalf("similar %s:\n%s", pid, out)
	}
	if sim := s.ok("analyst", work, "similar", "--case", "HL-2026-1", "--max-distance", "20", "--json").json(t); len(sim["items"].([]any)) == 0 {
		t.Fatalf("similar --case: %v", sim)
	}
	timeline := s.ok("auditor", work, "audit", "log", "--case", "HL-2026-1", "--json").stdout
	if !strings.Contains(timeline, `"override"`) || !strings.Contains(timeline, "known material") {
		t.Fatalf("the override and the refusals are not in the custody timeline")
	}

	// 7. Files the sets know.
	for _, c := range []struct {
		file     []byte
		set, cat string
		known    bool
	}{
		{listed, "partner", "national", true},
		{vicsListed, "projectvic", "baseline", true},
		{caidListed, "caid", "baseline", true},
		{icseListed, "icse", "baseline", true},
		{md5Listed, "md5list", "baseline", true},
		{sha1Listed, "sha1list", "baseline", true},
		{ordinary, "nsrl", "known-good", false},
	} {
		it := itemOf(t, s.ok("analyst", work, "deposit", "--case", "HL-2026-1", write(t, work, c.set+".bin", c.file), "--json"))
		ms, _ := it["matches"].([]any)
		if len(ms) == 0 || ms[0].(map[string]any)["set"] != c.set || ms[0].(map[string]any)["category"] != c.cat {
			t.Fatalf("%s: matches %v", c.set, it["matches"])
		}
		if known, _ := it["known"].(string); (known != "") != c.known {
			t.Fatalf("%s: known %q", c.set, known)
		}
		show := s.ok("analyst", work, "item", "show", it["id"].(string), "--json").json(t)
		cl := show["classification"].(map[string]any)
		if c.known && (cl["category"] != c.cat || cl["source"] != "hashset") {
			t.Fatalf("%s: the category is not inherited: %v", c.set, cl)
		}
		if !c.known && cl["known_good"] != true {
			t.Fatalf("%s: not marked known good: %v", c.set, cl)
		}
	}

	// The case's search says what it did not search, by name (the files
	// above are no images).
	if out := s.ok("analyst", work, "similar", "--case", "HL-2026-1").stdout; !regexp.MustCompile(`(?m)^\d+ items? not searched: not an image: it_[0-9a-f]+ \S+\.bin(, it_[0-9a-f]+ \S+\.bin)*$`).MatchString(out) {
		t.Fatalf("similar --case does not say what it left out:\n%s", out)
	}

	// 8. Notice and takedown, then the figures.
	u := "https://abuse-host.example/gallery/1"
	// The address as a browser's address bar shows it: the report's own
	// spelling is what the notice records.
	if out := s.ok("analyst", work, "report", "notice", rep, "--url", strings.TrimPrefix(u, "https://"), "--to", "Example Hosting B.V.", "--via", "email", "--country", "NL").stdout; !strings.HasPrefix(out, "recorded: the notice to Example Hosting B.V.\n") {
		t.Fatalf("report notice does not say what it recorded:\n%s", out)
	}
	s.ok("analyst", work, "report", "acknowledged", rep, "--url", u, "--at", time.Now().UTC().Format(time.RFC3339))
	s.refused("analyst", work, "in the future", "report", "removed", rep, "--url", u, "--at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if l := s.ok("analyst", work, "report", "list", "--url", "abuse-host.example/v.mp4", "--json").json(t); len(l["reports"].([]any)) != 1 {
		t.Fatalf("report list --url: %v", l)
	}
	// The case's reports, from the case and from the list.
	if l := s.ok("analyst", work, "report", "list", "--case", "HL-2026-1").stdout; !strings.Contains(l, rep) || !strings.Contains(l, "actioned") {
		t.Fatalf("report list --case:\n%s", l)
	}
	if shown := s.ok("auditor", work, "case", "show", "HL-2026-1").stdout; !strings.Contains(shown, "report:     "+rep+", actioned, received ") {
		t.Fatalf("case show does not list the case's report:\n%s", shown)
	}
	s.refused("analyst", work, "no such case", "report", "list", "--case", "HL-2026-404")
	s.ok("analyst", work, "report", "removed", rep, "--url", u, "--note", "404 since 10:02")
	shown := s.ok("analyst", work, "report", "show", rep).stdout
	if !strings.Contains(shown, "removed at") || !strings.Contains(shown, "actioned") {
		t.Fatalf("report show:\n%s", shown)
	}
	s.ok("analyst", work, "report", "forward", rep, "--to", "ECPAT Philippines", "--format", "vics", "-o", filepath.Join(work, "forward.json"))
	if vics, _ := os.ReadFile(filepath.Join(work, "forward.json")); !bytes.Contains(vics, []byte(`"Category": 1`)) {
		t.Fatalf("the VICS forward carries no category for the photo classified baseline:\n%s", vics)
	}
	fw := s.ok("analyst", work, "report", "forward", rep, "--to", "ECPAT Philippines", "-o", filepath.Join(work, "forward.csv"), "--json").json(t)
	csv, _ := os.ReadFile(filepath.Join(work, "forward.csv"))
	if !bytes.Contains(csv, []byte(u)) || !bytes.Contains(csv, []byte(pid)) || fw["sha256"] == "" {
		t.Fatalf("forward export: %v\n%s", fw, csv)
	}
	s.ok("analyst", work, "report", "close", rep, "--reason", "actioned")
	if r := s.ok("analyst", work, "report", "reopen", rep, "--reason", "second URL still online", "--json").json(t); r["status"] != "actioned" {
		t.Fatalf("report reopen: %v", r)
	}
	s.ok("analyst", work, "report", "close", rep, "--reason", "actioned")

	stats := s.ok("custodian", work, "stats", "--json").json(t)
	reports := stats["reports"].(map[string]any)
	items := stats["items"].(map[string]any)
	byCat := stats["by_category"].(map[string]any)
	notices := stats["notices"].(map[string]any)
	bySet := stats["matches_by_hashset"].(map[string]any)
	switch {
	case reports["received"] != 1.0, reports["relevant"] != 1.0, reports["closed"].(map[string]any)["actioned"] != 2.0:
		t.Fatalf("reports: %v", reports)
	case items["deposited"] != 10.0, items["known"] != 9.0, items["known_good"] != 1.0, items["matched"] != 7.0:
		t.Fatalf("items: %v", items)
	case byCat["baseline"] != 6.0, byCat["national"] != 1.0:
		t.Fatalf("by category: %v", byCat)
	case notices["sent"] != 1.0, notices["removed"] != 1.0, notices["removal_hours"].(map[string]any)["n"] != 1.0:
		t.Fatalf("notices: %v", notices)
	case bySet["projectvic"] != 1.0, bySet["nsrl"] != 1.0, bySet["icse"] != 1.0:
		t.Fatalf("matches by set: %v", bySet)
	}
	text := s.ok("auditor", work, "stats").stdout
	if !strings.Contains(text, "time to removal after the notice") || strings.Contains(text, "the last day counted") {
		t.Fatalf("stats text:\n%s", text)
	}
	// A date given as --to is not counted, and the text says which day
	// is the last one that is.
	if text := s.ok("auditor", work, "stats", "--from", "2026-01-01", "--to", "2026-07-01").stdout; !strings.Contains(text, "the last day counted is 2026-06-30; to count 2026-07-01 too, give --to 2026-07-02") {
		t.Fatalf("stats text for a period given by dates:\n%s", text)
	}
	exp := s.ok("analyst", work, "exposure", "--json").json(t)
	if today := exp["today"].(map[string]any); today["items"] != 2.0 || today["overrides"] != 2.0 {
		t.Fatalf("exposure: %v", exp)
	}
	s.ok("custodian", work, "exposure", "--person", "analyst")
	s.refused("custodian", work, "no person", "exposure", "--person", "nobody")
	// The same URL reported again (after the statistics above): said at
	// once, with the earlier report and how it ended; the report's page
	// names the others, and the list says why each closed one closed.
	again := s.ok("analyst", work, "report", "new", "--url", u, "--channel", "phone").stdout
	if !strings.Contains(again, "reported before") || !strings.Contains(again, rep) || !strings.Contains(again, "closed (actioned)") {
		t.Fatalf("a URL reported again:\n%s", again)
	}
	dup := strings.Fields(strings.TrimPrefix(again, "recorded report "))[0]
	if shown := s.ok("analyst", work, "report", "show", dup).stdout; !strings.Contains(shown, "other reports naming its URLs") || !strings.Contains(shown, rep) {
		t.Fatalf("report show of a URL reported before:\n%s", shown)
	}
	s.ok("analyst", work, "report", "close", dup, "--reason", "duplicate")
	if l := s.ok("analyst", work, "report", "list").stdout; !strings.Contains(l, "closed (duplicate)") || !strings.Contains(l, "closed (actioned)") {
		t.Fatalf("report list does not say why reports closed:\n%s", l)
	}
	s.refused("analyst", work, "only custodians", "hashset", "remove", "md5list", "--reason", "superseded")
	s.ok("custodian", work, "hashset", "remove", "md5list", "--reason", "superseded")
	if l := s.ok("auditor", work, "hashset", "list").stdout; strings.Contains(l, "md5list") || !strings.Contains(l, "in use") {
		t.Fatalf("hashset list after a removal:\n%s", l)
	}
	// No plaintext at rest: neither the captures, the photo, nor what the
	// hash-set imports and the media probes read is anywhere in the
	// vault's folders or its temporary folder.
	photoBytes := mustRead(t, orig)
	for _, needle := range [][]byte{listed, vicsListed, ordinary, photoBytes[len(photoBytes)/2 : len(photoBytes)/2+64]} {
		scanFor(t, needle, s.data, s.tmp)
	}
	if show := s.ok("analyst", work, "item", "show", pid).stdout; !strings.Contains(show, "category:   baseline (settled") || !strings.Contains(show, "known material") {
		t.Fatalf("item show does not say what the hotline decided:\n%s", show)
	}
	if list := s.ok("analyst", work, "item", "list", "--case", "HL-2026-1").stdout; !strings.Contains(list, "known material, baseline") {
		t.Fatalf("item list does not mark known items:\n%s", list)
	}
	s.refused("analyst", work, "only custodians", "exposure", "--person", "sokha")
	// A report by phone, its address read out without a scheme.
	byPhone := s.ok("analyst", work, "report", "new", "--channel", "phone", "--url", "www.other-host.example/page 2", "--json").json(t)["report"].(string)
	if shown := s.ok("analyst", work, "report", "show", byPhone).stdout; !strings.Contains(shown, "http://www.other-host.example/page%202") {
		t.Fatalf("a URL typed without a scheme was not recorded as a browser sends it:\n%s", shown)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
