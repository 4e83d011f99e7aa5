package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

func TestMigrateAndReady(t *testing.T) {
	ctx := context.Background()
	raw, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Ready(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Fatalf("Ready before Migrate: got %v, want ErrNotMigrated", err)
	}
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			if err := e.DB.Ready(ctx); err != nil {
				t.Fatalf("Ready after Migrate: %v", err)
			}
			if err := e.DB.Migrate(ctx); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
		})
	}
}
