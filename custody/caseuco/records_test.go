package caseuco

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/custos-vault/custos/custody"
)

// Hand-built records the tests export: what custody.Build makes, with
// every field used, and text that tries to break documents.

func at(min, sec, nsec int) time.Time { return time.Date(2026, 3, 4, 9, min, sec, nsec, time.UTC) }

func hashes(content string) custody.Hashes {
	s2 := sha256.Sum256([]byte(content))
	s1 := sha1.Sum([]byte(content))
	m := md5.Sum([]byte(content))
	return custody.Hashes{SHA256: hex.EncodeToString(s2[:]), SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m[:])}
}

func leaf(seq int) string {
	s := sha256.Sum256([]byte{0, byte(seq)})
	return hex.EncodeToString(s[:])
}

var (
	alice   = custody.Person{Name: "alice", Role: "investigator"}
	carol   = custody.Person{Name: "carol", Role: "custodian"}
	pat     = custody.Person{Name: "pat", Role: "prosecutor"}
	dan     = custody.Person{Name: "dan", Role: "defence"}
	system  = custody.Person{Name: "custos", Role: "system"}
	nobody  = custody.Person{}
	oidc    = "single sign-on (OpenID Connect) at https://id.example/ as 2f1c9a"
	session = "vault credential, session s_81f2"
)

// Names that try to break documents: a right-to-left override that would
// show "gpj.exe" as "exe.jpg", Khmer, quotes, newlines, a zero-width
// space, a line separator, an emoji, a tab and a control character.
const (
	nameRLO    = "invoice\u202egpj.exe"
	nameKhmer  = "រូបថត/ឯកសារ \"ទី១\".jpg"
	titleTrick = "Hotline report 2026-118: \"shared\" images\nLine two\u2028\u200b\t\x01 ✓ 😀"
	purposeRTL = "review for court \u202eTON\u202c (court order 7/2026)"
)

func ev(seq int, t time.Time, typ, act string, who custody.Person, auth, purpose, details, item string) custody.Event {
	return custody.Event{Seq: uint64(seq), Time: t, Type: typ, Action: act, Actor: who, Auth: auth,
		Purpose: purpose, Details: details, Item: item, LeafHash: leaf(seq)}
}

func checkpoint(size uint64) custody.Checkpoint {
	key := "custos.example/log+2b1a3c4d+AeD8n2Qv0ZcY1p3bFQ2rj8H1tq0wq9jH2JmW3t0dQyY="
	fp := sha256.Sum256([]byte(key))
	text := "custos.example/log\n" + strconv.FormatUint(size, 10) + "\n" + "qT3v0Jr0m5a0m7Xw1cE3QnC1vJt1b3lVbq4kQ2xg0xU=\n\n" +
		"— custos.example/log K2sbPExhbXBsZQ==\n" + "— witness.example/w1 AAAAAGZt3lpXh0Jmd29yZA==\n"
	return custody.Checkpoint{
		Origin: "custos.example/log", Size: size, Root: "qT3v0Jr0m5a0m7Xw1cE3QnC1vJt1b3lVbq4kQ2xg0xU=",
		LogKey: key, LogKeyFingerprint: hex.EncodeToString(fp[:]), Text: text,
		Cosignatures: []custody.Cosignature{
			{Witness: "witness.example/w1", Time: at(40, 1, 0)},
			{Witness: "witness.other/\u202eevil", Time: at(40, 2, 0)},
		},
		Timestamps: []custody.Timestamp{
			{Authority: "CN=Example TSA, O=Example Trust \"Services\", C=KH", Time: at(40, 3, 500000000), Serial: "340282366920938463463374607431768211455"},
			{Authority: "", Time: at(40, 4, 0), Serial: "7"},
		},
	}
}

// reportRecord is a report made on demand: two items, one with every
// hash and acquisition hashes, names and purposes with tricks in them.
func reportRecord() *custody.Record {
	opened := ev(3, at(0, 0, 0), "case.opened", "Case opened", alice, oidc, "", "title \"Hotline report\"", "")
	dep1 := ev(5, at(1, 0, 123456789), "item.deposited", "Deposited (received into custody)", alice, oidc, "", "\"invoice\\u202egpj.exe\", 1048576 bytes; matched the acquisition hash given", "it_0a1b2c3d4e5f")
	dep2 := ev(6, at(2, 0, 0), "item.deposited", "Deposited (received into custody)", alice, session, "", "", "it_99")
	view := ev(8, at(3, 0, 1), "item.accessed", "Viewed (plaintext opened)", carol, session, purposeRTL, "", "it_0a1b2c3d4e5f")
	done := ev(9, at(3, 30, 0), "item.access.completed", "Viewing completed", system, "server", "", "1048576 bytes streamed, sha256 matched the deposit", "it_0a1b2c3d4e5f")
	refused := ev(10, at(4, 0, 0), "access.refused", "Refused", nobody, "not authenticated", "", "item.view refused: no session", "it_99")
	failed := ev(11, at(5, 0, 0), "integrity.failed", "INTEGRITY FAILURE", system, "server", "", "object store returned other bytes\nline two", "it_99")
	member := ev(4, at(0, 30, 0), "case.member.added", "Person assigned to the case", carol, session, "", "bob", "")
	hold := ev(7, at(2, 30, 0), "case.hold.placed", "Legal hold placed", carol, session, "", "preservation order «PO-7»", "")
	report := ev(12, at(6, 0, 0), "custody.report", "Custody report made (text)", carol, session, "disclosure to the court", "every item", "")
	h1 := hashes("first item")
	return &custody.Record{
		Case:       custody.Case{ID: "KH-2026-118", Title: titleTrick, Opened: opened},
		Report:     &report,
		CaseEvents: []custody.Event{opened, member, hold, report},
		Items: []custody.Item{
			{
				ID: "it_0a1b2c3d4e5f", Name: nameRLO, Size: 1048576, Hashes: h1, Acquisition: h1,
				Source: "seized phone \"A\"\nexhibit 4", Note: "ព័ត៌មាន note \u200b", Deposit: dep1,
				Chain: []custody.Event{dep1, view, done},
			},
			{
				ID: "it_99", Name: nameKhmer, Size: 0, Hashes: custody.Hashes{SHA256: hashes("").SHA256},
				Acquisition: custody.Hashes{MD5: hashes("x").MD5}, Deposit: dep2,
				Chain: []custody.Event{dep2, refused, failed},
			},
		},
		Held:       true,
		Retention:  "87600h0m0s",
		Checkpoint: checkpoint(13),
		Generator:  "custos devel (vcs 4352c33)",
	}
}

// packageRecord is a package's report: sealed for a prosecutor on a
// second custodian's approval, disclosing the two other packages its
// items were sealed in.
func packageRecord() *custody.Record {
	opened := ev(1, at(0, 0, 0), "case.opened", "Case opened", alice, oidc, "", "title \"Op Tide\"", "")
	dep := ev(2, at(1, 0, 0), "item.deposited", "Deposited (received into custody)", alice, oidc, "", "", "it_a")
	dep2 := ev(3, at(1, 1, 0), "item.deposited", "Deposited (received into custody)", alice, oidc, "", "", "it_b")
	other1 := ev(4, at(2, 0, 0), "package.sealing", "Sealing a package", carol, session, "for the defence", "package pk_other1 for dan (defence)", "")
	other1f := ev(5, at(2, 30, 0), "package.fetched", "Package fetched", dan, session, "", "package pk_other1", "")
	other1r := ev(6, at(2, 40, 0), "package.received", "Package receipt signed", dan, session, "", "package pk_other1, sha256 ab12, signed with key SHA256:x", "")
	other2 := ev(7, at(3, 0, 0), "package.sealing", "Sealing a package", carol, session, "", "package pk_other2 for pat (prosecutor)", "")
	sealing := ev(8, at(4, 0, 0), "package.sealing", "Sealing a package", carol, session, "trial \"R v X\"",
		"package pk_main for pat (prosecutor); requested by alice in request rq_1, approved by carol", "")
	sealed := ev(9, at(4, 0, 5), "package.sealed", "Package sealed", system, "server", "", "package pk_main, 2048 bytes, sha256 cd34", "")
	h := hashes("a")
	return &custody.Record{
		Case: custody.Case{ID: "KH-2026-007", Title: "Op Tide", Opened: opened},
		Package: &custody.Package{ID: "pk_main", SealedBy: carol, SealedFor: pat, Recipient: "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
			Purpose: "trial \"R v X\"", SealedAt: sealing.Time, Sealing: sealing, Request: "rq_1", RequestedBy: "alice", DisclosesOthers: true},
		Items: []custody.Item{
			{ID: "it_a", Name: "a.jpg", Path: "items/001-a.jpg.age", Size: 1, Hashes: h, Deposit: dep,
				Chain: []custody.Event{dep, other1, other1f, other1r, other2, sealing, sealed}},
			{ID: "it_b", Name: "photos/2024/b.jpg", Path: "items/002-b.jpg.age", Size: 1, Hashes: h, Deposit: dep2,
				Chain: []custody.Event{dep2, other1, other1f, other1r, sealing, sealed}},
		},
		CaseEvents: []custody.Event{opened},
		Disclosures: []custody.Disclosure{
			{Package: "pk_other1", SealedFor: dan, SealedAt: other1.Time, Items: []string{"it_a", "it_b"}, Fetched: other1f.Time, Received: other1r.Time},
			{Package: "pk_other2", SealedFor: pat, SealedAt: other2.Time, Items: []string{"it_a"}},
		},
		Checkpoint: checkpoint(10),
		Generator:  "custos 1.4.0",
	}
}

// bareRecord has the least a record can have: a case, one item with no
// hash but SHA-256, no checkpoint, no generator, a destroyed case.
func bareRecord() *custody.Record {
	dep := custody.Event{Seq: 2, Time: at(1, 0, 0), Type: "item.deposited", Actor: custody.Person{Name: "alice"}, Item: "x"}
	return &custody.Record{
		Case:      custody.Case{ID: "c 1/ü"},
		Items:     []custody.Item{{ID: "x", Name: "", Hashes: custody.Hashes{SHA256: hashes("").SHA256}, Deposit: dep, Chain: []custody.Event{dep}}},
		Destroyed: true,
	}
}

// smallRecord is small, for exports broken on purpose: two items
// deposited by an investigator, no checkpoint.
func smallRecord() *custody.Record {
	d1 := ev(2, at(1, 0, 0), "item.deposited", "Deposited (received into custody)", alice, oidc, "", "", "it_1")
	d2 := ev(3, at(1, 1, 0), "item.deposited", "Deposited (received into custody)", alice, oidc, "", "", "it_2")
	return &custody.Record{
		Case: custody.Case{ID: "C-1", Title: "small"},
		Items: []custody.Item{
			{ID: "it_1", Name: "1.jpg", Size: 1, Hashes: hashes("1"), Deposit: d1, Chain: []custody.Event{d1}},
			{ID: "it_2", Name: "2.jpg", Size: 1, Hashes: hashes("2"), Deposit: d2, Chain: []custody.Event{d2}},
		},
	}
}
