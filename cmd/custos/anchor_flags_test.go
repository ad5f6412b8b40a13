package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

func witnessVKey(t *testing.T, name string) string {
	_, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

// TestAnchorFlagsFromConfigFile: witnesses, their quorum and TSAs read
// from a config file as from the command line (repeatable flags too);
// bad values are usage errors that name the flag, and a policy file
// replaces the flags.
func TestAnchorFlagsFromConfigFile(t *testing.T) {
	a, b := witnessVKey(t, "witness.a.example"), witnessVKey(t, "witness.b.example")
	dir := t.TempDir()
	path := filepath.Join(dir, "custos.conf")
	os.WriteFile(path, []byte("witness = a="+a+"@https://a.example/w\nwitness = b="+b+"@https://b.example\nwitness-quorum = 1\n"+
		"tsa = https://tsa.example/tsr\ntsa = https://tsa2.example/\ntsa-interval = 10m\ntsa-cert = ../../events/tsa/testdata/ca.pem\n"), 0o600)
	fs := newFlags("server")
	var f anchorFlags
	f.register(fs)
	if err := loadConfig(fs, path); err != nil {
		t.Fatal(err)
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
	var cfg vault.Config
	f.apply(&cfg)
	if cfg.Witnesses == nil || len(cfg.Witnesses.Witnesses) != 2 || cfg.Witnesses.Quorum != "1 of 2" ||
		cfg.Witnesses.Witnesses[0].URL != "https://a.example/w/add-checkpoint" || len(cfg.TSAs) != 2 || cfg.TSAInterval.Minutes() != 10 ||
		len(cfg.TSACerts) != 1 || !cfg.TSACerts[0].IsCA {
		t.Fatalf("config: %+v %v %s %d TSA certificates", cfg.Witnesses, cfg.TSAs, cfg.TSAInterval, len(cfg.TSACerts))
	}
	// On the command line, as an operator types it, and without --tsa
	// (the tokens stored before are still judged by it).
	fs = newFlags("server")
	var c anchorFlags
	c.register(fs)
	if _, err := parse(fs, []string{"--tsa-cert", "../../events/tsa/testdata/ca.pem"}); err != nil {
		t.Fatal(err)
	}
	if err := c.check(); err != nil || len(c.certs) != 1 {
		t.Fatalf("--tsa-cert alone: %v, %d certificates", err, len(c.certs))
	}

	policy := filepath.Join(dir, "witnesses.policy")
	os.WriteFile(policy, []byte("witness a "+a+" https://a.example\nwitness b "+b+" https://b.example\ngroup g any a b\nquorum g\n"), 0o600)
	notPEM := filepath.Join(dir, "tsa.pem")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600)
	noURL := filepath.Join(dir, "auditor.policy")
	os.WriteFile(noURL, []byte("witness a "+a+"\nquorum a\n"), 0o600)
	unreachable := filepath.Join(dir, "unreachable.policy")
	os.WriteFile(unreachable, []byte("witness a "+a+" https://a.example\nwitness b "+b+"\ngroup g all a b\nquorum g\n"), 0o600)
	for _, bad := range [][]string{
		{"--witness", "a=" + a},
		{"--witness", "a=" + a + "@ftp://a.example"},
		{"--witness", "a=" + a + "@https://a.example", "--witness-quorum", "2"},
		{"--witness-quorum", "1"},
		{"--witness-policy", policy, "--witness", "a=" + a + "@https://a.example"},
		{"--witness-policy", noURL},
		{"--witness-policy", unreachable}, // the quorum needs b, who has no URL
		{"--witness-policy", filepath.Join(dir, "missing.policy")},
		{"--tsa", "tsa.example"},
		{"--tsa", "https://user:secret@tsa.example/", "--tsa", "ftp://x"},
		{"--tsa", "https://tsa.example", "--tsa-cert", notPEM},      // not certificates
		{"--tsa", "https://tsa.example", "--tsa-cert", dir + "/no"}, // missing
	} {
		fs := newFlags("server")
		var f anchorFlags
		f.register(fs)
		if _, err := parse(fs, bad); err != nil {
			t.Fatalf("%v: %v", bad, err)
		}
		err := f.check()
		if err == nil || !strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	fs = newFlags("server")
	var g anchorFlags
	g.register(fs)
	if _, err := parse(fs, []string{"--witness-policy", policy}); err != nil {
		t.Fatal(err)
	}
	if err := g.check(); err != nil || g.pol.Quorum != "1 of 2" {
		t.Fatalf("policy file: %v %v", g.pol, err)
	}
	// A retired witness's line, without a URL, beside one the server
	// reaches.
	retired := filepath.Join(dir, "retired.policy")
	os.WriteFile(retired, []byte("witness a "+a+" https://a.example\nwitness old "+b+"\nquorum a\n"), 0o600)
	fs = newFlags("server")
	var r anchorFlags
	r.register(fs)
	if _, err := parse(fs, []string{"--witness-policy", retired}); err != nil {
		t.Fatal(err)
	}
	if err := r.check(); err != nil || len(r.pol.Witnesses) != 2 {
		t.Fatalf("a retired witness's line: %v", err)
	}
}
