// Package logscrub keeps credentials out of the server's log: a
// slog.Handler that replaces anything shaped like a Custos bearer token
// ("cst_" and its base64url body) in the message and in every string
// attribute, including nested groups and errors, before the wrapped
// handler sees it. Credentials are held in secret types that never print
// (internal/secret, hsm.Secret); this is the second line, for a token
// that reaches a log inside some other text (a URL, an error message).
package logscrub

import (
	"context"
	"log/slog"
	"regexp"
)

// tokenPattern matches a bearer token: the "cst_" prefix vault tokens
// carry and at least 16 base64url characters.
var tokenPattern = regexp.MustCompile(`cst_[A-Za-z0-9_-]{16,}`)

// Redacted replaces every token in a log line.
const Redacted = "cst_[redacted]"

// Scrub returns s with every token replaced.
func Scrub(s string) string { return tokenPattern.ReplaceAllLiteralString(s, Redacted) }

// Handler wraps another handler.
type Handler struct{ next slog.Handler }

// New wraps next.
func New(next slog.Handler) *Handler { return &Handler{next: next} }

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = scrubAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(clean)}
}

func (h *Handler) WithGroup(name string) slog.Handler { return &Handler{next: h.next.WithGroup(name)} }

func scrubAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, x := range g {
			clean[i] = scrubAttr(x)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Scrub(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, Scrub(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
