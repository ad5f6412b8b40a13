//go:build !unix

package tiles

import "os"

const openFlags = os.O_RDONLY
