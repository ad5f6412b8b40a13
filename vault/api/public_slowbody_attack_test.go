package api

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestAttackPublicIntakeSlowBodyHoldsConnection: the public listener is
// served (cmd/custos/server.go) with ReadHeaderTimeout and IdleTimeout
// only, and Public.submit reads the body with io.ReadAll and no deadline
// or minimum rate (the API's limitBodyRate is not applied). A client
// that sends its headers and then one byte of body now and then holds
// the connection and a goroutine for as long as it likes (up to 16 KiB
// bytes: hours at a byte a second); with the per-address connection cap
// and IPv6 rotation, an internet client exhausts file descriptors.
func TestAttackPublicIntakeSlowBodyHoldsConnection(t *testing.T) {
	tv := newTestVault(t, Options{})
	p := NewPublic(tv.v, slog.New(slog.DiscardHandler), PublicOptions{})
	t.Cleanup(p.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// As cmd/custos/server.go configures the public server (its
	// timeouts scaled down from 10 s and 1 min).
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 500 * time.Millisecond, IdleTimeout: time.Second, MaxHeaderBytes: 16 << 10}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16000\r\n\r\n")
	deadline := time.Now().Add(5 * time.Second) // ten header timeouts, five idle timeouts
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte(" ")); err != nil {
			return // cut: as it should be
		}
		time.Sleep(400 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a body trickled at 2.5 bytes a second held the public intake's connection open for 5 s (10 header timeouts) and counting")
		}
	}
}
