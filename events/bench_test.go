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

// BenchmarkParseCanonical is BenchmarkDecode by the fast path the audit
// engine and the vault's replay take (events.ParseCanonical).
func BenchmarkParseCanonical(b *testing.B) {
	enc, _ := events.Encode(sample())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := events.ParseCanonical(enc); !ok {
			b.Fatal("not read by the fast path")
		}
	}
}

// BenchmarkParseCanonicalPacked is BenchmarkParseCanonical with the
// strings cut from one copy (the audit engine's reader).
func BenchmarkParseCanonicalPacked(b *testing.B) {
	enc, _ := events.Encode(sample())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := events.ParseCanonicalPacked(enc); !ok {
			b.Fatal("not read by the fast path")
		}
	}
}
