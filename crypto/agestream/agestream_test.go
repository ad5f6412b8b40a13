package agestream_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/crypto/agestream"
)

func data(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n)})
	r.Read(b)
	return b
}

func TestRoundTripAndHashes(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	for _, n := range []int{0, 1, 64 << 10, agestream.ChunkSize, agestream.ChunkSize + 1, 3*agestream.ChunkSize + 12345} {
		plain := data(n)
		var ct bytes.Buffer
		var progress int64
		res, err := agestream.Encrypt(&ct, bytes.NewReader(plain), []age.Recipient{id.Recipient()},
			agestream.Options{Progress: func(p int64) { progress = p }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Plain.Size != int64(n) || progress != int64(n) {
			t.Fatalf("size %d progress %d want %d", res.Plain.Size, progress, n)
		}
		if res.Plain.SHA256 != sha256.Sum256(plain) || res.Plain.SHA1 != sha1.Sum(plain) || res.Plain.MD5 != md5.Sum(plain) {
			t.Fatalf("n=%d: wrong plaintext hashes", n)
		}
		if res.CipherSHA256 != sha256.Sum256(ct.Bytes()) || res.CipherSize != int64(ct.Len()) {
			t.Fatalf("n=%d: wrong ciphertext hash or size", n)
		}
		if n > 16 && bytes.Contains(ct.Bytes(), plain[:16]) {
			t.Fatal("plaintext visible in ciphertext")
		}
		d, err := agestream.NewDecrypter(bytes.NewReader(ct.Bytes()), id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(d)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("n=%d: decrypt: %v", n, err)
		}
		if size, sum := d.Sum(); size != int64(n) || sum != sha256.Sum256(plain) {
			t.Fatal("decrypter hash wrong")
		}
	}
}

func TestTamperedCiphertextFailsWhileStreaming(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	plain := data(300 << 10)
	var ct bytes.Buffer
	if _, err := agestream.Encrypt(&ct, bytes.NewReader(plain), []age.Recipient{id.Recipient()}, agestream.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, mutate := range []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		func(b []byte) []byte { return b[:len(b)-100] },
		func(b []byte) []byte { return b[:len(b)/3] },
	} {
		bad := mutate(bytes.Clone(ct.Bytes()))
		d, err := agestream.NewDecrypter(bytes.NewReader(bad), id)
		if err != nil {
			continue
		}
		got, err := io.ReadAll(d)
		if err == nil {
			t.Fatal("altered ciphertext decrypted without error")
		}
		// Whatever was released before the error is a correct prefix.
		if !bytes.Equal(got, plain[:len(got)]) {
			t.Fatal("altered ciphertext released wrong plaintext")
		}
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := agestream.NewDecrypter(bytes.NewReader(ct.Bytes()), other); err == nil {
		t.Fatal("decrypted with the wrong identity")
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestReadErrorIsReported(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	_, err := agestream.Encrypt(io.Discard, &failingReader{n: 5 << 20}, []age.Recipient{id.Recipient()}, agestream.Options{})
	if err == nil {
		t.Fatal("a failed read was not reported")
	}
}

func BenchmarkEncrypt(b *testing.B) {
	id, _ := age.GenerateX25519Identity()
	plain := data(64 << 20)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := agestream.Encrypt(io.Discard, bytes.NewReader(plain), []age.Recipient{id.Recipient()}, agestream.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
