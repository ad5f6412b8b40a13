package tpm

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/custos-vault/custos/hsm"
)

// Seal implements hsm.Sealer: it creates a sealed data object holding the
// secret under the current KEK version.
func (s *Sealer) Seal(ctx context.Context, secret []byte) ([]byte, error) {
	if len(secret) > hsm.MaxSecret {
		return nil, hsm.ErrTooLarge
	}
	var out []byte
	err := s.with(ctx, func(t transport.TPM) error {
		if err := s.scan(t); err != nil {
			return err
		}
		b, err := s.seal(t, s.state.current, s.pcrs, secret)
		out = b
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Sealer) seal(t transport.TPM, v int, pcrs uint32, secret []byte) ([]byte, error) {
	p, err := s.parent(t, v)
	if err != nil {
		return nil, err
	}
	defer p.flush(t)
	tmpl := tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgKeyedHash,
		NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{
			FixedTPM:     true,
			FixedParent:  true,
			NoDA:         true,
			UserWithAuth: pcrs == 0, // with PCRs, only the policy authorises
		},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
			Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgNull},
		}),
	}
	if pcrs != 0 {
		digest, err := s.policyDigest(t, pcrs)
		if err != nil {
			return nil, err
		}
		tmpl.AuthPolicy = tpm2.TPM2BDigest{Buffer: digest}
	}
	// Up to maxSealedData bytes, the secret is the sealed data; beyond, a
	// fresh key is, and the secret goes in the envelope under it.
	var data []byte
	if len(secret) <= maxSealedData {
		data = bytes.Clone(secret)
	} else {
		data = make([]byte, 32)
		rand.Read(data)
	}
	defer hsm.Zero(data)
	// The data goes in as the first command parameter, encrypted under
	// a session key only the parent's private key can recover.
	sess := tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.Salted(p.handle, p.pub), tpm2.AESEncryption(128, tpm2.EncryptIn))
	rsp, err := tpm2.Create{
		ParentHandle: p.authHandle(sess),
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			UserAuth: tpm2.TPM2BAuth{Buffer: s.auth},
			Data:     tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: data}),
		}},
		InPublic: tpm2.New2B(tmpl),
	}.Execute(t)
	if err != nil {
		return nil, failed("failed to create the sealed object", err)
	}
	b := blob{
		version: v,
		pcrs:    pcrs,
		public:  rsp.OutPublic.Bytes(),
		private: rsp.OutPrivate.Buffer,
	}
	if len(secret) > maxSealedData {
		aead := gcm(data)
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		b.envelope = aead.Seal(nonce, nonce, secret, b.aad())
	}
	return encode(b), nil
}

// maxSealedData is the most a TPM seals directly (MAX_SYM_DATA).
const maxSealedData = 128

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// open returns the secret from what the TPM unsealed: the secret itself,
// or the key of the envelope.
func (b blob) open(data []byte) ([]byte, error) {
	if b.envelope == nil {
		return data, nil
	}
	defer hsm.Zero(data)
	if len(data) != 32 {
		return nil, fmt.Errorf("tpm: %w: envelope key has %d bytes", hsm.ErrUnseal, len(data))
	}
	aead := gcm(data)
	if len(b.envelope) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("tpm: %w: envelope too short", hsm.ErrUnseal)
	}
	nonce, ct := b.envelope[:aead.NonceSize()], b.envelope[aead.NonceSize():]
	secret, err := aead.Open(nil, nonce, ct, b.aad())
	if err != nil {
		return nil, fmt.Errorf("tpm: %w: envelope does not authenticate", hsm.ErrUnseal)
	}
	return secret, nil
}

// pcrSelection is the SHA-256 bank selection of the PCRs in mask.
func pcrSelection(mask uint32) tpm2.TPMLPCRSelection {
	var idx []uint
	for i := range uint(24) {
		if mask&(1<<i) != 0 {
			idx = append(idx, i)
		}
	}
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash:      tpm2.TPMAlgSHA256,
		PCRSelect: tpm2.PCClientCompatible.PCRs(idx...),
	}}}
}

// policy runs the sealed objects' policy in session h: the selected PCRs
// hold their values (an empty digest makes the TPM use the current ones)
// and the caller knows the auth value.
func policy(t transport.TPM, h tpm2.TPMISHPolicy, mask uint32) error {
	if _, err := (tpm2.PolicyPCR{PolicySession: h, Pcrs: pcrSelection(mask)}).Execute(t); err != nil {
		return err
	}
	_, err := tpm2.PolicyAuthValue{PolicySession: h}.Execute(t)
	return err
}

// policyDigest computes the policy over the current PCR values in a trial
// session.
func (s *Sealer) policyDigest(t transport.TPM, mask uint32) ([]byte, error) {
	sess, closeSess, err := tpm2.PolicySession(t, tpm2.TPMAlgSHA256, 16, tpm2.Trial())
	if err != nil {
		return nil, failed("failed to start a trial policy session", err)
	}
	defer closeSess()
	if err := policy(t, sess.Handle(), mask); err != nil {
		return nil, failed("failed to compute the PCR policy", err)
	}
	rsp, err := tpm2.PolicyGetDigest{PolicySession: sess.Handle()}.Execute(t)
	if err != nil {
		return nil, failed("failed to read the PCR policy", err)
	}
	return rsp.PolicyDigest.Buffer, nil
}

// Unseal implements hsm.Sealer.
func (s *Sealer) Unseal(ctx context.Context, raw []byte) (hsm.Secret, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	b, err := decode(raw)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = s.with(ctx, func(t transport.TPM) error {
		if err := s.scan(t); err != nil {
			return err
		}
		secret, err := s.unseal(t, b)
		out = secret
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Sealer) unseal(t transport.TPM, b blob) ([]byte, error) {
	if !s.state.usable(b.version) {
		return nil, fmt.Errorf("tpm: %w: KEK version %d is retired or not in this TPM", hsm.ErrUnseal, b.version)
	}
	p, err := s.parent(t, b.version)
	if err != nil {
		return nil, err
	}
	defer p.flush(t)
	loaded, err := tpm2.Load{
		ParentHandle: p.authHandle(tpm2.PasswordAuth(nil)),
		InPrivate:    tpm2.TPM2BPrivate{Buffer: b.private},
		InPublic:     tpm2.BytesAs2B[tpm2.TPMTPublic](b.public),
	}.Execute(t)
	if err != nil {
		return nil, refused("failed to load the sealed object", err)
	}
	defer tpm2.FlushContext{FlushHandle: loaded.ObjectHandle}.Execute(t)

	// The secret comes back encrypted under a session key salted to the
	// parent, so it does not cross the bus in clear.
	opts := []tpm2.AuthOption{tpm2.Auth(s.auth), tpm2.Salted(p.handle, p.pub), tpm2.AESEncryption(128, tpm2.EncryptOut)}
	var sess tpm2.Session
	if b.pcrs == 0 {
		sess = tpm2.HMAC(tpm2.TPMAlgSHA256, 16, opts...)
	} else {
		mask := b.pcrs
		sess = tpm2.Policy(tpm2.TPMAlgSHA256, 16, func(t transport.TPM, h tpm2.TPMISHPolicy, _ tpm2.TPM2BNonce) error {
			return policy(t, h, mask)
		}, opts...)
	}
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: loaded.ObjectHandle, Name: loaded.Name, Auth: sess}}.Execute(t)
	if err != nil {
		return nil, refused("the TPM refused to unseal", err)
	}
	return b.open(rsp.OutData.Buffer)
}

// Rewrap implements hsm.Rewrapper. A TPM cannot move a FixedParent object
// to another parent, so the secret is unsealed and sealed again under the
// current version, in this process's memory, and zeroed at once.
func (s *Sealer) Rewrap(ctx context.Context, raw []byte) ([]byte, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	b, err := decode(raw)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = s.with(ctx, func(t transport.TPM) error {
		if err := s.scan(t); err != nil {
			return err
		}
		secret, err := s.unseal(t, b)
		if err != nil {
			return err
		}
		defer hsm.Zero(secret)
		out, err = s.seal(t, s.state.current, b.pcrs, secret)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
