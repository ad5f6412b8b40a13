package tpm

import (
	"encoding/binary"
	"fmt"

	"github.com/custos-vault/custos/hsm"
)

// Blob layout (all integers big-endian):
//
//	magic     14 bytes  "custos-tpm-v1\x00"
//	version    2 bytes  KEK version (1 = SRK, N = persistent at base+N)
//	pcrs       4 bytes  bit i set = PCR i of the SHA-256 bank is in the
//	                    policy; 0 = password only
//	public     2-byte length + TPMT_PUBLIC of the sealed object, as the
//	                    TPM returned it (tpm2.Marshal of TPM2B_PUBLIC)
//	private    2-byte length + TPM2B_PRIVATE contents (integrity HMAC and
//	                    encrypted sensitive area, under the KEK's seed)
//	envelope   2-byte length + 12-byte nonce + AES-256-GCM ciphertext and
//	                    tag of the secret; length 0 when the secret is the
//	                    sealed object's data itself
//
// Nothing may follow. A TPM seals at most 128 bytes of data (MAX_SYM_DATA),
// so secrets up to 128 bytes (an age identity is 74) are the sealed data
// itself, and longer ones (up to hsm.MaxSecret) are encrypted with a fresh
// random 256-bit key that is the sealed data instead, with every byte of
// the blob before the envelope as associated data. The header fields are not authenticated here and
// need not be: a changed version names another parent (the TPM's
// integrity check fails), a changed PCR mask gives another policy digest
// (the TPM refuses the session), and the public area is bound to the
// private one by the TPM.
const magic = "custos-tpm-v1\x00"

type blob struct {
	version  int
	pcrs     uint32
	public   []byte
	private  []byte
	envelope []byte
}

// aad is what an envelope authenticates: the blob up to the envelope.
func (b blob) aad() []byte {
	e := encode(b)
	return e[:len(e)-2-len(b.envelope)]
}

func encode(b blob) []byte {
	out := make([]byte, 0, len(magic)+2+4+2+len(b.public)+2+len(b.private)+2+len(b.envelope))
	out = append(out, magic...)
	out = binary.BigEndian.AppendUint16(out, uint16(b.version))
	out = binary.BigEndian.AppendUint32(out, b.pcrs)
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.public)))
	out = append(out, b.public...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.private)))
	out = append(out, b.private...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.envelope)))
	return append(out, b.envelope...)
}

func decode(raw []byte) (blob, error) {
	bad := func(why string) (blob, error) {
		return blob{}, fmt.Errorf("tpm: %w: %s", hsm.ErrUnseal, why)
	}
	if len(raw) < len(magic)+2+4+2+2+2 || string(raw[:len(magic)]) != magic {
		return bad("not a TPM-sealed blob")
	}
	r := raw[len(magic):]
	b := blob{
		version: int(binary.BigEndian.Uint16(r)),
		pcrs:    binary.BigEndian.Uint32(r[2:]),
	}
	r = r[6:]
	if b.version < 1 || b.version > maxVersions {
		return bad(fmt.Sprintf("KEK version %d out of range", b.version))
	}
	if b.pcrs>>24 != 0 {
		return bad("PCR mask names PCRs above 23")
	}
	var ok bool
	if b.public, r, ok = field(r); !ok {
		return bad("truncated public area")
	}
	if b.private, r, ok = field(r); !ok {
		return bad("truncated private area")
	}
	if b.envelope, r, ok = field(r); !ok {
		return bad("truncated envelope")
	}
	if len(b.envelope) == 0 {
		b.envelope = nil
	}
	if len(r) != 0 || len(b.public) == 0 || len(b.private) == 0 {
		return bad("malformed blob")
	}
	return b, nil
}

func field(r []byte) (f, rest []byte, ok bool) {
	if len(r) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(r))
	if len(r) < 2+n {
		return nil, nil, false
	}
	return r[2 : 2+n], r[2+n:], true
}
