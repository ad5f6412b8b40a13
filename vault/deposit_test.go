package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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

// cutShortBody returns data, then fails as net/http's request body does
// when its client goes away before Content-Length bytes came: once with
// io.ErrUnexpectedEOF, and with io.EOF when read again.
type cutShortBody struct {
	data   []byte
	failed bool
}

func (c *cutShortBody) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		if c.failed {
			return 0, io.EOF
		}
		c.failed = true
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestCutShortUploadIsNoDeposit: an upload cut short is never taken for
// the whole file, with a client's SHA-256 to check it against or without
// (the web application's uploads): the deposit fails as interrupted,
// nothing is recorded, and no object is left in the store. Files cut
// within the first read (the media sniff's), within the first chunk and
// after it are tried.
func TestCutShortUploadIsNoDeposit(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "C-1", "t"); err != nil {
		t.Fatal(err)
	}
	before := v.Log().Size()
	for _, size := range []int{10, 4095, 3<<20 + 5} {
		_, err := v.Deposit(ctx, inv, DepositRequest{Case: "C-1", Name: fmt.Sprintf("cut-%d.bin", size), Body: &cutShortBody{data: bytes.Repeat([]byte("x"), size)}})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "upload interrupted") {
			t.Errorf("%d bytes then cut: %v, want an interrupted upload", size, err)
		}
	}
	if n := v.Log().Size(); n != before {
		t.Fatalf("cut-short uploads appended %d events", n-before)
	}
	if items, err := v.Items(ctx, inv, "C-1", ItemFilter{}); err != nil || len(items) != 0 {
		t.Fatalf("items after cut-short uploads: %v %v", items, err)
	}
}

// TestADepositRepeatedSaysSo: a file the case already holds under the
// same name with the same content, deposited again (named one by one,
// or with --again), is stored as a new item and its answer names the
// one held; another name, or other content, names none.
func TestADepositRepeatedSaysSo(t *testing.T) {
	h := newHotline(t)
	first := h.deposit(t, h.a1, "chat.txt", []byte("a chat"), "")
	if first.Again != "" {
		t.Fatalf("a first deposit says it repeats %s", first.Again)
	}
	second := h.deposit(t, h.a1, "chat.txt", []byte("a chat"), "")
	if second.Again != first.ID || second.ID == first.ID {
		t.Fatalf("the same file again: item %s, again %q; want a new item naming %s", second.ID, second.Again, first.ID)
	}
	for _, d := range []*DepositResult{
		h.deposit(t, h.a1, "other.txt", []byte("a chat"), ""),
		h.deposit(t, h.a1, "chat.txt", []byte("another chat"), ""),
	} {
		if d.Again != "" {
			t.Errorf("%s (%s) says it repeats %s", d.Name, d.SHA256[:8], d.Again)
		}
	}
	// The same name and content in another case is not this case's: its
	// item is never named to a depositor of this one.
	if err := h.v.OpenCase(h.ctx, h.a1, "OTHER-1", "another"); err != nil {
		t.Fatal(err)
	}
	other, err := h.v.Deposit(h.ctx, h.a1, DepositRequest{Case: "OTHER-1", Name: "chat.txt", Body: strings.NewReader("a chat")})
	if err != nil || other.Again != "" {
		t.Fatalf("the same file in another case: %+v, %v", other, err)
	}
	_, err = h.v.Deposit(h.ctx, h.a1, DepositRequest{Case: "HL-1", Name: "chat.txt", Body: strings.NewReader("a chat"), NotAgain: true})
	var held *AlreadyDeposited
	if !errors.As(err, &held) {
		t.Fatalf("NotAgain: %v", err)
	}
}
