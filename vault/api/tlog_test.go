package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tiles"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A client that knows only the log's key, /checkpoint and /tile/... (a
// standard C2SP tile client: golang.org/x/mod/sumdb/tlog's
// TileHashReader, which checks every tile against the checkpoint's root)
// computes the checkpoint's root and an inclusion proof of a stored
// event. No sign-in is needed; entry bundles are never served.
func TestTilesServeStandardClients(t *testing.T) {
	tv := newTestVault(t, Options{})
	for i := 0; i < 300; i++ {
		if a := tv.postJSON("inv", "/v1/cases", fmt.Sprintf(`{"case":"T-%d","title":"tile %d"}`, i, i)); a.code != 201 {
			t.Fatalf("open case: %d %s", a.code, a.body)
		}
	}
	if _, err := tv.v.Log().Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	a := tv.do("", "GET", "/checkpoint", "", nil)
	if a.code != 200 {
		t.Fatalf("/checkpoint: %d %s", a.code, a.body)
	}
	v, err := note.NewVerifier(tv.v.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := events.ParseCheckpoint([]byte(a.body), tv.v.Origin(), v)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size < 300 {
		t.Fatalf("checkpoint of %d events", cp.Size)
	}
	tree := tlog.Tree{N: int64(cp.Size), Hash: tlog.Hash(cp.Root)}
	reader := tlog.TileHashReader(tree, httpTiles{t: t, tv: tv})
	root, err := tlog.TreeHash(tree.N, reader)
	if err != nil || root != tree.Hash {
		t.Fatalf("root from tiles %x, %v; checkpoint says %x", root, err, tree.Hash)
	}
	var stored []byte
	if err := tv.v.Store().Read(t.Context(), 257, func(r events.Record) error {
		if stored == nil {
			stored = r.Bytes
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveRecord(tree.N, 257, reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, 257, tlog.RecordHash(stored)); err != nil {
		t.Fatalf("inclusion of event 257: %v", err)
	}
	for _, path := range []string{"/tile/entries/000", "/tile/0/001.p/0", "/tile/0/1", "/tile/0/x999/000", "/tile/5/000"} {
		if a := tv.do("", "GET", path, "", nil); a.code != 404 {
			t.Errorf("%s: %d, want 404", path, a.code)
		}
	}
	full := tv.do("", "GET", "/tile/0/000", "", nil)
	if full.code != 200 || len(full.body) != tiles.FullSize || !strings.Contains(full.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("full tile: %d, %d bytes, %q", full.code, len(full.body), full.header.Get("Cache-Control"))
	}
}

type httpTiles struct {
	t  *testing.T
	tv *testVault
}

func (h httpTiles) Height() int { return tiles.Height }

func (h httpTiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		resp, err := http.Get(h.tv.srv.URL + "/" + tiles.Path(uint64(tile.L), uint64(tile.N), tile.W))
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("tile %v: %d %s", tile, resp.StatusCode, b)
		}
		out[i] = b
	}
	return out, nil
}

func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}
