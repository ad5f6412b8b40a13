package tsaclient_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/internal/testenv"
)

var message = []byte("custos.test/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")

func request(url string) (tsa.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return tsaclient.Request(ctx, nil, url, message)
}

// The token Request returns is the bare TimeStampToken, which the stock
// openssl ts -verify accepts and tsa.Verify verifies.
func TestRequest(t *testing.T) {
	a := testenv.StartTSA(t)
	tok, err := request(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.VerifyWithOpenSSL(t, tok, message); err != nil {
		t.Fatal(err)
	}
	if _, err := tsa.Verify(tok, message, []*x509.Certificate{a.CA.Cert}); err != nil {
		t.Fatal(err)
	}
	// A second request gets a token of its own (another nonce, serial).
	tok2, err := request(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(tok, tok2) || a.Requests() != 2 {
		t.Errorf("second token equal to the first, or %d requests", a.Requests())
	}
}

// A TSA's refusal (OpenSSL's own rejection, for a digest it is not
// configured to accept) is a *tsa.StatusError that says what the TSA said.
func TestRequestRejected(t *testing.T) {
	a := testenv.StartTSA(t)
	a.SetMode(testenv.TSAReject)
	_, err := request(a.URL)
	var se *tsa.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *tsa.StatusError", err)
	}
	if se.Status != 2 || len(se.Failures) != 1 || !strings.HasPrefix(se.Failures[0], "badAlg") {
		t.Errorf("status error %+v", se)
	}
	msg := err.Error()
	for _, want := range []string{a.URL, "refused (rejection)", "badAlg", "Message digest algorithm is not supported"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
}

func TestRequestHTTPError(t *testing.T) {
	a := testenv.StartTSA(t)
	a.SetMode(testenv.TSAHTTPError)
	_, err := request(a.URL)
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), a.URL) {
		t.Fatalf("got %v", err)
	}
}

func TestRequestUnreachable(t *testing.T) {
	a := testenv.StartTSA(t)
	a.Stop()
	_, err := request(a.URL)
	if err == nil || !strings.Contains(err.Error(), "no answer") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v", err)
	}
}

// A replayed answer (the reply to an earlier request) is refused: its
// nonce is not the new request's.
func TestRequestReplayed(t *testing.T) {
	a := testenv.StartTSA(t)
	if _, err := request(a.URL); err != nil {
		t.Fatal(err)
	}
	a.SetMode(testenv.TSAReplay)
	_, err := request(a.URL)
	if !errors.Is(err, tsa.ErrWrongNonce) {
		t.Fatalf("got %v, want ErrWrongNonce", err)
	}
}

// An answer for another message is refused.
func TestRequestAnswerForAnotherMessage(t *testing.T) {
	a := testenv.StartTSA(t)
	a.SetMode(testenv.TSAReplay)
	if _, err := tsaclient.Request(context.Background(), nil, a.URL, []byte("another message")); err != nil {
		t.Fatal(err)
	}
	_, err := request(a.URL)
	if !errors.Is(err, tsa.ErrWrongMessage) {
		t.Fatalf("got %v, want ErrWrongMessage", err)
	}
}

// No error repeats the credentials or the query of a URL.
func TestRequestRedactsCredentials(t *testing.T) {
	a := testenv.StartTSA(t)
	secretURL := strings.Replace(a.URL, "http://", "http://alice:s3cret@", 1) + "?key=hunter2"
	a.SetMode(testenv.TSAHTTPError)
	_, err := request(secretURL)
	if err == nil {
		t.Fatal("no error")
	}
	a.Stop()
	_, err2 := request(secretURL)
	for _, err := range []error{err, err2} {
		if err == nil {
			t.Fatal("no error")
		}
		for _, secret := range []string{"alice", "s3cret", "hunter2"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%q shows %q", err, secret)
			}
		}
	}
	if got := tsaclient.Redact("https://u:p@tsa.example/ts?apikey=x#frag"); got != "https://tsa.example/ts?redacted" {
		t.Errorf("Redact: %q", got)
	}
}

// Answers no TSA sends: a body larger than the limit, or one of another
// media type. OpenSSL cannot be made to send these, so a handler does.
func TestRequestOddAnswers(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"oversized": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write(make([]byte, tsa.MaxResponseSize+1))
		},
		"html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>sign in</html>"))
		},
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write([]byte("\x30\x03\x02\x01\x00"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			if _, err := request(srv.URL); err == nil || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("got %v", err)
			} else {
				t.Log(err)
			}
		})
	}
	if _, err := request("ftp://tsa.example/"); err == nil {
		t.Error("ftp URL accepted")
	}
}
