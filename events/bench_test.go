package events_test

import (
	"testing"

	"github.com/custos-vault/custos/events"
)

func BenchmarkDecode(b *testing.B) {
	enc, _ := events.Encode(sample())
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := events.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	ev := sample()
	for b.Loop() {
		if _, err := events.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}
