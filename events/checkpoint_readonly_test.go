//go:build linux

package events_test

import (
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestCheckpointReadersNeverWriteTheirInput: ParseCheckpoint,
// StatedSize and PeekCheckpoint are given a note in a read-only page, so
// that any write to it faults. A note is shared between goroutines (the
// views of one batch share their checkpoint), so a reader that appended
// to a slice of its input wrote into the caller's bytes: a data race,
// although it wrote the byte already there.
func TestCheckpointReadersNeverWriteTheirInput(t *testing.T) {
	v := loadVectors(t)
	_, verifier, _ := vectorKeys(t)
	for _, note := range v.checkpoints {
		page, err := syscall.Mmap(-1, 0, syscall.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Skipf("no anonymous mapping here: %v", err)
		}
		defer syscall.Munmap(page)
		ro := page[:copy(page, note):len(page)] // spare capacity after the note, as a read buffer has
		if err := syscall.Mprotect(page, syscall.PROT_READ); err != nil {
			t.Skipf("mprotect: %v", err)
		}
		read := func(name string, f func()) {
			t.Helper()
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s wrote to the note it was given: %v", name, r)
				}
			}()
			f()
		}
		read("ParseCheckpoint", func() {
			if _, err := events.ParseCheckpoint(ro, vectorKeyName, verifier); err != nil {
				t.Errorf("ParseCheckpoint: %v", err)
			}
		})
		read("StatedSize", func() {
			if _, ok := events.StatedSize(ro); !ok {
				t.Error("StatedSize: not a checkpoint")
			}
		})
		read("PeekCheckpoint", func() {
			if _, _, err := events.PeekCheckpoint(ro); err != nil {
				t.Errorf("PeekCheckpoint: %v", err)
			}
		})
	}
}
