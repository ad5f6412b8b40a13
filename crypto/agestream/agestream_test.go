package agestream_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
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
		if got, err := d.HeaderSHA256(); err != nil || got != res.CipherHeaderSHA256 || got != headerAndNonce(t, ct.Bytes()) {
			t.Fatalf("n=%d: header digest %x, %v; encrypted %x", n, got, err, res.CipherHeaderSHA256)
		}
	}
}

// headerAndNonce hashes an age file's header and nonce as the age
// specification lays them out: lines through the MAC line ("--- ..."),
// then 16 bytes of nonce.
func headerAndNonce(t *testing.T, file []byte) [32]byte {
	t.Helper()
	mac := bytes.Index(file, []byte("\n--- "))
	if mac < 0 {
		t.Fatal("no MAC line")
	}
	end := mac + 1 + bytes.IndexByte(file[mac+1:], '\n') + 1
	return sha256.Sum256(file[:end+16])
}

// TestHeaderTellsFilesApart: two encryptions of one plaintext to one
// recipient have different headers (each file key is random), so a file
// swapped for another of the same size is told apart before any payload
// is read; a post-quantum recipient's larger header is hashed alike; a
// header beyond MaxHeaderSize decrypts, but its digest is refused, not
// made of part of it.
func TestHeaderTellsFilesApart(t *testing.T) {
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	x, _ := age.GenerateX25519Identity()
	plain := data(1000)
	for _, tc := range []struct {
		name string
		to   age.Recipient
		id   age.Identity
	}{{"X25519", x.Recipient(), x}, {"ML-KEM-768 + X25519", pq.Recipient(), pq}} {
		var sums [][32]byte
		var files [][]byte
		for range 2 {
			var ct bytes.Buffer
			res, err := agestream.Encrypt(&ct, bytes.NewReader(plain), []age.Recipient{tc.to}, agestream.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sums, files = append(sums, res.CipherHeaderSHA256), append(files, ct.Bytes())
		}
		if sums[0] == sums[1] || len(files[0]) != len(files[1]) {
			t.Fatalf("%s: two files of one plaintext: headers %x and %x, sizes %d and %d", tc.name, sums[0], sums[1], len(files[0]), len(files[1]))
		}
		d, err := agestream.NewDecrypter(bytes.NewReader(files[1]), tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := d.HeaderSHA256(); err != nil || got != sums[1] || got == sums[0] {
			t.Fatalf("%s: the second file's header read as %x, %v", tc.name, got, err)
		}
	}

	var many []age.Recipient
	for range 800 {
		id, _ := age.GenerateX25519Identity()
		many = append(many, id.Recipient())
	}
	many = append(many, x.Recipient())
	var ct bytes.Buffer
	if _, err := agestream.Encrypt(&ct, bytes.NewReader(plain), many, agestream.Options{}); err != nil {
		t.Fatal(err)
	}
	d, err := agestream.NewDecrypter(bytes.NewReader(ct.Bytes()), x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.HeaderSHA256(); !errors.Is(err, agestream.ErrHeader) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a header of %d bytes: %v", bytes.Index(ct.Bytes(), []byte("\n--- ")), err)
	}
	if got, err := io.ReadAll(d); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("decrypting it: %v", err)
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
