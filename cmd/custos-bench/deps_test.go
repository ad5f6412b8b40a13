package main

import (
	"testing"

	"github.com/custos-vault/custos/internal/deplist"
)

// TestDeps fails when this binary's dependencies differ from deps.txt,
// so that a new import is a visible decision (internal/deplist).
func TestDeps(t *testing.T) { deplist.Check(t, "deps.txt") }
