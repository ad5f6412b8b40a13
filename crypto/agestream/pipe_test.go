package agestream_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/custos-vault/custos/crypto/agestream"
)

func TestPipeCarriesEverythingInOrder(t *testing.T) {
	want := data(5*agestream.ChunkSize + 777)
	p := agestream.NewPipe(2)
	go func() {
		for off := 0; off < len(want); off += 9999 {
			p.Write(want[off:min(len(want), off+9999)])
		}
		p.CloseWithError(nil)
	}()
	got, err := io.ReadAll(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("pipe altered the stream: %v", err)
	}
}

func TestPipeErrorsPropagate(t *testing.T) {
	boom := errors.New("boom")
	p := agestream.NewPipe(2)
	go func() {
		p.Write([]byte("partial"))
		p.CloseWithError(boom)
	}()
	if _, err := io.ReadAll(p); !errors.Is(err, boom) {
		t.Fatalf("reader saw %v, want the writer's error", err)
	}

	stop := errors.New("store gone")
	q := agestream.NewPipe(1)
	q.CloseRead(stop)
	big := make([]byte, 4*agestream.ChunkSize)
	if _, err := q.Write(big); !errors.Is(err, stop) {
		t.Fatalf("writer saw %v after the reader left, want its error", err)
	}
}
