package e2e

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/hashset"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault"
)

// TestDepositAsEvidenceArrives: folders keep their files' relative paths
// and report what is not a regular file; a second run deposits only what
// is new; standard input is deposited under --name; an acquisition hash
// that does not hold refuses the item, leaving nothing but the recorded
// refusal; names that are not UTF-8 keep their exact bytes, escaped.
func TestDepositAsEvidenceArrives(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "F-1", "--title", "seized phone")

	dump := filepath.Join(work, "dump")
	os.MkdirAll(filepath.Join(dump, "DCIM", "Camera"), 0o755)
	os.WriteFile(filepath.Join(dump, "chat.db"), []byte("chat database"), 0o644)
	os.WriteFile(filepath.Join(dump, "DCIM", "Camera", "IMG_0001.jpg"), []byte("jpeg bytes"), 0o644)
	os.WriteFile(filepath.Join(dump, "caf\xe9.txt"), []byte("latin-1 name"), 0o644)
	os.WriteFile(filepath.Join(dump, "cafe\u0301.txt"), []byte("nfd name"), 0o644)
	os.WriteFile(filepath.Join(dump, "ស្រីពៅ.jpg"), []byte("khmer name"), 0o644)
	os.WriteFile(filepath.Join(dump, "line\nbreak.txt"), []byte("a newline in a name"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dump, "link"))
	syscall.Mkfifo(filepath.Join(dump, "pipe"), 0o644)

	r := s.ok("investigator", work, "deposit", "--case", "F-1", dump, "--json")
	out := r.json(t)
	names := map[string]bool{}
	for _, it := range out["items"].([]any) {
		names[it.(map[string]any)["name"].(string)] = true
	}
	for _, want := range []string{"chat.db", "DCIM/Camera/IMG_0001.jpg", `caf\xe9.txt`, "cafe\u0301.txt", "ស្រីពៅ.jpg", `line\x0abreak.txt`} {
		if !names[want] {
			t.Errorf("folder deposit lacks %q: %v", want, names)
		}
	}
	if sk := out["skipped"].([]any); len(sk) != 2 || !strings.Contains(r.stderr, "skipped") {
		t.Fatalf("special files not reported: %v %s", sk, r.stderr)
	}

	// Again: nothing new is stored; one new file is.
	os.WriteFile(filepath.Join(dump, "new.txt"), []byte("arrived later"), 0o644)
	again := s.ok("investigator", work, "deposit", "--case", "F-1", dump, "--json").json(t)
	if items := again["items"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "new.txt" {
		t.Fatalf("second run deposited %v", items)
	}
	if len(again["already"].([]any)) != 6 {
		t.Fatalf("second run: %v", again["already"])
	}

	// A list sha256sum made itself is read as sha256sum -c reads it: a
	// name holding a newline on a line that starts with a backslash, a
	// name that is not UTF-8 as its bytes.
	if r := s.run("", dump, "/bin/sh", "-c", "find . -type f -print0 | xargs -0 sha256sum > ../listed.sha256"); r.code != 0 {
		t.Fatalf("sha256sum: %s", r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "listed.sha256")); !strings.Contains(string(b), "\n\\") && !strings.HasPrefix(string(b), "\\") {
		t.Fatalf("sha256sum wrote no escaped line:\n%s", b)
	}
	s.ok("investigator", work, "case", "open", "F-LIST", "--title", "listed")
	listed := s.ok("investigator", work, "deposit", "--case", "F-LIST", "--expect-from", "listed.sha256", dump, "--json").json(t)["items"].([]any)
	if len(listed) != 7 {
		t.Fatalf("deposit with sha256sum's list: %v", listed)
	}
	// item show tells the acquisition hash and the list it came from.
	shown := s.ok("investigator", work, "item", "show", listed[0].(map[string]any)["id"].(string)).stdout
	if !strings.Contains(shown, "acquired:   sha256 "+listed[0].(map[string]any)["sha256"].(string)) || !strings.Contains(shown, "read from:  the hash list listed.sha256, its line for ") {
		t.Errorf("item show of an item deposited with a list:\n%s", shown)
	}
	// Each item's acquisition hashes name the list they were read from:
	// its file name and the SHA-256 of its bytes, nothing of the folder
	// it lay in on the examiner's machine.
	listBytes, _ := os.ReadFile(filepath.Join(work, "listed.sha256"))
	listSum := sha256.Sum256(listBytes)
	wantList := acquisitionList{Name: "listed.sha256", SHA256: hex.EncodeToString(listSum[:])}
	got := depositedLists(t, s, "F-LIST")
	if len(got) != 7 {
		t.Fatalf("the lists recorded for F-LIST's items: %+v, want 7 of %+v", got, wantList)
	}
	// Each names the line its hashes were read from: the list's names,
	// sha256sum's escapes undone, escaped as item names are.
	lines := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(listBytes), "\n"), "\n") {
		name := line[strings.Index(line, "  ")+2:]
		if strings.HasPrefix(line, `\`) {
			name = hashset.UnescapeSumsName(name)
		}
		lines[vault.EscapeName([]byte(name))] = true
	}
	for _, l := range got {
		if l.Name != wantList.Name || l.SHA256 != wantList.SHA256 || !lines[l.Entry] {
			t.Errorf("a list recorded for F-LIST: %+v, want %+v and one of its lines' names %v", l, wantList, lines)
		}
	}
	if rep := s.ok("custodian", work, "report", "--case", "F-LIST", "-o", filepath.Join(work, "F-LIST.txt")); rep.code != 0 {
		t.Fatal(rep.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "F-LIST.txt")); !strings.Contains(string(b), "Read from") || !strings.Contains(string(b), "the hash list “listed.sha256”, SHA-256 "+wantList.SHA256) {
		t.Errorf("the custody report does not say which list the acquisition hashes came from:\n%s", b)
	}

	// Standard input under --name.
	cmd := exec.Command(filepath.Join(binDir, "custos"), "deposit", "--case", "F-1", "--name", "stream.bin", "-", "--json")
	cmd.Env, cmd.Dir = s.env("investigator"), work
	cmd.Stdin = strings.NewReader("streamed evidence")
	if b, err := cmd.Output(); err != nil || !strings.Contains(string(b), `"name":"stream.bin"`) {
		t.Fatalf("stdin deposit: %v %s", err, b)
	}

	// Acquisition hashes.
	img := filepath.Join(work, "image.dd")
	os.WriteFile(img, []byte("forensic image"), 0o644)
	sum := sha256.Sum256([]byte("forensic image"))
	md := md5.Sum([]byte("forensic image"))
	wrong := strings.Repeat("0", 64)
	// What the vault found is exit 1, the file named once; a hash typed
	// wrong (its length, a letter that is no hex digit) or a sums file
	// that lists something else is a mistake in the command: exit 2, and
	// nothing sent.
	if r := s.refused("investigator", work, "not the expected", "deposit", "--case", "F-1", "--expect-sha256", wrong, img); r.code != 1 || strings.Count(r.stderr, "image.dd") != 1 {
		t.Fatalf("an acquisition hash that does not hold: exit %d, %q (want 1, the file named once)", r.code, r.stderr)
	}
	before := len(logEvents(t, s))
	for _, c := range []struct{ want, flag, value string }{
		{"--expect-sha256 \"abc\" is not a SHA256: 64 hex digits", "--expect-sha256", "abc"},
		{"is not a MD5: 32 hex digits", "--expect-md5", strings.Repeat("g", 32)},
		{"is not a SHA1: 40 hex digits", "--expect-sha1", strings.Repeat("0", 64)},
	} {
		if r := s.refused("investigator", work, c.want, "deposit", "--case", "F-1", c.flag, c.value, img); r.code != 2 {
			t.Errorf("%s %s: exit %d, want 2 (a usage error)", c.flag, c.value, r.code)
		}
	}
	badSums := filepath.Join(work, "BADSUMS")
	os.WriteFile(badSums, []byte(strings.Repeat("z", 64)+"  "+img+"\n"), 0o644)
	if r := s.refused("investigator", work, "line 1", "deposit", "--case", "F-1", "--expect-from", badSums, img); r.code != 2 {
		t.Errorf("a sums file with a line that is no hash: exit %d, want 2", r.code)
	}
	if after := logEvents(t, s); len(after) != before {
		for _, ev := range after[before:] {
			if ev.Type == "session.opened" {
				continue // the auditor's, who reads the log here
			}
			t.Errorf("recorded for deposits refused before anything was sent: %s %s", ev.Type, ev.Data)
		}
	}
	list := s.ok("investigator", work, "item", "list", "--case", "F-1", "--name", "image.dd", "--json").json(t)
	if len(list["items"].([]any)) != 0 {
		t.Fatal("an item whose acquisition hash did not hold was stored")
	}
	s.ok("investigator", work, "deposit", "--case", "F-1", "--expect-sha256", hex.EncodeToString(sum[:]), "--expect-md5", hex.EncodeToString(md[:]), img)
	sums := filepath.Join(work, "SHA256SUMS")
	os.WriteFile(sums, []byte(wrong+"  "+img+"\n"), 0o644)
	s.refused("investigator", work, "not the expected", "deposit", "--case", "F-1", "--again", "--expect-from", sums, img)
	if r := s.refused("investigator", work, "no hash for", "deposit", "--case", "F-1", "--expect-from", sums, filepath.Join(dump, "chat.db")); r.code != 2 {
		t.Errorf("a sums file without the file's hash: exit %d, want 2", r.code)
	}

	// The Latin-1 name's item shows its escaped form; NFC and NFD stay
	// apart; a Khmer name, marks and all, is shown as it is written.
	all := s.ok("investigator", work, "item", "list", "--case", "F-1").stdout
	if !strings.Contains(all, `caf\xe9.txt`) || !strings.Contains(all, `cafe\u0301.txt`) || !strings.Contains(all, "ស្រីពៅ.jpg") || !strings.Contains(all, `line\x0abreak.txt`) {
		t.Fatalf("item list for people:\n%s", all)
	}
	// A name copied from that list, escapes and all, finds its item.
	for _, shown := range []string{`line\x0abreak.txt`, `cafe\u0301.txt`} {
		found := s.ok("investigator", work, "item", "list", "--case", "F-1", "--name", shown, "--json").json(t)["items"].([]any)
		if len(found) != 1 {
			t.Errorf("item list --name %s: %v", shown, found)
		}
	}
	refused := false
	for _, ev := range logEvents(t, s) {
		refused = refused || ev.Type == "access.refused" && strings.Contains(string(ev.Data), "not the expected")
	}
	if !refused {
		t.Fatal("the refused acquisition hash was not recorded")
	}

	// Retention in days and years; short ones need --yes.
	s.ok("investigator", work, "case", "open", "F-2", "--title", "t", "--retention", "12y")
	s.refused("custodian", work, "--yes", "case", "open", "F-3", "--title", "t", "--retention", "30d")
	s.ok("custodian", work, "case", "open", "F-3", "--title", "t", "--retention", "30d", "--yes")
	if out := s.ok("custodian", work, "case", "show", "F-2", "--json").stdout; !strings.Contains(out, `"retention":"105120h0m0s"`) {
		t.Fatalf("12y: %s", out)
	}
}

// TestDepositLeftBehindFails: a folder deposit that could not read part
// of what it was given stores the rest, lists what it left behind, and
// exits 1 with its answer still printed, so that neither a script nor an
// investigator reading the last line takes the folder for deposited
// whole; once that part is put right, the same command deposits only it.
func TestDepositLeftBehindFails(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "F-9", "--title", "seized drive")
	dump := filepath.Join(work, "drive")
	os.MkdirAll(dump, 0o755)
	os.WriteFile(filepath.Join(dump, "ledger.xlsx"), []byte("payments"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dump, "link"))
	// A folder nested beyond PATH_MAX: made by walking down with cd,
	// which no path-based read follows back.
	deep := `d=$(printf 'd%.0s' $(seq 250)); mkdir -p deep && cd deep && for i in $(seq 18); do mkdir $d && cd $d || exit 1; done; echo evidence > buried.txt`
	if r := s.run("", dump, "/bin/bash", "-c", deep); r.code != 0 {
		t.Fatalf("making the deep folder: %s", r.stderr)
	}

	r := s.run("investigator", work, "custos", "deposit", "--case", "F-9", dump, "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "not all of it was deposited: 1 file or folder left behind") {
		t.Fatalf("a deposit that left a folder behind: exit %d, %s", r.code, r.stderr)
	}
	out := r.json(t)
	if items := out["items"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "ledger.xlsx" {
		t.Fatalf("what could be read was not deposited: %v", items)
	}
	marked := 0
	for _, sk := range out["skipped"].([]any) {
		if sk.(map[string]any)["left_behind"] == true {
			marked++
		}
	}
	if marked != 1 || len(out["skipped"].([]any)) != 2 {
		t.Fatalf("skipped: %v", out["skipped"])
	}
	// The custody log says so, under the depositor's name: what was
	// left behind and why, and where the link pointed.
	seq, _ := out["skipped_event"].(float64)
	var stated *events.Event
	for _, ev := range logEvents(t, s) {
		if ev.Seq == uint64(seq) {
			stated = ev
		}
	}
	if stated == nil || stated.Type != "deposit.skipped" || stated.Actor.Person != "investigator" || stated.Case != "F-9" ||
		!strings.Contains(string(stated.Data), `"count":2`) || !strings.Contains(string(stated.Data), `"path":"link"`) || !strings.Contains(string(stated.Data), "not followed") || !strings.Contains(string(stated.Data), "/etc/passwd") || !strings.Contains(string(stated.Data), `"left_behind":true`) {
		t.Fatalf("the deposit's skips in the custody log (event %v): %+v", seq, stated)
	}
	// And the case's custody report tells it, in words.
	s.ok("auditor", work, "report", "--case", "F-9", "-o", "custody.txt")
	if b, _ := os.ReadFile(filepath.Join(work, "custody.txt")); !strings.Contains(string(b), "Statement of files not deposited, as the person named stated it") || !strings.Contains(string(b), "the depositor stated 2 files or folders found and not deposited, 2 listed here, of which 1 is content the case does not hold") || !strings.Contains(string(b), "the same run deposited 1 and found 0 in the case already") {
		t.Fatalf("the custody report does not tell what the deposit skipped:\n%s", b)
	}
	// A package of the case carries the statement among the case's
	// events, and verifies offline.
	key := filepath.Join(work, "prosecutor.key")
	kg := s.run("", work, testenv.Binary(t, "age-keygen"), "-o", key)
	if kg.code != 0 {
		t.Fatal(kg.stderr)
	}
	s.ok("prosecutor", work, "recipient", "set", strings.TrimSpace(strings.TrimPrefix(kg.stderr, "Public key: ")))
	pkgID := s.ok("investigator", work, "package", "seal", "--case", "F-9", "--for", "prosecutor", "--purpose", "trial bundle", "--json").json(t)["package"].(string)
	s.ok("prosecutor", work, "package", "fetch", pkgID, "-o", "bundle.tar")
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	if r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey); r.code != 0 || !strings.Contains(r.stdout, "VERIFIED") {
		t.Fatalf("custos-verify of a package with a deposit's statement: %s %s", r.stdout, r.stderr)
	}
	if r := s.run("", work, "/bin/sh", "-c", fmt.Sprintf("tar -xOf bundle.tar events/%012d.json", uint64(seq))); r.code != 0 || !strings.Contains(r.stdout, `"deposit.skipped"`) {
		t.Fatalf("the package does not carry the deposit's statement (event %v): %s %s", seq, r.stdout, r.stderr)
	}

	// The same without --json: the summary, then the error.
	r = s.run("investigator", work, "custos", "deposit", "--case", "F-9", dump)
	if r.code != 1 || !strings.Contains(r.stdout, "0 items deposited, 1 already there, 2 skipped (1 of them left behind)") || !strings.Contains(r.stdout, "recorded in the custody log") || !strings.Contains(r.stderr, "left behind") {
		t.Fatalf("again, for people: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// Put right (here: the buried file brought up, as a forensic copy
	// would), run again: exit 0, only the new file stored; the link
	// alone fails nothing.
	if r := s.run("", dump, "/bin/sh", "-c", "echo evidence > buried.txt && rm -rf deep"); r.code != 0 {
		t.Fatalf("%s", r.stderr)
	}
	again := s.ok("investigator", work, "deposit", "--case", "F-9", dump, "--json").json(t)
	if items := again["items"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "buried.txt" {
		t.Fatalf("the rerun: %v", again)
	}
}

// TestDepositEachExhibitWhole: a second exhibit holding the same files
// (another suspect's phone) is deposited whole under its own --source,
// never taken for the first one resumed; a file whose content is not its
// acquisition hash is refused while the rest of the folder goes in, and
// a file the acquisition list names that is not in the folder is left
// behind: either way the deposit exits 1 with its answer printed.
func TestDepositEachExhibitWhole(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "F-10", "--title", "two suspects")
	for _, ex := range []string{"usb", "phone3"} {
		os.MkdirAll(filepath.Join(work, ex, "DCIM"), 0o755)
		os.WriteFile(filepath.Join(work, ex, "DCIM", "IMG_0001.jpg"), []byte("the same photo"), 0o644)
	}
	first := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/1", "usb", "--json").json(t)
	if len(first["items"].([]any)) != 1 {
		t.Fatalf("the first exhibit: %v", first)
	}
	second := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/3", "phone3")
	if !strings.Contains(second.stdout, "from another source: deposited again for this one") || strings.Contains(second.stdout, "already deposited") {
		t.Fatalf("the second exhibit, with the same file, was not deposited as its own:\n%s", second.stdout)
	}
	resumed := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/3", "phone3", "--json").json(t)
	if len(resumed["items"].([]any)) != 0 || len(resumed["already"].([]any)) != 1 {
		t.Fatalf("the second exhibit again, same source: %v", resumed)
	}

	// A file of a folder whose name and source the case holds with other
	// content is deposited as new and told, with the item it differs
	// from; the same name from another source is that exhibit's, and not
	// told.
	os.WriteFile(filepath.Join(work, "phone3", "DCIM", "IMG_0001.jpg"), []byte("the photo, edited since"), 0o644)
	changed := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/3", "phone3", "--json").json(t)
	var earlierID string
	for _, it := range strings.Split(second.stdout, "\n") {
		if f := strings.Fields(it); len(f) > 1 && strings.HasPrefix(f[0], "it_") {
			earlierID = f[0]
		}
	}
	oc, _ := changed["other_content"].([]any)
	if len(changed["items"].([]any)) != 1 || len(oc) != 1 {
		t.Fatalf("a changed file from the same source: %v", changed)
	}
	if got := oc[0].(map[string]any); got["name"] != "DCIM/IMG_0001.jpg" || fmt.Sprint(got["earlier"]) != "["+earlierID+"]" {
		t.Errorf("other_content %v, want DCIM/IMG_0001.jpg differing from %s", got, earlierID)
	}
	os.WriteFile(filepath.Join(work, "usb", "DCIM", "IMG_0001.jpg"), []byte("the photo, edited since"), 0o644)
	os.WriteFile(filepath.Join(work, "usb", "DCIM", "IMG_0002.jpg"), []byte("a new photo"), 0o644)
	text := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/1", "usb")
	if !strings.Contains(text.stdout, "under this name from this source with other content: both are kept") || !strings.Contains(text.stdout, "1 file of this source the case held under the same name with other content") {
		t.Errorf("the changed file of the first exhibit is not told:\n%s", text.stdout)
	}
	if r := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/9", "usb", "--json"); strings.Contains(r.stdout, "other_content") {
		t.Errorf("files of another source were told as differing from this one's: %s", r.stdout)
	}
	// Told with --again too, and for a file named on its own.
	os.WriteFile(filepath.Join(work, "usb", "DCIM", "IMG_0001.jpg"), []byte("edited a second time"), 0o644)
	if r := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/1", "--again", "usb", "--json"); !strings.Contains(r.stdout, `"other_content"`) {
		t.Errorf("--again: %s", r.stdout)
	}
	notes := filepath.Join(work, "usb", "notes.txt")
	os.WriteFile(notes, []byte("notes"), 0o644)
	s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/1", notes)
	os.WriteFile(notes, []byte("notes, edited"), 0o644)
	if r := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/1", notes, "--json"); !strings.Contains(r.stdout, `"other_content"`) {
		t.Errorf("a file named on its own: %s", r.stdout)
	}

	// Two folders of one run, each holding a file of the same name: the
	// same content is deposited twice (each a file of the media), other
	// content is told.
	for _, card := range []string{"cardA", "cardB"} {
		os.MkdirAll(filepath.Join(work, card, "DCIM"), 0o755)
		os.WriteFile(filepath.Join(work, card, "DCIM", "same.jpg"), []byte("one photo on both cards"), 0o644)
		os.WriteFile(filepath.Join(work, card, "DCIM", "differs.jpg"), []byte("the photo of "+card), 0o644)
	}
	two := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "reader JD/7", "cardA", "cardB", "--json").json(t)
	if n := len(two["items"].([]any)); n != 4 || two["already"] != nil {
		t.Errorf("two cards in one run: %d items deposited, already %v; want all 4", n, two["already"])
	}
	if oc, _ := two["other_content"].([]any); len(oc) != 1 || oc[0].(map[string]any)["name"] != "DCIM/differs.jpg" {
		t.Errorf("two cards in one run: other_content %v, want DCIM/differs.jpg", two["other_content"])
	}

	// An acquisition list with a wrong hash for one file and a file
	// that is no longer there.
	card := filepath.Join(work, "card")
	os.MkdirAll(card, 0o755)
	for _, f := range []string{"a.jpg", "b.jpg", "c.jpg", "gone.jpg"} {
		os.WriteFile(filepath.Join(card, f), []byte("content of "+f), 0o644)
	}
	if r := s.run("", card, "/bin/sh", "-c", "sha256sum *.jpg > ../card.sha256 && rm gone.jpg && echo altered >> b.jpg"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := s.run("investigator", work, "custos", "deposit", "--case", "F-10", "--expect-from", "card.sha256", "card", "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "not all of it was deposited") || !strings.Contains(r.stderr, "1 file refused") || !strings.Contains(r.stderr, "1 file or folder left behind") {
		t.Fatalf("a wrong hash and a missing file: exit %d\n%s", r.code, r.stderr)
	}
	out := r.json(t)
	var names []string
	for _, it := range out["items"].([]any) {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "a.jpg,c.jpg" {
		t.Errorf("deposited %v, want a.jpg and c.jpg (b.jpg refused, gone.jpg gone)", names)
	}
	if ref := out["refused"].([]any); len(ref) != 1 || !strings.Contains(ref[0].(map[string]any)["path"].(string), "b.jpg") {
		t.Errorf("refused: %v", out["refused"])
	}
	if sk := out["skipped"].([]any); len(sk) != 1 || !strings.Contains(sk[0].(map[string]any)["path"].(string), "gone.jpg") || sk[0].(map[string]any)["left_behind"] != true {
		t.Errorf("skipped: %v", out["skipped"])
	}
	// The refusal names the list whose hash did not hold.
	cardList, _ := os.ReadFile(filepath.Join(work, "card.sha256"))
	cardSum := sha256.Sum256(cardList)
	named := false
	for _, ev := range logEvents(t, s) {
		named = named || ev.Type == "access.refused" && strings.Contains(string(ev.Data), "b.jpg") && strings.Contains(string(ev.Data), `‘card.sha256’, SHA-256 `+hex.EncodeToString(cardSum[:]))
	}
	if !named {
		t.Error("the refusal of b.jpg does not name the list card.sha256 and its SHA-256")
	}
	// A list read through a pipe has no name worth recording: its
	// SHA-256 alone is.
	os.WriteFile(filepath.Join(work, "card", "e.jpg"), []byte("content of e.jpg"), 0o644)
	eSum := sha256.Sum256([]byte("content of e.jpg"))
	piped := hex.EncodeToString(eSum[:]) + "  e.jpg\n"
	pipedSum := sha256.Sum256([]byte(piped))
	if r := s.run("investigator", work, "/bin/sh", "-c", "printf '%s' \""+piped+"\" | "+filepath.Join(binDir, "custos")+" deposit --case F-10 --expect-from /dev/stdin card/e.jpg"); r.code != 0 {
		t.Fatalf("a list through a pipe: exit %d\n%s", r.code, r.stderr)
	}
	if got := depositedLists(t, s, "F-10"); len(got) == 0 || got[len(got)-1] != (acquisitionList{SHA256: hex.EncodeToString(pipedSum[:]), Entry: "e.jpg"}) {
		t.Errorf("the lists recorded for F-10's items: %+v, want the piped list's SHA-256 without a name last", got)
	}
	// A list is named as the file it is: /dev/stdin redirected from a
	// file, and a link, give the file's own name; a list inside the
	// folder it lists is deposited with it, its SHA-256 the one recorded.
	os.WriteFile(filepath.Join(work, "card", "f.jpg"), []byte("content of f.jpg"), 0o644)
	os.WriteFile(filepath.Join(work, "card", "g.jpg"), []byte("content of g.jpg"), 0o644)
	fSum, gSum := sha256.Sum256([]byte("content of f.jpg")), sha256.Sum256([]byte("content of g.jpg"))
	os.WriteFile(filepath.Join(work, "real.sha256"), []byte(hex.EncodeToString(fSum[:])+"  card/f.jpg\n"), 0o644)
	realSum := sha256.Sum256([]byte(hex.EncodeToString(fSum[:]) + "  card/f.jpg\n"))
	if r := s.run("investigator", work, "/bin/sh", "-c", filepath.Join(binDir, "custos")+" deposit --case F-10 --expect-from /dev/stdin card/f.jpg < real.sha256"); r.code != 0 {
		t.Fatalf("a list on standard input: exit %d\n%s", r.code, r.stderr)
	}
	os.Symlink("real.sha256", filepath.Join(work, "innocent.sha256"))
	s.ok("investigator", work, "deposit", "--case", "F-10", "--again", "--expect-from", "innocent.sha256", "card/f.jpg")
	if got := depositedLists(t, s, "F-10"); len(got) < 2 || got[len(got)-2].Name != "real.sha256" || got[len(got)-1].Name != "real.sha256" || got[len(got)-1].SHA256 != hex.EncodeToString(realSum[:]) || got[len(got)-1].Entry != "card/f.jpg" {
		t.Errorf("lists named through /dev/stdin and a link: %+v, want real.sha256 twice", got[max(0, len(got)-2):])
	}
	inside := filepath.Join(work, "exhibit")
	os.MkdirAll(inside, 0o755)
	os.WriteFile(filepath.Join(inside, "g.jpg"), []byte("content of g.jpg"), 0o644)
	os.WriteFile(filepath.Join(inside, "SHA256SUMS"), []byte(hex.EncodeToString(gSum[:])+"  g.jpg\n"), 0o644)
	got := s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "exhibit JD/4", "--expect-from", "exhibit/SHA256SUMS", "exhibit", "--json").json(t)
	var listItem string
	for _, it := range got["items"].([]any) {
		if it.(map[string]any)["name"] == "SHA256SUMS" {
			listItem = it.(map[string]any)["sha256"].(string)
		}
	}
	if lists := depositedLists(t, s, "F-10"); listItem == "" || len(got["items"].([]any)) != 2 || lists[len(lists)-1].SHA256 != listItem && lists[len(lists)-2].SHA256 != listItem {
		t.Errorf("a list inside its folder: %v; lists %+v", got, lists)
	}
	// item show names the list's own item.
	for _, it := range got["items"].([]any) {
		if m := it.(map[string]any); m["name"] == "g.jpg" {
			if out := s.ok("investigator", work, "item", "show", m["id"].(string)).stdout; !strings.Contains(out, "read from:  the hash list SHA256SUMS, its line for g.jpg, sha256 "+listItem+" (held in the case as item it_") {
				t.Errorf("item show of a file whose list was deposited with it:\n%s", out)
			}
		}
	}
	// A file the list names that is not there is stated left behind
	// with the list's name escaped as names are: the statement is
	// recorded.
	odd := "miss\u202e\nlist.sum"
	os.WriteFile(filepath.Join(work, odd), []byte(hex.EncodeToString(gSum[:])+"  g.jpg\n"+strings.Repeat("1", 64)+"  gone.jpg\n"), 0o644)
	os.MkdirAll(filepath.Join(work, "exhibit5"), 0o755)
	os.WriteFile(filepath.Join(work, "exhibit5", "g.jpg"), []byte("content of g.jpg"), 0o644)
	r = s.run("investigator", work, "custos", "deposit", "--case", "F-10", "--source", "exhibit JD/5", "--expect-from", odd, "exhibit5", "--json")
	if r.code != 1 || r.json(t)["skipped_event"] == nil || strings.Contains(r.stdout+r.stderr, "\u202e") {
		t.Errorf("a file missing from a list of an odd name: exit %d, %s\n%s", r.code, r.stdout, r.stderr)
	}

	// A run resumed with an acquisition list checks what it would skip
	// against it: a file deposited before without a list, whose content
	// the list now contradicts, is sent and refused, not called deposited.
	os.MkdirAll(filepath.Join(work, "stick"), 0o755)
	os.WriteFile(filepath.Join(work, "stick", "x.jpg"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(work, "stick", "y.jpg"), []byte("y"), 0o644)
	s.ok("investigator", work, "deposit", "--case", "F-10", "--source", "stick JD/5", "stick")
	sum := sha256.Sum256([]byte("x"))
	os.WriteFile(filepath.Join(work, "stick.sha256"), []byte(hex.EncodeToString(sum[:])+"  stick/x.jpg\n"+strings.Repeat("0", 64)+"  stick/y.jpg\n"), 0o644)
	r = s.run("investigator", work, "custos", "deposit", "--case", "F-10", "--source", "stick JD/5", "--expect-from", "stick.sha256", "stick", "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "1 file refused") {
		t.Fatalf("a resumed run whose list contradicts a file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if out := r.json(t); len(out["already"].([]any)) != 1 || len(out["refused"].([]any)) != 1 {
		t.Fatalf("a resumed run whose list contradicts a file: %v", out)
	}
}

// acquisitionList is item.deposited's data.acquisition.list.
type acquisitionList struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Entry  string `json:"entry"`
}

// depositedLists returns the acquisition lists the item.deposited
// events of a case record, in log order (zero where none).
func depositedLists(t *testing.T, s *server, caseID string) []acquisitionList {
	t.Helper()
	var out []acquisitionList
	for _, ev := range logEvents(t, s) {
		if ev.Type != "item.deposited" || ev.Case != caseID {
			continue
		}
		var d struct {
			Acquisition struct {
				List acquisitionList `json:"list"`
			} `json:"acquisition"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Acquisition.List)
	}
	return out
}

// TestGetChecksItsOutputFirst: a copy that could never be written is not
// asked for, so no access is recorded for it (exit 2, a mistake in the
// command); messages never name the temporary file.
func TestGetChecksItsOutputFirst(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id, _ := setup(t, s, work)
	r := s.refused("investigator", work, "does not exist", "get", id, "--purpose", "x", "-o", filepath.Join(work, "no-such-folder", "copy"))
	if r.code != 2 {
		// A mistake in the command, told apart from a copy that failed
		// its check against the vault's record (exit 1).
		t.Errorf("get -o in a folder that does not exist exits %d, want 2", r.code)
	}
	locked := filepath.Join(work, "locked")
	os.Mkdir(locked, 0o500)
	if os.Geteuid() != 0 { // root writes anywhere
		r2 := s.refused("investigator", work, "does not take new files", "get", id, "--purpose", "x", "-o", filepath.Join(locked, "copy"))
		r.stderr += r2.stderr
	}
	if strings.Contains(r.stderr, "partial") {
		t.Fatalf("a message names the temporary file: %s", r.stderr)
	}
	for _, ev := range logEvents(t, s) {
		if ev.Type == "item.accessed" {
			t.Fatalf("an access was recorded for a copy that could not be written: event %d", ev.Seq)
		}
	}
	// A copy that is written is recorded as a copy, and the audit's
	// timeline says so in words.
	s.ok("investigator", work, "get", id, "--purpose", "a copy to examine", "-o", filepath.Join(work, "copy"))
	var accesses []string
	for _, ev := range logEvents(t, s) {
		var d struct {
			Access string `json:"access"`
		}
		if ev.Type == "item.accessed" && ev.DecodeData(&d) == nil {
			accesses = append(accesses, d.Access)
		}
	}
	if len(accesses) != 1 || accesses[0] != "copy" {
		t.Fatalf("custos get recorded accesses %q, want one copy", accesses)
	}
	if tl := s.ok("auditor", work, "audit", "log", "--item", id).stdout; !strings.Contains(tl, "Copy sent") {
		t.Fatalf("the item's timeline does not say a copy was sent:\n%s", tl)
	}
	v := s.ok("auditor", work, "audit", "verify", "--json").json(t)
	if len(v["root"].(string)) != 64 || v["root_base64"] == "" {
		t.Fatalf("audit verify root: %v", v)
	}
}

// TestDepositCancelled: Ctrl-C during a deposit leaves nothing, tells the
// person so, and the server logs a client's cancellation, not a failure.
func TestDepositCancelled(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "X-1", "--title", "t")
	cmd := exec.Command(filepath.Join(binDir, "custos"), "deposit", "--case", "X-1", "--name", "slow.bin", "-")
	cmd.Env, cmd.Dir = s.env("investigator"), work
	pr, pw, _ := os.Pipe()
	cmd.Stdin = pr
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	pw.Write(make([]byte, 1<<20)) // the upload is under way
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	pw.Close()
	if err == nil || !strings.Contains(stderr.String(), "cancelled") {
		t.Fatalf("Ctrl-C: %v %q", err, stderr.String())
	}
	if !s.logs.waitFor(regexp.MustCompile(`cancelled by its client`)) {
		t.Fatalf("the server did not log a client cancellation:\n%s", s.logs)
	}
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Fatalf("a cancellation was logged as an error:\n%s", s.logs)
	}
	if out := s.ok("investigator", work, "item", "list", "--case", "X-1", "--json").stdout; strings.Contains(out, "slow.bin") {
		t.Fatalf("a cancelled deposit left an item: %s", out)
	}
}
