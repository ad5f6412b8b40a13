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

// BenchmarkParseCanonical is BenchmarkDecode by the fast path the vault's
// replay (copied: events.ParseCanonical) and the audit engine (packed:
// events.ParseCanonicalPacked, its strings cut from one copy) take.
func BenchmarkParseCanonical(b *testing.B) {
	enc, _ := events.Encode(sample())
	for _, c := range []struct {
		name  string
		parse func([]byte) (*events.Event, bool)
	}{{"copied", events.ParseCanonical}, {"packed", events.ParseCanonicalPacked}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := c.parse(enc); !ok {
					b.Fatal("not read by the fast path")
				}
			}
		})
	}
}
