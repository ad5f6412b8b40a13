package vault

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// TypedURL is a web address as a member of the public types or pastes it
// into the report form, written as a browser would send it, so that the
// vault's strict check (CheckReportedURL: absolute, http, https or
// ftp, printable ASCII) takes what a browser's address bar shows:
//
//   - without a scheme ("example.com/page"), http:// is put before it,
//     as a browser's address bar assumes;
//   - a host in another script ("例え.jp") is given in its IDNA
//     (punycode) form, UTS #46 as golang.org/x/net/idna's Lookup profile
//     maps it;
//   - spaces and bytes outside printable ASCII elsewhere are
//     percent-encoded (RFC 3986 section 2.1), as UTF-8.
//
// Anything it cannot read as such an address it returns as typed, for the
// check to refuse in words (the public form's publicURLError).
func TypedURL(s string) string {
	s = strings.TrimSpace(s)
	typed := s
	if s == "" {
		return s
	}
	if !strings.Contains(s, "://") && looksLikeHost(s) {
		s = "http://" + s
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !isScheme(scheme) {
		return typed
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostport := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostport = authority[:i+1], authority[i+1:]
	}
	host, port := hostport, ""
	if i := strings.LastIndex(hostport, ":"); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i:]
	}
	if !printableASCII(host) {
		a, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return typed
		}
		host = a
	}
	return scheme + "://" + percentEncode(userinfo) + host + port + percentEncode(tail)
}

// looksLikeHost: s begins with what can only be a host name with a dot
// ("example.com", "例え.jp/x"), not a scheme ("mailto:x") or a path.
func looksLikeHost(s string) bool {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	h := s[:end]
	if i := strings.LastIndex(h, ":"); i >= 0 {
		if _, err := url.Parse("http://" + h); err != nil {
			return false
		}
		h = h[:i]
	}
	return strings.Contains(h, ".") && !strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '@' || r == '\\' }) && !strings.HasPrefix(h, ".")
}

// percentEncode encodes each byte of s that is a space, a control or
// outside ASCII; the rest stays as typed.
func percentEncode(s string) string {
	if printableASCII(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isScheme: s is a URI scheme's name (RFC 3986 section 3.1).
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
