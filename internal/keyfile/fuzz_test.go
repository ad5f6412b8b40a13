package keyfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

// FuzzParseIdentities: any input is either identities that each have a
// recipient, or an error of a documented kind that never quotes a line
// that starts like a secret key. The passphrase is asked for at most once.
func FuzzParseIdentities(f *testing.F) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	f.Add([]byte(x.String() + "\n"))
	f.Add([]byte("\uFEFF# c\r\n" + pq.String() + "\r\n"))
	f.Add([]byte(x.Recipient().String()))
	f.Add([]byte("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"))
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 10\nAAAA\n--- AAAA\n"))
	f.Add([]byte("AGE-PLUGIN-X-1Q\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		asked := 0
		ids, err := ParseIdentities("f", b, func() (string, error) { asked++; return "p", nil })
		if asked > 1 {
			t.Fatalf("passphrase asked %d times", asked)
		}
		if err != nil {
			if ids != nil {
				t.Fatal("identities and an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("undocumented error: %v", err)
			}
			msg := strings.ToUpper(err.Error())
			for _, w := range strings.Fields(strings.ToUpper(string(b))) {
				if strings.HasPrefix(w, "AGE-SECRET-KEY-") && len(w) > 24 && strings.Contains(msg, w[:24]) {
					t.Fatalf("the error quotes a key: %v", err)
				}
			}
			return
		}
		if len(ids) == 0 {
			t.Fatal("no identities and no error")
		}
		for _, id := range ids {
			if Recipient(id) == "" {
				t.Fatalf("identity of type %T", id)
			}
		}
	})
}

// FuzzParseCheckpoint: an accepted note is normalised (normalising again
// changes nothing) and within the size limit; a refused one is a
// MalformedError.
func FuzzParseCheckpoint(f *testing.F) {
	cp := testCheckpoint(f)
	f.Add(cp)
	f.Add(bytes.ReplaceAll(cp, []byte("\n"), []byte("\r\n")))
	f.Add([]byte("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— o AAAAAAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseCheckpoint("f", b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if len(got) > MaxCheckpoint || !bytes.Equal(Normalize(got), got) {
			t.Fatalf("not normalised: %q", got)
		}
		if k := Kind(got); k != "checkpoint" {
			t.Fatalf("an accepted checkpoint is called a %q", k)
		}
		again, err := ParseCheckpoint("f", got)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("normalised note refused or changed: %v", err)
		}
	})
}
