//go:build !unix

package tempfiles

import "os"

// lockable: without advisory locks here, a leftover is told from a live
// writer's file by its age alone (Sweep's idle).
const lockable = false

func hold(*os.File) error { return nil }

func held(string) bool { return false }
