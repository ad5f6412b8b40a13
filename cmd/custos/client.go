package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/secret"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/custos-vault/custos/vault/api"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// client talks to the vault's API as one person.
type client struct {
	base  *url.URL
	token secret.String
	http  *http.Client
}

func newClient() (*client, error) {
	server := os.Getenv("CUSTOS_SERVER")
	if server == "" {
		return nil, errors.New("CUSTOS_SERVER is not set (source one of the .env files the server wrote, e.g. DIR/dev/investigator.env)")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("CUSTOS_SERVER %q is not an http(s) URL", server)
	}
	token := os.Getenv("CUSTOS_TOKEN")
	if token == "" {
		return nil, errors.New("CUSTOS_TOKEN is not set")
	}
	hc := &http.Client{}
	if ca := os.Getenv("CUSTOS_CACERT"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("CUSTOS_CACERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CUSTOS_CACERT %s holds no PEM certificate", ca)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return &client{base: u, token: secret.New(token), http: hc}, nil
}

func (c *client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vault unreachable: %w", err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e api.ErrorResponse
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return nil, fmt.Errorf("vault answered HTTP %d", resp.StatusCode)
	}
	return resp, nil
}

// get starts a GET whose body the caller streams and closes.
func (c *client) get(path string, q url.Values) (*http.Response, error) {
	req, err := http.NewRequest("GET", c.url(path, q), nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// call sends a JSON request (body may be nil) and decodes a JSON answer.
func (c *client) call(method, path string, q url.Values, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url(path, q), r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("malformed answer from the vault: %w", err)
	}
	return nil
}

// printResult prints v as one JSON object with --json, or text otherwise.
func printResult(w io.Writer, asJSON bool, v any, text string) error {
	if asJSON {
		return json.NewEncoder(w).Encode(v)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}

// progress returns a progress bar on stderr when it is a terminal and the
// output is not JSON; otherwise a silent one.
func progress(stderr io.Writer, quiet bool, size int64, desc string) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return progressbar.DefaultBytesSilent(size, desc)
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
}
