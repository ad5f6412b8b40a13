package tsa

import (
	"encoding/asn1"
	"strings"
	"testing"
)

// A refusal answer of 69 KiB (the response limit) whose failInfo has all
// bits set, and a long status text, give an error message of bounded
// length: it is logged for every checkpoint the vault time-stamps.
func TestStatusErrorBounded(t *testing.T) {
	bits := make([]byte, 67<<10)
	for i := range bits {
		bits[i] = 0xff
	}
	der, err := asn1.Marshal(timeStampResp{Status: pkiStatusInfo{Status: 2, FailInfo: asn1.BitString{Bytes: bits, BitLength: len(bits) * 8}}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := NewRequest([]byte("m"))
	_, err = req.ParseResponse(der)
	t.Logf("answer %d bytes -> error message %d bytes", len(der), len(err.Error()))
	if len(err.Error()) > 2<<10 || !strings.Contains(err.Error(), "unknown failure bits") {
		t.Errorf("a %d-byte answer makes a %d-byte error: %.300s", len(der), len(err.Error()), err)
	}
}

// A long status text is cut.
func TestStatusTextBounded(t *testing.T) {
	e := newStatusError(pkiStatusInfo{Status: 2, StatusString: []string{strings.Repeat("refused ", 1000), "more"}})
	if n := len(e.Error()); n > statusTextMax+200 {
		t.Errorf("error of %d bytes", n)
	}
}
