package events_test

// The custody-log cases in testdata/custody-log/cases (specified in
// docs/custody-log.md section 13): events, checkpoints and logs that each
// differ from the vectors in one way, invalid ones with the rule that
// refuses them and borderline valid ones. They are made from the
// committed vectors with the vectors' test key, byte for byte the same at
// every run, and written by
//
//	go test ./events -run TestLogCases -update-cases

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/mod/sumdb/note"
)

var updateCases = flag.Bool("update-cases", false, "rewrite the custody-log cases in testdata/custody-log/cases")

const logCasesDir = vectorDir + "/cases"

// LogCase is one entry of cases.json.
type LogCase struct {
	File   string `json:"file"`
	Kind   string `json:"kind"`
	Valid  bool   `json:"valid"`
	Rule   string `json:"rule"`
	Change string `json:"change"`
}

type logCaseFile struct {
	Spec   string    `json:"spec"`
	Origin string    `json:"origin"`
	Key    string    `json:"key"`
	Cases  []LogCase `json:"cases"`
}

// A log case is a folder: events.ndjson and checkpoints/.
type logFolder struct {
	events      [][]byte
	checkpoints [][]byte
}

type logCaseDef struct {
	LogCase
	event []byte     // kind event
	note  []byte     // kind checkpoint
	log   *logFolder // kind log
}

type logKit struct {
	t      *testing.T
	lines  [][]byte
	cps    map[uint64][]byte
	signer note.Signer
	vkey   string
}

func (k *logKit) sign(text string) []byte {
	b, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

// text returns a checkpoint's signed text (with its final newline).
func text(cp []byte) string { return string(cp[:bytes.Index(cp, []byte("\n\n"))+1]) }

// sigLine is a signature line of key name with the given raw bytes.
func sigLine(name string, raw []byte) string {
	return "\u2014 " + name + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
}

func lastLine(b []byte) string {
	return string(b[bytes.LastIndex(b[:len(b)-1], []byte("\n"))+1:])
}

func sub(b []byte, old, new string) []byte {
	if !bytes.Contains(b, []byte(old)) {
		panic(fmt.Sprintf("%q not in %s", old, b))
	}
	return bytes.Replace(bytes.Clone(b), []byte(old), []byte(new), 1)
}

// relink re-chains events from position i on: each prev is the previous
// event's leaf hash again, as a forger rewriting the log would.
func relink(t *testing.T, lines [][]byte, from int) [][]byte {
	out := make([][]byte, len(lines))
	copy(out, lines)
	for i := from; i < len(out); i++ {
		ev, err := events.Decode(out[i])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			ev.Prev = events.LeafHash(out[i-1]).String()
		}
		if out[i], err = events.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (k *logKit) checkpoints(sizes ...uint64) [][]byte {
	var out [][]byte
	for _, s := range sizes {
		out = append(out, k.cps[s])
	}
	return out
}

func logCases(k *logKit) []logCaseDef {
	e7 := k.lines[7] // access.refused, with data
	ev := func(valid bool, file, rule, change string, b []byte) logCaseDef {
		v := "invalid-"
		if valid {
			v = "valid-"
		}
		return logCaseDef{LogCase: LogCase{File: "event/" + v + file + ".json", Kind: "event", Valid: valid, Rule: rule, Change: change}, event: b}
	}
	padTo := func(n int) []byte {
		b := sub(e7, `"reason":"no valid credentials"`, `"reason":"no valid credentials","pad":"`+strings.Repeat("x", 0)+`"`)
		return sub(b, `"pad":""`, `"pad":"`+strings.Repeat("x", n-len(b))+`"`)
	}
	deep := func(levels int) []byte {
		// The envelope is level 1, data level 2: levels-2 arrays inside.
		return sub(e7, `"reason":"no valid credentials"`, `"reason":"no valid credentials","deep":`+strings.Repeat("[", levels-2)+strings.Repeat("]", levels-2))
	}
	withTime := func(t string) []byte { return sub(e7, `"time":"2026-03-02T09:15:07.007007000Z"`, `"time":"`+t+`"`) }
	cases := []logCaseDef{
		ev(true, "vector-7", "-", "none: event 7 of the vectors", e7),
		ev(true, "size-65536", "event.size", "data padded to exactly 65,536 bytes", padTo(65536)),
		ev(false, "size-65537", "event.size", "data padded to 65,537 bytes", padTo(65537)),
		ev(false, "trailing-newline", "event.json", "a newline after the object", append(bytes.Clone(e7), '\n')),
		ev(false, "array", "event.json", "the event inside a JSON array", append(append([]byte("["), e7...), ']')),
		ev(false, "unknown-member", "event.members", `an extra envelope member "note" before "prev"`, sub(e7, `,"prev":`, `,"note":"x","prev":`)),
		ev(false, "unknown-actor-member", "event.members", `an extra actor member "device"`, sub(e7, `"auth":"none"`, `"auth":"none","device":"x"`)),
		ev(false, "v-2", "event.fields", `"v":2`, sub(e7, `"v":1`, `"v":2`)),
		ev(false, "id-uppercase", "event.fields", "the id in uppercase hex", sub(e7, `"id":"f5f2858522aaceb8ce15640161636e79"`, `"id":"F5F2858522AACEB8CE15640161636E79"`)),
		ev(false, "id-31-digits", "event.fields", "an id of 31 hex digits", sub(e7, `"id":"f5f2858522aaceb8ce15640161636e79"`, `"id":"f5f2858522aaceb8ce15640161636e7"`)),
		ev(false, "prev-uppercase", "event.fields", "prev in uppercase hex", sub(e7, `"prev":"d59e`, `"prev":"D59E`)),
		ev(false, "type-empty", "event.fields", "an empty type", sub(e7, `"type":"access.refused"`, `"type":""`)),
		ev(true, "type-64-bytes", "event.fields", "a type of 64 bytes", sub(e7, `"type":"access.refused"`, `"type":"`+strings.Repeat("t", 64)+`"`)),
		ev(false, "type-65-bytes", "event.fields", "a type of 65 bytes", sub(e7, `"type":"access.refused"`, `"type":"`+strings.Repeat("t", 65)+`"`)),
		ev(false, "data-array", "event.fields", "data is an array", sub(e7, `"data":{"action":"GET /v1/items/{item}","reason":"no valid credentials"}`, `"data":[]`)),
		ev(false, "time-2026-02-29", "event.time", "February 29 of a common year", withTime("2026-02-29T09:15:07.007007000Z")),
		ev(true, "time-2024-02-29", "event.time", "February 29 of a leap year", withTime("2024-02-29T09:15:07.007007000Z")),
		ev(false, "time-2100-02-29", "event.time", "February 29 of 2100 (a century not divisible by 400)", withTime("2100-02-29T00:00:00.000000000Z")),
		ev(true, "time-2000-02-29", "event.time", "February 29 of 2000 (divisible by 400)", withTime("2000-02-29T00:00:00.000000000Z")),
		ev(false, "time-04-31", "event.time", "April 31", withTime("2026-04-31T09:15:07.007007000Z")),
		ev(true, "time-year-0000", "event.time", "the first instant of year 0000", withTime("0000-01-01T00:00:00.000000000Z")),
		ev(true, "time-year-9999", "event.time", "the last instant of year 9999", withTime("9999-12-31T23:59:59.999999999Z")),
		ev(false, "time-hour-24", "event.time", "hour 24", withTime("2026-03-02T24:00:00.000000000Z")),
		ev(false, "time-second-60", "event.time", "second 60 (a leap second)", withTime("2026-12-31T23:59:60.000000000Z")),
		ev(false, "time-8-digits", "event.time", "eight fractional digits", withTime("2026-03-02T09:15:07.00700700Z")),
		ev(false, "time-lowercase-z", "event.time", "a lowercase z", withTime("2026-03-02T09:15:07.007007000z")),
		ev(false, "time-offset", "event.time", "+00:00 instead of Z", withTime("2026-03-02T09:15:07.007007+00:00")),
		ev(false, "space", "event.canonical", "a space after a colon", sub(e7, `"v":1`, `"v": 1`)),
		ev(false, "order", "event.canonical", `"id" before "seq"`, sub(e7, `"seq":7,"id":"f5f2858522aaceb8ce15640161636e79"`, `"id":"f5f2858522aaceb8ce15640161636e79","seq":7`)),
		ev(false, "repeated-member", "event.canonical", `"case" twice`, sub(e7, `"case":"",`, `"case":"","case":"",`)),
		ev(false, "missing-member", "event.canonical", `"item" missing`, sub(e7, `"item":"",`, ``)),
		ev(false, "null", "event.canonical", `"case":null`, sub(e7, `"case":""`, `"case":null`)),
		ev(false, "escaped-hyphen", "event.canonical", `the first "-" of the time escaped as \u002d`, sub(e7, `"time":"2026-03`, `"time":"2026\u002d03`)),
		ev(false, "escaped-slash", "event.canonical", `"/" escaped as \/ in the id of a case`, sub(e7, `"case":""`, `"case":"KH\/1"`)),
		ev(true, "literal-slash", "event.canonical", `a literal "/" in the case`, sub(e7, `"case":""`, `"case":"KH/1"`)),
		ev(false, "uppercase-escape", "event.canonical", `U+001F written \u001F`, sub(e7, `"case":""`, `"case":"\u001F"`)),
		ev(true, "lowercase-escape", "event.canonical", `U+001F written \u001f`, sub(e7, `"case":""`, `"case":"\u001f"`)),
		ev(false, "seq-fraction", "event.canonical", `"seq":7.0`, sub(e7, `"seq":7,`, `"seq":7.0,`)),
		ev(false, "seq-leading-zero", "event.json", `"seq":07 (not JSON: RFC 8259 allows no leading zero)`, sub(e7, `"seq":7,`, `"seq":07,`)),
		ev(false, "seq-exponent", "event.canonical", `"seq":7e0`, sub(e7, `"seq":7,`, `"seq":7e0,`)),
		ev(false, "literal-u2028", "event.canonical", "a literal U+2028 in the case", sub(e7, `"case":""`, "\"case\":\"a\u2028b\"")),
		ev(true, "escaped-u2028", "event.canonical", `U+2028 written \u2028`, sub(e7, `"case":""`, `"case":"a\u2028b"`)),
		ev(true, "literal-html", "event.canonical", `a literal "<&>" in the case`, sub(e7, `"case":""`, `"case":"<&>"`)),
		ev(true, "literal-del", "event.canonical", "a literal U+007F in the case", sub(e7, `"case":""`, "\"case\":\"a\x7fb\"")),
		ev(false, "escaped-del", "event.canonical", `U+007F written \u007f`, sub(e7, `"case":""`, `"case":"a\u007fb"`)),
		ev(false, "invalid-utf8", "event.canonical", "a byte 0xff in actor.person", sub(e7, `"person":""`, "\"person\":\"\xff\"")),
		ev(false, "data-space", "event.canonical", "a space inside data, outside strings", sub(e7, `"data":{"action"`, `"data":{ "action"`)),
		ev(true, "data-escape", "event.data", `"G" in data written \u0047`, sub(e7, `"action":"GET`, `"action":"\u0047ET`)),
		ev(true, "data-repeated-member", "event.data", `"reason" twice in data`, sub(e7, `"reason":"no valid credentials"`, `"reason":"x","reason":"no valid credentials"`)),
		ev(true, "data-fraction", "event.data", `a number 15.0 in data`, sub(e7, `"reason":"no valid credentials"`, `"reason":"no valid credentials","count":15.0`)),
		ev(true, "data-invalid-utf8", "event.data", "a byte 0xff in a data string", sub(e7, `"reason":"no valid credentials"`, "\"reason\":\"no valid \xff credentials\"")),
		ev(true, "depth-10000", "event.depth", "nested 10,000 levels, the envelope counted", deep(10000)),
		ev(false, "depth-10001", "event.depth", "nested 10,001 levels", deep(10001)),
	}

	// Checkpoints, over the vectors' tree of 5.
	cp5 := k.cps[5]
	t5 := text(cp5)
	line := lastLine(cp5)
	raw, _ := base64.StdEncoding.DecodeString(strings.Fields(line)[2])
	badRaw := bytes.Clone(raw)
	badRaw[10] ^= 1
	bad := sigLine(vectorKeyName, badRaw)
	other := func(name string) string { return sigLine(name, bytes.Repeat([]byte{9}, 76)) }
	cp := func(valid bool, file, rule, change string, b []byte) logCaseDef {
		v := "invalid-"
		if valid {
			v = "valid-"
		}
		return logCaseDef{LogCase: LogCase{File: "checkpoint/" + v + file + ".txt", Kind: "checkpoint", Valid: valid, Rule: rule, Change: change}, note: b}
	}
	nonCanon := func(l string) string {
		f := strings.Fields(l)
		return f[0] + " " + f[1] + " " + testenv.NonCanonicalBase64(f[2]) + "\n"
	}
	shortSig := func(name string) string { return sigLine(name, []byte{1, 2, 3, 4, 5}) }
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(shortSig(fmt.Sprintf("w%d", i)))
		}
		return b.String()
	}
	rootB64 := strings.Split(t5, "\n")[2]
	rootRaw, _ := base64.StdEncoding.DecodeString(rootB64)
	cases = append(cases,
		cp(true, "vector-5", "-", "none: checkpoint-5.txt", cp5),
		cp(false, "log-line-twice", "checkpoint.log-signature", "the log key's line twice", []byte(string(cp5)+line)),
		cp(false, "valid-then-invalid", "checkpoint.log-signature", "the log key's valid line, then an invalid one of the same key", []byte(string(cp5)+bad)),
		cp(false, "invalid-then-valid", "checkpoint.log-signature", "an invalid line of the log key, then its valid one", []byte(t5+"\n"+bad+line)),
		cp(false, "no-log-line", "checkpoint.log-signature", "only a line of another key", []byte(t5+"\n"+other("witness.example"))),
		// A reader that never verifies a signature passes every other
		// case: one line of the log key, whose signature is wrong.
		cp(false, "signature-wrong", "checkpoint.log-signature", "the log key's one line, one bit of its Ed25519 signature flipped (its base64 canonical)", []byte(t5+"\n"+bad)),
		cp(false, "other-origin", "checkpoint.text", "signed by the log key for origin custos-other", k.sign(strings.Replace(t5, vectorKeyName, "custos-other", 1))),
		cp(true, "cosignature-before", "checkpoint.log-signature", "a line of an unknown key before the log's line", []byte(t5+"\n"+other("witness.example")+line)),
		cp(true, "cosignature-after", "checkpoint.log-signature", "a line of an unknown key after the log's line", []byte(string(cp5)+other("witness.example"))),
		cp(false, "non-canonical-base64", "checkpoint.base64", "the log key's line in non-canonical base64", []byte(t5+"\n"+nonCanon(line))),
		cp(true, "non-canonical-cosignature", "checkpoint.base64", "an unknown key's line in non-canonical base64", []byte(string(cp5)+nonCanon(other("witness.example")))),
		cp(false, "size-leading-zero", "checkpoint.text", "size 05, signed", k.sign(strings.Replace(t5, "\n5\n", "\n05\n", 1))),
		cp(false, "size-plus", "checkpoint.text", "size +5, signed", k.sign(strings.Replace(t5, "\n5\n", "\n+5\n", 1))),
		cp(false, "extension-line", "checkpoint.text", "a fourth line, signed", k.sign(t5+"extension\n")),
		cp(false, "root-31-bytes", "checkpoint.text", "a root of 31 bytes, signed", k.sign(strings.Replace(t5, rootB64, base64.StdEncoding.EncodeToString(rootRaw[:31]), 1))),
		cp(false, "root-non-canonical", "checkpoint.text", "the root in non-canonical base64, signed", k.sign(strings.Replace(t5, rootB64, strings.Fields(nonCanon("x y " + rootB64))[2], 1))),
		cp(false, "tab", "checkpoint.note", "a tab after the size, signed", k.sign(strings.Replace(t5, "\n5\n", "\n5\t\n", 1))),
		cp(false, "crlf", "checkpoint.note", "CRLF line ends", []byte(strings.ReplaceAll(string(cp5), "\n", "\r\n"))),
		cp(false, "no-blank-line", "checkpoint.note", "no blank line before the signature", []byte(t5+line)),
		cp(false, "no-final-newline", "checkpoint.note", "no newline after the signature", cp5[:len(cp5)-1]),
		cp(true, "100-signatures", "checkpoint.note", "the log's line and 99 short lines of unknown keys", []byte(string(cp5)+many(99))),
		cp(false, "101-signatures", "checkpoint.note", "the log's line and 100 short lines of unknown keys", []byte(string(cp5)+many(100))),
		cp(false, "over-4096-bytes", "checkpoint.note", "over 4,096 bytes (long unknown names)", []byte(string(cp5)+strings.Repeat(other(strings.Repeat("w", 200)), 20))),
		cp(false, "signer-name-plus", "checkpoint.signer-names", "an unknown key's name holding +", []byte(string(cp5)+other("witness+example"))),
	)
	for _, n := range []struct {
		r    rune
		slug string
		ok   bool
	}{{0x00a0, "nbsp", false}, {0x0085, "nel", false}, {0x2028, "line-separator", false}, {0x3000, "ideographic-space", false}, {0x1680, "ogham-space", false},
		{0x007f, "del", true}, {0x0080, "c1-control", true}, {0xfeff, "bom", true}, {0x200b, "zero-width-space", true}} {
		cases = append(cases, cp(n.ok, "signer-name-"+n.slug, "checkpoint.signer-names",
			fmt.Sprintf("an unknown key's name holding U+%04X", n.r), []byte(string(cp5)+other("witness"+string(n.r)+"example"))))
	}

	// Logs: the vectors' twelve events and checkpoints of 5, 9 and 12.
	lg := func(valid bool, file, rule, change string, f logFolder) logCaseDef {
		v := "invalid-"
		if valid {
			v = "valid-"
		}
		return logCaseDef{LogCase: LogCase{File: "log/" + v + file, Kind: "log", Valid: valid, Rule: rule, Change: change}, log: &f}
	}
	all := k.checkpoints(5, 9, 12)
	without := func(i int) [][]byte {
		out := append([][]byte(nil), k.lines[:i]...)
		return append(out, k.lines[i+1:]...)
	}
	swapped := append([][]byte(nil), k.lines...)
	swapped[5], swapped[6] = swapped[6], swapped[5]
	altered := append([][]byte(nil), k.lines...)
	altered[3] = sub(altered[3], `"sealer":"soft:`, `"sealer":"hsm:`)
	badPrev := append([][]byte(nil), k.lines...)
	badPrev[6] = sub(badPrev[6], `"prev":"`, `"prev":"0`)
	badPrev[6] = append(badPrev[6][:len(badPrev[6])-3], '"', '}')
	empty := k.sign(fmt.Sprintf("%s\n0\n%s\n", vectorKeyName, base64.StdEncoding.EncodeToString(events.Hasher.EmptyRoot())))
	otherSigner := otherKeys(k.t)
	foreign, _ := note.Sign(&note.Note{Text: text(k.cps[12])}, otherSigner)
	genesis := append([][]byte(nil), k.lines...)
	genesis[0] = sub(genesis[0], `"type":"log.opened"`, `"type":"log.started"`)
	keyTwice := append([][]byte(nil), k.lines...)
	keyTwice[0] = sub(keyTwice[0], `"checkpoint_key":"`, `"checkpoint_key":"custos-other+00000000+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4","checkpoint_key":"`)
	cases = append(cases,
		lg(true, "vector", "-", "none: the vectors' log and checkpoints", logFolder{k.lines, all}),
		lg(true, "with-size-0", "log.root", "a checkpoint of size 0 (the empty tree's root) added", logFolder{k.lines, append([][]byte{empty}, all...)}),
		lg(false, "genesis", "log.genesis", "event 0 of type log.started (chain re-linked, checkpoints signed again)", resigned(k, relink(k.t, genesis, 1), 5, 9, 12)),
		lg(false, "genesis-key-twice", "log.genesis", "event 0's data names checkpoint_key twice, another key first (chain re-linked, checkpoints signed again)", resigned(k, relink(k.t, keyTwice, 1), 5, 9, 12)),
		lg(false, "event-removed", "log.seq", "event 5 removed", logFolder{without(5), all}),
		lg(false, "events-swapped", "log.seq", "events 5 and 6 swapped", logFolder{swapped, all}),
		lg(false, "prev", "log.prev", "event 6's prev changed", logFolder{badPrev, all}),
		lg(false, "root", "log.root", "event 3 altered and the chain re-linked after it", logFolder{relink(k.t, altered, 4), all}),
		lg(false, "truncated", "log.truncated", "events 10 and 11 removed", logFolder{k.lines[:10], all}),
		lg(false, "not-covered", "log.covered", "the checkpoint of 12 removed", logFolder{k.lines, k.checkpoints(5, 9)}),
		lg(false, "foreign-checkpoint", "log.checkpoint", "the checkpoint of 12 signed by another key of the same name", logFolder{k.lines, append(k.checkpoints(5, 9), foreign)}),
		lg(false, "event-not-canonical", "log.checkpoint", "event 4 with a space inside data (chain re-linked, checkpoints signed again)",
			resigned(k, relink(k.t, replaced(k.lines, 4, sub(k.lines[4], `"data":{`, `"data":{ `)), 5), 5, 9, 12)),
	)
	// The last one is refused by the decoder, not by a checkpoint.
	cases[len(cases)-1].Rule = "event.canonical"
	return cases
}

func replaced(lines [][]byte, i int, b []byte) [][]byte {
	out := append([][]byte(nil), lines...)
	out[i] = b
	return out
}

// resigned is a log with its checkpoints of the given sizes signed again
// over its own tree: a forger with the key.
func resigned(k *logKit, lines [][]byte, sizes ...uint64) logFolder {
	var tree events.Tree
	for _, l := range lines {
		tree.Append(events.LeafHash(l))
	}
	f := logFolder{events: lines}
	for _, s := range sizes {
		root, err := tree.Root(s)
		if err != nil {
			k.t.Fatal(err)
		}
		b, err := events.SignCheckpoint(k.signer, vectorKeyName, s, root)
		if err != nil {
			k.t.Fatal(err)
		}
		f.checkpoints = append(f.checkpoints, b)
	}
	return f
}

// otherKeys is a key of the vectors' name from another seed.
func otherKeys(t *testing.T) note.Signer {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(0xa0 + i)
	}
	skey, _ := seedKeys(t, vectorKeyName, seed)
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newLogKit(t *testing.T) *logKit {
	v := loadVectors(t)
	signer, _, vkey := vectorKeys(t)
	cps := map[uint64][]byte{}
	for _, s := range vectorCheckpoints {
		cps[s] = readVectorFile(t, fmt.Sprintf("checkpoint-%d.txt", s))
	}
	return &logKit{t: t, lines: v.lines, cps: cps, signer: signer, vkey: vkey}
}

func writeLogCases(t *testing.T, k *logKit, defs []logCaseDef) {
	if err := os.RemoveAll(logCasesDir); err != nil {
		t.Fatal(err)
	}
	cf := logCaseFile{Spec: "docs/custody-log.md, section 13", Origin: vectorKeyName, Key: k.vkey}
	write := func(name string, b []byte) {
		p := filepath.Join(logCasesDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range defs {
		switch d.Kind {
		case "event":
			write(d.File, d.event)
		case "checkpoint":
			write(d.File, d.note)
		case "log":
			var nd []byte
			for _, l := range d.log.events {
				nd = append(append(nd, l...), '\n')
			}
			write(d.File+"/events.ndjson", nd)
			for _, c := range d.log.checkpoints {
				_, size, err := events.PeekCheckpoint(c)
				if err != nil {
					t.Fatal(err)
				}
				write(fmt.Sprintf("%s/checkpoints/%020d", d.File, size), c)
			}
		}
		cf.Cases = append(cf.Cases, d.LogCase)
	}
	js, _ := json.MarshalIndent(cf, "", "  ")
	write("cases.json", append(js, '\n'))
	write("README.md", []byte(logCasesReadme))
}

const logCasesReadme = `# Custody-log cases

Inputs that each differ from the vectors in [..](..) in one way, for
checking a verifier against the rules of
[docs/custody-log.md](../../../docs/custody-log.md) section 13. Every
invalid one breaks one rule (named in ` + "`cases.json`" + `) and is otherwise
correct: where the change touches signed bytes, it is signed again with
the vectors' test key. The valid ones are borderline; a verifier must
accept them.

- ` + "`event/`" + `: one event's bytes, no newline. Valid: the decoder (2.5) accepts it.
- ` + "`checkpoint/`" + `: a note. Valid: it parses (5.4) for origin ` + "`custos-vectors`" + `
  and the key in ` + "`cases.json`" + ` (= ` + "`../verifier-key.txt`" + `).
- ` + "`log/`" + `: a folder as ` + "`custos audit export`" + ` writes one (` + "`events.ndjson`" + `,
  ` + "`checkpoints/`" + ` named by size in 20 digits). Valid: a replay (section 7,
  steps 2 to 6) with that key passes.

Written by ` + "`go test ./events -run TestLogCases -update-cases`" + `, byte for
byte the same at every run.
`

// readLogFolder reads a log case folder.
func readLogFolder(t *testing.T, dir string) logFolder {
	nd, err := os.ReadFile(filepath.Join(dir, "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var f logFolder
	for _, l := range bytes.SplitAfter(nd, []byte("\n")) {
		if len(l) > 0 {
			f.events = append(f.events, bytes.TrimSuffix(l, []byte("\n")))
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, "checkpoints", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f.checkpoints = append(f.checkpoints, b)
	}
	return f
}

// replay checks a log folder as custos audit verify does (section 7,
// steps 2 to 6).
func replay(origin, key string, f logFolder) error {
	v, err := note.NewVerifier(key)
	if err != nil {
		return err
	}
	if len(f.events) == 0 {
		return fmt.Errorf("no events")
	}
	if err := verify.CheckGenesis(f.events[0], origin, key); err != nil {
		return err
	}
	e := verify.New(origin, v)
	for i, c := range f.checkpoints {
		if err := e.AddCheckpoint(c, fmt.Sprintf("checkpoint %d", i)); err != nil {
			return err
		}
	}
	if err := e.AddBatch(f.events); err != nil {
		return err
	}
	res, err := e.Finish()
	if err != nil {
		return err
	}
	return res.Covered()
}

// Every case gets the verdict cases.json states from the reference
// decoder, checkpoint parser and audit engine, and the committed files are
// the ones the definitions make.
func TestLogCases(t *testing.T) {
	k := newLogKit(t)
	defs := logCases(k)
	if *updateCases {
		writeLogCases(t, k, defs)
	}
	b, err := os.ReadFile(filepath.Join(logCasesDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cf logCaseFile
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	if len(cf.Cases) != len(defs) || cf.Key != k.vkey || cf.Origin != vectorKeyName {
		t.Fatalf("cases.json lists %d cases, the definitions %d: regenerate with -update-cases", len(cf.Cases), len(defs))
	}
	v, err := note.NewVerifier(cf.Key)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("../docs/custody-log.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cf.Cases {
		d := defs[i]
		if c != d.LogCase {
			t.Errorf("case %d: cases.json says %+v, the definition %+v", i, c, d.LogCase)
			continue
		}
		if c.Rule != "-" && !bytes.Contains(spec, []byte("`"+c.Rule+"`")) {
			t.Errorf("%s: rule %s is not named in docs/custody-log.md", c.File, c.Rule)
		}
		p := filepath.Join(logCasesDir, c.File)
		var err error
		switch c.Kind {
		case "event":
			b, rerr := os.ReadFile(p)
			if rerr != nil || !bytes.Equal(b, d.event) {
				t.Errorf("%s: the committed file is not what its definition makes (%v)", c.File, rerr)
			}
			_, err = events.Decode(b)
			// The audit engine's faster decoder must agree.
			if _, err2 := verify.DecodeEvent(b); (err == nil) != (err2 == nil) {
				t.Errorf("%s: events.Decode says %v, verify.DecodeEvent %v", c.File, err, err2)
			}
		case "checkpoint":
			b, rerr := os.ReadFile(p)
			if rerr != nil || !bytes.Equal(b, d.note) {
				t.Errorf("%s: the committed file is not what its definition makes (%v)", c.File, rerr)
			}
			_, err = events.ParseCheckpoint(b, cf.Origin, v)
		case "log":
			f := readLogFolder(t, p)
			if len(f.events) != len(d.log.events) || len(f.checkpoints) != len(d.log.checkpoints) {
				t.Errorf("%s: the committed folder is not what its definition makes", c.File)
			}
			err = replay(cf.Origin, cf.Key, f)
		}
		switch {
		case c.Valid && err != nil:
			t.Errorf("%s (%s): refused: %v", c.File, c.Change, err)
		case !c.Valid && err == nil:
			t.Errorf("%s (%s): accepted, want a refusal by rule %s", c.File, c.Change, c.Rule)
		case err != nil:
			t.Logf("%s: %v", c.File, err)
		}
	}
}

// seedKeys returns the note signer and verifier keys of an Ed25519 seed.
func seedKeys(t testing.TB, name string, seed []byte) (skey, vkey string) {
	priv := ed25519.NewKeyFromSeed(seed)
	vkey, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	return "PRIVATE+KEY+" + parts[0] + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...)), vkey
}
