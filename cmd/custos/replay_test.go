package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
)

func recordsStream(t *testing.T, n int, end bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := logstream.NewWriter(&buf)
	for i := range n {
		if err := w.Write(events.Record{Seq: uint64(i), ID: "ev", Bytes: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !end {
		// Without the end marker: its tag and its one-byte count.
		return buf.Bytes()[:buf.Len()-2]
	}
	return buf.Bytes()
}

func drain(ch <-chan logBatch) (n int, err error) {
	for b := range ch {
		n += len(b.bytes)
		if b.lookups != nil && len(b.lookups) != len(b.bytes) {
			return n, errors.New("lookups and bytes differ in number")
		}
		if b.err != nil {
			err = b.err
		}
	}
	return n, err
}

// TestReadRecordsStopsAtItsBound: records beyond the "to" asked for are
// not read (a vault that ignores the bound); fewer, or a stream without
// its end marker, are passed on as they are, for the replay to judge.
func TestReadRecordsStopsAtItsBound(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	if n, err := drain(readRecords(bytes.NewReader(recordsStream(t, 5, true)), 3, stop)); n != 3 || err != nil {
		t.Fatalf("bound 3 of 5: %d records, %v", n, err)
	}
	if n, err := drain(readRecords(bytes.NewReader(recordsStream(t, 5, true)), 9, stop)); n != 5 || err != nil {
		t.Fatalf("bound 9 of 5: %d records, %v", n, err)
	}
	if n, err := drain(readRecords(bytes.NewReader(recordsStream(t, 5, false)), 9, stop)); n != 5 || !errors.Is(err, logstream.ErrMalformed) {
		t.Fatalf("5 without an end marker: %d records, %v", n, err)
	}
}
