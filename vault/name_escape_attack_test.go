package vault

import (
	"errors"
	"strings"
	"testing"
)

// TestFileNameEscapesCanonical: a name is accepted only in the one form
// EscapeName gives its bytes. An escape that spells a character shown as
// it is (a plain é, a zero-width space between two Khmer words) makes a
// look-alike of another name (café and caf\xc3\xa9 would be distinct
// items but the same file on disk), and a character that would not be
// seen, written plainly (a right-to-left override, a C1 control), makes
// a name read as another; both are refused. The same characters escaped
// are the recorded form of a seized file's name, and are accepted.
func TestFileNameEscapesCanonical(t *testing.T) {
	for _, name := range []string{
		`caf\xc3\xa9.txt`,      // "café.txt" in disguise
		`a\x41.txt`,            // "aA.txt"
		`ក\xe2\x80\x8bខ.jpg`,   // a zero-width space between two Khmer words is written as it is
		`\x2e\x2e`,             // ".." spelt in escapes
		`a\x2fb`,               // a '/' inside one component
		"invoice\u202efdp.exe", // an override written plainly
		"x\u009b2J.txt",        // a C1 control written plainly
		"a\u200b",              // a zero-width space out of place, written plainly
		"ph\u200boto.jpg",      // nor between Latin letters
		"photo\ufe00.jpg",      // a variation selector after a letter
		`\x20a`,                // a space that is shown as it is
	} {
		if err := checkFileName(name); err == nil {
			t.Errorf("checkFileName(%q) accepted; unescaped it is %q", name, UnescapeName(name))
		}
	}
	for raw, want := range map[string]string{
		"invoice\u202efdp.exe": `invoice\xe2\x80\xaefdp.exe`,
		"x\u009b2J.txt":        `x\xc2\x9b2J.txt`,
		"DCIM/\u0085/x.jpg":    `DCIM/\xc2\x85/x.jpg`,
		"line\nbreak.txt":      `line\x0abreak.txt`,
		"caf\xe9.txt":          `caf\xe9.txt`,
		"\xff\xfe":             `\xff\xfe`,
		`a\b`:                  `a\x5cb`,
		" ":                    `\x20`,
		"DCIM/\u3000/x.jpg":    `DCIM/\xe3\x80\x80/x.jpg`,
		"a\u200b":              `a\xe2\x80\x8b`,
		"❤️.jpg":               "❤️.jpg",
		"👨‍👩‍👧.jpg":            "👨‍👩‍👧.jpg",
		"ខ្ញុំ\u200bស្រលាញ់.jpg":       "ខ្ញុំ\u200bស្រលាញ់.jpg",
		"می\u200cخواهم.txt":            "می\u200cخواهم.txt",
		"\ufe0f.jpg":                   `\xef\xb8\x8f.jpg`,
		"ph\u200boto.jpg":              `ph\xe2\x80\x8boto.jpg`,
		"photo\ufe00.jpg":              `photo\xef\xb8\x80.jpg`,
		"a$\ufe0f.jpg":                 `a$\xef\xb8\x8f.jpg`,
		"..\ufe00":                     `..\xef\xb8\x80`,
		"ឯកសារ\u200b .jpg":             "ឯកសារ\u200b .jpg",
		"\u2800\u200d😀.jpg":            `\xe2\xa0\x80\xe2\x80\x8d😀.jpg`,
		"\U0001f3fb\ufe0f\u200d\u2764": "\U0001f3fb" + `\xef\xb8\x8f\xe2\x80\x8d` + "\u2764",
	} {
		got := EscapeName([]byte(raw))
		if got != want {
			t.Errorf("EscapeName(%+q) = %+q, want %+q", raw, got, want)
			continue
		}
		if err := checkFileName(got); err != nil {
			t.Errorf("checkFileName(%+q) (of %+q): %v", got, raw, err)
		}
		if back := string(UnescapeName(got)); back != raw {
			t.Errorf("UnescapeName(%+q) = %+q, want %+q", got, back, raw)
		}
	}
	// The limits are the file system's: a component of 255 bytes is
	// accepted however long its escaped form, one of 256 is not.
	for raw, ok := range map[string]bool{
		strings.Repeat("\xe9", 255):                 true,
		strings.Repeat("\u200b", 60) + "x":          true,
		strings.Repeat("ឯកសារ\u200b ", 11) + ".jpg": true,
		strings.Repeat("\xe9", 256):                 false,
		// NTFS, exFAT and HFS+ count UTF-16 units: 255 Khmer letters
		// are a name there (765 bytes), 256 are not.
		strings.Repeat("ក", 86) + ".jpg": true,
		strings.Repeat("ក", 255):         true,
		strings.Repeat("ក", 256):         false,
		// Five folders of 250 Latin-1 bytes: 1,266 bytes on disk,
		// 5,017 recorded.
		strings.Repeat(strings.Repeat("\xe9", 250)+"/", 5) + "a.jpg": true,
		strings.Repeat(strings.Repeat("a", 250)+"/", 17) + "a.jpg":   false,
	} {
		if err := checkFileName(EscapeName([]byte(raw))); (err == nil) != ok {
			t.Errorf("a name of %d bytes: %v", len(raw), err)
		}
	}
	// No file system names a file with a NUL byte: its escape is refused
	// in any component, as the hash list entries' is.
	for _, name := range []string{`\x00`, `DCIM/a\x00b.jpg`, `a\x00/b.jpg`} {
		if err := checkFileName(name); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("checkFileName(%q) = %v, want a refusal naming the NUL byte", name, err)
		}
	}
	// A client that sends a hidden character plainly is told how the
	// vault records it.
	err := checkFileName("invoice\u202efdp.exe")
	if err == nil || !strings.Contains(err.Error(), `\xHH`) {
		t.Errorf("a plain override: %v, want a message naming the escapes", err)
	}
}
