package s3_test

import (
	"context"
	"crypto/sha256"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/objtest"
)

// TestStreamingPutMemory streams 200 MiB and samples the heap meanwhile:
// it must stay far below what minio-go's default part buffer for an
// upload of unknown size (about 528 MiB) would take.
func TestStreamingPutMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 200 MiB")
	}
	const size = 200 << 20
	const bound = 100 << 20
	ctx := context.Background()
	srv := testenv.SharedMinIO(t)
	s, _ := open(t, srv)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	info, err := s.Put(ctx, "ev/big", objtest.Stream(8, size), objects.PutOptions{})
	elapsed := time.Since(start)
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(peak) - int64(base)
	t.Logf("put %d MiB in %v (%.0f MiB/s); heap in use %d MiB before, peak %d MiB (+%d MiB)",
		size>>20, elapsed.Round(time.Millisecond), float64(size>>20)/elapsed.Seconds(), base>>20, peak>>20, grew>>20)
	if grew > bound {
		t.Errorf("heap grew by %d MiB during a streaming put, want < %d MiB", grew>>20, bound>>20)
	}
	if info.Size != size {
		t.Errorf("put reports %d bytes, want %d", info.Size, size)
	}
	rc, err := s.Open(ctx, "ev/big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != objtest.StreamSum(8, size) {
		t.Error("200 MiB object read back differs")
	}
}
