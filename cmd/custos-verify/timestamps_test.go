package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/pkgformat"
)

// The folder of notes and tokens events/tsa/tsafolder keeps as vectors:
// three notes of a test log, each with a token of a real OpenSSL TSA.
const (
	stampsFolder = "../../events/tsa/tsafolder/testdata/folder"
	stampsKey    = "../../events/tsa/tsafolder/testdata/log.key"
	stampsCA     = "../../events/tsa/tsafolder/testdata/ca.pem"
)

func TestTimestampsFolder(t *testing.T) {
	code, out, errOut := runVerify("--timestamps", stampsFolder, "--key", stampsKey, "--tsa-cert", stampsCA)
	if code != exitVerified || !strings.Contains(out, "3 notes and 3 tokens") || !strings.Contains(out, "ok  3 tokens verified over their notes against --tsa-cert, attested from 2026-") ||
		!strings.HasSuffix(out, "\nVERIFIED\n") {
		t.Fatalf("%d\n%s%s", code, out, errOut)
	}
	code, out, _ = runVerify("--timestamps", stampsFolder, "--key", stampsKey, "--json")
	var res timestampsResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitVerified || res.Status != "verified" || res.TokensChecked || res.Verified != 0 || res.Tokens != 3 || len(res.LogKeyFingerprints) != 1 {
		t.Fatalf("--json without --tsa-cert: %d %v %+v", code, err, res)
	}
	key, _ := os.ReadFile(stampsKey)
	if res.LogKeyFingerprints[0] != pkgformat.KeyFingerprint(strings.TrimSpace(string(key))) {
		t.Fatalf("fingerprint %s", res.LogKeyFingerprints[0])
	}

	// A copy with a note's byte changed: that note and its token fail,
	// named, and the folder is only read.
	dir := t.TempDir()
	ents, err := os.ReadDir(stampsFolder)
	if err != nil {
		t.Fatal(err)
	}
	var changed string
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(stampsFolder, e.Name()))
		if changed == "" && strings.HasSuffix(e.Name(), "-checkpoint") && len(e.Name()) > 40 {
			changed = e.Name()
			b[30] ^= 1
		}
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	code, out, errOut = runVerify("--timestamps", dir, "--key", stampsKey, "--tsa-cert", stampsCA)
	if code != exitFailed || !strings.Contains(out, "FAILED "+changed+": its bytes are not of the SHA-256 its name gives") ||
		!strings.Contains(out, "ok  2 tokens verified") || !strings.HasSuffix(out, "\nFAILED\n") || !strings.Contains(errOut, "2 of the folder's objects failed their check") {
		t.Fatalf("a changed note: %d\n%s%s", code, out, errOut)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(ents) {
		t.Fatalf("the folder changed: %d entries", len(after))
	}
}

func TestTimestampsFolderMistakes(t *testing.T) {
	key, _ := os.ReadFile(stampsKey)
	fingerprint := pkgformat.KeyFingerprint(strings.TrimSpace(string(key)))
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--timestamps", stampsFolder}, "--timestamps needs the log's key"},
		{[]string{"--timestamps", stampsFolder, "--key", fingerprint}, "a fingerprint names the log's key but cannot check a note's signature"},
		{[]string{"--timestamps", stampsFolder, "--key", stampsKey, "--identity", vectorID}, "--timestamps takes --key or --trusted-keys"},
		{[]string{"--timestamps", stampsFolder, stampsFolder, "--key", stampsKey}, "--timestamps takes one folder"},
		{[]string{"--timestamps", vectorPkg, "--key", stampsKey}, "is not a folder"},
		{[]string{"--timestamps", filepath.Join(t.TempDir(), "none"), "--key", stampsKey}, "no such file"},
		{[]string{"--timestamps", stampsFolder, "--key", "not-a-key"}, "the folder was not checked"},
	} {
		code, out, errOut := runVerify(c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.says) {
			t.Errorf("%v: %d\n%s%s", c.args, code, out, errOut)
		}
	}
}
