package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

// claim runs one claim in a unit of its own and ends the unit: committed
// with answer when the claim is won and answer is not nil, else rolled back.
func claim(t *testing.T, db *store.DB, k store.IdempotencyKey, hash string, ttl time.Duration, answer []byte) (store.IdempotencyRecord, bool) {
	t.Helper()
	ctx := context.Background()
	u, err := db.BeginUnit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Rollback()
	rec, claimed, err := u.ClaimIdempotency(ctx, k, hash, ttl)
	if err != nil {
		t.Fatalf("claim %v: %v", k, err)
	}
	if claimed && answer != nil {
		if err := u.CompleteIdempotency(ctx, k, 201, answer); err != nil {
			t.Fatal(err)
		}
		if err := u.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return rec, claimed
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	const ttl = 24 * time.Hour
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			k := store.IdempotencyKey{UserID: "E1", Operation: "RecordBackorder", Key: "k1"}

			// A claim that is rolled back leaves nothing behind.
			if _, claimed := claim(t, db, k, "h1", ttl, nil); !claimed {
				t.Fatal("first claim not claimed")
			}
			if _, err := db.IdempotencyRecordFor(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("rolled-back claim: got %v, want ErrNotFound", err)
			}
			// A committed one is the answer of every later claim, even for
			// another request (the caller compares hashes).
			if _, claimed := claim(t, db, k, "h1", ttl, []byte(`{"id":"B1"}`)); !claimed {
				t.Fatal("second claim not claimed")
			}
			for _, h := range []string{"h1", "h2"} {
				rec, claimed := claim(t, db, k, h, ttl, nil)
				if claimed || !rec.Done || rec.Status != 201 || string(rec.Body) != `{"id":"B1"}` || rec.RequestHash != "h1" {
					t.Fatalf("claim %s after completion: %+v claimed %v; want the stored answer", h, rec, claimed)
				}
			}

			// Another user's same key is another request.
			other := store.IdempotencyKey{UserID: "E2", Operation: k.Operation, Key: k.Key}
			if _, claimed := claim(t, db, other, "h1", ttl, nil); !claimed {
				t.Fatal("other user's key not claimed")
			}

			// An expired record is claimed afresh, and cleaned up.
			old := store.IdempotencyKey{UserID: "E1", Operation: "RsvpEvent", Key: "k3"}
			claim(t, db, old, "h1", -time.Second, []byte(`{}`))
			if _, claimed := claim(t, db, old, "h9", ttl, nil); !claimed {
				t.Fatal("expired key not claimed afresh")
			}
			n, err := db.DeleteExpiredIdempotency(ctx, time.Now())
			if err != nil || n != 1 {
				t.Fatalf("DeleteExpiredIdempotency: %d, %v; want 1 removed", n, err)
			}
			if _, err := db.IdempotencyRecordFor(ctx, k); err != nil {
				t.Fatalf("unexpired key removed: %v", err)
			}

			// Completing a key the unit did not claim fails.
			u, err := db.BeginUnit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := u.CompleteIdempotency(ctx, k, 500, nil); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("completing an unclaimed key: got %v, want ErrConflict", err)
			}
			u.Rollback()
		})
	}
}

// TestIdempotencyWaitsForRunningClaim: a second claim of a key whose first
// claim is still in an open unit waits for that unit and then sees its
// committed answer: never a second claim.
func TestIdempotencyWaitsForRunningClaim(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			k := store.IdempotencyKey{UserID: "E1", Operation: "RecordBackorder", Key: "wait"}
			first, err := db.BeginUnit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Rollback()
			if _, claimed, err := first.ClaimIdempotency(ctx, k, "h1", time.Hour); err != nil || !claimed {
				t.Fatalf("first claim: %v %v", claimed, err)
			}

			type result struct {
				rec     store.IdempotencyRecord
				claimed bool
				err     error
			}
			second := make(chan result, 1)
			go func() {
				u, err := db.BeginUnit(ctx)
				if err != nil {
					second <- result{err: err}
					return
				}
				defer u.Rollback()
				rec, claimed, err := u.ClaimIdempotency(ctx, k, "h1", time.Hour)
				second <- result{rec, claimed, err}
			}()
			if e.Name == "postgres" {
				// Prove the second claim is really waiting on the first
				// (a lock not granted), rather than merely late.
				waitForLockWait(t, db)
			}
			if err := first.CompleteIdempotency(ctx, k, 201, []byte(`{"id":"first"}`)); err != nil {
				t.Fatal(err)
			}
			if err := first.Commit(); err != nil {
				t.Fatal(err)
			}
			r := <-second
			if r.err != nil || r.claimed || !r.rec.Done || string(r.rec.Body) != `{"id":"first"}` {
				t.Fatalf("second claim: %+v claimed %v err %v; want the first answer", r.rec, r.claimed, r.err)
			}
		})
	}
}

// TestIdempotencyWaitIsBounded: a claim that waits longer than its context
// allows gives up with ErrConflict, and the first claim still owns the key.
func TestIdempotencyWaitIsBounded(t *testing.T) {
	e := storetest.Postgres(t) // SQLite's writer lock waits out its own busy timeout instead
	ctx := context.Background()
	k := store.IdempotencyKey{UserID: "E1", Operation: "RecordBackorder", Key: "bounded"}
	first, err := e.BeginUnit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback()
	if _, claimed, err := first.ClaimIdempotency(ctx, k, "h1", time.Hour); err != nil || !claimed {
		t.Fatalf("first claim: %v %v", claimed, err)
	}
	u, err := e.BeginUnit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Rollback()
	wctx, cancel := context.WithCancel(ctx)
	go func() {
		waitForLockWait(t, e)
		cancel()
	}()
	if _, claimed, err := u.ClaimIdempotency(wctx, k, "h1", time.Hour); claimed || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("bounded claim: claimed %v err %v; want ErrConflict", claimed, err)
	}
}

// waitForLockWait returns once some session waits for a lock held by a
// session that writes this test schema's idempotency_keys (other tests may
// share the database), polling until the test's deadline.
func waitForLockWait(t *testing.T, db *store.DB) {
	t.Helper()
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	for time.Now().Before(deadline) {
		var n int
		if err := db.SQLX().Get(&n, `SELECT COUNT(*) FROM pg_locks w
			WHERE NOT w.granted AND EXISTS (
				SELECT 1 FROM pg_locks h
				WHERE h.pid = ANY(pg_blocking_pids(w.pid)) AND h.relation = 'idempotency_keys'::regclass)`); err != nil {
			t.Error(err)
			return
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("no session ever waited for a lock")
}
