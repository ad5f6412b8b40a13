package events_test

// The custody-log test vectors in testdata/custody-log (specified in
// docs/custody-log.md). They are generated deterministically - fixed key
// seed, ids and times - by
//
//	go test ./events -run TestVectors -update
//
// and TestVectors re-derives every value from the committed files alone,
// with an independent implementation of the RFC 6962 tree and the proof
// checks, so that a verifier written from the spec can use the same files.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/vault"
	"golang.org/x/mod/sumdb/note"
)

var update = flag.Bool("update", false, "rewrite the test vectors in testdata/ instead of checking them")

const vectorDir = "../testdata/custody-log"

// The vector log's key: name (and so origin) and Ed25519 seed 00 01 ... 1f.
const vectorKeyName = "custos-vectors"

func vectorSeed() []byte {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return seed
}

// vectorKeys builds the note signer and verifier keys from the fixed seed:
// the verifier key with note.NewEd25519VerifierKey, and the signer key in
// the same encoding ("PRIVATE+KEY+name+hash+base64(0x01 || seed)").
func vectorKeys(t testing.TB) (note.Signer, note.Verifier, string) {
	t.Helper()
	skey, vkey := seedKeys(t, vectorKeyName, vectorSeed())
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, verifier, vkey
}

// Sizes of the signed checkpoints, and the proofs written as vectors.
var (
	vectorCheckpoints = []uint64{5, 9, 12}
	vectorInclusion   = struct{ index, size uint64 }{5, 12}
	vectorConsistency = struct{ size1, size2 uint64 }{5, 12}
)

func vectorID(i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("custos vector event %d", i)))
	return hex.EncodeToString(sum[:16])
}

func vectorHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// vectorEvents returns the twelve events of the vector log, without prev.
// Their data is encoded with json.Marshal, as the sequencer does, from the
// vault's own event data types.
func vectorEvents(t testing.TB, vkey string) []*events.Event {
	t.Helper()
	base := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	// The actors show the credential members: an investigator signed in
	// through the unit's OpenID provider, a prosecutor with a smart card.
	investigator := events.Actor{Person: "sok.dara", Role: vault.RoleInvestigator, Auth: "oidc", Session: "se_0a1b2c3d4e5f60718293a4b5",
		Issuer: "https://login.police.example.kh/realms/unit/", Subject: "8f2c6a1e-3b7d-4f0a-9c5e-1d2b3a4c5d6e", AMR: []string{"pwd", "otp"}}
	prosecutor := events.Actor{Person: "chea.sopheap", Role: vault.RoleProsecutor, Auth: "certificate",
		Issuer: "CN=Prosecution Service CA,O=Ministry of Justice,C=KH", Subject: "CN=chea.sopheap,O=Ministry of Justice,C=KH",
		Certificate: vectorHex("certificate 1")}
	const caseID, item1, item2 = "KH-2026-014", "it_0f1e2d3c4b5a69788796a5b4", "it_5a4b3c2d1e0f112233445566"
	type draft struct {
		typ        string
		actor      events.Actor
		caseID, it string
		data       any
	}
	drafts := []draft{
		{vault.TypeLogOpened, vault.System, "", "", vault.LogOpened{Origin: vectorKeyName, CheckpointKey: vkey,
			RecoveryRecipient: "age19khm6ltzrdkw3twz3kh5l7wnr0kyqlmexnlvxe428es3gc2egffqaxrd97", Sealer: "soft:/var/lib/custos/keys#1a2b3c4d"}},
		{vault.TypePersonEnrolled, vault.System, "", "", vault.PersonEnrolled{Name: "sok.dara", Role: vault.RoleInvestigator, TokenSHA256: vectorHex("token 1")}},
		{vault.TypePersonEnrolled, vault.System, "", "", vault.PersonEnrolled{Name: "chea.sopheap", Role: vault.RoleProsecutor, TokenSHA256: vectorHex("token 2")}},
		{vault.TypeServerStarted, vault.System, "", "", map[string]string{"sealer": "soft:/var/lib/custos/keys#1a2b3c4d"}},
		{vault.TypeCaseOpened, investigator, caseID, "", vault.CaseOpened{Title: "Hotline report 2026/014: forum <board> & chat",
			Recipient: "age192zp7hvun92c2ynwjnzm60cat3ugejm0qhe9xp5ejn7syvnmjuwqkz4n5z", Sealer: "soft:/var/lib/custos/keys#1a2b3c4d", Members: []string{"sok.dara"}}},
		{vault.TypeItemDeposited, investigator, caseID, item1, vault.ItemDeposited{Name: "chat <export> & log.txt", Size: 1234,
			SHA256: vectorHex("plaintext 1"), MD5: vectorHex("md5 1")[:32], SHA1: vectorHex("sha1 1")[:40],
			Object: "ev/" + vectorHex("object 1")[:32], CiphertextSize: 1452, CiphertextSHA256: vectorHex("ciphertext 1"),
			Source: "https://example.org/report?id=14&lang=km", Note: "Reported by the hotline.\nSeized 2026-03-01."}},
		{vault.TypeItemDeposited, investigator, caseID, item2, vault.ItemDeposited{Name: "ឯកសារ-0001.jpg", Size: 48213,
			SHA256: vectorHex("plaintext 2"), Object: "ev/" + vectorHex("object 2")[:32], CiphertextSize: 48431, CiphertextSHA256: vectorHex("ciphertext 2")}},
		{vault.TypeAccessRefused, events.Actor{Auth: "none"}, "", "", vault.AccessRefused{Action: "GET /v1/items/{item}", Reason: "no valid credentials"}},
		{vault.TypeItemAccessed, investigator, caseID, item1, vault.ItemAccessed{Purpose: "Prepare the brief for the prosecutor", Access: "view"}},
		{vault.TypeItemAccessCompleted, investigator, caseID, item1, vault.ItemAccessCompleted{AccessEvent: "8", Bytes: 1234, SHA256: vectorHex("plaintext 1")}},
		{vault.TypeRecipientSet, prosecutor, "", "", vault.RecipientSet{Recipient: "age192zp7hvun92c2ynwjnzm60cat3ugejm0qhe9xp5ejn7syvnmjuwqkz4n5z"}},
		{vault.TypePackageSealing, investigator, caseID, "", vault.PackageSealing{Package: "pk_00112233445566778899aabb", For: "chea.sopheap",
			Recipient: "age192zp7hvun92c2ynwjnzm60cat3ugejm0qhe9xp5ejn7syvnmjuwqkz4n5z", Purpose: "Trial 2026/88", Items: []string{item1, item2}}},
	}
	out := make([]*events.Event, len(drafts))
	for i, d := range drafts {
		data, err := json.Marshal(d.data)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = &events.Event{
			V: events.Version, Seq: uint64(i), ID: vectorID(i), Type: d.typ,
			Time:  events.FormatTime(base.Add(time.Duration(i)*time.Second + time.Duration(i)*1001*time.Microsecond)),
			Actor: d.actor, Case: d.caseID, Item: d.it, Data: data,
		}
	}
	return out
}

// generateVectors builds every vector file in memory.
func generateVectors(t testing.TB) map[string][]byte {
	t.Helper()
	signer, _, vkey := vectorKeys(t)
	files := map[string][]byte{"verifier-key.txt": []byte(vkey + "\n")}
	var ndjson, leafLines, rootLines bytes.Buffer
	var tree events.Tree
	prev := events.ZeroHash
	for _, ev := range vectorEvents(t, vkey) {
		ev.Prev = prev.String()
		b, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		ndjson.Write(b)
		ndjson.WriteByte('\n')
		prev = events.LeafHash(b)
		fmt.Fprintf(&leafLines, "%s\n", prev)
		tree.Append(prev)
	}
	for size := uint64(0); size <= tree.Size(); size++ {
		root, err := tree.Root(size)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&rootLines, "%d %s\n", size, root)
	}
	files["events.ndjson"] = ndjson.Bytes()
	files["leaf-hashes.txt"] = leafLines.Bytes()
	files["roots.txt"] = rootLines.Bytes()
	for _, size := range vectorCheckpoints {
		root, _ := tree.Root(size)
		n, err := events.SignCheckpoint(signer, vectorKeyName, size, root)
		if err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("checkpoint-%d.txt", size)] = n
	}

	var inc bytes.Buffer
	in := vectorInclusion
	leaf, _ := tree.Leaf(in.index)
	root, _ := tree.Root(in.size)
	p, err := tree.InclusionProof(in.index, in.size)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&inc, "# RFC 9162 inclusion proof of leaf %d in the tree of size %d\n", in.index, in.size)
	fmt.Fprintf(&inc, "index %d\nsize %d\nleaf %s\nroot %s\n", in.index, in.size, leaf, root)
	for _, h := range p {
		fmt.Fprintf(&inc, "proof %x\n", h)
	}
	files["inclusion-proof.txt"] = inc.Bytes()

	var con bytes.Buffer
	c := vectorConsistency
	root1, _ := tree.Root(c.size1)
	root2, _ := tree.Root(c.size2)
	p, err = tree.ConsistencyProof(c.size1, c.size2)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&con, "# RFC 9162 consistency proof from the tree of size %d to the tree of size %d\n", c.size1, c.size2)
	fmt.Fprintf(&con, "size1 %d\nsize2 %d\nroot1 %s\nroot2 %s\n", c.size1, c.size2, root1, root2)
	for _, h := range p {
		fmt.Fprintf(&con, "proof %x\n", h)
	}
	files["consistency-proof.txt"] = con.Bytes()
	return files
}

// vectorFiles is what a verifier in another language would read.
type vectorFiles struct {
	key         string
	lines       [][]byte
	leaves      []events.Hash
	roots       []events.Hash
	checkpoints map[uint64][]byte
}

func readVectorFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitLines splits newline-terminated text, refusing a missing final
// newline and empty lines.
func splitLines(t testing.TB, name string, b []byte) [][]byte {
	t.Helper()
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", name)
	}
	lines := bytes.Split(b[:len(b)-1], []byte("\n"))
	for i, l := range lines {
		if len(l) == 0 {
			t.Fatalf("%s: line %d is empty", name, i+1)
		}
	}
	return lines
}

func parseHash(t testing.TB, s string) events.Hash {
	t.Helper()
	var h events.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) || hex.EncodeToString(b) != s {
		t.Fatalf("%q is not 64 lowercase hex digits", s)
	}
	copy(h[:], b)
	return h
}

func loadVectors(t testing.TB) *vectorFiles {
	t.Helper()
	v := &vectorFiles{checkpoints: map[uint64][]byte{}}
	v.key = strings.TrimSuffix(string(readVectorFile(t, "verifier-key.txt")), "\n")
	v.lines = splitLines(t, "events.ndjson", readVectorFile(t, "events.ndjson"))
	for _, l := range splitLines(t, "leaf-hashes.txt", readVectorFile(t, "leaf-hashes.txt")) {
		v.leaves = append(v.leaves, parseHash(t, string(l)))
	}
	for i, l := range splitLines(t, "roots.txt", readVectorFile(t, "roots.txt")) {
		size, root, ok := strings.Cut(string(l), " ")
		if !ok || size != strconv.Itoa(i) {
			t.Fatalf("roots.txt line %d: %q", i+1, l)
		}
		v.roots = append(v.roots, parseHash(t, root))
	}
	for _, size := range vectorCheckpoints {
		v.checkpoints[size] = readVectorFile(t, fmt.Sprintf("checkpoint-%d.txt", size))
	}
	return v
}

// readProof reads "key value" lines (comments start with #); "proof" may
// repeat.
func readProof(t testing.TB, name string) (map[string]string, [][]byte) {
	t.Helper()
	kv := map[string]string{}
	var proof [][]byte
	for _, l := range splitLines(t, name, readVectorFile(t, name)) {
		if l[0] == '#' {
			continue
		}
		k, val, ok := strings.Cut(string(l), " ")
		if !ok {
			t.Fatalf("%s: bad line %q", name, l)
		}
		if k == "proof" {
			h := parseHash(t, val)
			proof = append(proof, h[:])
			continue
		}
		kv[k] = val
	}
	return kv, proof
}

func atoi(t testing.TB, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVectors(t *testing.T) {
	generated := generateVectors(t)
	if *update {
		if err := os.MkdirAll(vectorDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range generated {
			if err := os.WriteFile(filepath.Join(vectorDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Run("generator", func(t *testing.T) {
		// The committed files are exactly what the code writes today: a
		// change to the encoding, the hashing or the signing shows here.
		for name, want := range generated {
			if got := readVectorFile(t, name); !bytes.Equal(got, want) {
				t.Errorf("%s differs from what the code generates (run go test ./events -run TestVectors -update only for an intended, versioned format change):\n got %q\nwant %q", name, got, want)
			}
		}
	})
	t.Run("from files", func(t *testing.T) { checkVectorFiles(t, loadVectors(t)) })
	t.Run("the document's examples", func(t *testing.T) { checkDocumentExamples(t, generated) })
}

// documentExamples are the examples of docs/custody-log.md that quote a
// vector: the paragraph that introduces each, and the vector's bytes it
// quotes (a line of a file, or the whole file).
var documentExamples = []struct {
	intro string
	file  string
	line  int // 1-based; 0 for the whole file
}{
	{"Example (event 7 of the vectors):", "events.ndjson", 8},
	{"(`checkpoint-5.txt`):", "checkpoint-5.txt", 0},
}

// checkDocumentExamples checks that each example custody-log.md quotes
// from the vectors is the vector as generated (with -update, rewrites
// it): a verifier written from the document finds the same bytes in both.
func checkDocumentExamples(t *testing.T, generated map[string][]byte) {
	const doc = "../docs/custody-log.md"
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, ex := range documentExamples {
		want := string(generated[ex.file])
		if ex.line > 0 {
			want = strings.Split(want, "\n")[ex.line-1] + "\n"
		}
		i := strings.Index(text, ex.intro)
		if i < 0 {
			t.Fatalf("%s has no example introduced by %q", doc, ex.intro)
		}
		open := strings.Index(text[i:], "```\n")
		if open < 0 {
			t.Fatalf("%s: no code block after %q", doc, ex.intro)
		}
		start := i + open + len("```\n")
		end := strings.Index(text[start:], "```\n")
		if end < 0 {
			t.Fatalf("%s: the code block after %q does not end", doc, ex.intro)
		}
		got := text[start : start+end]
		if got == want {
			continue
		}
		if *update {
			text = text[:start] + want + text[start+end:]
			continue
		}
		t.Errorf("%s: the example after %q is not %s as the vectors have it (run go test ./events -run TestVectors -update):\n got %q\nwant %q", doc, ex.intro, ex.file, got, want)
	}
	if *update && text != string(b) {
		if err := os.WriteFile(doc, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkVectorFiles re-derives everything from the files, as a verifier
// written from docs/custody-log.md would.
func checkVectorFiles(t *testing.T, v *vectorFiles) {
	verifier, err := note.NewVerifier(v.key)
	if err != nil {
		t.Fatal(err)
	}
	_, _, vkey := vectorKeys(t)
	if v.key != vkey {
		t.Fatalf("verifier-key.txt %q is not the key of the documented seed (%q)", v.key, vkey)
	}
	origin := verifier.Name()
	if len(v.lines) != len(v.leaves) || len(v.roots) != len(v.lines)+1 {
		t.Fatalf("%d events, %d leaf hashes, %d roots", len(v.lines), len(v.leaves), len(v.roots))
	}

	// Events: canonical, numbered, chained, hashed.
	prev := events.ZeroHash
	for i, b := range v.lines {
		ev, err := events.Decode(b)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		again, err := events.Encode(ev)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("event %d does not re-encode to its bytes: %v", i, err)
		}
		if ev.Seq != uint64(i) || ev.Prev != prev.String() {
			t.Fatalf("event %d: seq %d, prev %s, want prev %s", i, ev.Seq, ev.Prev, prev)
		}
		sum := sha256.Sum256(append([]byte{0}, b...))
		if events.Hash(sum) != v.leaves[i] || events.LeafHash(b) != v.leaves[i] {
			t.Fatalf("event %d: leaf hash %x, leaf-hashes.txt says %s", i, sum, v.leaves[i])
		}
		prev = v.leaves[i]
	}
	if first, _ := events.Decode(v.lines[0]); first.Type != vault.TypeLogOpened {
		t.Fatalf("event 0 is %s", first.Type)
	} else {
		var d vault.LogOpened
		if err := first.DecodeData(&d); err != nil || d.CheckpointKey != v.key || d.Origin != origin {
			t.Fatalf("event 0 does not name the log's key and origin: %+v %v", d, err)
		}
	}

	// Tree: the roots by the RFC 6962 definition, and as Tree computes them.
	var tree events.Tree
	tree.Append(v.leaves...)
	for size := range v.roots {
		want := v.roots[size]
		if got := mth(v.leaves[:size]); got != want {
			t.Fatalf("MTH of the first %d leaves is %s, roots.txt says %s", size, got, want)
		}
		if got, _ := tree.Root(uint64(size)); got != want {
			t.Fatalf("Tree.Root(%d) = %s, roots.txt says %s", size, got, want)
		}
	}
	// Every proof Tree issues verifies under the RFC 9162 algorithms.
	n := uint64(len(v.leaves))
	for size := uint64(1); size <= n; size++ {
		for i := uint64(0); i < size; i++ {
			p, _ := tree.InclusionProof(i, size)
			if !rfcVerifyInclusion(i, size, v.leaves[i], p, v.roots[size]) {
				t.Fatalf("inclusion proof %d in %d fails the RFC 9162 check", i, size)
			}
		}
		for s1 := uint64(1); s1 <= size; s1++ {
			p, _ := tree.ConsistencyProof(s1, size)
			if !rfcVerifyConsistency(s1, size, p, v.roots[s1], v.roots[size]) {
				t.Fatalf("consistency proof %d -> %d fails the RFC 9162 check", s1, size)
			}
		}
	}

	// Checkpoints.
	for size, b := range v.checkpoints {
		cp, err := events.ParseCheckpoint(b, origin, verifier)
		if err != nil {
			t.Fatalf("checkpoint-%d.txt: %v", size, err)
		}
		if cp.Size != size || cp.Root != v.roots[size] || !bytes.Equal(cp.Note, b) {
			t.Fatalf("checkpoint-%d.txt commits to size %d root %s, want root %s", size, cp.Size, cp.Root, v.roots[size])
		}
		body := fmt.Sprintf("%s\n%d\n%s\n\n", origin, size, base64.StdEncoding.EncodeToString(v.roots[size][:]))
		if !bytes.HasPrefix(b, []byte(body)) || !bytes.HasPrefix(b[len(body):], []byte("— "+origin+" ")) || bytes.Count(b, []byte("\n")) != 5 {
			t.Fatalf("checkpoint-%d.txt is not one signed tlog-checkpoint body:\n%s", size, b)
		}
		if o, s, err := events.PeekCheckpoint(b); err != nil || o != origin || s != size {
			t.Fatalf("PeekCheckpoint(checkpoint-%d.txt) = %q %d %v", size, o, s, err)
		}
		if !edVerifyNote(t, v.key, b) {
			t.Fatalf("checkpoint-%d.txt: Ed25519 signature does not verify by hand", size)
		}
	}

	// The proof files.
	kv, p := readProof(t, "inclusion-proof.txt")
	index, size := atoi(t, kv["index"]), atoi(t, kv["size"])
	leaf, root := parseHash(t, kv["leaf"]), parseHash(t, kv["root"])
	if leaf != v.leaves[index] || root != v.roots[size] {
		t.Fatal("inclusion-proof.txt names another leaf or root than the log")
	}
	if err := events.VerifyInclusion(index, size, leaf, p, root); err != nil || !rfcVerifyInclusion(index, size, leaf, p, root) {
		t.Fatalf("inclusion-proof.txt does not verify: %v", err)
	}
	if got, _ := tree.InclusionProof(index, size); !equalProofs(got, p) {
		t.Fatal("inclusion-proof.txt is not the proof Tree issues")
	}
	for i := range p {
		bad := append([][]byte(nil), p...)
		bad[i] = bytes.Clone(p[i])
		bad[i][31] ^= 1
		if events.VerifyInclusion(index, size, leaf, bad, root) == nil || rfcVerifyInclusion(index, size, leaf, bad, root) {
			t.Fatalf("inclusion proof with hash %d changed still verifies", i)
		}
	}
	if events.VerifyInclusion(index+1, size, leaf, p, root) == nil || rfcVerifyInclusion(index+1, size, leaf, p, root) {
		t.Fatal("inclusion proof verifies for another index")
	}
	kv, p = readProof(t, "consistency-proof.txt")
	s1, s2 := atoi(t, kv["size1"]), atoi(t, kv["size2"])
	r1, r2 := parseHash(t, kv["root1"]), parseHash(t, kv["root2"])
	if r1 != v.roots[s1] || r2 != v.roots[s2] {
		t.Fatal("consistency-proof.txt names other roots than the log")
	}
	if err := events.VerifyConsistency(s1, s2, p, r1, r2); err != nil || !rfcVerifyConsistency(s1, s2, p, r1, r2) {
		t.Fatalf("consistency-proof.txt does not verify: %v", err)
	}
	if got, _ := tree.ConsistencyProof(s1, s2); !equalProofs(got, p) {
		t.Fatal("consistency-proof.txt is not the proof Tree issues")
	}
	for i := range p {
		bad := append([][]byte(nil), p...)
		bad[i] = bytes.Clone(p[i])
		bad[i][0] ^= 1
		if events.VerifyConsistency(s1, s2, bad, r1, r2) == nil || rfcVerifyConsistency(s1, s2, bad, r1, r2) {
			t.Fatalf("consistency proof with hash %d changed still verifies", i)
		}
	}

	// The audit engine accepts the log with its checkpoints...
	res, err := runEngine(origin, verifier, v.lines, v.checkpoints)
	if err != nil {
		t.Fatalf("verify.Engine refuses the vectors: %v", err)
	}
	if res.Events != n || res.Root != v.roots[n] || res.Checkpoints != len(v.checkpoints) || res.Latest.Size != n {
		t.Fatalf("engine result %+v", res)
	}
	// ... and refuses every one-byte change of any event.
	for i := range v.lines {
		for _, pos := range []int{0, len(v.lines[i]) / 2, len(v.lines[i]) - 2} {
			bad := append([][]byte(nil), v.lines...)
			bad[i] = bytes.Clone(v.lines[i])
			bad[i][pos] ^= 0x01
			if _, err := runEngine(origin, verifier, bad, v.checkpoints); err == nil {
				t.Fatalf("engine accepted event %d with byte %d changed", i, pos)
			}
		}
	}
	// Dropping, repeating or swapping events is refused too.
	for name, bad := range map[string][][]byte{
		"truncated": v.lines[:n-1],
		"dropped":   append(append([][]byte(nil), v.lines[:3]...), v.lines[4:]...),
		"repeated":  append(append([][]byte(nil), v.lines[:4]...), v.lines[3:]...),
		"swapped":   append(append([][]byte(nil), v.lines[:2]...), append([][]byte{v.lines[3], v.lines[2]}, v.lines[4:]...)...),
	} {
		if _, err := runEngine(origin, verifier, bad, v.checkpoints); err == nil {
			t.Fatalf("engine accepted the %s log", name)
		}
	}
}

func runEngine(origin string, verifier note.Verifier, lines [][]byte, cps map[uint64][]byte) (*verify.Result, error) {
	e := verify.New(origin, verifier)
	for size, b := range cps {
		if err := e.AddCheckpoint(b, fmt.Sprintf("checkpoint-%d.txt", size)); err != nil {
			return nil, err
		}
	}
	if err := e.AddBatch(lines); err != nil {
		return nil, err
	}
	return e.Finish()
}

func equalProofs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// edVerifyNote checks the single signature line of a note with the
// standard library alone: base64(4-byte key hash || Ed25519 signature of
// the text, including its final newline).
func edVerifyNote(t testing.TB, vkey string, b []byte) bool {
	t.Helper()
	parts := strings.SplitN(vkey, "+", 3)
	pub, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(pub) != 33 || pub[0] != 1 {
		t.Fatalf("verifier key %q", vkey)
	}
	text, sigs, _ := bytes.Cut(b, []byte("\n\n"))
	line := strings.TrimSuffix(string(sigs), "\n")
	name, b64, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || name != parts[0] || len(sig) != 4+ed25519.SignatureSize || hex.EncodeToString(sig[:4]) != parts[1] {
		return false
	}
	return ed25519.Verify(pub[1:], append(text, '\n'), sig[4:])
}

// mth is the Merkle Tree Hash of RFC 6962 section 2.1, by its recursive
// definition, over leaf hashes.
func mth(leaves []events.Hash) events.Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := mth(leaves[:k]), mth(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func node(l, r []byte) []byte {
	h := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return h[:]
}

// rfcVerifyInclusion is RFC 9162 section 2.1.3.2, step by step.
func rfcVerifyInclusion(index, size uint64, leaf events.Hash, proof [][]byte, root events.Hash) bool {
	if index >= size {
		return false
	}
	fn, sn := index, size-1
	r := leaf[:]
	for _, p := range proof {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = node(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = node(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && bytes.Equal(r, root[:])
}

// rfcVerifyConsistency is RFC 9162 section 2.1.4.2, step by step.
func rfcVerifyConsistency(size1, size2 uint64, proof [][]byte, root1, root2 events.Hash) bool {
	if size1 > size2 {
		return false
	}
	if size1 == size2 {
		return len(proof) == 0 && root1 == root2
	}
	if size1 == 0 || len(proof) == 0 {
		return false // size 0: nothing to prove; Custos never asks
	}
	if size1&(size1-1) == 0 {
		proof = append([][]byte{root1[:]}, proof...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			fr = node(c, fr)
			sr = node(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = node(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && bytes.Equal(fr, root1[:]) && bytes.Equal(sr, root2[:])
}
