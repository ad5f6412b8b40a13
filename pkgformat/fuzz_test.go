package pkgformat_test

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/pkgformat"
)

func vectorMember(t testing.TB, pkg []byte, name string) []byte {
	t.Helper()
	ms, err := members(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.name == name {
			return m.data
		}
	}
	t.Fatalf("the vector package has no %s", name)
	return nil
}

// afterFirstValue returns what follows the first JSON value in b.
func afterFirstValue(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return bytes.TrimSpace(b[dec.InputOffset():])
}

// FuzzParseManifest: whatever ParseManifest accepts satisfies the rules
// docs/package-format.md states (format line, item paths, event order,
// limits) and survives a round trip: serialised as the vault writes it
// and parsed again, it is the same manifest, and serialising that gives
// the same bytes.
func FuzzParseManifest(f *testing.F) {
	mb := vectorMember(f, readPackage(f), pkgformat.ManifestName)
	f.Add(mb)
	var compact bytes.Buffer
	json.Compact(&compact, mb)
	f.Add(compact.Bytes())
	f.Add([]byte(`{"format":"custos-package/2","items":[{"name":"a/b","path":"items/001-a_b.age"}],"events":[{"seq":2},{"seq":1}]}`))
	f.Add([]byte(`{"format":"custos-package/2","items":[{"name":"..","path":"items/001-item.age"}]}`))
	f.Add([]byte(`{"format":"custos-package/3"}`))
	f.Add([]byte(`{"format":"custos-package/4"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := pkgformat.ParseManifest(b)
		if err != nil {
			if m != nil {
				t.Fatal("ParseManifest returned a manifest with an error")
			}
			return
		}
		if rest := afterFirstValue(b); len(rest) != 0 {
			t.Fatalf("accepted trailing data %q", rest)
		}
		if m.Format != pkgformat.Format && m.Format != pkgformat.FormatV2 || len(m.Items) > pkgformat.MaxMembers || len(m.Events) > pkgformat.MaxMembers {
			t.Fatalf("accepted format %q with %d items and %d events", m.Format, len(m.Items), len(m.Events))
		}
		paths := map[string]bool{}
		for i, it := range m.Items {
			if it.Path != pkgformat.ItemPath(i, it.Name) || paths[it.Path] || !strings.HasPrefix(it.Path, pkgformat.ItemsDir) ||
				strings.ContainsAny(it.Path[len(pkgformat.ItemsDir):], `/\`) || strings.Contains(it.Path, "..") {
				t.Fatalf("accepted item %d path %q for name %q", i, it.Path, it.Name)
			}
			paths[it.Path] = true
		}
		for i := 1; i < len(m.Events); i++ {
			if m.Events[i].Seq <= m.Events[i-1].Seq {
				t.Fatal("accepted events out of order")
			}
		}
		again, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		m2, err := pkgformat.ParseManifest(again)
		if err != nil {
			t.Fatalf("re-serialised manifest refused: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the manifest:\n%+v\n%+v", m, m2)
		}
		if third, _ := json.MarshalIndent(m2, "", "  "); !bytes.Equal(third, again) {
			t.Fatal("serialisation is not a fixpoint")
		}
	})
}

// FuzzVerifyPackage: Verify on arbitrary bytes returns an error or a
// report, never panics, and succeeds only for the vector package's
// content. A tar file has other encodings of the same members (padding,
// bytes after the end marker), so "the same" means the same member names,
// types and contents, read back with archive/tar. The manifest commits to
// every member's bytes, so this holds with the identity and without it.
func FuzzVerifyPackage(f *testing.F) {
	pkg := readPackage(f)
	id := readIdentity(f)
	_, vkey := packageKeys(f)
	want, err := members(pkg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pkg)
	f.Add(pkg[:len(pkg)/2])
	f.Add(append(bytes.Clone(pkg), "trailing"...))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 1024))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, withID := range []bool{false, true} {
			opts := pkgformat.VerifyOptions{TrustedKey: vkey}
			if withID {
				opts.Identities = []age.Identity{id}
			}
			rep, err := pkgformat.Verify(bytes.NewReader(b), opts)
			if err != nil {
				continue
			}
			if rep == nil || rep.Manifest == nil || rep.Checkpoint == nil {
				t.Fatal("Verify succeeded without a full report")
			}
			got, err := members(b)
			if err != nil {
				t.Fatalf("Verify accepted a file archive/tar cannot read: %v", err)
			}
			if len(got) != len(want) {
				t.Fatalf("Verify accepted %d members, the vector has %d", len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.name != w.name || g.typ != w.typ || !bytes.Equal(g.data, w.data) {
					t.Fatalf("Verify (identity %v) accepted a package whose member %d (%s) differs from the vector", withID, i, g.name)
				}
			}
		}
	})
}

// FuzzPackageProofs replaces proofs.json in the vector package with
// arbitrary bytes. A package can only verify if, for every event the
// manifest lists, the proof decodes to exactly the vector's proof and the
// tree size is the vector's: a mutated proof never proves a vector event.
// Since format 2 the manifest commits to proofs.json's bytes, so only the
// vector's own bytes verify.
func FuzzPackageProofs(f *testing.F) {
	pkg := readPackage(f)
	_, vkey := packageKeys(f)
	ms, err := members(pkg)
	if err != nil {
		f.Fatal(err)
	}
	orig := vectorMember(f, pkg, pkgformat.ProofsName)
	var wantProofs pkgformat.Proofs
	if err := json.Unmarshal(orig, &wantProofs); err != nil {
		f.Fatal(err)
	}
	manifest, err := pkgformat.ParseManifest(vectorMember(f, pkg, pkgformat.ManifestName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	var compact bytes.Buffer
	json.Compact(&compact, orig)
	f.Add(compact.Bytes())
	f.Add(bytes.ToUpper(orig))
	f.Add(bytes.Replace(orig, []byte(`"tree_size": 8`), []byte(`"tree_size": 9`), 1))
	f.Add([]byte(`{"tree_size":8,"proofs":{}}`))
	f.Fuzz(func(t *testing.T, proofs []byte) {
		var out bytes.Buffer
		tw := tar.NewWriter(&out)
		for _, m := range ms {
			data := m.data
			if m.name == pkgformat.ProofsName {
				data = proofs
			}
			if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(data)), Typeflag: m.typ}); err != nil {
				t.Fatal(err)
			}
			tw.Write(data)
		}
		tw.Close()
		if _, err := pkgformat.Verify(&out, pkgformat.VerifyOptions{TrustedKey: vkey}); err != nil {
			return
		}
		if !bytes.Equal(proofs, orig) {
			t.Fatal("Verify accepted proofs.json bytes the manifest does not name")
		}
		var got pkgformat.Proofs
		if err := json.NewDecoder(bytes.NewReader(proofs)).Decode(&got); err != nil {
			t.Fatalf("Verify accepted proofs that do not decode: %v", err)
		}
		if got.TreeSize != wantProofs.TreeSize {
			t.Fatalf("Verify accepted tree size %d", got.TreeSize)
		}
		for _, e := range manifest.Events {
			key := strconv.FormatUint(e.Seq, 10)
			g, w := got.Proofs[key], wantProofs.Proofs[key]
			if len(g) != len(w) {
				t.Fatalf("Verify accepted a proof of %d hashes for event %d", len(g), e.Seq)
			}
			for i := range w {
				gb, _ := hex.DecodeString(g[i])
				wb, _ := hex.DecodeString(w[i])
				if !bytes.Equal(gb, wb) {
					t.Fatalf("Verify accepted a different proof for event %d", e.Seq)
				}
			}
		}
	})
}
