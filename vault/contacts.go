package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Reporter contacts (docs/hotline.md 2.2). A contact a reporter gives is
// personal data of someone outside the vault: it is written to the custody
// log only sealed, as an age file encrypted to the vault's
// reporter-contacts key and to the offline recovery recipient. The key is
// an age X25519 identity kept in the keyring like a case key (sealed by
// the sealer, with a recovery copy), under a name no case id can take; it
// is created when the first contact arrives, and its recipient is recorded
// (reports.contacts.key) so that a swapped key is detected as a swapped
// case key is. Analysts' report views open contacts; nobody else's do.

// contactsKeyID names the reporter-contacts key in the keyring. Case ids
// start with a letter or digit, so it is never a case's.
const contactsKeyID = "~reporter-contacts"

// contactsRecipient returns the reporter-contacts key's recipient,
// creating the key (and recording it) on first use.
func (v *Vault) contactsRecipient(ctx context.Context) (string, error) {
	if r := v.state.contactsRecipient(); r != "" {
		return r, nil
	}
	v.openMu.Lock()
	defer v.openMu.Unlock()
	if r := v.state.contactsRecipient(); r != "" {
		return r, nil
	}
	recipient, files, err := v.keys.newCaseKey(ctx, contactsKeyID, v.recovery)
	if err != nil {
		return "", err
	}
	first := func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if ev.Type == TypeContactsKeyCreated {
				return sequencer.ErrNotYet
			}
		}
		if v.state.contactsRecipient() != "" {
			return fmt.Errorf("%w: the reporter-contacts key was created meanwhile", ErrConflict)
		}
		return nil
	}
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeContactsKeyCreated, Actor: System, Check: first,
		Data: ContactsKeyCreated{Recipient: recipient, Sealer: v.cfg.Sealer.KeyRef(), KeyFiles: files}}); err != nil {
		return "", err
	}
	return recipient, nil
}

// sealContact encrypts a contact to the reporter-contacts key and the
// recovery recipient, as base64 of the age file.
func (v *Vault) sealContact(ctx context.Context, contact string) (string, error) {
	r, err := v.contactsRecipient(ctx)
	if err != nil {
		return "", err
	}
	rcp, err := age.ParseX25519Recipient(r)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rcp, v.recovery)
	if err != nil {
		return "", err
	}
	io.WriteString(w, contact)
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// openContact decrypts a sealed contact with the reporter-contacts key,
// checked against its recorded recipient.
func (v *Vault) openContact(ctx context.Context, sealed string) (string, error) {
	want := v.state.contactsRecipient()
	if want == "" {
		return "", fmt.Errorf("%w: the log records no reporter-contacts key", ErrKey)
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("the sealed contact is not base64")
	}
	id, err := v.keys.caseIdentity(ctx, contactsKeyID, want)
	if err != nil {
		return "", err
	}
	r, err := age.Decrypt(bytes.NewReader(b), id)
	if err != nil {
		return "", err
	}
	c, err := io.ReadAll(io.LimitReader(r, MaxContactBytes+1))
	if err != nil {
		return "", err
	}
	if err := checkText("contact", string(c), MaxContactBytes, false, false); err != nil {
		return "", fmt.Errorf("the sealed contact does not hold a contact")
	}
	return strings.TrimSpace(string(c)), nil
}
