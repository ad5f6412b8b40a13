// Package objectstore opens the object store named by a --objects URL:
//
//	fs:PATH                      a local folder (the embedded default)
//	s3://HOST:PORT/BUCKET        S3 or MinIO over TLS
//	s3+http://HOST:PORT/BUCKET   plain HTTP, loopback hosts only
//
// Plain HTTP is refused off loopback: credentials and evidence would
// cross the network in the clear.
package objectstore

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/internal/typednil"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/objects/s3"
)

// Forms lists the accepted URL forms, for error and help messages.
const Forms = "fs:PATH, s3://HOST:PORT/BUCKET (TLS) or s3+http://HOST:PORT/BUCKET (loopback only)"

// Options carry what a URL does not.
type Options struct {
	// AccessKey and SecretKey for s3 (cmd/custos reads them from
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
	AccessKey string
	SecretKey secret.String
	// DefaultRetention for s3 objects put without a retention date.
	DefaultRetention time.Duration
}

// Open opens the store rawURL names.
func Open(ctx context.Context, rawURL string, opts Options) (objects.Store, error) {
	sp, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	if sp.dir != "" {
		return typednil.As[objects.Store](fs.New(ctx, fs.Config{Dir: sp.dir}))
	}
	return typednil.As[objects.Store](s3.New(ctx, s3.Config{
		Endpoint: sp.endpoint, Bucket: sp.bucket, Secure: sp.secure,
		AccessKey: opts.AccessKey, SecretKey: opts.SecretKey,
		DefaultRetention: opts.DefaultRetention,
	}))
}

// spec is a parsed URL: dir for fs, the rest for s3.
type spec struct {
	dir      string
	endpoint string
	bucket   string
	secure   bool
}

func parse(raw string) (spec, error) {
	bad := func(why string) (spec, error) {
		return spec{}, fmt.Errorf("objects URL %q: %s; accepted forms: %s", raw, why, Forms)
	}
	if dir, ok := strings.CutPrefix(raw, "fs:"); ok {
		if dir == "" {
			return bad("no folder")
		}
		return spec{dir: dir}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	var sp spec
	switch u.Scheme {
	case "s3":
		sp.secure = true
	case "s3+http":
	case "":
		return bad("no scheme")
	default:
		return bad("unknown scheme " + u.Scheme)
	}
	if u.User != nil {
		return bad("credentials do not belong in the URL (use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("unexpected query or fragment")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return bad("host must be HOST:PORT")
	}
	bucket := strings.TrimPrefix(u.Path, "/")
	if bucket == "" || strings.Contains(bucket, "/") {
		return bad("path must be exactly one bucket name")
	}
	if !sp.secure && !loopback(host) {
		return bad("plain HTTP is only allowed to a loopback host (127.0.0.0/8, ::1, localhost); use s3:// for TLS")
	}
	sp.endpoint, sp.bucket = u.Host, bucket
	return sp, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
