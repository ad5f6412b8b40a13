package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
)

type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	z.left -= n
	return int(n), nil
}

type trailerBody struct {
	r  io.Reader
	h  hash.Hash
	tr http.Header
}

func (t *trailerBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.h.Write(p[:n])
	if err == io.EOF {
		t.tr.Set(HeaderContentSHA256, hex.EncodeToString(t.h.Sum(nil)))
	}
	return n, err
}

// BenchmarkDepositHTTP deposits through the real handler over loopback
// HTTP, client and server in one process, for profiling.
func BenchmarkDepositHTTP(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	st, _ := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
	defer st.Close()
	objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
	rec, _ := age.GenerateX25519Identity()
	v, err := vault.Open(ctx, vault.Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"),
		SpoolDir: filepath.Join(dir, "spool"), RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	tok, _ := v.Enroll(ctx, "inv", vault.RoleInvestigator)
	sess, err := v.OpenSession(ctx, tok.Reveal())
	if err != nil {
		b.Fatal(err)
	}
	who, _ := v.Authenticate(sess.Token.Reveal())
	v.OpenCase(ctx, who, "B", "bench")
	srv := httptest.NewServer(New(v, slog.New(slog.DiscardHandler), Options{}))
	defer srv.Close()
	const size = 256 << 20
	b.SetBytes(size)
	for b.Loop() {
		body := &trailerBody{r: &zeros{left: size}, h: sha256.New()}
		req, _ := http.NewRequest("POST", srv.URL+"/v1/cases/B/items?name=x", body)
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
		req.ContentLength = -1
		req.Trailer = http.Header{HeaderContentSHA256: nil}
		body.tr = req.Trailer
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			b.Fatal(err, resp.StatusCode)
		}
		resp.Body.Close()
	}
}
