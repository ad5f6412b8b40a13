package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestCaseRetentionAndLegalHoldOnMinIO: a case's own retention becomes the
// COMPLIANCE retention date of its objects in MinIO, and a legal hold on
// the case becomes an S3 legal hold on every one of them (also on objects
// deposited while it is held), checked with MinIO's own API.
func TestCaseRetentionAndLegalHoldOnMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := minioServer(t, m, "evidence")
	work := t.TempDir()
	a, _, _ := evidence(t, work, "a.bin", 50_000)
	b, _, _ := evidence(t, work, "b.bin", 60_000)
	s.ok("investigator", work, "case", "open", "HOLD-1", "--title", "held", "--retention", "2h", "--yes")
	s.refused("investigator", work, "retention", "case", "open", "HOLD-2", "--title", "x", "--retention", "soon")
	s.ok("investigator", work, "deposit", "--case", "HOLD-1", a)

	cl, err := minio.New(m.Endpoint(), &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey(), m.SecretKey(), "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	objectsOf := func() []string {
		var out []string
		for oi := range cl.ListObjects(ctx, "evidence", minio.ListObjectsOptions{Prefix: "ev/", Recursive: true}) {
			out = append(out, oi.Key)
		}
		return out
	}
	objs := objectsOf()
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	mode, until, err := cl.GetObjectRetention(ctx, "evidence", objs[0], "")
	if err != nil || mode == nil || *mode != minio.Compliance {
		t.Fatalf("retention of %s: %v %v", objs[0], mode, err)
	}
	if d := time.Until(*until); d < 110*time.Minute || d > 125*time.Minute {
		t.Fatalf("the case's 2h retention became %s", d)
	}

	s.refused("investigator", work, "only custodians", "case", "hold", "HOLD-1", "--reason", "x")
	s.ok("custodian", work, "case", "hold", "HOLD-1", "--reason", "preservation order 2026/77")
	s.ok("investigator", work, "deposit", "--case", "HOLD-1", b)
	objs = objectsOf()
	if len(objs) != 2 {
		t.Fatalf("%d objects", len(objs))
	}
	status := func(o string) minio.LegalHoldStatus {
		st, err := cl.GetObjectLegalHold(ctx, "evidence", o, minio.GetObjectLegalHoldOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return *st
	}
	for _, o := range objs {
		if status(o) != minio.LegalHoldEnabled {
			t.Fatalf("%s is not under legal hold", o)
		}
	}
	s.ok("custodian", work, "case", "release", "HOLD-1", "--reason", "order lifted")
	for _, o := range objs {
		if status(o) != minio.LegalHoldDisabled {
			t.Fatalf("%s is still under legal hold", o)
		}
	}
	tl := s.ok("auditor", work, "audit", "log", "--case", "HOLD-1", "--json").stdout
	for _, want := range []string{`"type":"case.hold.placed"`, `"preservation order 2026/77"`, `"type":"case.hold.lifted"`, `"retention":"2h0m0s"`} {
		if !strings.Contains(tl, want) {
			t.Fatalf("custody log lacks %s", want)
		}
	}
}
