package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The published package cases (testdata/package/cases, specified in
// docs/package-format.md section 12) run through the program as a user
// runs it: each gets the exit status cases.json states, and only the
// valid ones end in VERIFIED.
func TestPackageCases(t *testing.T) {
	dir := "../../testdata/package/cases"
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cf struct {
		Key      string `json:"key"`
		Identity string `json:"identity"`
		Cases    []struct {
			File  string `json:"file"`
			Valid bool   `json:"valid"`
			Exit  int    `json:"exit"`
			Rule  string `json:"rule"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	if len(cf.Cases) < 50 || cf.Key != vectorKey(t) {
		t.Fatalf("cases.json lists %d cases under key %q", len(cf.Cases), cf.Key)
	}
	valid := 0
	for _, c := range cf.Cases {
		code, out, errs := runVerify(filepath.Join(dir, c.File), "--key", cf.Key, "--identity", filepath.Join(dir, cf.Identity))
		verified := strings.HasSuffix(out, "\nVERIFIED\n")
		if code != c.Exit || verified != c.Valid {
			t.Errorf("%s (rule %s): exit %d, want %d\n%s\n%s", c.File, c.Rule, code, c.Exit, out, errs)
		}
		if c.Valid {
			valid++
		}
	}
	if valid == 0 || valid == len(cf.Cases) {
		t.Fatalf("%d of %d cases are valid", valid, len(cf.Cases))
	}
}
