package api

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestAttackPublicIntakeIPv6RotationFloodsLog: the report limit is kept
// per full source address (clientIP, a /128 for IPv6), and there is no
// limit over all sources. One host with an ordinary IPv6 /64 (2^64
// addresses) gets a fresh burst of 5 reports from each address: here 100
// addresses of one /64 record 500 reports (each up to 16 KiB) in an
// instant; with the 10,000 addresses the limiter tracks before pruning,
// 50,000 reports every five minutes, so the custody log grows without a
// bound an operator chose.
func TestAttackPublicIntakeIPv6RotationFloodsLog(t *testing.T) {
	tv := newTestVault(t, Options{})
	p := NewPublic(tv.v, slog.New(slog.DiscardHandler), PublicOptions{})
	t.Cleanup(p.Close)
	before := len(tv.events(vault.TypeReportReceived))
	desc := strings.Repeat("x", 8000)
	for a := range 100 {
		for i := range 5 {
			body := fmt.Sprintf(`{"urls":["https://spam.example/%d/%d"],"description":%q}`, a, i, desc)
			req := httptest.NewRequest("POST", "/report", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%x]:4444", a+1)
			p.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	got := len(tv.events(vault.TypeReportReceived)) - before
	if got > 20 {
		t.Fatalf("one /64 recorded %d reports of 8 KB in one go; the limit is per /128 address and there is no global cap", got)
	}
}
