package vault

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestASwappedCiphertextSendsNothing: the object store's administrator
// puts one item's ciphertext in place of another's of the same case (one
// case key opens both). A view of the item whose object now holds a
// ciphertext of another size is refused before a byte of plaintext is
// read, recorded as an integrity failure; so is one of the same size,
// whose age header is not the one the deposit recorded
// (ciphertext_header_sha256), where before it decrypted and only the
// plaintext's hash failed the view at its end.
func TestASwappedCiphertextSendsNothing(t *testing.T) {
	h := newHotline(t)
	dir := filepath.Dir(h.v.cfg.KeyringDir)
	small := h.deposit(t, h.a1, "chat.txt", []byte("chat export, report 118\n"), "")
	large := h.deposit(t, h.a1, "video.mp4", bytes.Repeat([]byte("frame "), 50_000), "")
	same := h.deposit(t, h.a1, "other.txt", []byte("chat export, report 119\n"), "")
	path := func(id string) string {
		it, err := h.v.state.item(id)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "objects", it.Deposit.Object)
	}
	copyOver := func(from, to string) {
		b, err := os.ReadFile(path(from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path(to), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyOver(large.ID, small.ID) // the video's ciphertext under the chat's name
	before := countType(t, h.v, TypeIntegrityFailed)
	r, err := h.v.Open(h.ctx, h.a1, RevealRequest{Item: small.ID, Purpose: "review"})
	if !errors.Is(err, ErrIntegrity) || r != nil {
		t.Fatalf("a view of a ciphertext of another size: %v, %v; want ErrIntegrity before anything is read", r, err)
	}
	if countType(t, h.v, TypeIntegrityFailed) != before+1 {
		t.Fatal("the swap was not recorded as an integrity failure")
	}

	copyOver(same.ID, large.ID) // the other chat's, as large as the first chat's: not the video's size either
	if _, err := h.v.Open(h.ctx, h.a1, RevealRequest{Item: large.ID, Purpose: "review"}); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("a view of the video holding a chat's ciphertext: %v", err)
	}
	// Of the same size: refused at the start too, by the header.
	copyOver(same.ID, small.ID)
	before = countType(t, h.v, TypeIntegrityFailed)
	r, err = h.v.Open(h.ctx, h.a1, RevealRequest{Item: small.ID, Purpose: "review"})
	if !errors.Is(err, ErrIntegrity) || r != nil || !strings.Contains(err.Error(), "its age header is not the one its deposit wrote") {
		t.Fatalf("a view of a ciphertext of the same size: %v, %v; want ErrIntegrity before anything is read", r, err)
	}
	if countType(t, h.v, TypeIntegrityFailed) != before+1 {
		t.Fatal("the same-size swap was not recorded as an integrity failure")
	}
	// The item whose file was copied still reads.
	r, err = h.v.Open(h.ctx, h.a1, RevealRequest{Item: same.ID, Purpose: "review"})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r)
	if err := r.Finish(h.ctx); err != nil {
		t.Fatalf("a view of the untouched item: %v", err)
	}
}
