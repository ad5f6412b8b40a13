//go:build unix

package tiles

import (
	"os"
	"syscall"
)

// openFlags refuse a symbolic link at a tile's path and never block on a
// FIFO placed there.
const openFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
