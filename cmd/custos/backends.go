package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
)

// openLog opens the custody-log store a --log URL names.
func openLog(ctx context.Context, url string) (events.Store, error) {
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		return sqlite.New(ctx, sqlite.Config{Path: path})
	}
	return nil, fmt.Errorf("unsupported custody log %q (sqlite:PATH)", url)
}
