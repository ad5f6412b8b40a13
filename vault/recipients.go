package vault

import (
	"strings"

	"filippo.io/age"
)

// MaxRecipientLen is the longest package recipient accepted, in bytes. A
// hybrid post-quantum recipient (age1pq1...) is 1,959 characters; an
// X25519 one (age1...) is 62.
const MaxRecipientLen = 2048

// supportedRecipients says what SetRecipient accepts, for its refusals.
const supportedRecipients = "Custos seals packages to age X25519 recipients (age1..., from age-keygen) " +
	"and hybrid post-quantum recipients (age1pq1..., from age-keygen -pq)"

// parsePackageRecipient parses a prosecutor's or defence counsel's
// package recipient: an age X25519 recipient (age1...) or a hybrid
// post-quantum one (age1pq1..., ML-KEM-768 with X25519), in either case,
// with surrounding white space and a byte-order mark ignored. It returns
// the recipient and its canonical (lower-case) form. SSH keys, age
// plugin and tagged recipients (age1NAME1...), and anything else are
// refused with ErrBadInput, saying what is supported.
func parsePackageRecipient(s string) (age.Recipient, string, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "\uFEFF"))
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return nil, "", badInput("no recipient given; %s", supportedRecipients)
	case strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "sk-ssh-") || strings.HasPrefix(s, "ecdsa-sha2-") || strings.HasPrefix(s, "sk-ecdsa-"):
		return nil, "", badInput("SSH keys are not supported as package recipients; %s", supportedRecipients)
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
		return nil, "", badInput("that is a secret key (AGE-SECRET-KEY-...), which must never leave your machine: give its recipient instead (age-keygen -y FILE prints it); %s", supportedRecipients)
	case !strings.HasPrefix(lower, "age1"):
		return nil, "", badInput("recipient %q is not an age recipient; %s", truncate(s), supportedRecipients)
	case len(s) > MaxRecipientLen:
		return nil, "", badInput("recipient is %d bytes, longer than any supported one (%d at most); %s", len(s), MaxRecipientLen, supportedRecipients)
	}
	if strings.HasPrefix(lower, "age1pq1") {
		r, err := age.ParseHybridRecipient(lower)
		if err != nil {
			return nil, "", badInput("recipient %q is not an age hybrid post-quantum recipient: a character is wrong, missing or extra; %s", truncate(s), supportedRecipients)
		}
		return r, r.String(), nil
	}
	// age1NAME1...: the part before the last 1 is the type; "age" alone
	// is X25519, anything longer names a plugin (or a tagged recipient,
	// age1tag1..., whose identity lives in hardware behind a plugin).
	if hrp := lower[:strings.LastIndexByte(lower, '1')]; hrp != "age" {
		return nil, "", badInput("recipient %q is for the age plugin %q, whose identity needs a plugin program to decrypt; %s", truncate(s), strings.TrimPrefix(hrp, "age1"), supportedRecipients)
	}
	r, err := age.ParseX25519Recipient(lower)
	if err != nil {
		return nil, "", badInput("recipient %q is not an age X25519 recipient: a character is wrong, missing or extra; %s", truncate(s), supportedRecipients)
	}
	return r, r.String(), nil
}
