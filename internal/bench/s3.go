package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DepositS3 measures a deposit of size bytes through the vault into a real
// MinIO (object lock, 16 MiB parts, SHA-256 per part) against a plain
// minio-go upload of the same number of bytes to the same MinIO, and the
// server's peak RSS during the deposit.
func DepositS3(custos, dir string, size int64) ([]Metric, error) {
	m, _, stop, err := launchMinIO(dir)
	if err != nil {
		return nil, err
	}
	defer stop()

	// The baseline: a plain upload, as any S3 client would do it.
	ctx := context.Background()
	cl, err := minio.New(m.Endpoint(), &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey(), m.SecretKey(), "")})
	if err != nil {
		return nil, err
	}
	if err := cl.MakeBucket(ctx, "plain", minio.MakeBucketOptions{}); err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := cl.PutObject(ctx, "plain", "baseline", newSource(size), size, minio.PutObjectOptions{PartSize: 16 << 20}); err != nil {
		return nil, err
	}
	plain := float64(size) / time.Since(start).Seconds()
	cl.RemoveObject(ctx, "plain", "baseline", minio.RemoveObjectOptions{})

	s, err := s3Server(custos, dir, m, "evidence")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	if err := s.call("POST", "/v1/cases", map[string]string{"case": "S3", "title": "s3"}); err != nil {
		return nil, err
	}
	tput, err := s.deposit("S3", size)
	if err != nil {
		return nil, err
	}
	rss, err := s.peakRSS()
	if err != nil {
		return nil, err
	}
	os.RemoveAll(s.data)
	// The same on a server that skips MD5 and SHA-1.
	lean, err := s3Server(custos, dir, m, "evidence2", "--no-legacy-hashes")
	if err != nil {
		return nil, err
	}
	defer lean.stop()
	if err := lean.call("POST", "/v1/cases", map[string]string{"case": "S3", "title": "s3"}); err != nil {
		return nil, err
	}
	leanTput, err := lean.deposit("S3", size)
	if err != nil {
		return nil, err
	}
	os.RemoveAll(lean.data)
	return []Metric{
		{"deposit_s3_sha256_only_mb_per_s", leanTput / 1e6, "MB/s"},
		{"deposit_s3_ratio_sha256_only", leanTput / plain, "ratio"},
		{"deposit_s3_plain_upload_mb_per_s", plain / 1e6, "MB/s"},
		{"deposit_s3_mb_per_s", tput / 1e6, "MB/s"},
		{"deposit_s3_ratio", tput / plain, "ratio"},
		{"deposit_s3_peak_rss_mib", rss, "MiB"},
	}, nil
}

// launchMinIO starts a MinIO of its own for a group, in a new folder
// under dir, and returns it, its folder, and a function that stops it and
// removes the folder.
func launchMinIO(dir string) (*testenv.MinIO, string, func(), error) {
	bin := filepath.Join(testenv.ToolsDir(), "minio")
	if _, err := os.Stat(bin); err != nil {
		return nil, "", nil, fmt.Errorf("MinIO is not installed (make tools): %w", err)
	}
	mdir, err := os.MkdirTemp(dir, "minio-")
	if err != nil {
		return nil, "", nil, err
	}
	m, err := testenv.LaunchMinIO(bin, mdir)
	if err != nil {
		os.RemoveAll(mdir)
		return nil, "", nil, err
	}
	return m, mdir, func() { m.Stop(); os.RemoveAll(mdir) }, nil
}

// s3Server starts a development server whose store is bucket of m.
func s3Server(custos, dir string, m *testenv.MinIO, bucket string, extra ...string) (*devServer, error) {
	return startServer(custos, dir, append([]string{"--objects", m.URL(bucket), "--retention", "1m", "--pending-retention", "1m"}, extra...),
		[]string{"AWS_ACCESS_KEY_ID=" + m.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + m.SecretKey()})
}
