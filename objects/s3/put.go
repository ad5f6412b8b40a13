package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/custos-vault/custos/internal/ctxio"
	"github.com/custos-vault/custos/internal/readfull"
	"github.com/custos-vault/custos/objects"
)

const (
	checksumHeader = "X-Amz-Checksum-Sha256"
	maxParts       = 10000 // the S3 limit
)

// Put implements objects.Store.
//
// The parts are uploaded here rather than by minio-go's PutObject because
// minio-go sends If-None-Match only when it starts a multipart upload, not
// when it completes it: a writer finishing in between would then be
// replaced. The server checks If-None-Match at completion, under its
// lock on the name.
func (s *Store) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	if err := objects.ValidName(name); err != nil {
		return objects.Info{}, err
	}
	if _, err := s.Stat(ctx, name); err == nil {
		return objects.Info{}, fmt.Errorf("%s: %w", name, objects.ErrExists)
	} else if !errors.Is(err, objects.ErrNotFound) {
		return objects.Info{}, err
	}
	po := s.putOptions(opts)
	cr := ctxio.NewReader(ctx, r)
	buf := make([]byte, s.partSize)
	n, err := readfull.Read(cr, buf)
	switch {
	case err == io.EOF:
		return s.putSingle(ctx, name, buf[:n], po)
	case err != nil:
		return objects.Info{}, fmt.Errorf("s3 objects: reading %s: %w", name, err)
	}
	return s.putMultipart(ctx, name, cr, buf, po)
}

// putOptions sets COMPLIANCE retention (rounded up to the second, the
// precision S3 keeps) and forbids replacing an existing object.
func (s *Store) putOptions(opts objects.PutOptions) minio.PutObjectOptions {
	po := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	until := opts.RetainUntil
	if until.IsZero() && s.retention > 0 && !opts.Unlocked {
		until = time.Now().Add(s.retention)
	}
	if until.After(time.Now()) {
		po.Mode = minio.Compliance
		po.RetainUntilDate = until.Add(time.Second - 1).Truncate(time.Second).UTC()
	}
	po.SetMatchETagExcept("*")
	return po
}

// putSingle stores an object smaller than a part in one request.
func (s *Store) putSingle(ctx context.Context, name string, data []byte, po minio.PutObjectOptions) (objects.Info, error) {
	sum := sha256.Sum256(data)
	po.UserMetadata = map[string]string{checksumHeader: base64.StdEncoding.EncodeToString(sum[:])}
	// The payload hash goes in the signature instead of a second pass.
	po.DisableContentSha256 = true
	_, err := s.core.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)), "", hex.EncodeToString(sum[:]), po)
	if err != nil {
		return objects.Info{}, s.fail(ctx, "putting", name, err)
	}
	return objects.Info{Name: name, Size: int64(len(data))}, nil
}

// putMultipart uploads buf (already full) and the rest of r in parts,
// reusing buf, and aborts the upload on any failure so no parts linger.
func (s *Store) putMultipart(ctx context.Context, name string, r io.Reader, buf []byte, po minio.PutObjectOptions) (info objects.Info, err error) {
	init := po
	init.UserMetadata = map[string]string{"X-Amz-Checksum-Algorithm": "SHA256"}
	// Marked before the server is asked, so that a listing of unfinished
	// uploads made while it answers does not take it for someone else's.
	s.starting.Store(name, struct{}{})
	uploadID, err := s.core.NewMultipartUpload(ctx, s.bucket, name, init)
	if err != nil {
		s.starting.Delete(name)
		return objects.Info{}, s.fail(ctx, "starting upload of", name, err)
	}
	s.uploading.Store(uploadID, struct{}{})
	s.starting.Delete(name)
	defer s.uploading.Delete(uploadID)
	defer func() {
		if err != nil {
			// Abort even when ctx has ended; bounded so a dead server
			// cannot hold the caller. MinIO also expires stale uploads.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			s.core.AbortMultipartUpload(actx, s.bucket, name, uploadID)
		}
	}()

	// Two part buffers: while one part uploads, the next is read, so the
	// producer (the vault's encrypter) never waits for the network. The
	// parts upload one at a time, in order; memory stays at two parts.
	type part struct {
		num int
		buf []byte
		n   int
	}
	uploads := make(chan part)
	free := make(chan []byte, 2) // room for both, so the uploader never blocks
	free <- make([]byte, len(buf))
	type result struct {
		parts []minio.CompletePart
		err   error
	}
	done := make(chan result, 1)
	failed := make(chan struct{}) // closed on the first failed part
	go func() {
		var res result
		for p := range uploads {
			if res.err == nil {
				sum := sha256.Sum256(p.buf[:p.n])
				up, err := s.core.PutObjectPart(ctx, s.bucket, name, uploadID, p.num, bytes.NewReader(p.buf[:p.n]), int64(p.n),
					minio.PutObjectPartOptions{
						Sha256Hex:            hex.EncodeToString(sum[:]),
						CustomHeader:         http.Header{checksumHeader: {base64.StdEncoding.EncodeToString(sum[:])}},
						DisableContentSha256: true,
					})
				if err != nil {
					res.err = s.fail(ctx, fmt.Sprintf("uploading part %d of", p.num), name, err)
					close(failed)
				} else {
					res.parts = append(res.parts, minio.CompletePart{PartNumber: p.num, ETag: up.ETag, ChecksumSHA256: up.ChecksumSHA256})
				}
			}
			free <- p.buf
		}
		done <- res
	}()
	var total int64
	var readErr error
	n, last := len(buf), false
	for num := 1; ; num++ {
		uploads <- part{num, buf, n}
		total += int64(n)
		if last {
			break
		}
		buf = <-free
		if isClosed(failed) {
			break // the upload is lost: stop reading the caller's stream
		}
		var rerr error
		n, rerr = readfull.Read(r, buf)
		if rerr == io.EOF && n == 0 {
			break
		}
		if rerr == io.EOF {
			last = true
		} else if rerr != nil {
			readErr = fmt.Errorf("s3 objects: reading %s: %w", name, rerr)
			break
		}
		if num == maxParts {
			readErr = fmt.Errorf("s3 objects: %s is larger than %d parts of %d bytes", name, maxParts, len(buf))
			break
		}
	}
	close(uploads)
	res := <-done
	if readErr != nil {
		return objects.Info{}, readErr
	}
	if res.err != nil {
		return objects.Info{}, res.err
	}
	parts := res.parts

	var co minio.PutObjectOptions
	co.SetMatchETagExcept("*")
	if _, err := s.core.CompleteMultipartUpload(ctx, s.bucket, name, uploadID, parts, co); err != nil {
		return objects.Info{}, s.fail(ctx, "completing upload of", name, err)
	}
	return objects.Info{Name: name, Size: total}, nil
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
