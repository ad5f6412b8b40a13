package verify_test

import (
	"testing"

	"github.com/custos-vault/custos/events/verify"
)

// BenchmarkAddBatch replays a log of 20,000 events written by the real
// sequencer and SQLite store, in batches of 4,096 as audit verify reads
// them: the engine's CPU an event (decode, leaf hash, chain, tree),
// without the stream's read or the custody rules. ns/op is one event.
func BenchmarkAddBatch(b *testing.B) {
	signer, verifier := keys(b)
	l := build(b, 20000, 500, signer, verifier)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		e := verify.New(origin, verifier)
		for i := 0; i < len(l.events) && done < b.N; i += 4096 {
			n := min(4096, len(l.events)-i, b.N-done)
			if err := e.AddBatch(l.events[i : i+n]); err != nil {
				b.Fatal(err)
			}
			done += n
		}
	}
}
