//go:build !unix

package tempfiles

import "os"

func hold(*os.File) error { return nil }

// lockState: no advisory locks here; age alone decides.
func lockState(string) (held, known bool) { return false, false }
