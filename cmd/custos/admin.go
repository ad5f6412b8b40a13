package main

import (
	"io"
)

func runAdminRecover(args []string, stdout, stderr io.Writer) error {
	return usageErr("admin recover: see docs/keys.md")
}

func runAdminRotate(args []string, stdout io.Writer) error {
	return usageErr("admin rotate-kek: see docs/keys.md")
}
