package main

import "strings"

// shellWord returns s as one word of a POSIX shell command line, for the
// commands this program prints for a person to paste (a package's
// custos-verify, a receipt's ssh-keygen): s itself where every byte is
// one a shell takes literally, else s in single quotes, each single
// quote in it closed, escaped with a backslash and opened again. A file
// name with a space ("PNP-ACG-2026-0311 package.tar") pasted unquoted is
// two words, and the command fails or reads another file.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
