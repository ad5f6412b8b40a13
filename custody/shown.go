package custody

import "github.com/custos-vault/custos/internal/printable"

// Shown is text from an event as a document shows it: every character
// that is a control, a format character (such as U+202E RIGHT-TO-LEFT
// OVERRIDE), a line or paragraph separator, or otherwise not graphic is
// written as \uXXXX, and bytes that are not UTF-8 as \xHH, so that a name
// cannot reorder, hide or forge any part of a document. Letters of every
// script (Khmer, Arabic, Tagalog) are kept as they are.
func Shown(s string) string { return printable.Terminal(s) }
