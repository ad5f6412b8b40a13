package vault

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestInvisibleAndSeparatorsRefused: every human-facing text refuses line
// and paragraph separators, default-ignorable and other invisible code
// points, and text that is blank on screen; what it accepts still
// includes ordinary text in any script.
func TestInvisibleAndSeparatorsRefused(t *testing.T) {
	bad := map[string]string{
		"line separator":             "line1\u2028APPROVED BY JUDGE",
		"paragraph separator":        "a\u2029b",
		"two Hangul fillers":         "\u3164\u3164",
		"Hangul choseong filler":     "a\u115Fb",
		"Hangul jungseong":           "a\u1160b",
		"halfwidth filler":           "a\uFFA0b",
		"grapheme joiner":            "a\u034Fb",
		"Mongolian selector":         "a\u180Bb",
		"Mongolian separator":        "a\u180Eb",
		"a selector first":           "\uFE0Fb",
		"a selector after space":     "a \uFE0F",
		"two selectors":              "\u2764\uFE0F\uFE0F",
		"selector 17 alone":          "\U000E0100",
		"zero-width space first":     "\u200bword",
		"zero-width space last":      "word\u200b",
		"two zero-width spaces":      "a\u200b\u200bb",
		"joiner after a space":       "a \u200db",
		"non-joiner alone":           "\u200c",
		"joiner before a line":       "a\u200d\nb",
		"zero-width in Latin":        "ph\u200boto",
		"selector after a letter":    "Op Hawk\uFE00",
		"emoji selector on a letter": "a\uFE0Fb",
		"direction mark in Latin":    "a\u200fb",
		// Marks between digits reorder them on a page: 16 read as 61.
		"direction marks in an age": "aged \u200f1\u200f6 (\u05d1\u05ea)",
		"direction mark in Arabic":  "\u0645\u0631\u062d\u0628\u0627\u200f 123",
		"carriage return":           "line one\r\nline two",
		"tag character":             "a\U000E0041b",
		"language tag":              "a\U000E0001b",
		"braille blank":             "\u2800",
		"word joiner":               "a\u2060b",
		"private use":               "a\uE000b",
		"unassigned":                "a\U000E0080b",
		"only spaces":               "\u00a0\u3000 ",
		"spaces and a mark":         " \u0301 ",
		"next line":                 "a\u0085b",
	}
	for what, s := range bad {
		for _, c := range []struct {
			field               string
			required, multiline bool
		}{{"title", true, false}, {"note", false, true}, {"court order", true, false}} {
			err := checkText(c.field, s, 1024, c.required, c.multiline)
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("%s %s (%+q) accepted: %v", c.field, what, s, err)
			}
			if err != nil && strings.IndexFunc(err.Error(), func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
				t.Errorf("%s: the message is not plain ASCII: %q", what, err)
			}
		}
		if checkFileName(s) == nil {
			t.Errorf("file name %s (%+q) accepted", what, s)
		}
	}
	// Writing in Khmer, Persian or Hindi, and emoji, need joiners and
	// variation selectors where they stand: a zero-width space between
	// two Khmer words, a non-joiner inside a Persian word, a joiner in a
	// family emoji or a Devanagari half form, U+FE0F after ❤ and in a
	// keycap, an ideographic variation selector after a Han character.
	for _, s := range []string{"Live-streamed abuse, Phnom Penh", "ឯកសារ 0001.jpg", "Café résumé", "日本語 ファイル", "a b", "e\u0301",
		"ខ្ញុំ\u200bស្រលាញ់\u200bអ្នក", "می\u200cخواهم", "👨\u200d👩\u200d👧", "क्\u200dष", "I \u2764\uFE0F you", "\u2764\uFE0F\u200d🔥", "1\uFE0F\u20E3", "葛\U000E0100城",
		// As a Khmer keyboard types: U+200B after each word, before the
		// sign khan, a space or the end.
		"ជនរងគ្រោះ\u200bបាន\u200bរាយការណ៍\u200b។\u200b សូម\u200bពិនិត្យ\u200b 🙏", "ពិនិត្យ\u200b"} {
		if err := checkText("title", s, 1024, true, false); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	if err := checkText("note", "line one\nline two\tend", 1024, false, true); err != nil {
		t.Errorf("multiline note refused: %v", err)
	}
	if err := checkText("note", "", 1024, false, true); err != nil {
		t.Errorf("an empty optional note refused: %v", err)
	}
}

// TestEchoedInputIsEscaped: messages that echo what the client sent show
// it in ASCII escapes (case ids, file names, item and package ids,
// recipients).
func TestEchoedInputIsEscaped(t *testing.T) {
	for _, err := range []error{
		checkCaseID("C\u2028\u3164\x1b[2J"),
		checkFileName("a/\u2028\u3164b"),
		checkPersonName("p\u202e"),
		badInput("item id %q is malformed", truncate("it_\u2029\u3164")),
		badInput("x %s y", truncate("\u3164\u2028")),
	} {
		msg := err.Error()
		for _, r := range msg {
			if r < 0x20 || r > 0x7e {
				t.Errorf("message %q carries %U raw", msg, r)
				break
			}
		}
	}
	if got := truncate(strings.Repeat("ឯ", 20)); len(string(got)) > 43 || strings.Contains(strings.TrimSuffix(string(got), "..."), "\ufffd") {
		t.Errorf("truncate cut a character: %q", string(got))
	}
}

// TestAbortWords: an access cut short is recorded in words a court reads,
// with how much of the file was sent, not as a raw network error.
func TestAbortWords(t *testing.T) {
	pipe := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
	for _, c := range []struct {
		why  error
		want string
	}{
		{pipe, "the reader's connection closed after 51347456 of 104857600 bytes: the reader did not receive the whole file"},
		{context.Canceled, "the reader's connection closed after 51347456 of 104857600 bytes"},
		{os.ErrDeadlineExceeded, "the reader's connection timed out after 51347456 of 104857600 bytes"},
		{errors.New("disk on fire"), "the transfer stopped after 51347456 of 104857600 bytes (disk on fire)"},
	} {
		if got := abortWords(c.why, "reader", 51347456, 104857600); !strings.HasPrefix(got, c.want) {
			t.Errorf("%v: %q, want %q", c.why, got, c.want)
		}
		if strings.Contains(abortWords(c.why, "reader", 1, 2), "127.0.0.1") {
			t.Errorf("%v: an address in the words", c.why)
		}
	}
}
