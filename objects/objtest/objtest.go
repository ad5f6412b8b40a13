// Package objtest is the conformance suite every objects.Store backend
// passes: the write-once promises the vault relies on, checked against the
// real store (a folder, a real MinIO), including the failure cases.
package objtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/custos-vault/custos/objects"
)

// Big is the size of the large objects the suite streams: more than two
// 16 MiB parts, so S3 backends go through a multipart upload.
const Big = 40 << 20

// Run runs the suite. open returns a store for one subtest; stores may
// share their backing folder or bucket, since every subtest uses names
// of its own.
func Run(t *testing.T, open func(t *testing.T) objects.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, objects.Store, string)
	}{
		{"RoundTrip", testRoundTrip},
		{"NeverOverwrites", testNeverOverwrites},
		{"RaceKeepsFirst", testRaceKeepsFirst},
		{"FailingReaderLeavesNothing", testFailingReader},
		{"CancelLeavesNothing", testCancel},
		{"StatAndList", testStatAndList},
		{"InvalidNames", testInvalidNames},
		{"Missing", testMissing},
		{"RetentionAndLegalHold", testRetentionAndHold},
		{"ExtendRetention", testExtendRetention},
		{"LockReadBack", testLockReadBack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s, kind())
		})
	}
}

// kind returns a fresh name prefix, so subtests sharing a bucket never
// see each other's objects.
func kind() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func put(t *testing.T, s objects.Store, name string, r io.Reader, opts objects.PutOptions) objects.Info {
	t.Helper()
	info, err := s.Put(context.Background(), name, r, opts)
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return info
}

func sumOf(t *testing.T, s objects.Store, name string) ([32]byte, int64) {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, n
}

func read(t *testing.T, s objects.Store, name string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// absent checks that name is not an object: Stat says ErrNotFound and
// List does not show it.
func absent(t *testing.T, s objects.Store, name string) {
	t.Helper()
	if _, err := s.Stat(context.Background(), name); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("stat %s: got %v, want ErrNotFound", name, err)
	}
	for _, n := range list(t, s, "") {
		if n.Name == name {
			t.Errorf("list shows %s", name)
		}
	}
}

func list(t *testing.T, s objects.Store, prefix string) []objects.Info {
	t.Helper()
	var got []objects.Info
	if err := s.List(context.Background(), prefix, func(i objects.Info) error {
		got = append(got, i)
		return nil
	}); err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	return got
}

func testRoundTrip(t *testing.T, s objects.Store, k string) {
	for _, tc := range []struct {
		name string
		size int64
	}{{"empty", 0}, {"small", 13}, {"big", Big}} {
		name := k + "/" + tc.name
		info := put(t, s, name, Stream(7, tc.size), objects.PutOptions{})
		if info.Name != name || info.Size != tc.size {
			t.Errorf("put %s: info %+v, want size %d", name, info, tc.size)
		}
		st, err := s.Stat(context.Background(), name)
		if err != nil || st.Size != tc.size || st.Name != name {
			t.Errorf("stat %s: %+v, %v", name, st, err)
		}
		sum, n := sumOf(t, s, name)
		if n != tc.size || sum != StreamSum(7, tc.size) {
			t.Errorf("%s: read %d bytes, sum %x; want %d bytes of the stream", name, n, sum, tc.size)
		}
	}
}

func testNeverOverwrites(t *testing.T, s objects.Store, k string) {
	name := k + "/x"
	put(t, s, name, bytes.NewReader([]byte("first")), objects.PutOptions{})
	for _, r := range []io.Reader{
		bytes.NewReader([]byte("second")),
		bytes.NewReader(nil),
		Stream(3, Big),
	} {
		_, err := s.Put(context.Background(), name, r, objects.PutOptions{})
		if !errors.Is(err, objects.ErrExists) {
			t.Errorf("second put: got %v, want ErrExists", err)
		}
	}
	if got := read(t, s, name); string(got) != "first" {
		t.Errorf("after refused overwrites, object holds %q", got)
	}
}

// testRaceKeepsFirst starts a large Put, lets a small Put of the same name
// finish while the large one is still streaming, then lets the large one
// finish: it must fail with ErrExists and leave the small object, its
// legal hold and its (absent) retention as they were. A store that only
// checks for the name before streaming fails this.
func testRaceKeepsFirst(t *testing.T, s objects.Store, k string) {
	name := k + "/race"
	release := make(chan struct{})
	reached := make(chan struct{})
	slow := &hookReader{r: Stream(5, Big), at: 20 << 20, hook: func() {
		close(reached)
		<-release
	}}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), name, slow,
			objects.PutOptions{RetainUntil: time.Now().Add(time.Hour)})
		errc <- err
	}()
	select {
	case <-reached:
	case err := <-errc:
		t.Fatalf("slow put ended early: %v", err)
	}
	put(t, s, name, bytes.NewReader([]byte("winner")), objects.PutOptions{})
	if err := s.SetLegalHold(context.Background(), name, true); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-errc; !errors.Is(err, objects.ErrExists) {
		t.Fatalf("losing put: got %v, want ErrExists", err)
	}
	if got := read(t, s, name); string(got) != "winner" {
		t.Fatalf("object replaced by the losing put: %d bytes", len(got))
	}
	if err := s.Delete(context.Background(), name); !errors.Is(err, objects.ErrLocked) {
		t.Fatalf("delete under hold: got %v, want ErrLocked", err)
	}
	if err := s.SetLegalHold(context.Background(), name, false); err != nil {
		t.Fatal(err)
	}
	// The loser asked for an hour of retention; the winner had none.
	if err := s.Delete(context.Background(), name); err != nil {
		t.Fatalf("delete after hold lifted: %v (the losing put changed the winner's lock?)", err)
	}
}

var errBoom = errors.New("reader broke")

func testFailingReader(t *testing.T, s objects.Store, k string) {
	// errBoom, and io.ErrUnexpectedEOF: what an HTTP request body cut
	// short by its client returns, and what io.ReadFull also returns
	// for a short last chunk, so that a store reading by io.ReadFull
	// would take a cut-short stream for a whole one.
	for j, fail := range []error{errBoom, io.ErrUnexpectedEOF} {
		for i, size := range []int64{0, 1000, Big / 2} {
			name := k + "/f" + string(rune('a'+i)) + string(rune('0'+j))
			_, err := s.Put(context.Background(), name, failAfter(9, size, fail), objects.PutOptions{})
			if !errors.Is(err, fail) {
				t.Errorf("put with reader failing (%v) after %d bytes: got %v, want the reader's error", fail, size, err)
			}
			absent(t, s, name)
			// Nothing half-written blocks the name.
			put(t, s, name, bytes.NewReader([]byte("ok")), objects.PutOptions{})
		}
	}
}

func testCancel(t *testing.T, s objects.Store, k string) {
	for i, at := range []int64{0, 1 << 20, Big / 2} {
		name := k + "/c" + string(rune('a'+i))
		ctx, cancel := context.WithCancel(context.Background())
		r := &hookReader{r: Stream(4, Big), at: at, hook: cancel}
		_, err := s.Put(ctx, name, r, objects.PutOptions{})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("put cancelled after %d bytes: got %v, want context.Canceled", at, err)
		}
		absent(t, s, name)
	}
}

func testStatAndList(t *testing.T, s objects.Store, k string) {
	other := kind()
	want := map[string]int64{k + "/a1": 1, k + "/a2": 22, k + "/b": 333}
	for n, size := range want {
		put(t, s, n, Stream(1, size), objects.PutOptions{})
	}
	put(t, s, other+"/a1", Stream(1, 5), objects.PutOptions{})

	got := map[string]int64{}
	for _, i := range list(t, s, k+"/") {
		if _, dup := got[i.Name]; dup {
			t.Errorf("list gave %s twice", i.Name)
		}
		got[i.Name] = i.Size
	}
	if len(got) != len(want) {
		t.Errorf("list %s/: got %v, want %v", k, got, want)
	}
	for n, size := range want {
		if got[n] != size {
			t.Errorf("list: %s size %d, want %d", n, got[n], size)
		}
	}
	if l := list(t, s, k+"/a"); len(l) != 2 {
		t.Errorf("list %s/a: got %v, want the 2 a objects", k, l)
	}
	if l := list(t, s, k+"/zz"); len(l) != 0 {
		t.Errorf("list of an unused prefix: %v", l)
	}
	// A prefix that stops inside the folder part, one of a folder no
	// object is in, and one no object name can have.
	if l := list(t, s, k); len(l) != 3 {
		t.Errorf("list %s: got %v, want the 3 objects under %s/", k, l, k)
	}
	if l := list(t, s, "zz"+k+"/"); len(l) != 0 {
		t.Errorf("list of an unused folder: %v", l)
	}
	if l := list(t, s, k+"/a/"); len(l) != 0 {
		t.Errorf("list of a prefix no name can have: %v", l)
	}
	found := false
	for _, i := range list(t, s, "") {
		found = found || i.Name == other+"/a1"
	}
	if !found {
		t.Errorf("list of everything misses %s/a1", other)
	}

	stop := errors.New("stop")
	calls := 0
	err := s.List(context.Background(), k+"/", func(objects.Info) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("list whose callback fails: %v after %d calls, want stop after 1", err, calls)
	}

	// Names alone (the store's own ListNames, if it has one) are the
	// names List gives, for every prefix above.
	for _, prefix := range []string{k + "/", k + "/a", k + "/zz", k, "zz" + k + "/", k + "/a/", ""} {
		var want, got []string
		for _, i := range list(t, s, prefix) {
			want = append(want, i.Name)
		}
		if err := objects.ListNames(context.Background(), s, prefix, func(name string) error {
			got = append(got, name)
			return nil
		}); err != nil {
			t.Fatalf("list names %q: %v", prefix, err)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("list names %q: got %v, want %v", prefix, got, want)
		}
	}
	calls = 0
	err = objects.ListNames(context.Background(), s, k+"/", func(string) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("list names whose callback fails: %v after %d calls, want stop after 1", err, calls)
	}

	// A prefix of object names is not itself an object.
	for _, n := range []string{k, k + "/a", k + "/a1x"} {
		absent(t, s, n)
		if _, err := s.Open(context.Background(), n); !errors.Is(err, objects.ErrNotFound) {
			t.Errorf("open %s: got %v, want ErrNotFound", n, err)
		}
	}
}

func testInvalidNames(t *testing.T, s objects.Store, k string) {
	ctx := context.Background()
	long := k + "/"
	for len(long) <= 128 {
		long += "a"
	}
	bad := []string{"", "../x", "a/../../b", "..", ".", "/x", "x/", "a//b", "a/b/c",
		"A", k + "/ABC", k + "/a.b", k + "/a b", k + "\\x", k + "/\x00", k + "/é", long,
		"%2e%2e/x", k + "/a\n"}
	for _, n := range bad {
		if _, err := s.Put(ctx, n, bytes.NewReader([]byte("x")), objects.PutOptions{}); err == nil || errors.Is(err, objects.ErrExists) {
			t.Errorf("put %q: got %v, want an invalid-name error", n, err)
		}
		if _, err := s.Stat(ctx, n); err == nil || errors.Is(err, objects.ErrNotFound) {
			t.Errorf("stat %q: got %v, want an invalid-name error", n, err)
		}
		if rc, err := s.Open(ctx, n); err == nil || errors.Is(err, objects.ErrNotFound) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("open %q: got %v, want an invalid-name error", n, err)
		}
		if err := s.Delete(ctx, n); err == nil || errors.Is(err, objects.ErrNotFound) {
			t.Errorf("delete %q: got %v, want an invalid-name error", n, err)
		}
		if err := s.SetLegalHold(ctx, n, true); err == nil || errors.Is(err, objects.ErrNotFound) {
			t.Errorf("legal hold %q: got %v, want an invalid-name error", n, err)
		}
	}
	for _, i := range list(t, s, "") {
		if objects.ValidName(i.Name) != nil {
			t.Errorf("list shows invalid name %q", i.Name)
		}
	}
	// The longest valid name works.
	ok := long[:128]
	put(t, s, ok, bytes.NewReader([]byte("x")), objects.PutOptions{})
}

func testMissing(t *testing.T, s objects.Store, k string) {
	ctx := context.Background()
	n := k + "/missing"
	if err := s.Delete(ctx, n); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("delete missing: got %v, want ErrNotFound", err)
	}
	if err := s.SetLegalHold(ctx, n, true); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("legal hold on missing: got %v, want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, n); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("open missing: got %v, want ErrNotFound", err)
	}
	absent(t, s, n)
	// Deleting twice: the second is ErrNotFound.
	put(t, s, n, bytes.NewReader([]byte("x")), objects.PutOptions{})
	if err := s.Delete(ctx, n); err != nil {
		t.Fatalf("delete: %v", err)
	}
	absent(t, s, n)
	if err := s.Delete(ctx, n); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("second delete: got %v, want ErrNotFound", err)
	}
}

// retention is short because S3 COMPLIANCE objects cannot be removed
// before their date by anyone.
const retention = 3 * time.Second

func testRetentionAndHold(t *testing.T, s objects.Store, k string) {
	ctx := context.Background()
	until := time.Now().Add(retention).Truncate(time.Second).Add(time.Second)
	retained, held, both := k+"/retained", k+"/held", k+"/both"
	put(t, s, retained, bytes.NewReader([]byte("r")), objects.PutOptions{RetainUntil: until})
	put(t, s, held, bytes.NewReader([]byte("h")), objects.PutOptions{})
	put(t, s, both, bytes.NewReader([]byte("b")), objects.PutOptions{RetainUntil: until})
	for _, n := range []string{held, both} {
		if err := s.SetLegalHold(ctx, n, true); err != nil {
			t.Fatalf("legal hold %s: %v", n, err)
		}
	}
	for _, n := range []string{retained, held, both} {
		if err := s.Delete(ctx, n); !errors.Is(err, objects.ErrLocked) {
			t.Errorf("delete %s: got %v, want ErrLocked", n, err)
		}
		if _, err := s.Stat(ctx, n); err != nil {
			t.Errorf("%s gone after refused delete: %v", n, err)
		}
		if _, err := s.Put(ctx, n, bytes.NewReader([]byte("new")), objects.PutOptions{}); !errors.Is(err, objects.ErrExists) {
			t.Errorf("overwrite %s: got %v, want ErrExists", n, err)
		}
	}
	if got := read(t, s, retained); string(got) != "r" {
		t.Errorf("retained object holds %q", got)
	}

	// A lifted hold frees an object without retention at once.
	if err := s.SetLegalHold(ctx, held, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, held); err != nil {
		t.Errorf("delete after hold lifted: %v", err)
	}
	absent(t, s, held)
	// A lifted hold does not end retention.
	if err := s.SetLegalHold(ctx, both, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, both); !errors.Is(err, objects.ErrLocked) {
		t.Errorf("delete before retention ends: got %v, want ErrLocked", err)
	}
	// A hold outlives retention.
	if err := s.SetLegalHold(ctx, retained, true); err != nil {
		t.Fatal(err)
	}

	time.Sleep(time.Until(until) + 1500*time.Millisecond)
	if err := s.Delete(ctx, retained); !errors.Is(err, objects.ErrLocked) {
		t.Errorf("delete of held object after retention: got %v, want ErrLocked", err)
	}
	if err := s.SetLegalHold(ctx, retained, false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{retained, both} {
		if err := s.Delete(ctx, n); err != nil {
			t.Errorf("delete %s after retention and hold ended: %v", n, err)
		}
		absent(t, s, n)
	}
}

// testExtendRetention: a short pending retention, extended, outlives its
// original date; an extension never shortens; a missing object is
// ErrNotFound.
func testExtendRetention(t *testing.T, s objects.Store, k string) {
	ctx := context.Background()
	short := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
	long := time.Now().Add(time.Hour)
	ext, plain := k+"/extended", k+"/plain"
	put(t, s, ext, bytes.NewReader([]byte("e")), objects.PutOptions{RetainUntil: short})
	put(t, s, plain, bytes.NewReader([]byte("p")), objects.PutOptions{RetainUntil: short})
	if err := s.ExtendRetention(ctx, ext, long); err != nil {
		t.Fatalf("extend: %v", err)
	}
	// Asking for an earlier date changes nothing.
	if err := s.ExtendRetention(ctx, ext, short); err != nil {
		t.Fatalf("extend to an earlier date: %v", err)
	}
	if err := s.ExtendRetention(ctx, k+"/missing", long); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("extend of a missing object: got %v, want ErrNotFound", err)
	}
	time.Sleep(time.Until(short) + 1500*time.Millisecond)
	if err := s.Delete(ctx, ext); !errors.Is(err, objects.ErrLocked) {
		t.Errorf("delete after the original date of an extended object: got %v, want ErrLocked", err)
	}
	if err := s.Delete(ctx, plain); err != nil {
		t.Errorf("delete after a short retention ended: %v", err)
	}
}

// testLockReadBack: a store that reads locks back (objects.LockReader)
// reports the legal hold and the retention the vault set, and a hold
// lifted as lifted: what an audit compares with the custody log.
func testLockReadBack(t *testing.T, s objects.Store, k string) {
	lr, ok := s.(objects.LockReader)
	if !ok {
		t.Skip("this store does not read locks back")
	}
	ctx := context.Background()
	name := k + "/locked"
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	put(t, s, name, bytes.NewReader([]byte("evidence")), objects.PutOptions{RetainUntil: until})
	l, err := lr.Lock(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if l.LegalHold || l.RetainUntil.Before(until) || l.RetainUntil.After(until.Add(time.Second)) {
		t.Fatalf("lock after put: %+v, want retention until %v and no hold", l, until)
	}
	for _, on := range []bool{true, false} {
		if err := s.SetLegalHold(ctx, name, on); err != nil {
			t.Fatal(err)
		}
		if l, err := lr.Lock(ctx, name); err != nil || l.LegalHold != on {
			t.Fatalf("lock after the hold was set to %v: %+v, %v", on, l, err)
		}
	}
	unlocked := k + "/unlocked"
	put(t, s, unlocked, bytes.NewReader([]byte("x")), objects.PutOptions{Unlocked: true})
	if l, err := lr.Lock(ctx, unlocked); err != nil || l.LegalHold || !l.RetainUntil.IsZero() {
		t.Fatalf("lock of an object put without one: %+v, %v", l, err)
	}
	if _, err := lr.Lock(ctx, k+"/absent"); !errors.Is(err, objects.ErrNotFound) {
		t.Fatalf("lock of an absent object: %v, want ErrNotFound", err)
	}
}
