package vault

import (
	"errors"
	"fmt"
	"testing"

	"github.com/custos-vault/custos/crypto/agestream"
)

func TestClassifyUpload(t *testing.T) {
	store := errors.New("object store: connection refused")
	stopped := errors.New("object store stopped reading")
	cases := []struct {
		name     string
		enc, put error
		want     uploadOutcome
	}{
		{"both succeeded", nil, nil, uploadStored},
		{"client sent a wrong hash; the store then failed too", fmt.Errorf("%w: hash", ErrIntegrity), store, uploadRefused},
		{"client sent no hash", badInput("no SHA-256"), nil, uploadRefused},
		{"client stream broke; the store saw the broken pipe", fmt.Errorf("%w: EOF", agestream.ErrReadPlaintext), store, uploadInterrupted},
		{"client stream broke; the store had not failed", fmt.Errorf("%w: EOF", agestream.ErrReadPlaintext), nil, uploadInterrupted},
		{"store failed, so encryption could not write", stopped, store, uploadStoreFailed},
		{"store failed alone", nil, store, uploadStoreFailed},
		{"encryption failed alone", errors.New("age: internal error"), nil, uploadEncryptFailed},
	}
	for _, c := range cases {
		if got := classifyUpload(c.enc, c.put); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}
