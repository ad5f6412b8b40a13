// Package ctxio ends long reads when their context ends.
package ctxio

import (
	"context"
	"io"
)

// NewReader returns r, whose reads fail with ctx.Err() once ctx is done
// (a read already running is not interrupted): a copy of a large object
// or file, read a buffer at a time, stops at the next buffer.
func NewReader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
