package pkgformat

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
)

// TestRehashChecksEveryRecordedHash: an item's plaintext must give the
// MD5 and SHA-1 the manifest (and its deposit event) record, as the
// report tells its reader, not only its SHA-256; absent ones are not
// computed.
func TestRehashChecksEveryRecordedHash(t *testing.T) {
	p := "the seized chat log\n"
	s256, m5, s1 := sha256.Sum256([]byte(p)), md5.Sum([]byte(p)), sha1.Sum([]byte(p))
	right := Item{Path: "items/001-chat.txt.age", Size: int64(len(p)), SHA256: hex.EncodeToString(s256[:]),
		MD5: hex.EncodeToString(m5[:]), SHA1: hex.EncodeToString(s1[:])}
	if err := rehash(io.Discard, strings.NewReader(p), right); err != nil {
		t.Fatal(err)
	}
	noLegacy := right
	noLegacy.MD5, noLegacy.SHA1 = "", ""
	if err := rehash(io.Discard, strings.NewReader(p), noLegacy); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Item){
		"MD5":   func(it *Item) { it.MD5 = strings.Repeat("0", 32) },
		"SHA-1": func(it *Item) { it.SHA1 = strings.Repeat("0", 40) },
	} {
		it := right
		edit(&it)
		if err := rehash(io.Discard, strings.NewReader(p), it); err == nil || !strings.Contains(err.Error(), "its "+name+" differs") {
			t.Errorf("a plaintext whose %s is not the recorded one: %v", name, err)
		}
	}
}
