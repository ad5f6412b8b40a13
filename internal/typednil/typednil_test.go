package typednil_test

import (
	"errors"
	"io"
	"testing"

	"github.com/custos-vault/custos/internal/typednil"
)

type closer struct{ name string }

func (c *closer) Close() error { return errors.New(c.name) }

func open(fail bool) (*closer, error) {
	if fail {
		return nil, errors.New("refused")
	}
	return &closer{"opened"}, nil
}

func TestAs(t *testing.T) {
	c, err := typednil.As[io.Closer](open(true))
	if err == nil || c != nil {
		t.Fatalf("a failed open gave %#v, %v: want a nil interface and the error", c, err)
	}
	c, err = typednil.As[io.Closer](open(false))
	if err != nil || c == nil || c.Close().Error() != "opened" {
		t.Fatalf("an open gave %#v, %v", c, err)
	}
}
