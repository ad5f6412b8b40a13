package testenv

import "strings"

// NonCanonicalBase64 returns another spelling of the padded standard
// base64 s that Go's lenient decoder reads as the same bytes: the lowest
// unused bit of the character before the padding flipped (RFC 4648
// section 3.5 calls for those bits to be zero). s must end in "=".
func NonCanonicalBase64(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(s, '=') - 1
	if i < 0 {
		panic("testenv.NonCanonicalBase64: no padding, so no unused bits: " + s)
	}
	return s[:i] + string(alphabet[strings.IndexByte(alphabet, s[i])^1]) + s[i+1:]
}
