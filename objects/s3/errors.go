package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/custos-vault/custos/objects"
)

// errCode is the S3 error code of err, or "".
func errCode(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

// isLocked reports whether the server refused because of object lock.
// MinIO says InvalidRequest "Object is WORM protected..."; AWS says
// AccessDenied with a message about object lock.
func isLocked(err error) bool {
	var er minio.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	m := strings.ToLower(er.Message)
	return er.Code == "ObjectLocked" || strings.Contains(m, "worm protected") ||
		er.Code == "AccessDenied" && (strings.Contains(m, "object lock") ||
			strings.Contains(m, "legal hold") || strings.Contains(m, "retention"))
}

// fail turns a minio-go error into the objects package's errors, so
// callers can tell a missing object, an existing one, a locked one, an
// unreachable server and a cancelled call apart.
func (s *Store) fail(ctx context.Context, op, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("s3 objects: %s %s: %w", op, name, ctx.Err())
	}
	switch code := errCode(err); {
	case code == "NoSuchKey" || code == "NoSuchVersion":
		return fmt.Errorf("%s: %w", name, objects.ErrNotFound)
	case code == "PreconditionFailed":
		return fmt.Errorf("%s: %w", name, objects.ErrExists)
	case code == "NoSuchBucket":
		return fmt.Errorf("s3 objects: %s %s: bucket %q does not exist on %s", op, name, s.bucket, s.host)
	case isLocked(err):
		return fmt.Errorf("%s: %w", name, objects.ErrLocked)
	case code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch":
		return fmt.Errorf("s3 objects: %s %s: credentials refused by %s: %w", op, name, s.host, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL repeats the host and adds upload ids
	}
	var ne net.Error
	if ue != nil || errors.As(err, &ne) {
		return fmt.Errorf("object store unreachable at %s: %s %s: %w", s.host, op, name, err)
	}
	return fmt.Errorf("s3 objects: %s %s: %w", op, name, err)
}
