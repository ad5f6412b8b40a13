// Package hashset imports hash sets of known material and matches files
// against them.
//
// Hotlines receive sets of known-illegal material (Project VIC VICS JSON,
// the UK Child Abuse Image Database in the VICS 1.2 layout, INTERPOL ICSE
// CSV exports) and of known-good files (NIST NSRL RDS), as well as plain
// md5sum, sha1sum and sha256sum lists. [Parse] reads each of them as a
// stream of [Entry] values; docs/hashsets.md lists the fields read from
// each format and the assumptions made where no public specification
// exists.
//
// # Storage
//
// [Build] turns one source file into a set: a folder under a root holding
// one sorted table of fixed-width keys per hash algorithm, the entries'
// metadata, and a manifest with the SHA-256 of every file. A set is
// replaced as a whole: a failed or interrupted import leaves the previous
// set untouched. [Open] reads a set with positioned reads (pread), never
// mapping it, so a truncated or edited file gives an error instead of a
// fault; [Set.Verify] re-hashes the files against the manifest.
// docs/hashsets.md is the specification of the on-disk format.
//
// A [Catalog] holds every set under a root and matches a file's digests
// against all of them; it is safe for concurrent use while a set is
// replaced.
package hashset
