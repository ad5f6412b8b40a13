package main

import (
	"log/slog"
	"strings"
)

// narrowDataFolder takes group and other permissions off the data
// folder's folders and files (operations.md, "Errors and file
// permissions": the vault's user alone reads them), as a start's check
// beside the serving vault: the vault writes each one so, and a wider
// one was widened by someone with the data folder, which hands the keys'
// sealed copies, the sticky head and the log to other accounts. The
// evidence objects under DATA/objects/ev are not walked (a large vault
// holds millions; each is ciphertext, and a scrub finds one altered);
// the key replicas, heads and the rest of the object store's folder are.
// Links are neither followed nor changed. What it narrowed is logged at
// WARN, with what to do; what it could not, too.
func narrowDataFolder(dir string, logger *slog.Logger) {
	narrowed, failed := narrowModes(dir)
	if len(narrowed) > 0 {
		logger.Warn("files or folders of the data folder were open to other users than the vault's: narrowed to the vault's user alone; someone changed their permissions, which let other accounts read or change the vault's files: find out who (docs/operations.md, \"Errors and file permissions\")",
			"count", len(narrowed), "first", strings.Join(narrowed[:min(len(narrowed), 5)], ", "))
	}
	if len(failed) > 0 {
		logger.Warn("files or folders of the data folder are open to other users than the vault's and could not be narrowed: narrow them (chmod go-rwx) and find out who widened them (docs/operations.md, \"Errors and file permissions\")",
			"count", len(failed), "first", strings.Join(failed[:min(len(failed), 5)], "; "))
	}
}
