package s3

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/custos-vault/custos/objects"
)

// The bucket is versioned (object lock needs it), and whoever holds write
// credentials can still put a newer version over a name or hide it behind
// a delete marker; only the versions themselves are locked. So the object
// a name stands for is its original version, the one Put wrote: Open,
// Stat, List and SetLegalHold use it, and newer versions or delete markers
// change nothing the vault sees.

// original returns the oldest version of name that is not a delete marker.
func (s *Store) original(ctx context.Context, name string) (minio.ObjectInfo, error) {
	var found minio.ObjectInfo
	ok := false
	for oi := range s.versions(ctx, name) {
		if oi.Err != nil {
			return minio.ObjectInfo{}, s.fail(ctx, "listing versions of", name, oi.Err)
		}
		// Versions come newest first: the last one seen is the oldest.
		if oi.Key == name && !oi.IsDeleteMarker {
			found, ok = oi, true
		}
	}
	if !ok {
		return minio.ObjectInfo{}, fmt.Errorf("%s: %w", name, objects.ErrNotFound)
	}
	return found, nil
}

func (s *Store) versions(ctx context.Context, prefix string) <-chan minio.ObjectInfo {
	return s.listVersions(ctx, prefix, false)
}

// listVersions lists every version of the keys under prefix; with
// metadata, each with its tags and metadata (a MinIO extension of the
// listing; other servers answer without them).
func (s *Store) listVersions(ctx context.Context, prefix string, metadata bool) <-chan minio.ObjectInfo {
	return s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, WithVersions: true, Recursive: true, WithMetadata: metadata})
}

// Open implements objects.Store.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := objects.ValidName(name); err != nil {
		return nil, err
	}
	v, err := s.original(ctx, name)
	if err != nil {
		return nil, err
	}
	obj, err := s.core.Client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{VersionID: v.VersionID})
	if err != nil {
		return nil, s.fail(ctx, "opening", name, err)
	}
	// GetObject is lazy: Stat sends the request, so a failure is reported
	// here rather than on the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.fail(ctx, "opening", name, err)
	}
	return obj, nil
}

// Stat implements objects.Store.
func (s *Store) Stat(ctx context.Context, name string) (objects.Info, error) {
	if err := objects.ValidName(name); err != nil {
		return objects.Info{}, err
	}
	v, err := s.original(ctx, name)
	if err != nil {
		return objects.Info{}, err
	}
	return objects.Info{Name: name, Size: v.Size}, nil
}

// ListForeign implements objects.ForeignLister: every key whose name no
// object can have (each version), every version of an object's name
// newer than its original (what the vault reads), and every key that
// holds delete markers only (the store's Delete removes every version,
// so only someone else leaves one, and its name can carry bytes): what
// someone with write credentials put there, out of sight of List. A
// newer version is named "<name> (version <id>)". An object whose
// original carries tags or user metadata is listed under its name
// (tagsForeign), where the server lists them (MinIO does), and every
// unfinished multipart upload but those Put is making, as "<name>
// (unfinished upload <id>)".
func (s *Store) ListForeign(ctx context.Context, fn func(entry, why string) error) error {
	err := s.eachKeyOf(ctx, "", true, func(key string, held []minio.ObjectInfo, markers int) error {
		switch {
		case !objects.IsValidName(key):
			return fn(objects.EntryName(key), "a name no object can have")
		case len(held) == 0:
			return fn(key, "a key of delete markers only: the store's Delete leaves none")
		}
		for _, v := range held[:len(held)-1] {
			if err := fn(fmt.Sprintf("%s (version %s)", key, v.VersionID), "a version written over an object: the store never writes one"); err != nil {
				return err
			}
		}
		if why := tagsForeign(held[len(held)-1]); why != "" {
			return fn(key, why)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Unfinished multipart uploads: their parts hold bytes no listing of
	// objects shows, until the server expires them.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for u := range s.core.Client.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			return s.fail(ctx, "listing unfinished uploads in", s.bucket, u.Err)
		}
		if _, ours := s.uploading.Load(u.UploadID); ours {
			continue
		}
		if _, starting := s.starting.Load(u.Key); starting {
			continue // a Put of that name is starting its upload
		}
		if err := fn(fmt.Sprintf("%s (unfinished upload %s)", objects.EntryName(u.Key), u.UploadID),
			"an unfinished multipart upload this server is not making: a deposit cut short by a crash leaves one until the server expires it (MinIO: after a day); anything else, someone with the bucket's credentials started"); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// List implements objects.Store. Keys that are not valid object names
// (put there by something other than the vault) are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	return s.eachKey(ctx, prefix, func(key string, held []minio.ObjectInfo, _ int) error {
		if objects.ValidName(key) != nil || len(held) == 0 {
			return nil
		}
		return fn(objects.Info{Name: key, Size: held[len(held)-1].Size}) // the original
	})
}

// eachKey calls fn once for each key whose name starts with prefix, with
// the versions that hold bytes (newest first, so the last is the
// original, what the vault reads) and the number of delete markers,
// once the key's listing has ended. fn's error ends the listing (and
// minio-go's listing goroutine) and is returned.
func (s *Store) eachKey(ctx context.Context, prefix string, fn func(key string, held []minio.ObjectInfo, markers int) error) error {
	return s.eachKeyOf(ctx, prefix, false, fn)
}

// tagsForeign says what the original version of an object (the vault's)
// carries that the store never writes ("" if nothing): tags, which
// anyone allowed to tag can add to a locked version, each up to 384
// bytes of anything, ten an object, unseen by its hash; user metadata;
// and standard headers the store does not set (a content type other
// than its own, cache, disposition, encoding, language, expiry). Only a server that lists them says (MinIO does, listing with
// metadata); the names are listed, never the values.
func tagsForeign(v minio.ObjectInfo) string {
	var names []string
	for k := range v.UserTags {
		names = append(names, strconv.Quote(k))
	}
	for k, val := range v.UserMetadata {
		switch lk := strings.ToLower(k); {
		case strings.HasPrefix(lk, "x-amz-meta-"),
			// Standard headers the store never sets, which an object
			// written without retention (a key replica, a head copy)
			// can have rewritten in place by a copy onto itself.
			lk == "cache-control", lk == "content-disposition", lk == "content-encoding", lk == "content-language", lk == "expires",
			lk == "content-type" && val != "application/octet-stream":
			names = append(names, strconv.Quote(k))
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return "tags or metadata the store never writes: " + strings.Join(names, ", ")
}

// eachKeyOf is eachKey, listing with metadata if asked (listVersions).
func (s *Store) eachKeyOf(ctx context.Context, prefix string, metadata bool, fn func(key string, held []minio.ObjectInfo, markers int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	key, markers := "", 0
	var held []minio.ObjectInfo
	flush := func() error {
		vs, m := held, markers
		held, markers = nil, 0
		if len(vs) == 0 && m == 0 {
			return nil
		}
		return fn(key, vs, m)
	}
	for oi := range s.listVersions(ctx, prefix, metadata) {
		if oi.Err != nil {
			return s.fail(ctx, "listing", prefix, oi.Err)
		}
		if oi.Key != key {
			if err := flush(); err != nil {
				return err
			}
			key = oi.Key
		}
		if oi.IsDeleteMarker {
			markers++
		} else {
			held = append(held, oi)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return flush()
}

// Delete implements objects.Store. A plain S3 delete would only put a
// delete marker over the object: Delete removes every version of the
// name, oldest first, so a refusal leaves what Open returns unchanged.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := objects.ValidName(name); err != nil {
		return err
	}
	var all []minio.ObjectInfo
	live := false
	for oi := range s.versions(ctx, name) {
		if oi.Err != nil {
			return s.fail(ctx, "listing versions of", name, oi.Err)
		}
		if oi.Key == name {
			all = append(all, oi)
			live = live || !oi.IsDeleteMarker
		}
	}
	if !live {
		return fmt.Errorf("%s: %w", name, objects.ErrNotFound)
	}
	for i := len(all) - 1; i >= 0; i-- {
		err := s.core.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{VersionID: all[i].VersionID})
		if err != nil {
			return s.fail(ctx, "deleting", name, err)
		}
	}
	return nil
}

// SetLegalHold implements objects.Store, on the original version.
func (s *Store) SetLegalHold(ctx context.Context, name string, on bool) error {
	if err := objects.ValidName(name); err != nil {
		return err
	}
	v, err := s.original(ctx, name)
	if err != nil {
		return err
	}
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	err = s.core.PutObjectLegalHold(ctx, s.bucket, name, minio.PutObjectLegalHoldOptions{VersionID: v.VersionID, Status: &status})
	if err != nil {
		return s.fail(ctx, "setting legal hold on", name, err)
	}
	return nil
}

// Lock implements objects.LockReader on the original version: its
// legal hold and its retention date, as the store reports them.
func (s *Store) Lock(ctx context.Context, name string) (objects.Lock, error) {
	if err := objects.ValidName(name); err != nil {
		return objects.Lock{}, err
	}
	v, err := s.original(ctx, name)
	if err != nil {
		return objects.Lock{}, err
	}
	var l objects.Lock
	hold, err := s.core.GetObjectLegalHold(ctx, s.bucket, name, minio.GetObjectLegalHoldOptions{VersionID: v.VersionID})
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchObjectLockConfiguration" {
		return objects.Lock{}, s.fail(ctx, "reading the legal hold of", name, err)
	}
	l.LegalHold = err == nil && hold != nil && *hold == minio.LegalHoldEnabled
	_, until, err := s.core.GetObjectRetention(ctx, s.bucket, name, v.VersionID)
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchObjectLockConfiguration" {
		return objects.Lock{}, s.fail(ctx, "reading the retention of", name, err)
	}
	if err == nil && until != nil {
		l.RetainUntil = until.UTC()
	}
	return l, nil
}

// ExtendRetention implements objects.Store on the original version, in
// COMPLIANCE mode (MinIO refuses to shorten it).
func (s *Store) ExtendRetention(ctx context.Context, name string, until time.Time) error {
	if err := objects.ValidName(name); err != nil {
		return err
	}
	v, err := s.original(ctx, name)
	if err != nil {
		return err
	}
	if _, current, err := s.core.GetObjectRetention(ctx, s.bucket, name, v.VersionID); err == nil && current != nil && !until.After(*current) {
		return nil
	}
	mode := minio.Compliance
	date := until.Add(time.Second - 1).Truncate(time.Second).UTC()
	err = s.core.PutObjectRetention(ctx, s.bucket, name, minio.PutObjectRetentionOptions{VersionID: v.VersionID, Mode: &mode, RetainUntilDate: &date})
	if err != nil {
		return s.fail(ctx, "extending the retention of", name, err)
	}
	return nil
}
