package pkcs11

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/secret"
	"net/url"
	"os"
	"strings"
)

// URI is the part of an RFC 7512 PKCS#11 URI that selects a KEK:
//
//	pkcs11:token=LABEL;object=KEK?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=FILE
//
// Path attributes (before '?', separated by ';') select the token and the
// object; query attributes (after '?', separated by '&') say how to reach
// them. Values are percent-decoded. Attributes that would select something
// this package cannot honour (a slot id, a key type other than a secret
// key) are refused rather than ignored, so a URI never silently means less
// than it says.
type URI struct {
	Token        string        // token label (path attribute "token")
	Serial       string        // token serial number, optional ("serial")
	Manufacturer string        // optional ("manufacturer")
	Model        string        // optional ("model")
	Object       string        // KEK label ("object")
	ModulePath   string        // query attribute "module-path"
	PINSource    string        // query attribute "pin-source": a file path or file: URI
	PINValue     secret.String // query attribute "pin-value"; prefer pin-source
}

// ParseURI parses an RFC 7512 URI naming a secret-key object in a token.
func ParseURI(raw string) (*URI, error) {
	rest, ok := strings.CutPrefix(raw, "pkcs11:")
	if !ok {
		return nil, errors.New("pkcs11: URI does not start with \"pkcs11:\"")
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &URI{}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(path, ";") {
		if part == "" {
			continue
		}
		name, value, err := attribute(part)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("pkcs11: URI repeats path attribute %q", name)
		}
		seen[name] = true
		switch name {
		case "token":
			u.Token = value
		case "object":
			u.Object = value
		case "serial":
			u.Serial = value
		case "manufacturer":
			u.Manufacturer = value
		case "model":
			u.Model = value
		case "type":
			if value != "secret-key" {
				return nil, fmt.Errorf("pkcs11: URI type=%s: the KEK is a secret key (type=secret-key)", value)
			}
		case "id", "library-description", "library-manufacturer", "library-version", "slot-description", "slot-id", "slot-manufacturer":
			return nil, fmt.Errorf("pkcs11: URI attribute %q is not supported: select the token by label and the KEK by object label", name)
		default:
			return nil, fmt.Errorf("pkcs11: unknown URI path attribute %q", name)
		}
	}
	if query != "" {
		for part := range strings.SplitSeq(query, "&") {
			if part == "" {
				continue
			}
			name, value, err := attribute(part)
			if err != nil {
				return nil, err
			}
			if seen["?"+name] {
				return nil, fmt.Errorf("pkcs11: URI repeats query attribute %q", name)
			}
			seen["?"+name] = true
			switch name {
			case "module-path":
				u.ModulePath = value
			case "pin-source":
				u.PINSource = value
			case "pin-value":
				u.PINValue = secret.New(value)
			case "module-name":
				return nil, errors.New("pkcs11: URI module-name is not supported: give module-path")
			default:
				return nil, fmt.Errorf("pkcs11: unknown URI query attribute %q", name)
			}
		}
	}
	switch {
	case u.Token == "":
		return nil, errors.New("pkcs11: URI names no token (token=LABEL)")
	case u.Object == "":
		return nil, errors.New("pkcs11: URI names no KEK object (object=LABEL)")
	case u.ModulePath == "":
		return nil, errors.New("pkcs11: URI names no module (?module-path=/path/to/module.so)")
	case u.PINSource != "" && !u.PINValue.Empty():
		return nil, errors.New("pkcs11: URI gives both pin-source and pin-value")
	}
	return u, nil
}

func attribute(part string) (name, value string, err error) {
	name, raw, ok := strings.Cut(part, "=")
	if !ok || name == "" {
		return "", "", fmt.Errorf("pkcs11: URI attribute %q is not name=value", part)
	}
	value, err = url.PathUnescape(raw)
	if err != nil {
		return "", "", fmt.Errorf("pkcs11: URI attribute %q: bad percent-encoding", name)
	}
	return name, value, nil
}

// PIN returns the user PIN the URI points to, read from pin-source (a
// path or a file: URI, one trailing newline removed) or taken from
// pin-value. The caller zeroes it after logging in. An empty result means
// the URI gives no PIN.
func (u *URI) PIN() (hsm.Secret, error) {
	if !u.PINValue.Empty() {
		return []byte(u.PINValue.Reveal()), nil
	}
	if u.PINSource == "" {
		return nil, nil
	}
	path := u.PINSource
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		p, err := url.Parse("file:" + rest)
		if err != nil || (p.Host != "" && p.Host != "localhost") {
			return nil, fmt.Errorf("pkcs11: pin-source %q is not a local file", u.PINSource)
		}
		path = p.Path
		if path == "" {
			path = p.Opaque
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: failed to read pin-source: %w", err)
	}
	pin := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	out := bytes.Clone(pin)
	clear(b)
	return out, nil
}

// String gives the URI without its PIN, fit for logs and custody events.
func (u *URI) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:token=" + url.PathEscape(u.Token))
	if u.Serial != "" {
		b.WriteString(";serial=" + url.PathEscape(u.Serial))
	}
	b.WriteString(";object=" + url.PathEscape(u.Object))
	return b.String()
}
