package vault

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pdq"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// photos are the PDQ reference vectors (testdata/pdq).
const photos = "../testdata/pdq/images"

func readPhoto(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(photos, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPDQKnownMaterial: the deposit of a photo records its PDQ hash; once
// it is classified baseline, a shrunk copy and a rotated copy (different
// bytes, so no exact hash matches) are known material and hidden, while
// an unrelated photo is not.
func TestPDQKnownMaterial(t *testing.T) {
	h := newHotline(t)
	orig := h.deposit(t, h.a1, "orig.jpg", readPhoto(t, "bridge-mods/aaa-orig.jpg"), "")
	if orig.Media == nil || orig.Media.Kind != "image" || len(orig.Media.PDQ) != 64 || orig.Media.Quality < 50 || len(orig.Media.Dihedral) != 7 {
		t.Fatalf("the photo's deposit learned %+v", orig.Media)
	}
	if _, err := h.v.Classify(h.ctx, h.a1, orig.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	shrunk := h.deposit(t, h.a1, "shrunk.jpg", readPhoto(t, "bridge-mods/shrink-a-lot.jpg"), "")
	turned := h.deposit(t, h.a1, "turned.jpg", testenv.RotatedJPEG(t, readPhoto(t, "bridge-mods/aaa-orig.jpg")), "")
	other := h.deposit(t, h.a1, "other.jpg", readPhoto(t, "reg-test-input/labelme-subset/q0122.jpg"), "")
	for _, c := range []*DepositResult{shrunk, turned} {
		// The photo they look like is of their case: it is named.
		if !strings.Contains(c.Known, "looks like (PDQ distance") || !strings.Contains(c.Known, "item "+orig.ID+" of this case, classified baseline") {
			t.Errorf("%s: known %q, media %+v", c.Name, c.Known, c.Media)
		}
		if _, err := h.view(h.a2, c.ID, false); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s shown without an override: %v", c.Name, err)
		}
	}
	if other.Known != "" {
		t.Errorf("an unrelated photo is known: %q", other.Known)
	}
	// A near-copy in another case is told that it looks like an item,
	// not which: its analysts may not know the first case's items.
	elsewhere := enrolled(t, h.v, "ana8", RoleAnalyst)
	if err := h.v.OpenCase(h.ctx, elsewhere, "HL-8", "another team"); err != nil {
		t.Fatal(err)
	}
	far, err := h.v.Deposit(h.ctx, elsewhere, DepositRequest{Case: "HL-8", Name: "shrunk-too.jpg", Body: bytes.NewReader(readPhoto(t, "bridge-mods/shrink-a-lot.jpg"))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(far.Known, "looks like (PDQ distance") || !strings.Contains(far.Known, "an item classified baseline") || strings.Contains(far.Known, orig.ID) {
		t.Errorf("a near-copy in another case: known %q", far.Known)
	}
	// Known-material checks compare with the one classified photo only,
	// not with every image ever deposited.
	if n := len(h.v.state.hot.judged); n != 1 {
		t.Errorf("known-material checks compare with %d images, want the 1 classified", n)
	}
	if _, err := h.view(h.a2, other.ID, false); err != nil {
		t.Errorf("an unrelated photo is hidden: %v", err)
	}
}

// TestMediaNotHashed: a decompression bomb and a damaged image are
// deposited (the deposit never depends on the decoder) with the reason
// they were not hashed; a video's duration is read in the same pass.
func TestMediaNotHashed(t *testing.T) {
	h := newHotline(t)
	// A PNG whose header declares 100000 x 100000 pixels.
	var bomb bytes.Buffer
	png.Encode(&bomb, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := bomb.Bytes()
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29])) // IHDR's CRC
	res := h.deposit(t, h.a1, "bomb.png", b, "")
	if res.Media == nil || !strings.Contains(res.Media.NotHashed, "limit") || res.Media.PDQ != "" {
		t.Fatalf("bomb: %+v", res.Media)
	}
	photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
	res = h.deposit(t, h.a1, "cut.jpg", photo[:len(photo)/3], "")
	if res.Media == nil || res.Media.NotHashed == "" {
		t.Fatalf("truncated JPEG: %+v", res.Media)
	}
	box := func(typ string, body []byte) []byte {
		return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(body))), typ...), body...)
	}
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], 150000)
	mp4 := append(box("ftyp", []byte("isom\x00\x00\x02\x00isom")), box("mdat", bytes.Repeat([]byte{1}, 300000))...)
	mp4 = append(mp4, box("moov", box("mvhd", mvhd))...)
	res = h.deposit(t, h.a1, "clip.mp4", mp4, "")
	if res.Media == nil || res.Media.Kind != "video" || res.Media.DurationMS != 150000 {
		t.Fatalf("video: %+v", res.Media)
	}
	if _, err := h.view(h.a1, res.ID, false); err != nil {
		t.Fatal(err)
	}
	if e, _ := h.v.Exposure(h.ctx, h.a1, ""); e.Today.VideoMinutes != 2.5 {
		t.Fatalf("exposure counts %v minutes of video, want 2.5", e.Today.VideoMinutes)
	}
}

// TestProbeBufferNeverBlocksTheWriter: the probe's buffer takes what the
// deposit reads without ever waiting for the probe; past its bound it
// drops everything and the probe's reads fail, while the writer goes on.
func TestProbeBufferNeverBlocksTheWriter(t *testing.T) {
	b := newProbeBuffer(1000)
	for range 10 {
		b.write(make([]byte, 300)) // no reader at all: must not block
	}
	if !b.overflowed() {
		t.Fatal("3000 bytes in a 1000-byte buffer did not overflow it")
	}
	if _, err := b.Read(make([]byte, 10)); !errors.Is(err, errProbeAbandoned) {
		t.Fatalf("read after the overflow: %v", err)
	}
	ok := newProbeBuffer(1 << 20)
	ok.write([]byte("hello, "))
	ok.write([]byte("world"))
	ok.closeWrite(nil)
	got, err := io.ReadAll(ok)
	if err != nil || string(got) != "hello, world" {
		t.Fatalf("read back %q, %v", got, err)
	}
}

// TestPDQOnlyHashSet: a VICS set listing a photo by its PDQ hash alone
// (no exact digest) makes a shrunk copy of the photo known material, with
// the match recorded as algorithm pdq and its distance.
func TestPDQOnlyHashSet(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	res, err := pdq.HashReader(bytes.NewReader(readPhoto(t, "bridge-mods/aaa-orig.jpg")), pdq.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	vics := `{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases","value":[{"CaseNumber":"P","Media":[` +
		`{"MediaID":1,"Category":1,"AlternativeHashes":[{"HashName":"PDQ","HashValue":"` + res.Hash.String() + `"}]}]}]}`
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "pdq-only", Format: "vics", Body: strings.NewReader(vics)}); err != nil {
		t.Fatal(err)
	}
	d := h.deposit(t, h.a1, "shrunk.jpg", readPhoto(t, "bridge-mods/shrink-a-lot.jpg"), "")
	if len(d.Matches) != 1 || d.Matches[0].Algorithm != "pdq" || d.Matches[0].Category != CategoryBaseline || d.Matches[0].Distance > 31 {
		t.Fatalf("matches: %+v", d.Matches)
	}
	if !strings.Contains(d.Known, "hash set pdq-only") {
		t.Fatalf("known: %q", d.Known)
	}
	other := h.deposit(t, h.a1, "other.jpg", readPhoto(t, "reg-test-input/labelme-subset/q0122.jpg"), "")
	if len(other.Matches) != 0 || other.Known != "" {
		t.Fatalf("an unrelated photo: %+v", other)
	}
	// The near-duplicate search names the entry, its first (0) included:
	// absent, a reader could not tell it from an item's match.
	near, err := h.v.Similar(h.ctx, h.a1, "", d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(near) != 1 || len(near[0].Matches) != 1 || near[0].Matches[0].Set != "pdq-only" {
		t.Fatalf("similar: %+v", near)
	}
	if b, _ := json.Marshal(near[0].Matches[0]); !bytes.Contains(b, []byte(`"entry":0`)) {
		t.Fatalf("the match of entry 0 in JSON: %s", b)
	}
}

// TestSimilarFindsUnclassifiedCopiesOfTheCase: the near-duplicate search
// of a case finds a turned copy among the case's own unclassified items
// (new material, which no vote judged yet); an analyst of another case
// searching the same image there is not shown them.
func TestSimilarFindsUnclassifiedCopiesOfTheCase(t *testing.T) {
	h := newHotline(t)
	photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
	orig := h.deposit(t, h.a1, "orig.jpg", photo, "")
	turned := h.deposit(t, h.a1, "turned.jpg", testenv.RotatedJPEG(t, photo), "")
	// A mirrored copy too (the PDQ project's own flipped bridge, against
	// its original): a search compares every dihedral variant.
	bridge := h.deposit(t, h.a1, "bridge.jpg", readPhoto(t, "reg-test-input/dih/bridge-1-original.jpg"), "")
	mirrored := h.deposit(t, h.a1, "mirrored.jpg", readPhoto(t, "reg-test-input/dih/bridge-5-flipx.jpg"), "")
	near, err := h.v.Similar(h.ctx, h.a2, "HL-1", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	for _, s := range near {
		for _, m := range s.Matches {
			found[s.Item] = append(found[s.Item], m.Item)
			// An item of the searcher's case is named with its name
			// and case, so that they need not look each one up.
			if m.Item == turned.ID && (m.Name != "turned.jpg" || m.Case != "HL-1") {
				t.Fatalf("the match of %s is named %q in case %q", m.Item, m.Name, m.Case)
			}
		}
	}
	for a, b := range map[string]string{orig.ID: turned.ID, turned.ID: orig.ID, bridge.ID: mirrored.ID, mirrored.ID: bridge.ID} {
		if !slices.Contains(found[a], b) {
			t.Fatalf("the case's search did not find %s near %s: %+v", b, a, near)
		}
	}
	outsider := enrolled(t, h.v, "ana9", RoleAnalyst)
	if err := h.v.OpenCase(h.ctx, outsider, "HL-9", "another team"); err != nil {
		t.Fatal(err)
	}
	mine, err := h.v.Deposit(h.ctx, outsider, DepositRequest{Case: "HL-9", Name: "same.jpg", Body: bytes.NewReader(photo)})
	if err != nil {
		t.Fatal(err)
	}
	near, err = h.v.Similar(h.ctx, outsider, "", mine.ID, 0)
	if err != nil || len(near) != 1 || len(near[0].Matches) != 0 {
		t.Fatalf("another case's unclassified copies were shown: %+v %v", near, err)
	}
	// Classified illegal, they are shown to the outsider by their
	// category and distance alone: no id, name or case.
	for _, it := range []string{orig.ID, turned.ID} {
		if _, err := h.v.Classify(h.ctx, h.a1, it, ClassifyRequest{Category: CategoryBaseline}); err != nil {
			t.Fatal(err)
		}
	}
	near, err = h.v.Similar(h.ctx, outsider, "", mine.ID, 0)
	if err != nil || len(near) != 1 || len(near[0].Matches) != 2 {
		t.Fatalf("another case's illegal copies: %+v %v", near, err)
	}
	for _, m := range near[0].Matches {
		if m.Item != "" || m.Name != "" || m.Case != "" || m.Category != CategoryBaseline {
			t.Fatalf("another case's item was told as %+v", m)
		}
	}
}

// TestPDQKnownNearestTie: a near-copy as near to two classified photos,
// one baseline and one national, is told the category of one chosen the
// same way every time (the lower item id), never of whichever a map
// gave first.
func TestPDQKnownNearestTie(t *testing.T) {
	h := newHotline(t)
	photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
	// The same pixels twice (bytes after the JPEG's end differ): the same
	// PDQ hash, so the same distance from any near-copy.
	a := h.deposit(t, h.a1, "a.jpg", photo, "")
	b := h.deposit(t, h.a1, "b.jpg", append(slices.Clone(photo), "copy"...), "")
	if a.Media == nil || b.Media == nil || a.Media.PDQ != b.Media.PDQ {
		t.Fatalf("the two copies' media: %+v and %+v", a.Media, b.Media)
	}
	cat := map[string]string{a.ID: CategoryBaseline, b.ID: CategoryNational}
	for id, c := range cat {
		if _, err := h.v.Classify(h.ctx, h.a1, id, ClassifyRequest{Category: c}); err != nil {
			t.Fatal(err)
		}
	}
	want := "classified " + cat[min(a.ID, b.ID)]
	shrunk := readPhoto(t, "bridge-mods/shrink-a-lot.jpg")
	for i := range 6 {
		c := h.deposit(t, h.a1, fmt.Sprintf("near-%d.jpg", i), append(slices.Clone(shrunk), strings.Repeat("x", i+1)...), "")
		if !strings.Contains(c.Known, want) {
			t.Errorf("near-copy %d: known %q, want the lower id's %q", i, c.Known, want)
		}
	}
}

// TestSimilarSaysKnownMaterialAsListsDo: a near-copy of an item
// classified baseline, on which one analyst voted not-illegal, is known
// material still: a search of similar images does not call it
// not-illegal (as the reviewer's search did), but unsettled, as the
// item list does; two people agreeing settle it.
func TestSimilarSaysKnownMaterialAsListsDo(t *testing.T) {
	h := newHotline(t)
	bridge := h.deposit(t, h.a1, "bridge.jpg", readPhoto(t, "reg-test-input/dih/bridge-1-original.jpg"), "")
	mirrored := h.deposit(t, h.a1, "mirrored.jpg", readPhoto(t, "reg-test-input/dih/bridge-5-flipx.jpg"), "")
	if _, err := h.v.Classify(h.ctx, h.a1, bridge.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	categoryOf := func() string {
		t.Helper()
		near, err := h.v.Similar(h.ctx, h.a3, "", bridge.ID, 0)
		if err != nil || len(near) != 1 {
			t.Fatalf("similar: %+v %v", near, err)
		}
		for _, m := range near[0].Matches {
			if m.Item == mirrored.ID {
				return m.Category
			}
		}
		t.Fatalf("the mirrored copy was not found: %+v", near)
		return ""
	}
	if _, err := h.v.Classify(h.ctx, h.a2, mirrored.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	if c := categoryOf(); c != "" {
		t.Fatalf("after one not-illegal vote on a near-copy of baseline material, similar says %q", c)
	}
	if _, err := h.v.Classify(h.ctx, h.a3, mirrored.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	if c := categoryOf(); c != CategoryNotIllegal {
		t.Fatalf("after two, similar says %q", c)
	}
}
