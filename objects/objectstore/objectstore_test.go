package objectstore

import (
	"bytes"
	"context"
	"errors"
	"github.com/custos-vault/custos/internal/secret"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want spec
		err  string // substring of the error; "" for success
	}{
		{url: "fs:/var/lib/custos/objects", want: spec{dir: "/var/lib/custos/objects"}},
		{url: "fs:relative/dir", want: spec{dir: "relative/dir"}},
		{url: "s3://minio.example.org:9000/evidence", want: spec{endpoint: "minio.example.org:9000", bucket: "evidence", secure: true}},
		{url: "s3://10.0.0.5:443/ev", want: spec{endpoint: "10.0.0.5:443", bucket: "ev", secure: true}},
		{url: "s3+http://127.0.0.1:9000/evidence", want: spec{endpoint: "127.0.0.1:9000", bucket: "evidence"}},
		{url: "s3+http://127.8.9.10:9000/evidence", want: spec{endpoint: "127.8.9.10:9000", bucket: "evidence"}},
		{url: "s3+http://localhost:9000/evidence", want: spec{endpoint: "localhost:9000", bucket: "evidence"}},
		{url: "s3+http://[::1]:9000/evidence", want: spec{endpoint: "[::1]:9000", bucket: "evidence"}},
		{url: "s3+http://minio.example.org:9000/evidence", err: "only allowed to a loopback host"},
		{url: "s3+http://10.0.0.5:9000/evidence", err: "only allowed to a loopback host"},
		{url: "s3+http://128.0.0.1:9000/evidence", err: "only allowed to a loopback host"},
		{url: "s3+http://localhost.example.org:9000/evidence", err: "only allowed to a loopback host"},
		{url: "s3+http://[::2]:9000/evidence", err: "only allowed to a loopback host"},
		{url: "s3+http://0.0.0.0:9000/evidence", err: "only allowed to a loopback host"},
		{url: "fs:", err: "no folder"},
		{url: "", err: "no scheme"},
		{url: "/var/lib/objects", err: "no scheme"},
		{url: "file:///tmp/x", err: "unknown scheme"},
		{url: "http://127.0.0.1:9000/b", err: "unknown scheme"},
		{url: "s3:bucket", err: "no host"},
		{url: "s3://minio.example.org/evidence", err: "HOST:PORT"},
		{url: "s3://:9000/evidence", err: "HOST:PORT"},
		{url: "s3://minio.example.org:9000", err: "one bucket"},
		{url: "s3://minio.example.org:9000/", err: "one bucket"},
		{url: "s3://minio.example.org:9000/a/b", err: "one bucket"},
		{url: "s3://key:secret@minio.example.org:9000/b", err: "credentials do not belong"},
		{url: "s3://minio.example.org:9000/b?region=x", err: "query"},
		{url: "s3://minio.example.org:9000/b%zz", err: "not a URL"},
	} {
		got, err := parse(tc.url)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("parse(%q) = %+v, %v; want %+v", tc.url, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parse(%q): got %+v, %v; want error with %q", tc.url, got, err, tc.err)
			continue
		}
		if !strings.Contains(err.Error(), Forms) {
			t.Errorf("parse(%q): error does not list the accepted forms: %v", tc.url, err)
		}
	}
}

func roundTrip(t *testing.T, s objects.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Put(ctx, "ev/one", bytes.NewReader([]byte("hello")), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(ctx, "ev/one")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "hello" {
		t.Fatalf("read %q", b)
	}
	if _, err := s.Put(ctx, "ev/one", bytes.NewReader(nil), objects.PutOptions{}); !errors.Is(err, objects.ErrExists) {
		t.Fatalf("overwrite: %v", err)
	}
}

func TestOpenFS(t *testing.T) {
	s, err := Open(context.Background(), "fs:"+t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roundTrip(t, s)
}

func TestOpenMinIO(t *testing.T) {
	srv := testenv.StartMinIO(t)
	creds := Options{AccessKey: srv.AccessKey(), SecretKey: secret.New(srv.SecretKey())}
	s, err := Open(context.Background(), srv.URL("evidence"), creds)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roundTrip(t, s)

	// TLS to a plain HTTP server fails clearly instead of falling back.
	_, err = Open(context.Background(), "s3://"+srv.Endpoint()+"/evidence", creds)
	if err == nil || !strings.Contains(err.Error(), "object store unreachable at "+srv.Endpoint()) {
		t.Fatalf("s3:// to a plain HTTP server: got %v", err)
	}
}

// A store that fails to open is a nil interface (see TestFailedOpenGivesNoStore
// in events/logstore).
func TestFailedOpenGivesNoStore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), "fs:"+file, Options{})
	if err == nil || s != nil {
		t.Fatalf("Open of a folder that is a file: %#v, %v; want no store and an error", s, err)
	}
}
