package s3_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/custos-vault/custos/internal/secret"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/s3"
)

// TestWORMAgainstRoot proves the promise of the s3 backend with MinIO's
// own root credentials: the storage administrator cannot delete the
// version Put wrote, nor shorten its retention, and an overwrite neither
// changes its bytes nor what the Store returns.
func TestWORMAgainstRoot(t *testing.T) {
	ctx := context.Background()
	srv := testenv.SharedMinIO(t)
	s, cfg := open(t, srv)
	root := rootClient(t, srv)
	until := time.Now().Add(8 * time.Second) // the refusals below must all come before it, on a loaded machine too
	if _, err := s.Put(ctx, "ev/locked", bytes.NewReader([]byte("evidence")), objects.PutOptions{RetainUntil: until}); err != nil {
		t.Fatal(err)
	}
	oi, err := root.StatObject(ctx, cfg.Bucket, "ev/locked", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vid := oi.VersionID
	if vid == "" || oi.Metadata.Get("X-Amz-Object-Lock-Mode") != "COMPLIANCE" {
		t.Fatalf("object not written in COMPLIANCE mode: version %q, headers %v", vid, oi.Metadata)
	}

	for _, opts := range []minio.RemoveObjectOptions{
		{VersionID: vid},
		{VersionID: vid, GovernanceBypass: true},
	} {
		if err := root.RemoveObject(ctx, cfg.Bucket, "ev/locked", opts); err == nil {
			t.Fatalf("root deleted the locked version with %+v", opts)
		}
	}
	earlier := time.Now().Add(time.Second)
	compliance := minio.Compliance
	if err := root.PutObjectRetention(ctx, cfg.Bucket, "ev/locked", minio.PutObjectRetentionOptions{
		VersionID: vid, Mode: &compliance, RetainUntilDate: &earlier,
	}); err == nil {
		t.Fatal("root shortened COMPLIANCE retention")
	}
	governance := minio.Governance
	if err := root.PutObjectRetention(ctx, cfg.Bucket, "ev/locked", minio.PutObjectRetentionOptions{
		VersionID: vid, Mode: &governance, RetainUntilDate: &until, GovernanceBypass: true,
	}); err == nil {
		t.Fatal("root weakened COMPLIANCE to GOVERNANCE")
	}

	// An overwrite and a delete marker by root are new versions on top.
	if _, err := root.PutObject(ctx, cfg.Bucket, "ev/locked", strings.NewReader("tampered"), 8, minio.PutObjectOptions{}); err != nil {
		t.Logf("root overwrite refused: %v", err)
	}
	if err := root.RemoveObject(ctx, cfg.Bucket, "ev/locked", minio.RemoveObjectOptions{}); err != nil {
		t.Logf("root delete marker refused: %v", err)
	}
	obj, err := root.GetObject(ctx, cfg.Bucket, "ev/locked", minio.GetObjectOptions{VersionID: vid})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(obj)
	if err != nil || string(b) != "evidence" {
		t.Fatalf("locked version now holds %q (%v)", b, err)
	}
	if got := readAll(t, s, "ev/locked"); got != "evidence" {
		t.Fatalf("store returns %q after root overwrite", got)
	}
	if err := s.Delete(ctx, "ev/locked"); !errors.Is(err, objects.ErrLocked) {
		t.Fatalf("store delete: got %v, want ErrLocked", err)
	}
	if got := readAll(t, s, "ev/locked"); got != "evidence" {
		t.Fatalf("store returns %q after refused delete", got)
	}

	time.Sleep(time.Until(until) + 1500*time.Millisecond)
	if err := s.Delete(ctx, "ev/locked"); err != nil {
		t.Fatalf("delete after retention: %v", err)
	}
	if _, err := s.Stat(ctx, "ev/locked"); !errors.Is(err, objects.ErrNotFound) {
		t.Fatalf("stat after delete: %v", err)
	}
}

func readAll(t *testing.T, s objects.Store, name string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLegalHoldIsS3LegalHold checks that SetLegalHold is the S3 legal
// hold, which the administrator sees and which outlives retention.
func TestLegalHoldIsS3LegalHold(t *testing.T) {
	ctx := context.Background()
	srv := testenv.SharedMinIO(t)
	s, cfg := open(t, srv)
	root := rootClient(t, srv)
	if _, err := s.Put(ctx, "ev/held", bytes.NewReader([]byte("x")), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	hold := func() minio.LegalHoldStatus {
		t.Helper()
		st, err := root.GetObjectLegalHold(ctx, cfg.Bucket, "ev/held", minio.GetObjectLegalHoldOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return *st
	}
	if err := s.SetLegalHold(ctx, "ev/held", true); err != nil {
		t.Fatal(err)
	}
	if h := hold(); h != minio.LegalHoldEnabled {
		t.Fatalf("legal hold %q after SetLegalHold(true)", h)
	}
	oi, _ := root.StatObject(ctx, cfg.Bucket, "ev/held", minio.StatObjectOptions{})
	if err := root.RemoveObject(ctx, cfg.Bucket, "ev/held", minio.RemoveObjectOptions{VersionID: oi.VersionID, GovernanceBypass: true}); err == nil {
		t.Fatal("root deleted a held version")
	}
	if err := s.SetLegalHold(ctx, "ev/held", false); err != nil {
		t.Fatal(err)
	}
	if h := hold(); h != minio.LegalHoldDisabled {
		t.Fatalf("legal hold %q after SetLegalHold(false)", h)
	}
	if err := s.Delete(ctx, "ev/held"); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesBucketWithoutObjectLock: in such a bucket evidence could be
// deleted by whoever holds the credentials, so New must not accept it.
func TestRefusesBucketWithoutObjectLock(t *testing.T) {
	ctx := context.Background()
	srv := testenv.SharedMinIO(t)
	root := rootClient(t, srv)
	for _, versioned := range []bool{false, true} {
		bucket := newBucket()
		if err := root.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		if versioned {
			if err := root.EnableVersioning(ctx, bucket); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s3.New(ctx, s3.Config{Endpoint: srv.Endpoint(), Bucket: bucket, AccessKey: srv.AccessKey(), SecretKey: secret.New(srv.SecretKey())})
		if err == nil || !strings.Contains(err.Error(), "no object lock") {
			t.Fatalf("bucket without object lock (versioned %v): got %v, want a refusal naming object lock", versioned, err)
		}
	}
}

// TestNewCreatesLockedBucket checks the bucket New creates, and that a
// second New on it (a restart) accepts it.
func TestNewCreatesLockedBucket(t *testing.T) {
	ctx := context.Background()
	srv := testenv.SharedMinIO(t)
	_, cfg := open(t, srv)
	lock, _, _, _, err := rootClient(t, srv).GetObjectLockConfig(ctx, cfg.Bucket)
	if err != nil || lock != "Enabled" {
		t.Fatalf("object lock %q, %v", lock, err)
	}
	if _, err := s3.New(ctx, cfg); err != nil {
		t.Fatalf("reopening: %v", err)
	}
}

func TestBadConfig(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	for _, tc := range []struct {
		cfg  s3.Config
		want string
	}{
		{s3.Config{Bucket: "b12"}, "no endpoint"},
		{s3.Config{Endpoint: "127.0.0.1:1", Bucket: "B"}, "bucket"},
		{s3.Config{Endpoint: "127.0.0.1:1", Bucket: "ok-bucket"}, "AWS_ACCESS_KEY_ID"},
		{s3.Config{Endpoint: "127.0.0.1:1", Bucket: "ok-bucket", AccessKey: "a", SecretKey: secret.New("b"), PartSize: 1 << 20}, "part size"},
		{s3.Config{Endpoint: "127.0.0.1:1", Bucket: "ok-bucket", AccessKey: "a", SecretKey: secret.New("b")}, "object store unreachable at 127.0.0.1:1"},
	} {
		_, err := s3.New(ctx, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): got %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestWrongCredentials(t *testing.T) {
	srv := testenv.SharedMinIO(t)
	_, err := s3.New(context.Background(), s3.Config{Endpoint: srv.Endpoint(), Bucket: newBucket(), AccessKey: srv.AccessKey(), SecretKey: secret.New("wrong-secret")})
	if err == nil || !strings.Contains(err.Error(), "credentials refused") {
		t.Fatalf("got %v, want credentials refused", err)
	}
}

// TestForeignKeysAndVersionsAreListed: what someone with the bucket's
// write credentials puts beside the vault's objects (keys no object can
// have, newer versions over an object, a key of delete markers only) is
// out of List's sight, and ListForeign names exactly those; a delete
// marker over an object is not listed.
func TestForeignKeysAndVersionsAreListed(t *testing.T) {
	ctx := context.Background()
	srv := testenv.SharedMinIO(t)
	s, cfg := open(t, srv)
	root := rootClient(t, srv)
	for _, name := range []string{"ev/a", "ev/b"} {
		if _, err := s.Put(ctx, name, strings.NewReader(name), objects.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	over, err := root.PutObject(ctx, cfg.Bucket, "ev/a", strings.NewReader("hidden in a version"), 19, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"UPPER/x", "ev/a.b", "deep/er/key"} {
		if _, err := root.PutObject(ctx, cfg.Bucket, key, strings.NewReader("hidden"), 6, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.RemoveObject(ctx, cfg.Bucket, "ev/b", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// A key of delete markers only: its name carries the bytes (an
	// object put, hidden by a marker, its version then removed).
	hidden, err := root.PutObject(ctx, cfg.Bucket, "ev/hidden-in-a-name", strings.NewReader("x"), 1, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.RemoveObject(ctx, cfg.Bucket, "ev/hidden-in-a-name", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := root.RemoveObject(ctx, cfg.Bucket, "ev/hidden-in-a-name", minio.RemoveObjectOptions{VersionID: hidden.VersionID}); err != nil {
		t.Fatal(err)
	}
	// Tags on the vault's own version of an object: allowed under its
	// retention, and up to 384 bytes each beside it.
	// ev/d is written in parts: what the store's own multipart upload
	// leaves is not listed.
	for name, size := range map[string]int{"ev/c": 4, "ev/d": s3.DefaultPartSize + 1} {
		if _, err := s.Put(ctx, name, bytes.NewReader(make([]byte, size)), objects.PutOptions{RetainUntil: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := tags.NewTags(map[string]string{"note": strings.Repeat("hidden bytes ", 19), "more": "x"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := root.PutObjectTagging(ctx, cfg.Bucket, "ev/c", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	// An unfinished upload of someone else's, its part holding bytes.
	core := &minio.Core{Client: root}
	upload, err := core.NewMultipartUpload(ctx, cfg.Bucket, "ev/parts", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutObjectPart(ctx, cfg.Bucket, "ev/parts", upload, 1, strings.NewReader("hidden in a part"), 16, minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	// And one the store is making: not listed. Its reader gives one
	// part, then waits.
	release := make(chan struct{})
	written := make(chan error, 1)
	go func() {
		r := io.MultiReader(bytes.NewReader(make([]byte, s3.DefaultPartSize)), blockingReader(release))
		_, err := s.Put(ctx, "ev/underway", r, objects.PutOptions{})
		written <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := 0
		for u := range root.ListIncompleteUploads(ctx, cfg.Bucket, "ev/underway", true) {
			if u.Err == nil {
				n++
			}
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the store's upload under way did not start")
		}
	}
	got := map[string]string{}
	err = s.ListForeign(ctx, func(entry, why string) error { got[entry] = why; return nil })
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ev/parts (unfinished upload " + upload + ")": "an unfinished multipart upload this server is not making: a deposit cut short by a crash leaves one until the server expires it (MinIO: after a day); anything else, someone with the bucket's credentials started",
		"ev/c":                                  `tags or metadata the store never writes: "more", "note"`,
		"UPPER/x":                               "a name no object can have",
		"ev/a.b":                                "a name no object can have",
		"deep/er/key":                           "a name no object can have",
		"ev/a (version " + over.VersionID + ")": "a version written over an object: the store never writes one",
		"ev/hidden-in-a-name":                   "a key of delete markers only: the store's Delete leaves none",
	}
	if len(got) != len(want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

// blockingReader gives nothing until release is closed, then EOF.
type blockingReader chan struct{}

func (b blockingReader) Read([]byte) (int, error) {
	<-b
	return 0, io.EOF
}
