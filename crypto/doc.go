// Package crypto is the home of Custos's cryptographic plumbing; the code
// lives in its sub-packages:
//
//   - agestream: one streaming pass per deposit - the forensic hashes of
//     the plaintext (SHA-256, plus MD5 and SHA-1 for law-enforcement hash
//     lists), age encryption, and the SHA-256 of the ciphertext - and the
//     matching streaming decryption that re-hashes what it reveals.
//
// Signing of checkpoints and package manifests uses signed notes
// (golang.org/x/mod/sumdb/note) and lives with the formats that use it:
// package events and package pkgformat.
package crypto
