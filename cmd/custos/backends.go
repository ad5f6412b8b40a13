package main

import (
	"context"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/stores"
)

// openLog opens the custody-log store a --log URL names.
func openLog(ctx context.Context, url string) (events.Store, error) {
	return stores.Open(ctx, url)
}
