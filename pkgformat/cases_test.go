package pkgformat_test

// The package cases in testdata/package/cases: packages that each differ
// from the vector in one way, invalid ones (with the rule of
// docs/package-format.md section 12 that refuses them) and borderline
// valid ones, so that another implementation can run the same set. Most
// are made from the committed package.tar and are reproducible byte for
// byte; those marked "forged log" are rebuilt end to end with the test
// key (age encryption is randomised). Written by
//
//	go test ./pkgformat -run TestPackageCases -update-cases

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/custos-vault/custos/vault"
	"golang.org/x/mod/sumdb/note"
)

var updateCases = flag.Bool("update-cases", false, "rewrite the package cases in testdata/package/cases")

const casesDir = packageDir + "/cases"

// PackageCase is one entry of cases.json.
type PackageCase struct {
	File  string `json:"file"`
	Valid bool   `json:"valid"`
	// Exit is custos-verify's exit status with --key and --identity.
	Exit   int    `json:"exit"`
	Rule   string `json:"rule"`
	Change string `json:"change"`
	// CustosError is part of custos-verify's message for an invalid
	// case, so that the case is known to fail by its rule; another
	// implementation's wording is its own.
	CustosError string `json:"custos_error,omitempty"`
}

// CaseFile is cases.json.
type CaseFile struct {
	Spec     string        `json:"spec"`
	Key      string        `json:"key"`
	Identity string        `json:"identity"`
	Command  string        `json:"command"`
	Cases    []PackageCase `json:"cases"`
}

type caseKit struct {
	t      *testing.T
	base   []byte
	ms     []member
	signer note.Signer
	vkey   string
	id     *age.X25519Identity
}

func (k *caseKit) get(ms []member, name string) []byte {
	for _, m := range ms {
		if m.name == name {
			return m.data
		}
	}
	k.t.Fatalf("no member %s", name)
	return nil
}

func (k *caseKit) clone() []member { return append([]member(nil), k.ms...) }

func set(ms []member, name string, data []byte) []member {
	out := append([]member(nil), ms...)
	for i := range out {
		if out[i].name == name {
			out[i].data = data
			return out
		}
	}
	panic("no member " + name)
}

// tar writes members as the vault does, at the vector's time.
func (k *caseKit) tar(ms []member) []byte { return writeMembers(k.t, ms) }

// manifest replaces manifest.json by edit's result and signs it again
// with the log key, so that only what edit changed is wrong.
func (k *caseKit) manifest(ms []member, edit func(string) string) []member {
	old := string(k.get(ms, pkgformat.ManifestName))
	mb := []byte(edit(old))
	if string(mb) == old {
		k.t.Fatal("the edit did not change the manifest")
	}
	return k.sign(set(ms, pkgformat.ManifestName, mb))
}

// sign replaces manifest.sig by the log key's signature over the
// current manifest.
func (k *caseKit) sign(ms []member) []member {
	mb := k.get(ms, pkgformat.ManifestName)
	sig, err := pkgformat.SignManifest(k.signer, packageID, mb)
	if err != nil {
		k.t.Fatal(err)
	}
	return set(ms, pkgformat.SignatureName, sig)
}

// commit replaces a member and the hash the manifest names it by, and
// signs the manifest again.
func (k *caseKit) commit(ms []member, name string, data []byte) []member {
	old := sha256hex(k.get(ms, name))
	ms = set(ms, name, data)
	return k.manifest(ms, func(s string) string { return strings.Replace(s, old, sha256hex(data), 1) })
}

func replaceOnce(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

// header rewrites byte off of member name's tar header (fixing the
// header checksum, as a writer would).
func (k *caseKit) header(b []byte, name string, edit func(h []byte)) []byte {
	for _, m := range k.ms {
		if m.name != name {
			continue
		}
		out := bytes.Clone(b)
		h := out[m.header : m.header+512]
		edit(h)
		tarChecksum(h)
		return out
	}
	k.t.Fatalf("no member %s", name)
	return nil
}

// before inserts raw blocks before member name's header.
func (k *caseKit) before(name string, raw []byte) []byte {
	for _, m := range k.ms {
		if m.name == name {
			return append(append(bytes.Clone(k.base[:m.header]), raw...), k.base[m.header:]...)
		}
	}
	k.t.Fatalf("no member %s", name)
	return nil
}

// paxPath is a pax extended header's data holding one record: the path
// name ("LEN path=NAME\n", LEN counting the whole record).
func paxPath(name string) []byte {
	body := " path=" + name + "\n"
	n := len(body) + 1
	for len(fmt.Sprint(n))+len(body) != n {
		n++
	}
	return []byte(fmt.Sprintf("%d%s", n, body))
}

// specialHeader is a tar header block of type typ (a GNU long name 'L',
// a pax extended header 'x'), its magic and version magic, and its data
// padded to a block.
func specialHeader(name string, typ byte, magic string, data []byte) []byte {
	h := make([]byte, 512)
	copy(h[0:], name)
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", len(data)))
	copy(h[136:], "00000000000\x00")
	h[156] = typ
	copy(h[257:], magic)
	tarChecksum(h)
	return append(append(h, data...), make([]byte, (512-len(data)%512)%512)...)
}

// tarChecksum writes a header block's checksum, as a writer would.
func tarChecksum(h []byte) {
	sum := 0
	for j := range h {
		if j >= 148 && j < 156 {
			sum += ' '
		} else {
			sum += int(h[j])
		}
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// cosign adds a signature line of another key to a checkpoint note.
func cosign(cp []byte, name string, sig []byte) []byte {
	return append(bytes.Clone(cp), []byte("\u2014 "+name+" "+base64.StdEncoding.EncodeToString(sig)+"\n")...)
}

// flipSignature flips one bit of the last signature line's Ed25519
// signature (after the 4-byte key hash), its base64 still canonical.
func flipSignature(b []byte) []byte {
	line := logLine(b)
	fields := strings.Fields(string(line))
	sig, err := base64.StdEncoding.DecodeString(fields[len(fields)-1])
	if err != nil || len(sig) < 5 {
		panic("not a signature line: " + string(line))
	}
	sig[len(sig)-1] ^= 1
	fields[len(fields)-1] = base64.StdEncoding.EncodeToString(sig)
	out := bytes.Clone(b[:bytes.LastIndex(b, line)])
	return append(out, []byte(strings.Join(fields, " ")+"\n")...)
}

// logLine returns the log key's signature line of a note (its last line).
func logLine(b []byte) []byte {
	return b[bytes.LastIndex(b[:len(b)-1], []byte("\n"))+1:]
}

// nonCanonical spells the last signature line's base64 another way:
// the unused bits of its last character set.
func nonCanonical(b []byte) []byte {
	line := logLine(b)
	fields := strings.Fields(string(line))
	fields[len(fields)-1] = testenv.NonCanonicalBase64(fields[len(fields)-1])
	out := bytes.Clone(b[:bytes.LastIndex(b, line)])
	return append(out, []byte(strings.Join(fields, " ")+"\n")...)
}

// reencrypt replaces the first item's age file by one encrypted to rs,
// its size and hash updated in the manifest, which is signed again.
func (k *caseKit) reencrypt(rs ...age.Recipient) []byte {
	name := k.ms[len(k.ms)-4].name
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, rs...)
	if err != nil {
		k.t.Fatal(err)
	}
	w.Write([]byte(packageItems[0].content))
	w.Close()
	old := k.get(k.ms, name)
	ms := set(k.clone(), name, ct.Bytes())
	return k.tar(k.manifest(ms, func(s string) string {
		s = strings.Replace(s, sha256hex(old), sha256hex(ct.Bytes()), 1)
		return strings.Replace(s, fmt.Sprintf(`"file_size": %d,`, len(old)), fmt.Sprintf(`"file_size": %d,`, ct.Len()), 1)
	}))
}

// signCheckpoint signs a checkpoint text with the log key.
func (k *caseKit) signCheckpoint(text string) []byte {
	b, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

// forged rebuilds the package with hook applied to its events.
func (k *caseKit) forged(hook func(*events.Event)) []byte {
	return buildPackageHook(k.t, k.id, packageItems, k.signer, k.vkey, hook)
}

// onDeposit edits the data of the first item's deposit event.
func onDeposit(edit func(string) string) func(*events.Event) {
	return func(ev *events.Event) {
		if ev.Type == "item.deposited" && ev.Item == packageItems[0].id {
			ev.Data = []byte(edit(string(ev.Data)))
		}
	}
}

// sealingOnRequest describes a package sealed under the case's export
// approval policy: the policy, the request, its approval and the
// sealing, as the vault records them, for a case to change one of.
type sealingOnRequest struct {
	policy string // case.policy.set's export_approval ("" for none)
	// later are case events after the policy, before the request.
	later        []vectorEvent
	base         time.Time // the first event's time
	expires      string    // the request's expiry
	person       string    // whom the request's data names (the package's recipient)
	openedCase   string    // the case its data names
	rejected     bool      // a request.rejected of it too
	requester    events.Actor
	approver     events.Actor
	sealer       events.Actor
	kind         string
	params       string // the request's params
	noOpened     bool   // leave its request.opened out
	noApproved   bool   // leave its request.approved out
	gap          bool   // an event between the approval and the sealing
	request      string // the request the sealing names
	requestedBy  string // whom the sealing says asked
	approvalSays string // requested_by in the approval
}

const caseRequest = "rq_0123456789abcdef01234567"

func (k *caseKit) sealedOnRequest(edit func(*sealingOnRequest)) []byte {
	inv := events.Actor{Person: "sok.dara", Role: "investigator", Auth: "token"}
	cust := events.Actor{Person: "keo.vanna", Role: "custodian", Auth: "token"}
	var ids []string
	for _, it := range packageItems {
		ids = append(ids, fmt.Sprintf("%q", it.id))
	}
	inv.Session, cust.Session = "se_0123456789abcdef0123aaaa", "se_0123456789abcdef0123bbbb"
	r := sealingOnRequest{policy: "required", requester: inv, approver: cust, sealer: cust, kind: "package.seal",
		params:  `{"for":"chea.sopheap","purpose":"Trial 2026/88","items":[` + strings.Join(ids, ",") + `]}`,
		request: caseRequest, requestedBy: inv.Person, approvalSays: inv.Person,
		base: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), expires: "2026-12-14T10:00:00Z", openedCase: packageCase, person: "chea.sopheap"}
	if edit != nil {
		edit(&r)
	}
	var before []vectorEvent
	if r.policy != "" {
		before = append(before, vectorEvent{"case.policy.set", cust, map[string]string{"export_approval": r.policy, "reason": "court order 2026/5"}})
	}
	before = append(before, r.later...)
	if !r.noOpened {
		before = append(before, vectorEvent{"request.opened", r.requester, map[string]any{"request": caseRequest, "kind": r.kind, "case": r.openedCase,
			"person": r.person, "params": json.RawMessage(r.params), "expires": r.expires}})
	}
	if r.rejected {
		before = append(before, vectorEvent{"request.rejected", r.approver, map[string]string{"request": caseRequest, "kind": r.kind, "requested_by": r.approvalSays, "reason": "not this one"}})
	}
	if !r.noApproved {
		before = append(before, vectorEvent{"request.approved", r.approver, map[string]string{"request": caseRequest, "kind": r.kind, "requested_by": r.approvalSays}})
	}
	if r.gap {
		before = append(before, vectorEvent{"case.hold.placed", cust, map[string]string{"reason": "an event in between"}})
	}
	return buildPackageOpts(k.t, k.id, packageItems, k.signer, k.vkey, vectorOptions{BeforeSealing: before, SealedBy: &r.sealer, Base: r.base,
		Sealing: func(d *vault.PackageSealing) { d.Request, d.RequestedBy = r.request, r.requestedBy }})
}

// policyDropped is the case events of a drop of the case's export
// approval as the vault writes them: the approver of r (keo.vanna) asks,
// another custodian (lim.sovann) approves and writes the case.policy.set
// right after; edit changes them for a case.
func policyDropped(r *sealingOnRequest, edit func(opened, approved, drop *vectorEvent)) []vectorEvent {
	other := r.approver
	other.Person, other.Session = "lim.sovann", "se_0123456789abcdef0123cccc"
	const id = "rq_0123456789abcdef0123dddd"
	opened := vectorEvent{"request.opened", r.approver, map[string]any{"request": id, "kind": "case.policy", "case": packageCase,
		"params": map[string]string{"export_approval": "none"}, "expires": "2026-12-14T10:00:00Z"}}
	approved := vectorEvent{"request.approved", other, map[string]string{"request": id, "kind": "case.policy", "requested_by": r.approver.Person}}
	drop := vectorEvent{"case.policy.set", other, map[string]string{"export_approval": "none", "request": id, "requested_by": r.approver.Person}}
	if edit != nil {
		edit(&opened, &approved, &drop)
	}
	return []vectorEvent{opened, approved, drop}
}

// lowered is the case events of a lowering of the case's classification
// policy as the vault writes them: the approver of r (keo.vanna) raises
// it to 2 alone, then asks to lower it to 1; another custodian
// (lim.sovann) approves and writes the lowering right after; edit changes
// them for a case.
func lowered(r *sealingOnRequest, edit func(opened, approved, lowering *vectorEvent)) []vectorEvent {
	other := r.approver
	other.Person, other.Session = "lim.sovann", "se_0123456789abcdef0123cccc"
	const id = "rq_0123456789abcdef0123eeee"
	raised := vectorEvent{"case.classification.policy", r.approver, map[string]any{"votes": 2, "reason": "two analysts agree"}}
	opened := vectorEvent{"request.opened", r.approver, map[string]any{"request": id, "kind": "case.classification.policy", "case": packageCase,
		"params": map[string]int{"votes": 1, "from": 2}, "expires": "2026-12-14T10:00:00Z"}}
	approved := vectorEvent{"request.approved", other, map[string]string{"request": id, "kind": "case.classification.policy", "requested_by": r.approver.Person}}
	lowering := vectorEvent{"case.classification.policy", other, map[string]any{"votes": 1, "request": id, "requested_by": r.approver.Person}}
	if edit != nil {
		edit(&opened, &approved, &lowering)
	}
	return []vectorEvent{raised, opened, approved, lowering}
}

// report is the vector with its report.txt edited, its hash updated in
// the manifest, which is signed again.
func (k *caseKit) report(edit func(string) string) []byte {
	return k.tar(k.commit(k.clone(), pkgformat.ReportName, []byte(edit(string(k.get(k.ms, pkgformat.ReportName))))))
}

// beforeKeyLines inserts line before the report's first Log key
// fingerprint line; beforeKeyLine before its Log key line.
func beforeKeyLines(line string) func(string) string {
	return insertBefore("  Log key fingerprint:", line)
}

func beforeKeyLine(line string) func(string) string { return insertBefore("  Log key:", line) }

func insertBefore(at, line string) func(string) string {
	return func(r string) string {
		i := strings.Index(r, at)
		return r[:i] + line + r[i:]
	}
}

// onSealing edits the data of the sealing event.
func onSealing(edit func(string) string) func(*events.Event) {
	return func(ev *events.Event) {
		if ev.Type == "package.sealing" {
			ev.Data = []byte(edit(string(ev.Data)))
		}
	}
}

type caseDef struct {
	PackageCase
	make func(k *caseKit) []byte
}

func packageCases() []caseDef {
	invalid := func(file, rule, change, custosErr string, make func(k *caseKit) []byte) caseDef {
		return caseDef{PackageCase{File: "invalid-" + file + ".tar", Exit: 1, Rule: rule, Change: change, CustosError: custosErr}, make}
	}
	valid := func(file, rule, change string, make func(k *caseKit) []byte) caseDef {
		return caseDef{PackageCase{File: "valid-" + file + ".tar", Valid: true, Rule: rule, Change: change}, make}
	}
	endOf := func(k *caseKit) int {
		// The end of the last member's padding: the two end blocks follow.
		last := k.ms[len(k.ms)-1]
		return int((last.offset + int64(len(last.data)) + 511) / 512 * 512)
	}
	head := []caseDef{
		valid("vector", "-", "none: the vector itself", func(k *caseKit) []byte { return k.base }),

		// Container (section 1).
		invalid("container-type-nul", "container.type", "the type flag of proofs.json is NUL (pre-POSIX regular file), not '0'", "not a regular file",
			func(k *caseKit) []byte { return k.header(k.base, pkgformat.ProofsName, func(h []byte) { h[156] = 0 }) }),
		invalid("container-type-symlink", "container.type", "report.txt is a symbolic link member (type '2')", "report.txt",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) { h[156] = '2' })
			}),
		invalid("container-no-end-blocks", "container.end", "the archive ends after the last member's padding, without the two zero blocks", "end",
			func(k *caseKit) []byte { return k.base[:endOf(k)] }),
		invalid("container-one-end-block", "container.end", "only one zero block after the last member", "end",
			func(k *caseKit) []byte { return k.base[:endOf(k)+512] }),
		valid("container-two-end-blocks-only", "container.end", "exactly the two zero blocks, without tar's record padding", func(k *caseKit) []byte { return k.base[:endOf(k)+1024] }),
		invalid("container-bytes-after-end", "container.end", "4 KiB of non-zero bytes after the two end blocks", "bytes follow the archive's two end blocks",
			func(k *caseKit) []byte {
				return append(bytes.Clone(k.base[:endOf(k)+1024]), bytes.Repeat([]byte("x"), 4096)...)
			}),
		invalid("container-archive-after-end", "container.end", "a second tar archive (a report.txt of other text) after the two end blocks, which tar -i would extract over the verified one", "bytes follow the archive's two end blocks",
			func(k *caseKit) []byte {
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				text := []byte("a report of other text\n")
				tw.WriteHeader(&tar.Header{Name: pkgformat.ReportName, Mode: 0o644, Size: int64(len(text)), Typeflag: tar.TypeReg})
				tw.Write(text)
				tw.Close()
				return append(bytes.Clone(k.base[:endOf(k)+1024]), b.Bytes()...)
			}),
		valid("container-record-padding", "container.end", "zeros after the two end blocks up to the end of the last 10,240-byte tar record, as GNU tar writes",
			func(k *caseKit) []byte {
				end := endOf(k) + 1024
				return append(bytes.Clone(k.base[:end]), make([]byte, (pkgformat.TarRecord-end%pkgformat.TarRecord)%pkgformat.TarRecord)...)
			}),
		invalid("container-zeros-past-record", "container.end", "zeros after the two end blocks that go past the end of the last tar record", "bytes follow the archive's two end blocks",
			func(k *caseKit) []byte {
				end := endOf(k) + 1024
				return append(bytes.Clone(k.base[:end]), make([]byte, (pkgformat.TarRecord-end%pkgformat.TarRecord)%pkgformat.TarRecord+512)...)
			}),
		valid("container-metadata", "container.metadata", "manifest.json's header says mode 0600, owner 1000/1000 and another time (not checked)",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ManifestName, func(h []byte) {
					copy(h[100:108], "0000600\x00")
					copy(h[108:116], "0001750\x00")
					copy(h[116:124], "0001750\x00")
					copy(h[136:148], "14000000000\x00")
				})
			}),
		invalid("container-order", "container.order", "proofs.json comes before checkpoint", "checkpoint",
			func(k *caseKit) []byte {
				ms := k.clone()
				ms[2], ms[3] = ms[3], ms[2]
				return k.tar(ms)
			}),
		invalid("container-extra-member", "container.members", "a member notes.txt after report.pdf", "notes.txt",
			func(k *caseKit) []byte { return k.tar(append(k.clone(), member{name: "notes.txt", data: []byte("x")})) }),
		invalid("container-missing-member", "container.members", "report.pdf is missing", "report.pdf",
			func(k *caseKit) []byte { return k.tar(k.ms[:len(k.ms)-1]) }),
		invalid("container-gnu-long-name", "container.type", "a GNU long-name record (type 'L', naming report.txt) before report.txt's header, which archive/tar folds into the header it returns", "type 'L'",
			func(k *caseKit) []byte {
				return k.before(pkgformat.ReportName, specialHeader("././@LongLink", 'L', "ustar  \x00", []byte(pkgformat.ReportName+"\x00")))
			}),
		invalid("container-pax-sparse-name", "container.type", "report.txt's header preceded by a pax header of GNU sparse records naming it (GNU.sparse.name) and giving another path, which readers take differently", "pax extended header holds the record",
			func(k *caseKit) []byte {
				var rec []byte
				for _, kv := range [][2]string{{"GNU.sparse.major", "0"}, {"GNU.sparse.minor", "1"}, {"GNU.sparse.name", pkgformat.ReportName},
					{"GNU.sparse.realsize", fmt.Sprint(len(k.get(k.ms, pkgformat.ReportName)))}, {"GNU.sparse.numblocks", "1"},
					{"GNU.sparse.map", fmt.Sprintf("0,%d", len(k.get(k.ms, pkgformat.ReportName)))}, {"path", "../outside/report.txt"}} {
					body := " " + kv[0] + "=" + kv[1] + "\n"
					n := len(body) + 1
					for len(fmt.Sprint(n))+len(body) != n {
						n++
					}
					rec = append(rec, fmt.Sprintf("%d%s", n, body)...)
				}
				return k.before(pkgformat.ReportName, specialHeader("PaxHeaders/report.txt", 'x', "ustar\x0000", rec))
			}),
		invalid("container-pax-path-other-name", "container.names", "report.txt's ustar header names it evil.sh, and a pax extended header before it gives the path report.txt: a reader that does not know pax extracts it as evil.sh", "which a reader that does not know pax extracts it as",
			func(k *caseKit) []byte {
				pax := specialHeader("PaxHeaders/report.txt", 'x', "ustar\x0000", paxPath(pkgformat.ReportName))
				b := k.header(k.base, pkgformat.ReportName, func(h []byte) { copy(h[0:100], append([]byte("evil.sh"), make([]byte, 93)...)) })
				for _, m := range k.ms {
					if m.name == pkgformat.ReportName {
						return append(append(bytes.Clone(b[:m.header]), pax...), b[m.header:]...)
					}
				}
				return nil
			}),
		valid("container-pax-path-same-name", "container.names", "report.txt's header preceded by a pax extended header whose path is report.txt, as some writers give every member",
			func(k *caseKit) []byte {
				return k.before(pkgformat.ReportName, specialHeader("PaxHeaders/report.txt", 'x', "ustar\x0000", paxPath(pkgformat.ReportName)))
			}),
		invalid("container-v7-prefix", "container.names", "report.txt's header has no magic (an old v7 header) and ../../escaped in its prefix field: Go's archive/tar and GNU tar read the name report.txt, Python's tarfile extracts it as ../../escaped/report.txt", "its prefix field holds bytes",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) {
					copy(h[257:265], make([]byte, 8))
					copy(h[345:], "../../escaped")
				})
			}),
		invalid("container-gnu-prefix", "container.names", "report.txt's header has GNU's magic and bytes where ustar's prefix field is, which some readers join before the name", "its prefix field holds bytes",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) {
					copy(h[257:265], "ustar  \x00")
					copy(h[345:], "elsewhere")
				})
			}),
		valid("container-gnu-magic", "container.names", "report.txt's header has GNU's magic (\"ustar  \\0\") and an empty prefix field: read alike by every reader",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) { copy(h[257:265], "ustar  \x00") })
			}),
		invalid("container-signed-checksum", "container.checksum", "report.txt's header gives its uid in base-256 (bytes 0x80 and more) and its checksum as the signed byte sum some old tars wrote, which Go's archive/tar, GNU tar and Python's tarfile also accept; POSIX's unsigned sum differs", "checksum is not POSIX's",
			func(k *caseKit) []byte {
				b := k.header(k.base, pkgformat.ReportName, func(h []byte) { copy(h[108:116], []byte{0x80, 0, 0, 0, 0, 0, 0, 0x01}) })
				for _, m := range k.ms {
					if m.name == pkgformat.ReportName {
						h := b[m.header : m.header+512]
						sum := 0
						for j := range h {
							if j >= 148 && j < 156 {
								sum += ' '
							} else {
								sum += int(int8(h[j]))
							}
						}
						copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
					}
				}
				return b
			}),
		valid("container-base256-unsigned-checksum", "container.checksum", "report.txt's header gives its uid in base-256 (bytes 0x80 and more) with POSIX's unsigned checksum",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) { copy(h[108:116], []byte{0x80, 0, 0, 0, 0, 0, 0, 0x01}) })
			}),
		valid("container-base256-negative-mtime", "container.metadata", "report.txt's header gives its modification time in base-256 as a negative number (first byte 0xff: before 1970), which carries no meaning",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) {
					copy(h[136:148], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00})
				})
			}),
		invalid("container-name-hidden-bytes", "container.hidden", "manifest.json's name field holds bytes after the NUL that ends the name", "after the name's end",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ManifestName, func(h []byte) { copy(h[len(pkgformat.ManifestName)+1:], "hidden") })
			}),
		invalid("container-link-name", "container.hidden", "report.txt's header gives the link name ../../etc/passwd (a regular file has none)", "link target",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) { copy(h[157:], "../../etc/passwd") })
			}),
		invalid("container-padding", "container.hidden", "the zeros that fill manifest.json's data to a 512-byte block hold the text hidden", "padding",
			func(k *caseKit) []byte {
				m := k.ms[0]
				end := int(m.offset) + len(m.data)
				if end%512 == 0 || 512-end%512 < 6 {
					k.t.Fatal("manifest.json leaves no room in its padding")
				}
				out := bytes.Clone(k.base)
				copy(out[end:], "hidden")
				return out
			}),
		invalid("container-last-padding", "container.hidden", "the zeros that fill report.pdf's data to a 512-byte block, before the end blocks, hold a byte 1", "padding",
			func(k *caseKit) []byte {
				m := k.ms[len(k.ms)-1]
				end := int(m.offset) + len(m.data)
				if end%512 == 0 {
					k.t.Fatal("report.pdf leaves no padding")
				}
				out := bytes.Clone(k.base)
				out[end] = 1
				return out
			}),
		invalid("container-pax-padding", "container.hidden", "report.txt's header preceded by a pax extended header whose path is report.txt and whose padding holds the text hidden", "padding",
			func(k *caseKit) []byte {
				rec := paxPath(pkgformat.ReportName)
				pax := specialHeader("PaxHeaders/report.txt", 'x', "ustar\x0000", rec)
				copy(pax[512+len(rec):], "hidden")
				return k.before(pkgformat.ReportName, pax)
			}),
		invalid("container-size-leading-nul", "container.names", "report.txt's size field begins with a NUL before its octal digits: archive/tar and GNU tar read the size, Python's tarfile reads 0 and loses the rest of the archive", "size field",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ReportName, func(h []byte) {
					digits := strings.TrimLeft(strings.TrimRight(string(h[124:136]), "\x00 "), "0 ")
					copy(h[124:136], fmt.Sprintf("\x00%010s\x00", digits))
					for i := 125; i < 135 && h[i] == ' '; i++ {
						h[i] = '0'
					}
				})
			}),
		invalid("container-pax-two-paths", "container.names", "report.txt's header preceded by a pax extended header giving the path twice, manifest.json then report.txt: some readers take the first, others the last", "twice",
			func(k *caseKit) []byte {
				rec := append(paxPath(pkgformat.ManifestName), paxPath(pkgformat.ReportName)...)
				return k.before(pkgformat.ReportName, specialHeader("PaxHeaders/report.txt", 'x', "ustar\x0000", rec))
			}),
		invalid("container-pax-named-as-member", "container.names", "report.txt's header preceded by a pax extended header (path report.txt) whose own name is manifest.json: a reader that does not know pax extracts it over the manifest", "PaxHeaders",
			func(k *caseKit) []byte {
				return k.before(pkgformat.ReportName, specialHeader(pkgformat.ManifestName, 'x', "ustar\x0000", paxPath(pkgformat.ReportName)))
			}),
		invalid("container-owner-hidden-bytes", "container.hidden", "manifest.json's header gives the owner name root, then a NUL and hidden bytes", "owner or group name",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ManifestName, func(h []byte) { copy(h[265:], "root\x00hidden") })
			}),
		invalid("container-header-tail", "container.hidden", "manifest.json's header holds a byte in its last 12 bytes, which no ustar field uses", "last 12 bytes",
			func(k *caseKit) []byte {
				return k.header(k.base, pkgformat.ManifestName, func(h []byte) { h[505] = 'x' })
			}),
		invalid("container-directory-member", "container.members", "a directory member events/ before the first event", "events/",
			func(k *caseKit) []byte {
				var hb bytes.Buffer
				tw := tar.NewWriter(&hb)
				if err := tw.WriteHeader(&tar.Header{Name: "events/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: fixedTime, Format: tar.FormatUSTAR}); err != nil {
					k.t.Fatal(err)
				}
				tw.Flush()
				for _, m := range k.ms {
					if m.name == pkgformat.EventPath(1) {
						return append(append(bytes.Clone(k.base[:m.header]), hb.Bytes()[:512]...), k.base[m.header:]...)
					}
				}
				k.t.Fatal("no event 1")
				return nil
			}),

		// manifest.json (section 2).
		valid("manifest-compact", "manifest.json", "the manifest written compact (json.Marshal, no indentation) and signed", func(k *caseKit) []byte {
			return k.tar(k.manifest(k.clone(), func(s string) string {
				var b bytes.Buffer
				json.Compact(&b, []byte(s))
				return b.String()
			}))
		}),
		valid("manifest-escaped-name", "manifest.names", `the member name "purpose" written "\u0070urpose" (names compare after JSON unescaping)`, func(k *caseKit) []byte {
			return k.tar(k.manifest(k.clone(), replaceOnce(`"purpose":`, `"\u0070urpose":`)))
		}),
		invalid("manifest-name-case", "manifest.names", `"purpose" written "Purpose"`, "Purpose",
			func(k *caseKit) []byte { return k.tar(k.manifest(k.clone(), replaceOnce(`"purpose":`, `"Purpose":`))) }),
		invalid("manifest-repeated-member", "manifest.repeat", `"purpose" twice, the first "Another trial"`, "twice",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), replaceOnce(`"purpose": "`, `"purpose": "Another trial", "purpose": "`)))
			}),
		invalid("manifest-repeated-nested", "manifest.repeat", `an item's "sha256" twice, with the same value`, "twice",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"sha256": "`)
					j := i + strings.Index(s[i:], ",")
					return s[:j+1] + s[i:j+1] + s[j+1:]
				}))
			}),
		invalid("manifest-unknown-member", "manifest.members", `an extra member "comment"`, "comment",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), replaceOnce(`"format":`, `"comment": "x", "format":`)))
			}),
		invalid("manifest-missing-sealed-at", "manifest.required", `"sealed_at" removed`, "sealed_at",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `  "sealed_at"`)
					j := i + strings.Index(s[i:], "\n")
					return s[:i] + s[j+1:]
				}))
			}),
		invalid("manifest-missing-item-file-size", "manifest.required", `the first item's "file_size" removed`, "file_size",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `      "file_size"`)
					j := i + strings.Index(s[i:], "\n")
					return s[:i] + s[j+1:]
				}))
			}),
		invalid("manifest-null", "manifest.null", `"purpose": null`, "null",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"purpose": "`) + len(`"purpose": `)
					j := i + 1 + strings.Index(s[i+1:], `"`)
					return s[:i] + "null" + s[j+1:]
				}))
			}),
		invalid("manifest-integer-fraction", "manifest.integers", `"checkpoint_size": 8.0`, "canonical decimal",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), replaceOnce(`"checkpoint_size": 8,`, `"checkpoint_size": 8.0,`)))
			}),
		invalid("manifest-integer-exponent", "manifest.integers", `"sealing_event": 7e0`, "canonical decimal",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), replaceOnce(`"sealing_event": 7,`, `"sealing_event": 7e0,`)))
			}),
		invalid("manifest-final-newline", "manifest.space", "a newline after the manifest's closing brace", "white space",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string { return s + "\n" }))
			}),
		invalid("manifest-format-4", "manifest.format", `"format": "custos-package/4"`, "unknown format",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), replaceOnce(`"custos-package/3"`, `"custos-package/4"`)))
			}),
		invalid("manifest-item-path", "manifest.paths", "the first item's path is items/001-chat.age, not ItemPath(0, name)", "path",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), replaceOnce(`"path": "items/001-chat_export_log.txt.age"`, `"path": "items/001-chat.age"`)))
			}),
		invalid("manifest-uppercase-hex", "manifest.hex", "the first item's file_sha256 in uppercase hex", "",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"file_sha256": "`) + len(`"file_sha256": "`)
					return s[:i] + strings.ToUpper(s[i:i+64]) + s[i+64:]
				}))
			}),
		invalid("manifest-fingerprint-uppercase", "manifest.hex", "log_key_fingerprint in uppercase hex", "fingerprint",
			func(k *caseKit) []byte {
				fp := pkgformat.KeyFingerprint(k.vkey)
				return k.tar(k.manifest(k.clone(), replaceOnce(fp, strings.ToUpper(fp))))
			}),
		invalid("manifest-log-key-hash-uppercase", "manifest.log_key", "log_key's HASH written in upper-case hex (note.NewVerifier accepts it), its fingerprint that of the new string", "canonical spelling",
			func(k *caseKit) []byte {
				name, rest, _ := strings.Cut(k.vkey, "+")
				hash, b64, _ := strings.Cut(rest, "+")
				upper := name + "+" + strings.ToUpper(hash) + "+" + b64
				return k.tar(k.manifest(k.clone(), func(s string) string {
					s = strings.Replace(s, pkgformat.KeyFingerprint(k.vkey), pkgformat.KeyFingerprint(upper), 1)
					return strings.Replace(s, k.vkey, upper, 1)
				}))
			}),
		invalid("manifest-md5-malformed", "manifest.hex", "the first item's md5 cut to 31 hex digits (which a verifier comparing it with the deposit event alone would let pass if both were forged alike)", "md5 is not 32 lowercase hex digits",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"md5": "`) + len(`"md5": "`)
					return s[:i] + s[i+1:]
				}))
			}),
		invalid("manifest-md5-empty", "manifest.hex", `the first item's md5 given as "" (section 2 omits it when the deposit computed none)`, "md5 is empty",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"md5": "`) + len(`"md5": "`)
					return s[:i] + s[i+32:]
				}))
			}),
		invalid("manifest-md5-empty-escaped", "manifest.hex", `the first item's md5 given as "" under the member name "md\u0035" (which the grammar reads as md5)`, "md5 is empty",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"md5": "`)
					return s[:i] + `"md\u0035": "` + s[i+len(`"md5": "`)+32:]
				}))
			}),
		invalid("manifest-item-id", "manifest.ids", "the first item's id is item-one, not it_ and 24 hex digits", "is not it_ and 24 lowercase hex digits",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"id": "it_`) + len(`"id": "`)
					return s[:i] + "item-one" + s[i+27:]
				}))
			}),
		invalid("manifest-package-id", "manifest.ids", "the package id is PK-1, not pk_ and 24 hex digits", "is not pk_ and 24 lowercase hex digits",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"package": "pk_`) + len(`"package": "`)
					return s[:i] + "PK-1" + s[i+27:]
				}))
			}),
		invalid("manifest-recipient-malformed", "manifest.recipient", "the recipient is age1notarecipient, neither an X25519 nor a hybrid age recipient", "neither an X25519 age recipient",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"recipient": "`) + len(`"recipient": "`)
					j := i + strings.Index(s[i:], `"`)
					return s[:i] + "age1notarecipient" + s[j:]
				}))
			}),
		invalid("manifest-recipient-checksum", "manifest.recipient", "the recipient's last character changed to another of Bech32's alphabet: its checksum fails", "neither an X25519 age recipient",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"recipient": "`) + len(`"recipient": "`)
					j := i + strings.Index(s[i:], `"`)
					last := "q"
					if s[j-1] == 'q' {
						last = "p"
					}
					return s[:j-1] + last + s[j:]
				}))
			}),
		invalid("manifest-recipient-uppercase", "manifest.recipient", "the recipient written in upper case (age reads Bech32 in either case)", "canonical lower case",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `"recipient": "`) + len(`"recipient": "`)
					j := i + strings.Index(s[i:], `"`)
					return s[:i] + strings.ToUpper(s[i:j]) + s[j:]
				}))
			}),
		invalid("manifest-item-twice", "manifest.items", "the second item's id made the first's: one item listed twice", "a package holds each item once",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					var ids []string
					for _, part := range strings.Split(s, `"id": "`)[1:] {
						ids = append(ids, part[:strings.Index(part, `"`)])
					}
					return strings.Replace(s, `"id": "`+ids[1]+`"`, `"id": "`+ids[0]+`"`, 1)
				}))
			}),
		invalid("manifest-no-report-pdf-hash", "manifest.required", "report_pdf_sha256 removed from a version 3 manifest", "report_pdf_sha256",
			func(k *caseKit) []byte {
				return k.tar(k.manifest(k.clone(), func(s string) string {
					i := strings.Index(s, `  "report_pdf_sha256"`)
					j := i + strings.Index(s[i:], "\n")
					return s[:i] + s[j+1:]
				}))
			}),

		// manifest.sig (section 3).
		invalid("signature-second-line", "signature.one", "manifest.sig carries its signature line twice", "manifest.sig",
			func(k *caseKit) []byte {
				sig := k.get(k.ms, pkgformat.SignatureName)
				return k.tar(set(k.clone(), pkgformat.SignatureName, append(bytes.Clone(sig), logLine(sig)...)))
			}),
		invalid("signature-other-key-line", "signature.one", "manifest.sig carries a second signature line, of another key", "manifest.sig",
			func(k *caseKit) []byte {
				sig := k.get(k.ms, pkgformat.SignatureName)
				return k.tar(set(k.clone(), pkgformat.SignatureName, cosign(sig, "witness.example", bytes.Repeat([]byte{7}, 68))))
			}),
		invalid("signature-non-canonical-base64", "signature.base64", "the signature's base64 with the unused bits of its last character set", "manifest.sig",
			func(k *caseKit) []byte {
				return k.tar(set(k.clone(), pkgformat.SignatureName, nonCanonical(k.get(k.ms, pkgformat.SignatureName))))
			}),
		invalid("signature-text-version", "signature.text", "the signed text's first line is custos-package/2 in a version 3 package", "manifest.sig: the signed text",
			func(k *caseKit) []byte {
				mb := k.get(k.ms, pkgformat.ManifestName)
				sig, err := note.Sign(&note.Note{Text: fmt.Sprintf("custos-package/2\n%s\nsha256 %s\n", packageID, sha256hex(mb))}, k.signer)
				if err != nil {
					k.t.Fatal(err)
				}
				return k.tar(set(k.clone(), pkgformat.SignatureName, sig))
			}),
		invalid("signature-no-final-newline", "signature.one", "manifest.sig without its final newline", "manifest.sig",
			func(k *caseKit) []byte {
				sig := k.get(k.ms, pkgformat.SignatureName)
				return k.tar(set(k.clone(), pkgformat.SignatureName, sig[:len(sig)-1]))
			}),

		// checkpoint (section 4, custody-log.md 5).
		invalid("checkpoint-log-signature-twice", "checkpoint.log-signature", "the checkpoint carries the log key's signature line twice", "exactly one",
			func(k *caseKit) []byte {
				cp := k.get(k.ms, pkgformat.CheckpointName)
				return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, append(bytes.Clone(cp), logLine(cp)...)))
			}),
		invalid("checkpoint-non-canonical-base64", "checkpoint.base64", "the checkpoint's log signature in non-canonical base64", "canonical base64",
			func(k *caseKit) []byte {
				return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, nonCanonical(k.get(k.ms, pkgformat.CheckpointName))))
			}),
		invalid("checkpoint-size-leading-zero", "checkpoint.text", "the checkpoint's size written 08, signed by the log key", "canonical decimal",
			func(k *caseKit) []byte {
				cp := string(k.get(k.ms, pkgformat.CheckpointName))
				text := strings.Replace(cp[:strings.Index(cp, "\n\n")+1], "\n8\n", "\n08\n", 1)
				return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, k.signCheckpoint(text)))
			}),
		invalid("checkpoint-extension-line", "checkpoint.text", "a fourth line in the checkpoint's text, signed by the log key", "extension",
			func(k *caseKit) []byte {
				cp := string(k.get(k.ms, pkgformat.CheckpointName))
				text := cp[:strings.Index(cp, "\n\n")+1] + "extension\n"
				return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, k.signCheckpoint(text)))
			}),
		valid("checkpoint-unknown-cosignature", "checkpoint.cosignatures", "a cosignature line of an unknown witness key after the log's line (ignored)",
			func(k *caseKit) []byte {
				cp := k.get(k.ms, pkgformat.CheckpointName)
				return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, cosign(cp, "witness.example/w1", bytes.Repeat([]byte{9}, 76))))
			}),

		// The checks a reader could leave out and still pass every case
		// above: each signature verified, each hash compared, each proof
		// checked, each deposit compared.
		invalid("signature-wrong", "signature.verify", "manifest.sig's signature with one bit of the Ed25519 signature flipped (its base64 canonical): the line, its key and its text are right, the signature does not verify", "manifest.sig",
			func(k *caseKit) []byte {
				return k.tar(set(k.clone(), pkgformat.SignatureName, flipSignature(k.get(k.ms, pkgformat.SignatureName))))
			}),
		invalid("checkpoint-signature-wrong", "checkpoint.log-signature", "the checkpoint's log signature with one bit of the Ed25519 signature flipped (its hash updated in the manifest, which is signed again)", "checkpoint",
			func(k *caseKit) []byte {
				return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, flipSignature(k.get(k.ms, pkgformat.CheckpointName))))
			}),
		invalid("checkpoint-hash", "checkpoint.hash", "a cosignature line of an unknown witness key added to the checkpoint (a note valid as it is: checkpoint.cosignatures) without updating checkpoint_sha256", "checkpoint",
			func(k *caseKit) []byte {
				cp := k.get(k.ms, pkgformat.CheckpointName)
				return k.tar(set(k.clone(), pkgformat.CheckpointName, cosign(cp, "witness.example/w1", bytes.Repeat([]byte{9}, 76))))
			}),
		invalid("proofs-hash", "proofs.hash", "a space after proofs.json's first '{' (JSON as valid as before: proofs.json) without updating proofs_sha256", "proofs.json",
			func(k *caseKit) []byte {
				pr := k.get(k.ms, pkgformat.ProofsName)
				return k.tar(set(k.clone(), pkgformat.ProofsName, bytes.Replace(pr, []byte("{"), []byte("{ "), 1)))
			}),
		invalid("events-inclusion", "events.inclusion", "the last hash of event 2's inclusion proof replaced by another (lowercase hex; proofs_sha256 updated, the manifest signed again): the event, its leaf hash and its prev are right, its proof does not reach the checkpoint's root", "not in the checkpointed log",
			func(k *caseKit) []byte {
				pr := string(k.get(k.ms, pkgformat.ProofsName))
				at := strings.Index(pr, `"2": [`)
				end := at + strings.Index(pr[at:], "]")
				last := strings.LastIndex(pr[:end], `"`)
				other := strings.Repeat("0", 63) + "1"
				return k.tar(k.commit(k.clone(), pkgformat.ProofsName, []byte(pr[:last-64]+other+pr[last:])))
			}),
		invalid("events-leaf", "events.leaf", "the manifest's leaf_hash of event 3 replaced by event 4's (the manifest signed again): the event's bytes do not hash to the leaf the manifest names", "leaf",
			func(k *caseKit) []byte {
				var m struct {
					Events []struct {
						Seq  uint64 `json:"seq"`
						Leaf string `json:"leaf_hash"`
					} `json:"events"`
				}
				if err := json.Unmarshal(k.get(k.ms, pkgformat.ManifestName), &m); err != nil {
					k.t.Fatal(err)
				}
				leaf := map[uint64]string{}
				for _, e := range m.Events {
					leaf[e.Seq] = e.Leaf
				}
				return k.tar(k.manifest(k.clone(), replaceOnce(`"leaf_hash": "`+leaf[3]+`"`, `"leaf_hash": "`+leaf[4]+`"`)))
			}),
		invalid("items-deposit", "items.deposit", "the first item's md5 in the manifest replaced by another lowercase hex value (the manifest signed again): the deposit event records another", "md5",
			func(k *caseKit) []byte {
				var m struct {
					Items []struct {
						MD5 string `json:"md5"`
					} `json:"items"`
				}
				if err := json.Unmarshal(k.get(k.ms, pkgformat.ManifestName), &m); err != nil {
					k.t.Fatal(err)
				}
				return k.tar(k.manifest(k.clone(), replaceOnce(`"md5": "`+m.Items[0].MD5+`"`, `"md5": "`+strings.Repeat("0", 32)+`"`)))
			}),
	}
	// Signer names (custody-log.md 5.3): white space refused, other
	// characters accepted, in a cosignature line of an unknown key.
	out := head
	for _, n := range []struct {
		r    rune
		slug string
		ok   bool
	}{{0x00a0, "nbsp", false}, {0x0085, "nel", false}, {0x2028, "line-separator", false}, {0x3000, "ideographic-space", false},
		{0x007f, "del", true}, {0x0080, "c1-control", true}, {0xfeff, "bom", true}, {0x200b, "zero-width-space", true}} {
		name := "witness" + string(n.r) + "example"
		change := fmt.Sprintf("a cosignature line whose key name holds U+%04X", n.r)
		mk := func(k *caseKit) []byte {
			cp := k.get(k.ms, pkgformat.CheckpointName)
			return k.tar(k.commit(k.clone(), pkgformat.CheckpointName, cosign(cp, name, bytes.Repeat([]byte{9}, 76))))
		}
		if n.ok {
			out = append(out, valid("checkpoint-signer-name-"+n.slug, "checkpoint.signer-names", change, mk))
		} else {
			out = append(out, invalid("checkpoint-signer-name-"+n.slug, "checkpoint.signer-names", change, "checkpoint", mk))
		}
	}
	proofs := func(edit func(string) string) func(k *caseKit) []byte {
		return func(k *caseKit) []byte {
			pb := string(k.get(k.ms, pkgformat.ProofsName))
			nb := edit(pb)
			if nb == pb {
				k.t.Fatal("the edit did not change proofs.json")
			}
			return k.tar(k.commit(k.clone(), pkgformat.ProofsName, []byte(nb)))
		}
	}
	out = append(out,
		// proofs.json (section 5).
		invalid("proofs-key-leading-zero", "proofs.keys", `the proof of event 3 keyed "03"`, "proofs.json", proofs(replaceOnce(`"3":`, `"03":`))),
		invalid("proofs-key-plus", "proofs.keys", `the proof of event 3 keyed "+3"`, "proofs.json", proofs(replaceOnce(`"3":`, `"+3":`))),
		invalid("proofs-repeated-key", "proofs.repeat", `the proof of event 3 given twice`, "twice", proofs(func(s string) string {
			i := strings.Index(s, `    "3": [`)
			j := i + strings.Index(s[i:], "]") + 1
			return s[:i] + s[i:j] + ",\n" + s[i:]
		})),
		invalid("proofs-uppercase-hex", "proofs.hex", "one proof hash in uppercase hex", "proofs.json", proofs(func(s string) string {
			i := strings.Index(s, `      "`) + len(`      "`)
			return s[:i] + strings.ToUpper(s[i:i+64]) + s[i+64:]
		})),
		invalid("proofs-tree-size", "proofs.tree-size", `"tree_size": 9, the checkpoint's is 8`, "tree size", proofs(replaceOnce(`"tree_size": 8`, `"tree_size": 9`))),
		invalid("proofs-extra-proof", "proofs.members", "a proof for event 6, which the package does not carry", "proofs.json", proofs(replaceOnce(`"proofs": {`, `"proofs": {
    "6": [],`))),
		invalid("proofs-final-newline", "proofs.space", "a newline after proofs.json's closing brace", "white space", proofs(func(s string) string { return s + "\n" })),
		invalid("proofs-leading-space", "proofs.space", "a space before proofs.json's opening brace", "white space", proofs(func(s string) string { return " " + s })),
		valid("proofs-compact", "proofs.json", "proofs.json written compact (no indentation)", proofs(func(s string) string {
			var b bytes.Buffer
			json.Compact(&b, []byte(s))
			return b.String()
		})),

		// events/ (section 6).
		invalid("event-prev-after-neighbour", "events.prev", "forged log: event 2's prev is not the leaf hash of event 1, which the package holds (the tree, checkpoint and manifest follow the changed event)", "hash chain disagrees with its own tree",
			func(k *caseKit) []byte {
				return k.forged(func(ev *events.Event) {
					if ev.Seq == 2 {
						ev.Prev = strings.Repeat("ab", 32)
					}
				})
			}),
		invalid("event-prev-odd-leaf", "events.prev", "forged log: the sealing's (event 7) prev is not the leaf hash of event 6, which the package does not hold but the first hash of event 7's inclusion proof is", "hash chain disagrees with its own tree",
			func(k *caseKit) []byte {
				return k.forged(func(ev *events.Event) {
					if ev.Type == "package.sealing" {
						ev.Prev = strings.Repeat("cd", 32)
					}
				})
			}),
		invalid("event-not-canonical", "events.canonical", "a space after the first colon of event 1 (leaf hash in the manifest updated)", "event",
			func(k *caseKit) []byte {
				name := pkgformat.EventPath(1)
				old := k.get(k.ms, name)
				nb := bytes.Replace(old, []byte(`"v":1`), []byte(`"v": 1`), 1)
				ms := set(k.clone(), name, nb)
				return k.tar(k.manifest(ms, replaceOnce(events.LeafHash(old).String(), events.LeafHash(nb).String())))
			}),
		invalid("event-path", "events.path", "event 1's member named events/1.json", "events/",
			func(k *caseKit) []byte {
				ms := k.clone()
				for i := range ms {
					if ms[i].name == pkgformat.EventPath(1) {
						ms[i].name = "events/1.json"
					}
				}
				return k.tar(ms)
			}),

		// Event data as the reader interprets it (custody-log.md 12), in a
		// log forged with the test key.
		invalid("data-size-fraction", "data.integers", `forged log: the deposit's "size" written 67.0`, "canonical decimal",
			func(k *caseKit) []byte { return k.forged(onDeposit(replaceOnce(`"size":67,`, `"size":67.0,`))) }),
		invalid("data-repeated-member", "data.repeat", `forged log: the deposit's "sha256" twice, the same value`, "twice",
			func(k *caseKit) []byte {
				return k.forged(onDeposit(func(s string) string {
					i := strings.Index(s, `"sha256":"`)
					j := i + len(`"sha256":"`) + 65
					return s[:j+1] + s[i:j+1] + s[j+1:]
				}))
			}),
		invalid("data-name-case", "data.names", `forged log: the deposit's data holds also "SHA256"`, "differs only in case",
			func(k *caseKit) []byte { return k.forged(onDeposit(replaceOnce(`{`, `{"SHA256":"00",`))) }),
		valid("data-unknown-member", "data.names", `forged log: the deposit's data holds an unknown member "x" (ignored)`,
			func(k *caseKit) []byte { return k.forged(onDeposit(replaceOnce(`{`, `{"x":{"size":1.5,"y":null},`))) }),
		valid("data-escaped", "data.names", `forged log: the deposit's "name" written with \u escapes of the same characters`,
			func(k *caseKit) []byte {
				return k.forged(onDeposit(replaceOnce(`"name":"chat `, `"name":"\u0063hat `)))
			}),

		// The sealing event and the items it seals (section 9 step 7).
		invalid("manifest-no-items", "manifest.items", "forged log: the sealing event lists no item, and the manifest none (its items emptied, the item files removed, signed again): a package of no item", "a package holds at least one item",
			func(k *caseKit) []byte {
				b := k.forged(onSealing(func(s string) string {
					return regexp.MustCompile(`"items":\[[^]]*\]`).ReplaceAllString(s, `"items":[]`)
				}))
				ms, err := members(b)
				if err != nil {
					k.t.Fatal(err)
				}
				var kept []member
				for _, m := range ms {
					if !strings.HasPrefix(m.name, "items/") {
						kept = append(kept, m)
					}
				}
				mb := regexp.MustCompile(`(?s)"items": \[.*?\n  \],`).ReplaceAll(k.get(kept, pkgformat.ManifestName), []byte(`"items": [],`))
				return k.tar(k.sign(set(kept, pkgformat.ManifestName, mb)))
			}),
		invalid("sealing-item", "sealing.event", "forged log: the sealing event's envelope names the first item", "names the item",
			func(k *caseKit) []byte {
				return k.forged(func(ev *events.Event) {
					if ev.Type == "package.sealing" {
						ev.Item = packageItems[0].id
					}
				})
			}),
		invalid("sealing-for-role", "sealing.event", `forged log: the sealing event's data says "for_role":"judge"`, "sealed for a prosecutor or defence counsel",
			func(k *caseKit) []byte {
				return k.forged(onSealing(replaceOnce(`{`, `{"for_role":"judge",`)))
			}),
		invalid("sealing-not-signed-in", "sealing.event", `forged log: the sealing event's actor has "auth":"none" (no sign-in)`, "not signed in",
			func(k *caseKit) []byte {
				return k.forged(func(ev *events.Event) {
					if ev.Type == "package.sealing" {
						ev.Actor.Auth = "none"
					}
				})
			}),
		invalid("sealing-by-analyst", "sealing.event", "forged log: the package sealed by a hotline analyst (role analyst), the manifest naming the same", "sealed by investigators and custodians",
			func(k *caseKit) []byte {
				return buildPackageOpts(k.t, k.id, packageItems, k.signer, k.vkey, vectorOptions{SealedBy: &events.Actor{Person: "lim.sreyneang", Role: "analyst", Auth: "local", Session: "se_0123456789abcdef0123dddd"}})
			}),
		valid("sealing-for-defence", "sealing.event", `forged log: the sealing event's data says "for_role":"defence" (the manifest names the person, not the role)`,
			func(k *caseKit) []byte {
				return k.forged(onSealing(replaceOnce(`{`, `{"for_role":"defence",`)))
			}),

		// The sealing's request (section 9 step 7a).
		valid("sealing-approved-request", "sealing.request", "forged log: the case's policy requires approval of exports; the investigator asked in a package.seal request, a custodian approved it and sealed the package right after",
			func(k *caseKit) []byte { return k.sealedOnRequest(nil) }),
		invalid("sealing-required-no-request", "sealing.request", "forged log: the case's policy requires approval of exports, and the sealing names no request", "names no approved request",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-request-not-carried", "sealing.request", "forged log: the sealing names a request whose request.opened and request.approved the package does not hold", "does not hold its request.opened",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.noOpened, r.noApproved = true, true })
			}),
		invalid("sealing-self-approved", "sealing.request", "forged log: the investigator who asked approves the request and seals the package", "an approval is a custodian's other than the requester's",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.approver, r.sealer = r.requester, r.requester })
			}),
		invalid("sealing-custodian-self-approved", "sealing.request", "forged log: a custodian asks, and the same custodian approves and seals", "an approval is a custodian's other than the requester's",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.requester = r.approver
					r.requestedBy, r.approvalSays = r.approver.Person, r.approver.Person
				})
			}),
		invalid("sealing-request-other-person", "sealing.request", "forged log: the request asked for a package for another person than the sealing's", "asked for a package for",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.params, r.person = strings.Replace(r.params, "chea.sopheap", "lim.defence", 1), "lim.defence"
				})
			}),
		invalid("sealing-request-fewer-items", "sealing.request", "forged log: the request asked to seal the first item only; the sealing seals both", "asked to seal 1 item",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.params = `{"for":"chea.sopheap","purpose":"Trial 2026/88","items":["` + packageItems[0].id + `"]}`
				})
			}),
		invalid("sealing-request-other-kind", "sealing.request", "forged log: the request the sealing carries out is a case.member.add request", "not package.seal",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.kind = "case.member.add" })
			}),
		invalid("sealing-not-after-approval", "sealing.request", "forged log: another event comes between the approval and the sealing", "right after its approval",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.gap = true })
			}),
		invalid("sealing-other-sealer", "sealing.request", "forged log: one custodian approves, and the investigator who asked seals", "the approving custodian carries it out",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.sealer = r.requester })
			}),
		invalid("sealing-requester-renamed", "sealing.request", "forged log: the approval names another requester than the request's", "names",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.approvalSays = "keo.vanna" })
			}),
		invalid("sealing-policy-dropped-alone", "sealing.request", "forged log: the case's policy requires approval; then one custodian drops it alone (a case.policy.set none naming no request), and the investigator seals without a request", "dropped at event",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.later = []vectorEvent{{"case.policy.set", r.approver, map[string]string{"export_approval": "none"}}}
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-policy-unknown-value", "sealing.request", "forged log: the case's policy sets export_approval \"REQUIRED\", a value the vault never writes, and the investigator seals without a request (read as required, as the vault reads it: only \"none\" drops the approval)", "required a custodian's approval",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.policy = "REQUIRED"
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		valid("sealing-policy-unknown-value-approved", "sealing.request", "forged log: the case's policy sets export_approval \"REQUIRED\", and the package is sealed on an approved request, as under \"required\"",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.policy = "REQUIRED" })
			}),
		valid("sealing-policy-dropped-on-request", "sealing.request", "forged log: the case's policy requires approval; a custodian asked to drop it and another approved (the request's request.opened and request.approved, then case.policy.set none naming the request and its requester, written by the approver); the investigator seals without a request",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.later = policyDropped(r, nil)
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-policy-drop-request-not-carried", "sealing.request", "forged log: as valid-sealing-policy-dropped-on-request, but without the drop's request.opened and request.approved: a drop from 2026-12-07 is checked against its request in the package", "does not hold the request's request.opened and request.approved",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.later = policyDropped(r, nil)[2:]
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-policy-drop-approved-by-investigator", "sealing.request", "forged log: the drop's request approved, and the drop written, by the case's investigator", "an approval is a custodian's other than the requester's",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.later = policyDropped(r, func(_, approved, drop *vectorEvent) { approved.Actor, drop.Actor = r.requester, r.requester })
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-policy-drop-written-by-another", "sealing.request", "forged log: the drop's request approved by one custodian, and the drop written by a third", "the approving custodian carries it out",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.later = policyDropped(r, func(_, _, drop *vectorEvent) {
						drop.Actor.Person, drop.Actor.Session = "chan.dara", "se_0123456789abcdef0123eeee"
					})
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-policy-drop-other-kind", "sealing.request", "forged log: the request the drop names is a case.member.add request", "not a case.policy request for none",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.later = policyDropped(r, func(opened, _, _ *vectorEvent) { opened.Data.(map[string]any)["kind"] = "case.member.add" })
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		valid("classification-lowered-on-request", "classification.request", "forged log: a custodian raises the case's classification policy to 2, then asks to lower it to 1; another approves and writes the lowering, naming the request and its requester; the package is sealed without a request",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.policy, r.later = "", lowered(r, nil)
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("classification-lowering-request-not-carried", "classification.request", "forged log: as valid-classification-lowered-on-request, but without the lowering's request.opened and request.approved", "does not hold the request's request.opened and request.approved",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					l := lowered(r, nil)
					r.policy, r.later = "", []vectorEvent{l[0], l[3]}
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("classification-lowering-self-approved", "classification.request", "forged log: the custodian who asked to lower the classification policy approves the request and writes the lowering", "an approval is a custodian's other than the requester's",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.policy, r.later = "", lowered(r, func(_, approved, lowering *vectorEvent) { approved.Actor, lowering.Actor = r.approver, r.approver })
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("classification-lowering-from-another-policy", "classification.request", "forged log: the request asked to lower the policy from 3 to 1, but the policy before the lowering was 2", "asked to lower the case's classification policy from 3 to 1",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.policy, r.later = "", lowered(r, func(opened, _, _ *vectorEvent) {
						opened.Data.(map[string]any)["params"] = map[string]int{"votes": 1, "from": 3}
					})
					r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = true, true, "", "", r.requester
				})
			}),
		invalid("sealing-approved-with-requesters-session", "sealing.request", "forged log: the approval is in a custodian's name but carries the requesting investigator's session", "an approval is another person's",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.approver.Session = r.requester.Session
					r.sealer = r.approver
				})
			}),
		invalid("sealing-approval-not-signed-in", "sealing.request", `forged log: the approval's actor authenticated as "none" (the same custodian sealing signed in)`, "an approval is another person's",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.approver.Auth, r.approver.Session = "none", ""
				})
			}),
		invalid("sealing-request-expiry-unreadable", "sealing.request", "forged log: the request gives its expiry as \"2026-12-14 10:00\", not a time in RFC 3339", "is not a time in RFC 3339",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.expires = "2026-12-14 10:00" })
			}),
		invalid("sealing-request-person-not-for", "sealing.request", "forged log: the request's data names another person than the one its params ask a package for", "names lim.sovann as whom it concerns, but asks for a package for chea.sopheap",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.person = "lim.sovann" })
			}),
		invalid("sealing-approved-after-expiry", "sealing.request", "forged log: the request expired a day before its approval", "after that",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.expires = "2026-12-06T10:00:00Z" })
			}),
		invalid("sealing-requested-by-prosecutor", "sealing.request", "forged log: the prosecutor the package is for asked for it; a custodian approved and sealed", "only investigators and custodians ask",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.requester = events.Actor{Person: "chea.sopheap", Role: "prosecutor", Auth: "local", Session: "se_0123456789abcdef0123eeee"}
					r.requestedBy, r.approvalSays = r.requester.Person, r.requester.Person
				})
			}),
		invalid("sealing-request-rejected", "sealing.request", "forged log: the request is rejected, and also approved and carried out", "is rejected",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.rejected = true })
			}),
		invalid("sealing-request-of-another-case", "sealing.request", "forged log: the request's data names another case than its envelope", "names the case",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) { r.openedCase = "KH-2026-999" })
			}),
		valid("sealing-before-requests-carried", "sealing.request", "forged log: a sealing of 2026-03-02 names the request it carried out, asked by the investigator, and the package holds neither its request.opened nor its request.approved, as packages sealed before 2026-12-05 did not",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.base, r.noOpened, r.noApproved = time.Time{}, true, true
				})
			}),
		valid("sealing-policy-none", "sealing.request", "forged log: the case's policy says none, and the sealing names no request",
			func(k *caseKit) []byte {
				return k.sealedOnRequest(func(r *sealingOnRequest) {
					r.policy, r.noOpened, r.noApproved, r.request, r.requestedBy, r.sealer = "none", true, true, "", "", r.requester
				})
			}),

		// items/ and the reports (sections 7 to 9).
		invalid("item-byte-changed", "items.bytes", "one byte of the first item's age file changed", "items/001",
			func(k *caseKit) []byte {
				name := k.ms[len(k.ms)-4].name
				b := bytes.Clone(k.get(k.ms, name))
				b[len(b)-1] ^= 1
				return k.tar(set(k.clone(), name, b))
			}),
		invalid("item-other-recipient", "items.decrypt", "the first item re-encrypted to another recipient, its file hashes updated in the manifest", "items/001",
			func(k *caseKit) []byte {
				other, _ := age.GenerateX25519Identity()
				return k.reencrypt(other.Recipient())
			}),
		invalid("item-second-recipient", "items.recipient", "the first item encrypted to the recipient and to a second key, its file hashes updated in the manifest", "sealed to the package's recipient alone",
			func(k *caseKit) []byte {
				other, _ := age.GenerateX25519Identity()
				return k.reencrypt(k.id.Recipient(), other.Recipient())
			}),
		invalid("report-pdf-changed", "report.bytes", "one byte of report.pdf changed", "report.pdf",
			func(k *caseKit) []byte {
				b := bytes.Clone(k.get(k.ms, pkgformat.ReportPDFName))
				b[len(b)/2] ^= 1
				return k.tar(set(k.clone(), pkgformat.ReportPDFName, b))
			}),
		invalid("report-other-key", "report.key", "report.txt's Log key fingerprint line names another key (its hash updated in the manifest, which is signed again): what a person compares is not the key that signed", "report.txt states the log key fingerprint",
			func(k *caseKit) []byte {
				fp := pkgformat.KeyFingerprint(k.vkey)
				return k.report(func(r string) string {
					return strings.Replace(r, "Log key fingerprint:   "+fp, "Log key fingerprint:   "+strings.Repeat("ab", 32), 1)
				})
			}),
		invalid("report-escape-sequence", "report.text", "report.txt with terminal escape sequences (ESC [2A, ESC [2K) after its Log key lines, then lines naming another key that a terminal would show in their place (its hash updated in the manifest, which is signed again)", "hidden character U+001B",
			func(k *caseKit) []byte {
				return k.report(func(r string) string {
					i := strings.Index(r, "  Log key:")
					j := i + strings.Index(r[i:], "\n") + 1
					return r[:j] + "\x1b[2A\x1b[2K  Log key fingerprint:   " + strings.Repeat("ab", 32) + "\n" + r[j:]
				})
			}),
		invalid("report-bidi-override", "report.text", "report.txt's Log key fingerprint written between RIGHT-TO-LEFT OVERRIDE and POP DIRECTIONAL FORMATTING, which a terminal shows reversed (its hash updated in the manifest, which is signed again)", "hidden character U+202E",
			func(k *caseKit) []byte {
				fp := pkgformat.KeyFingerprint(k.vkey)
				return k.report(func(r string) string {
					return strings.Replace(r, "Log key fingerprint:   "+fp, "Log key fingerprint:   \u202e"+fp+"\u202c", 1)
				})
			}),
		invalid("report-key-nbsp-label", "report.key", "report.txt with a second Log key fingerprint line, naming another key, before the right one, indented with a NO-BREAK SPACE (U+00A0) where the vault writes a space (its hash updated in the manifest, which is signed again): a person reads it as the report's first Log key fingerprint", "report.txt states the log key fingerprint",
			func(k *caseKit) []byte {
				return k.report(beforeKeyLines("\u00a0 Log key fingerprint:   " + strings.Repeat("ab", 32) + "\n"))
			}),
		invalid("report-key-padded-label", "report.key", "report.txt with a second Log key fingerprint line, naming another key, before the right one, its label padded with 46 no-break spaces before its colon (its hash updated in the manifest, which is signed again)", "report.txt states the log key fingerprint",
			func(k *caseKit) []byte {
				return k.report(beforeKeyLines("  Log key fingerprint" + strings.Repeat("\u00a0", 46) + ":   " + strings.Repeat("ab", 32) + "\n"))
			}),
		valid("report-key-lookalike-label", "report.key", "report.txt with a second line like a Log key line, naming another key, whose label is written with a CYRILLIC SMALL LETTER O (U+043E) for the o of Log (its hash updated in the manifest, which is signed again): not a Log key line, whatever a person reads in it; the rule reads the lines the vault writes, and the key to compare is the one custos-verify prints (section 8)",
			func(k *caseKit) []byte {
				return k.report(beforeKeyLine("  L\u043eg key:               custos-other+89abcdef+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"))
			}),
		invalid("report-key-other-in-text", "report.key", "report.txt's how-to-verify step 1 says the fingerprint must equal another key's, in upper case, its Log key lines left right (its hash updated in the manifest, which is signed again)", "(a numbered step) gives the fingerprint ABAB",
			func(k *caseKit) []byte {
				fp := pkgformat.KeyFingerprint(k.vkey)
				return k.report(func(r string) string {
					return strings.Replace(r, "It must equal "+fp, "It must equal "+strings.Repeat("AB", 32), 1)
				})
			}),
		invalid("report-text-unassigned", "report.text", "report.txt holds U+1FAE9, a code point unassigned in Unicode 15.0.0 (assigned in 16.0), after its Log key lines (its hash updated in the manifest, which is signed again)", "hidden character U+1FAE9",
			func(k *caseKit) []byte {
				return k.report(beforeKeyLine("  \U0001fae9\n"))
			}),
		invalid("report-no-key", "report.key", "report.txt without its Log key and Log key fingerprint lines (its hash updated in the manifest, which is signed again)", "does not state the log key",
			func(k *caseKit) []byte {
				return k.report(func(r string) string {
					var kept []string
					for _, line := range strings.Split(r, "\n") {
						if !strings.Contains(line, "Log key") {
							kept = append(kept, line)
						}
					}
					return strings.Join(kept, "\n")
				})
			}),
	)
	return out
}

func newCaseKit(t *testing.T) *caseKit {
	base := readPackage(t)
	ms, err := members(base)
	if err != nil {
		t.Fatal(err)
	}
	signer, vkey := packageKeys(t)
	return &caseKit{t: t, base: base, ms: ms, signer: signer, vkey: vkey, id: readIdentity(t)}
}

func writeCases(t *testing.T) {
	k := newCaseKit(t)
	if err := os.MkdirAll(casesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(casesDir, "*.tar"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	cf := CaseFile{
		Spec:     "docs/package-format.md, section 12",
		Key:      k.vkey,
		Identity: "../identity.txt",
		Command:  "custos-verify CASE --key KEY --identity ../identity.txt",
	}
	for _, c := range packageCases() {
		b := c.make(k)
		if err := os.WriteFile(filepath.Join(casesDir, c.File), b, 0o644); err != nil {
			t.Fatal(err)
		}
		cf.Cases = append(cf.Cases, c.PackageCase)
	}
	js, _ := json.MarshalIndent(cf, "", "  ")
	if err := os.WriteFile(filepath.Join(casesDir, "cases.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadCases reads cases.json.
func readCases(t testing.TB) CaseFile {
	b, err := os.ReadFile(filepath.Join(casesDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cf CaseFile
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	return cf
}

// Every case gets the verdict cases.json states, and an invalid one fails
// by its own rule. The committed files are the ones the definitions
// make, except the forged-log ones (age encryption is randomised).
func TestPackageCases(t *testing.T) {
	if *updateCases {
		writeCases(t)
	}
	cf := readCases(t)
	defs := packageCases()
	if len(cf.Cases) != len(defs) {
		t.Fatalf("cases.json lists %d cases, the definitions %d: regenerate with -update-cases", len(cf.Cases), len(defs))
	}
	// No file in the folder that cases.json does not list: a case renamed
	// or removed leaves no stale file for a verifier to be tested on.
	listed := map[string]bool{}
	for _, c := range cf.Cases {
		listed[c.File] = true
	}
	files, _ := filepath.Glob(filepath.Join(casesDir, "*.tar"))
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is in %s but not in cases.json: remove it", filepath.Base(f), casesDir)
		}
	}
	k := newCaseKit(t)
	id := readIdentity(t)
	rules := map[string]bool{}
	for i, c := range cf.Cases {
		if c != defs[i].PackageCase {
			t.Errorf("case %d: cases.json says %+v, the definition %+v", i, c, defs[i].PackageCase)
			continue
		}
		rules[c.Rule] = true
		b, err := os.ReadFile(filepath.Join(casesDir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Change, "forged log") {
			if want := defs[i].make(k); !bytes.Equal(b, want) && !strings.Contains(c.File, "-recipient") {
				t.Errorf("%s: the committed file is not what its definition makes", c.File)
			}
		}
		_, err = pkgformat.Verify(bytes.NewReader(b), pkgformat.VerifyOptions{TrustedKey: cf.Key, Identities: []age.Identity{id}})
		switch {
		case c.Valid && err != nil:
			t.Errorf("%s (%s): %v, want VERIFIED", c.File, c.Change, err)
		case !c.Valid && err == nil:
			t.Errorf("%s (%s): VERIFIED, want a failure by rule %s", c.File, c.Change, c.Rule)
		case !c.Valid && (errors.Is(err, pkgformat.ErrNotAuthenticated) || !strings.Contains(err.Error(), c.CustosError)):
			t.Errorf("%s (%s): %v, want a failure naming %q", c.File, c.Change, err, c.CustosError)
		case !c.Valid:
			t.Logf("%s: %v", c.File, err)
		}
	}
	// Every rule the spec names in section 12 has a case.
	spec, err := os.ReadFile("../docs/package-format.md")
	if err != nil {
		t.Fatal(err)
	}
	for r := range rules {
		if r != "-" && !bytes.Contains(spec, []byte("`"+r+"`")) {
			t.Errorf("rule %s is not named in docs/package-format.md", r)
		}
	}
}

// The same package gets the same verdict every time it is checked: a
// package with more than one fault is refused for the same one, so that
// a court, the defence and the vault read the same words from it. Go
// ranges over a map in a random order, so a check that walked one
// would, within these runs, name one fault and then another.
func TestPackageVerdictsRepeat(t *testing.T) {
	cf := readCases(t)
	id := readIdentity(t)
	const runs = 12
	for _, c := range cf.Cases {
		b, err := os.ReadFile(filepath.Join(casesDir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for i := range runs {
			_, err := pkgformat.Verify(bytes.NewReader(b), pkgformat.VerifyOptions{TrustedKey: cf.Key, Identities: []age.Identity{id}})
			got := "VERIFIED"
			if err != nil {
				got = err.Error()
			}
			if i == 0 {
				first = got
			} else if got != first {
				t.Errorf("%s: checked twice, it first failed with %q, then with %q", c.File, first, got)
				break
			}
		}
	}
}
