package logscrub

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestTokensNeverReachTheLog(t *testing.T) {
	const tok = "cst_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"
	var buf bytes.Buffer
	for _, base := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(New(base)).With("preset", "Bearer "+tok)
		u, _ := url.Parse("http://x/v1/items?token=" + tok)
		l.Info("request with "+tok,
			"header", "Authorization: Bearer "+tok,
			"err", errors.New("refused "+tok),
			"url", u,
			slog.Group("req", "auth", tok, slog.Group("inner", "t", tok)),
			"wrapped", fmt.Errorf("outer: %w", errors.New(tok)))
		l.WithGroup("g").Warn("x", "v", tok)
	}
	out := buf.String()
	if strings.Contains(out, tok) || strings.Contains(out, tok[4:]) {
		t.Fatalf("a token reached the log:\n%s", out)
	}
	if strings.Count(out, Redacted) < 16 {
		t.Fatalf("redactions missing:\n%s", out)
	}
}
