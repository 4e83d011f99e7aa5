package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	const lease, ttl = time.Minute, 24 * time.Hour
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			k := store.IdempotencyKey{UserID: "E1", Operation: "RecordBackorder", Key: "k1"}

			if _, claimed, err := db.ClaimIdempotency(ctx, k, "h1", lease, ttl); err != nil || !claimed {
				t.Fatalf("first claim: claimed %v, err %v; want claimed", claimed, err)
			}
			rec, claimed, err := db.ClaimIdempotency(ctx, k, "h1", lease, ttl)
			if err != nil || claimed || rec.Done || rec.RequestHash != "h1" {
				t.Fatalf("second claim: %+v claimed %v err %v; want running record, not claimed", rec, claimed, err)
			}
			if err := db.CompleteIdempotency(ctx, k, 200, []byte(`{"id":"B1"}`)); err != nil {
				t.Fatal(err)
			}
			rec, claimed, err = db.ClaimIdempotency(ctx, k, "h2", lease, ttl)
			if err != nil || claimed || !rec.Done || rec.Status != 200 || string(rec.Body) != `{"id":"B1"}` || rec.RequestHash != "h1" {
				t.Fatalf("claim after completion: %+v claimed %v err %v; want the stored answer", rec, claimed, err)
			}
			if err := db.CompleteIdempotency(ctx, k, 500, nil); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("completing a done key: got %v, want ErrConflict", err)
			}

			// Another user's same key is another request.
			other := store.IdempotencyKey{UserID: "E2", Operation: k.Operation, Key: k.Key}
			if _, claimed, err := db.ClaimIdempotency(ctx, other, "h1", lease, ttl); err != nil || !claimed {
				t.Fatalf("other user's key: claimed %v err %v; want claimed", claimed, err)
			}
			// A released key can be claimed again.
			if err := db.ReleaseIdempotency(ctx, other); err != nil {
				t.Fatal(err)
			}
			if _, err := db.IdempotencyRecordFor(ctx, other); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("released key: got %v, want ErrNotFound", err)
			}

			// A claim whose lease lapsed is taken over by the same request only.
			stale := store.IdempotencyKey{UserID: "E1", Operation: "RsvpEvent", Key: "k2"}
			if _, claimed, _ := db.ClaimIdempotency(ctx, stale, "h1", -time.Second, ttl); !claimed {
				t.Fatal("stale: first claim not claimed")
			}
			if _, claimed, _ := db.ClaimIdempotency(ctx, stale, "other", lease, ttl); claimed {
				t.Fatal("stale: a different request took over a lapsed claim")
			}
			if _, claimed, _ := db.ClaimIdempotency(ctx, stale, "h1", lease, ttl); !claimed {
				t.Fatal("stale: the same request could not take over a lapsed claim")
			}

			// Expired records are cleaned up and may be claimed afresh.
			old := store.IdempotencyKey{UserID: "E1", Operation: "RsvpEvent", Key: "k3"}
			if _, claimed, _ := db.ClaimIdempotency(ctx, old, "h1", lease, -time.Second); !claimed {
				t.Fatal("old: first claim not claimed")
			}
			if err := db.CompleteIdempotency(ctx, old, 200, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			n, err := db.DeleteExpiredIdempotency(ctx, time.Now())
			if err != nil || n != 1 {
				t.Fatalf("DeleteExpiredIdempotency: %d, %v; want 1 removed", n, err)
			}
			if _, err := db.IdempotencyRecordFor(ctx, k); err != nil {
				t.Fatalf("unexpired key removed: %v", err)
			}
		})
	}
}
