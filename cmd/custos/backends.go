package main

import (
	"context"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstore"
)

// openLog opens the custody-log store a --log URL names.
func openLog(ctx context.Context, url string) (events.Store, error) {
	return logstore.Open(ctx, url, logstore.Options{})
}
