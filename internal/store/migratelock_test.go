package store_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

// Replicas starting together on a fresh PostgreSQL schema all migrate at
// once: the advisory lock lets one apply the migrations while the others
// wait and then find nothing pending. Without it they race to create the
// same tables and goose's version table, and some fail.
func TestConcurrentMigratorsOnFreshSchema(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	const replicas = 6
	dbs := make([]*store.DB, replicas)
	for i := range dbs {
		db, err := store.Open(ctx, store.Options{DatabaseURL: url, MaxOpenConns: 2})
		if err != nil {
			t.Fatalf("open replica %d: %v", i, err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	start := make(chan struct{})
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			errs[i] = db.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Migrate: %v", i, err)
		}
	}
	for i, db := range dbs {
		if err := db.Ready(ctx); err != nil {
			t.Errorf("replica %d: Ready: %v", i, err)
		}
	}
	// Each shipped migration is recorded once: no replica applied one twice.
	var files int
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			files++
		}
	}
	var applied int
	if err := dbs[0].SQLX().GetContext(ctx, &applied, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`); err != nil {
		t.Fatal(err)
	}
	if applied != files {
		t.Errorf("goose_db_version has %d applied migrations, want %d (one per file)", applied, files)
	}
}
