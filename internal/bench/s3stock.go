package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DepositS3StockTools is DepositStockTools with MinIO for the disk
// (issue #18, section 3): the throughput of `custos deposit` of a file of
// size bytes to a development server whose store is a real MinIO (object
// lock, the whole client process timed), over that of the stock-tools
// pipeline (stockPipeline) whose last step uploads the ciphertext with
// MinIO's own client, `mc pipe`, to a bucket of the same MinIO. Each is
// the median of rounds runs, in the same run.
func DepositS3StockTools(custos, dir string, size int64, rounds int) ([]Metric, error) {
	mc := filepath.Join(testenv.ToolsDir(), "mc")
	if _, err := os.Stat(mc); err != nil {
		return nil, fmt.Errorf("MinIO's client is not installed (make bench installs it): %w", err)
	}
	m, mdir, stop, err := launchMinIO(dir)
	if err != nil {
		return nil, err
	}
	defer stop()
	cl, err := minio.New(m.Endpoint(), &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey(), m.SecretKey(), "")})
	if err != nil {
		return nil, err
	}
	if err := cl.MakeBucket(context.Background(), "stock", minio.MakeBucketOptions{}); err != nil {
		return nil, err
	}

	file := filepath.Join(dir, "stock-s3-in.bin")
	if err := writeSource(file, size); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	// mc reads the server and its keys from MC_HOST_<alias>, and keeps
	// its configuration in a folder of its own.
	host := url.URL{Scheme: "http", User: url.UserPassword(m.AccessKey(), m.SecretKey()), Host: m.Endpoint()}
	env := []string{"MC_HOST_bench=" + host.String(), "MC_CONFIG_DIR=" + filepath.Join(mdir, "mc")}
	// Each round uploads over the last one's object (the bucket has no
	// object lock).
	script := stockPipeline(file, id.Recipient().String(), fmt.Sprintf("| %q --quiet pipe bench/stock/upload >/dev/null", mc))
	pm, err := runPipeline(script, rounds, func() {}, env)
	if err != nil {
		return nil, err
	}
	// The pipeline did upload the ciphertext (larger than the plaintext).
	if info, err := cl.StatObject(context.Background(), "stock", "upload", minio.StatObjectOptions{}); err != nil || info.Size <= size {
		return nil, fmt.Errorf("the stock-tools pipeline's upload: %d bytes, %v", info.Size, err)
	}

	srv, err := s3Server(custos, dir, m, "evidence")
	if err != nil {
		return nil, err
	}
	dm, _, err := cliDeposits(custos, srv, file, size, rounds)
	if err != nil {
		return nil, err
	}
	mb := float64(size) / 1e6
	return []Metric{
		{"deposit_s3_stock_pipeline_mb_per_s", mb / pm.Seconds(), "MB/s"},
		{"deposit_s3_cli_mb_per_s", mb / dm.Seconds(), "MB/s"},
		{"deposit_s3_vs_mc_ratio", pm.Seconds() / dm.Seconds(), "ratio"},
	}, nil
}
