package s3_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/custos-vault/custos/internal/secret"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/objtest"
	"github.com/custos-vault/custos/objects/s3"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedMinIO()
	os.Exit(code)
}

func newBucket() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// open returns a Store on a fresh bucket of srv.
func open(t testing.TB, srv *testenv.MinIO) (*s3.Store, s3.Config) {
	t.Helper()
	cfg := s3.Config{Endpoint: srv.Endpoint(), Bucket: newBucket(), AccessKey: srv.AccessKey(), SecretKey: secret.New(srv.SecretKey())}
	s, err := s3.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, cfg
}

// rootClient is a plain minio-go client with the server's root
// credentials: the storage administrator the WORM promise is about.
func rootClient(t testing.TB, srv *testenv.MinIO) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Endpoint(), &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey(), srv.SecretKey(), "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	srv := testenv.SharedMinIO(t)
	objtest.Run(t, func(t *testing.T) objects.Store {
		s, _ := open(t, srv)
		return s
	})
}
