// Package events defines the custody log's data: the event envelope and its
// exact bytes, the hash chain that links events, the RFC 6962 Merkle tree over
// them, and the signed checkpoints that commit to the tree.
//
// # Exact bytes
//
// An event is encoded once, when it is appended, and the bytes produced then
// are what is stored, hashed, exported and verified. Nothing is ever
// re-encoded in order to be checked: a verifier hashes the bytes it was given.
// [Decode] is strict and accepts only the canonical encoding that [Encode]
// produces, so there is exactly one byte string for every event.
//
// # What depends on this package
//
// The offline verifier (cmd/custos-verify) imports this package, so it must
// never depend on the server, the stores or the network. Keep it to the
// standard library and the transparency-log building blocks.
//
// The format is specified in docs/custody-log.md; testdata/ holds vectors.
package events
