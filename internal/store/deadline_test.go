package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

// waitBound is how long a test waits for something that must happen: the
// time left before the test's own deadline, less a margin to report it.
func waitBound(t *testing.T) time.Duration {
	if d, ok := t.Deadline(); ok {
		return time.Until(d) * 9 / 10
	}
	return time.Minute
}

// TestStatementEndsWithRequest: a statement that would run forever ends
// when its request's context does, on both engines: SQLite through the
// driver's interrupt, PostgreSQL through a cancel request the server acts
// on (the backend stops, not only our end of the connection).
func TestStatementEndsWithRequest(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := storetest.SQLite(t)
		// Counts forever: only an interrupt stops it.
		const forever = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			var n int64
			errc <- db.SQLX().GetContext(ctx, &n, forever)
		}()
		select {
		case err := <-errc:
			if err == nil {
				t.Fatal("an endless statement returned without error")
			}
		case <-time.After(waitBound(t)):
			t.Fatal("the statement outlived its context: the driver does not interrupt")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db := storetest.Postgres(t)
		var b [6]byte
		_, _ = rand.Read(b[:])
		marker := "mt_cancel_" + hex.EncodeToString(b[:])
		admin, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		running := func() int {
			var n int
			if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, marker).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		t.Cleanup(func() {
			_, _ = admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, marker)
		})

		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = db.SQLX().ExecContext(ctx, `SELECT pg_sleep(3600) /* `+marker+` */`)
		if err == nil {
			t.Fatal("pg_sleep(3600) returned without error")
		}
		// The server may take a moment to act on the cancel request; the
		// backend must stop, long before the hour is up.
		giveUp := time.After(waitBound(t))
		poll := time.NewTicker(10 * time.Millisecond)
		defer poll.Stop()
		for running() > 0 {
			select {
			case <-giveUp:
				t.Fatal("pg_sleep still runs on the server after its context ended: no cancel request was sent")
			case <-poll.C:
			}
		}
	})
}

// TestConnLimit: a request's statements beyond its cap wait for a
// connection of the request to come back, and give up when the request ends.
func TestConnLimit(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			// A cap of one (config refuses it for the service) makes the
			// unit hold the request's only connection.
			ctx := store.WithConnLimit(context.Background(), 1)
			u, err := e.DB.BeginUnit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Rollback()
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			before := e.DB.Statements()
			if _, err := e.DB.ListStores(short, store.StoreFilter{}, store.Page{First: 1}); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a statement past the cap: error %v, want the request's deadline", err)
			}
			if got := e.DB.Statements() - before; got != 0 {
				t.Errorf("%d statements sent past the cap, want 0", got)
			}
			// Inside the unit the request's statements share its connection.
			if _, err := e.DB.ListStores(u.Context(ctx), store.StoreFilter{}, store.Page{First: 1}); err != nil {
				t.Fatalf("inside the unit: %v", err)
			}
			// A unit given back frees its connection for the request.
			if err := u.Rollback(); err != nil {
				t.Fatal(err)
			}
			if _, err := e.DB.ListStores(ctx, store.StoreFilter{}, store.Page{First: 1}); err != nil {
				t.Fatalf("after the rollback: %v", err)
			}
		})
	}
}
