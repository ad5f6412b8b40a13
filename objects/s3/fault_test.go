package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/objtest"
)

// stopAt reads r and calls stop once when at bytes have gone by.
type stopAt struct {
	r    io.Reader
	n    int64
	at   int64
	stop func()
}

func (s *stopAt) Read(p []byte) (int, error) {
	if s.stop != nil && s.n >= s.at {
		s.stop()
		s.stop = nil
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	return n, err
}

// TestServerGoesAway stops MinIO in the middle of an upload: Put must
// fail with an error naming the unreachable store, a down store must
// never look like a missing object, and once MinIO is back the same
// Store works without being reopened and holds no trace of the upload.
func TestServerGoesAway(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartMinIO(t)
	s, cfg := open(t, srv)
	if _, err := s.Put(ctx, "ev/before", bytes.NewReader([]byte("kept")), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	r := &stopAt{r: objtest.Stream(1, 100<<20), at: 40 << 20, stop: srv.Stop}
	start := time.Now()
	_, err := s.Put(ctx, "ev/cut", r, objects.PutOptions{})
	t.Logf("put failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	want := "object store unreachable at " + srv.Endpoint()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("put while the server stops: got %v, want %q", err, want)
	}

	// Down is not missing.
	if _, err := s.Stat(ctx, "ev/before"); err == nil || errors.Is(err, objects.ErrNotFound) || !strings.Contains(err.Error(), want) {
		t.Fatalf("stat while down: got %v, want unreachable", err)
	}
	if err := s.Delete(ctx, "ev/before"); err == nil || errors.Is(err, objects.ErrNotFound) {
		t.Fatalf("delete while down: got %v", err)
	}
	if err := s.List(ctx, "", func(objects.Info) error { return nil }); err == nil {
		t.Fatal("list while down succeeded")
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "ev/cut"); !errors.Is(err, objects.ErrNotFound) {
		t.Fatalf("stat of the cut upload after restart: got %v, want ErrNotFound", err)
	}
	var names []string
	if err := s.List(ctx, "", func(i objects.Info) error { names = append(names, i.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "ev/before" {
		t.Fatalf("after restart the store lists %v, want only ev/before", names)
	}
	n := 0
	for u := range rootClient(t, srv).ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
		if u.Err == nil {
			n++
		}
	}
	t.Logf("incomplete uploads left on the server (the abort could not reach it): %d", n)

	if _, err := s.Put(ctx, "ev/cut", objtest.Stream(2, objtest.Big), objects.PutOptions{}); err != nil {
		t.Fatalf("put after restart: %v", err)
	}
	if got := readAll(t, s, "ev/before"); got != "kept" {
		t.Fatalf("ev/before holds %q after restart", got)
	}
}

// TestCallsWhileDown: every call on a store that has gone away fails
// with the unreachable error, not ErrNotFound.
func TestCallsWhileDown(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartMinIO(t)
	s, _ := open(t, srv)
	srv.Stop()
	want := "object store unreachable at " + srv.Endpoint()
	_, err := s.Open(ctx, "ev/x")
	errs := map[string]error{"open": err}
	_, errs["put"] = s.Put(ctx, "ev/x", bytes.NewReader([]byte("x")), objects.PutOptions{})
	errs["hold"] = s.SetLegalHold(ctx, "ev/x", true)
	for op, err := range errs {
		if err == nil || errors.Is(err, objects.ErrNotFound) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s while down: got %v, want %q", op, err, want)
		}
	}
}
