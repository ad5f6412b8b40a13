package tpm

import (
	"context"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/custos-vault/custos/hsm"
)

// versions is what the TPM's persistent handles say about KEK versions.
type versions struct {
	persistent map[int]bool // versions persistent at base+v
	current    int
}

// usable reports whether blobs of version v may be opened: a persistent
// version, or version 1 (the re-derived SRK) as long as it was never
// retired, that is, while no version is persistent or version 1 is.
func (vs versions) usable(v int) bool {
	if v == 1 {
		return len(vs.persistent) == 0 || vs.persistent[1]
	}
	return vs.persistent[v]
}

// scan reads the persistent handles in the sealer's range.
func (s *Sealer) scan(t transport.TPM) error {
	rsp, err := tpm2.GetCapability{
		Capability:    tpm2.TPMCapHandles,
		Property:      uint32(s.base) + 1,
		PropertyCount: maxVersions,
	}.Execute(t)
	if err != nil {
		return failed("failed to list persistent handles", err)
	}
	hs, err := rsp.CapabilityData.Data.Handles()
	if err != nil {
		return fmt.Errorf("tpm: failed to read the handle list: %w", err)
	}
	vs := versions{persistent: map[int]bool{}, current: 1}
	for _, h := range hs.Handle {
		v := int(h) - int(s.base)
		if v < 1 || v > maxVersions {
			continue
		}
		vs.persistent[v] = true
		vs.current = max(vs.current, v)
	}
	s.state = vs
	return nil
}

// parentKey is a loaded storage key: the SRK (transient, to flush) or a
// persistent KEK version.
type parentKey struct {
	handle    tpm2.TPMHandle
	name      tpm2.TPM2BName
	pub       tpm2.TPMTPublic
	transient bool
}

func (p parentKey) flush(t transport.TPM) {
	if p.transient {
		tpm2.FlushContext{FlushHandle: p.handle}.Execute(t)
	}
}

func (p parentKey) authHandle(sess tpm2.Session) tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: p.handle, Name: p.name, Auth: sess}
}

// parent loads KEK version v. For version 1 that is the SRK, persistent
// at base+1 once rotated from, otherwise derived afresh.
func (s *Sealer) parent(t transport.TPM, v int) (parentKey, error) {
	if v == 1 && !s.state.persistent[1] {
		return s.srk(t)
	}
	h := s.base + tpm2.TPMHandle(v)
	rsp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(t)
	if err != nil {
		return parentKey{}, refused(fmt.Sprintf("KEK version %d is not in this TPM", v), err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		return parentKey{}, fmt.Errorf("tpm: KEK version %d: %w", v, err)
	}
	return parentKey{handle: h, name: rsp.Name, pub: *pub}, nil
}

// srk derives the owner hierarchy's ECC storage root key.
func (s *Sealer) srk(t transport.TPM) (parentKey, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(s.owner)},
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(t)
	if err != nil {
		return parentKey{}, failed("failed to create the storage root key", err)
	}
	p := parentKey{handle: rsp.ObjectHandle, name: rsp.Name, transient: true}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		p.flush(t)
		return parentKey{}, fmt.Errorf("tpm: storage root key: %w", err)
	}
	p.pub = *pub
	return p, nil
}

// Rotate implements hsm.Rotator: it creates the next KEK version as a
// TPM-generated storage key under the SRK and makes it persistent. When
// rotating away from version 1, the SRK is made persistent at base+1 too,
// which marks version 1 as still in use until RetireOld.
func (s *Sealer) Rotate(ctx context.Context) (string, error) {
	err := s.with(ctx, func(t transport.TPM) error {
		if err := s.scan(t); err != nil {
			return err
		}
		next := s.state.current + 1
		if next > maxVersions {
			return fmt.Errorf("tpm: no KEK version after %d in this handle range", s.state.current)
		}
		srk, err := s.srk(t)
		if err != nil {
			return err
		}
		defer srk.flush(t)
		if s.state.current == 1 && !s.state.persistent[1] && s.state.usable(1) {
			if err := s.persist(t, srk.handle, srk.name, 1); err != nil {
				return err
			}
		}
		tmpl := tpm2.ECCSRKTemplate // a storage key: restricted, decrypt, AES-128-CFB
		created, err := tpm2.Create{
			ParentHandle: srk.authHandle(tpm2.PasswordAuth(nil)),
			InPublic:     tpm2.New2B(tmpl),
		}.Execute(t)
		if err != nil {
			return failed("failed to create a new KEK", err)
		}
		defer hsm.Zero(created.OutPrivate.Buffer)
		loaded, err := tpm2.Load{
			ParentHandle: srk.authHandle(tpm2.PasswordAuth(nil)),
			InPrivate:    created.OutPrivate,
			InPublic:     created.OutPublic,
		}.Execute(t)
		if err != nil {
			return failed("failed to load the new KEK", err)
		}
		defer tpm2.FlushContext{FlushHandle: loaded.ObjectHandle}.Execute(t)
		if err := s.persist(t, loaded.ObjectHandle, loaded.Name, next); err != nil {
			return err
		}
		if err := s.scan(t); err != nil {
			return err
		}
		_, err = s.kekName(t, s.state.current)
		return err
	})
	if err != nil {
		return "", err
	}
	return s.KeyRef(), nil
}

func (s *Sealer) persist(t transport.TPM, h tpm2.TPMHandle, name tpm2.TPM2BName, v int) error {
	_, err := tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(s.owner)},
		ObjectHandle:     tpm2.NamedHandle{Handle: h, Name: name},
		PersistentHandle: s.base + tpm2.TPMHandle(v),
	}.Execute(t)
	if err != nil {
		return failed(fmt.Sprintf("failed to make KEK version %d persistent", v), err)
	}
	return nil
}

// RetireOld implements hsm.Rotator: it evicts every persistent KEK version
// older than the current one. Evicting version 2 or later destroys it;
// evicting the persistent copy of version 1 (the SRK) makes this sealer
// refuse version-1 blobs from then on.
func (s *Sealer) RetireOld(ctx context.Context) error {
	return s.with(ctx, func(t transport.TPM) error {
		if err := s.scan(t); err != nil {
			return err
		}
		for v := range s.state.persistent {
			if v >= s.state.current {
				continue
			}
			h := s.base + tpm2.TPMHandle(v)
			rsp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(t)
			if err != nil {
				return failed(fmt.Sprintf("failed to read KEK version %d", v), err)
			}
			_, err = tpm2.EvictControl{
				Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(s.owner)},
				ObjectHandle:     tpm2.NamedHandle{Handle: h, Name: rsp.Name},
				PersistentHandle: h,
			}.Execute(t)
			if err != nil {
				return failed(fmt.Sprintf("failed to evict KEK version %d", v), err)
			}
			delete(s.names, v)
		}
		return s.scan(t)
	})
}
