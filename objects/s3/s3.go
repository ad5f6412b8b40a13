// Package s3 is the object store for MinIO or any S3 service with object
// lock: the production backend, where not even the storage administrator
// can delete or overwrite evidence before its retention ends.
//
// The bucket must have object lock (it can only be enabled when a bucket
// is created): New creates the bucket with it, and refuses an existing
// bucket without it. Each object is written in COMPLIANCE retention until
// its PutOptions.RetainUntil; legal holds are S3 legal holds.
//
// Put streams in parts of PartSize bytes (one part buffer per Put), sends
// each part's SHA-256 so the server verifies it, and commits with
// If-None-Match: * so that even a concurrent writer cannot replace an
// object. The checksum S3 keeps for a multipart object is a checksum of
// the parts' checksums, not the SHA-256 of the object: the vault hashes
// whole objects itself.
package s3

import (
	"context"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/secret"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/custos-vault/custos/objects"
)

// DefaultPartSize bounds the memory of a Put. minio-go's own default for
// an upload of unknown size is a part buffer of about 528 MiB.
const DefaultPartSize = 16 << 20

// Config says where the bucket is.
type Config struct {
	// Endpoint is HOST:PORT.
	Endpoint string
	Bucket   string
	// Secure selects HTTPS.
	Secure bool
	// AccessKey and SecretKey default to AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY.
	AccessKey string
	SecretKey secret.String
	// DefaultRetention, if set, is the retention of objects put without
	// PutOptions.RetainUntil.
	DefaultRetention time.Duration
	// PartSize is the size of each uploaded part, and so the memory a Put
	// holds; default DefaultPartSize, at least 5 MiB (the S3 minimum).
	PartSize int64
}

// Store is the S3 object store.
type Store struct {
	core      *minio.Core
	bucket    string
	host      string
	partSize  int64
	retention time.Duration
	// uploading holds the ids of the multipart uploads Put is making,
	// and starting the names of those it is starting (no id yet), which
	// ListForeign does not list.
	uploading, starting sync.Map
}

var _ objects.Store = (*Store)(nil)

// New connects to the bucket, creating it with object lock if it does not
// exist, and refuses a bucket without object lock: in it, evidence could
// be deleted or overwritten by whoever holds the storage credentials.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("s3 objects: no endpoint")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("s3 objects: bucket %q: %w", cfg.Bucket, err)
	}
	if cfg.AccessKey == "" || cfg.SecretKey.Empty() {
		return nil, errors.New("s3 objects: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < 5<<20 || cfg.PartSize > 5<<30 {
		return nil, fmt.Errorf("s3 objects: part size %d outside 5 MiB to 5 GiB", cfg.PartSize)
	}
	core, err := minio.NewCore(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey.Reveal(), ""),
		Secure: cfg.Secure,
		// Needed for checksums on uploads.
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 objects: %w", err)
	}
	s := &Store{core: core, bucket: cfg.Bucket, host: cfg.Endpoint, partSize: cfg.PartSize, retention: cfg.DefaultRetention}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context) error {
	ok, err := s.core.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.fail(ctx, "checking bucket", s.bucket, err)
	}
	if !ok {
		err := s.core.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{ObjectLocking: true})
		if err != nil && errCode(err) != "BucketAlreadyOwnedByYou" {
			return s.fail(ctx, "creating bucket", s.bucket, err)
		}
	}
	lock, _, _, _, err := s.core.GetObjectLockConfig(ctx, s.bucket)
	if errCode(err) == "ObjectLockConfigurationNotFoundError" || err == nil && lock != "Enabled" {
		return fmt.Errorf("s3 objects: bucket %q has no object lock, so stored evidence could be deleted or overwritten; "+
			"object lock can only be enabled when a bucket is created: use a new bucket", s.bucket)
	}
	if err != nil {
		return s.fail(ctx, "reading object lock of bucket", s.bucket, err)
	}
	return nil
}

// Close implements objects.Store.
func (s *Store) Close() error { return nil }
