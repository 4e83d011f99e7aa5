package cache_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/replicas"
	"github.com/middletier/middletier/internal/replicas/replicastest"
)

// Three replicas share one Redis as their second level: a value one of
// them loaded is served to the others without a load while it is fresh
// by the time it was first loaded (its TTL is not restarted by the copy),
// and loaded again once that time has passed.
func TestRemoteSharesLoadsAndKeepsTTL(t *testing.T) {
	url, prefix := replicastest.RedisURL(t)
	ctx := context.Background()
	const ttl = time.Minute
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	var loads atomic.Int64
	load := func(_ context.Context, keys []string) (map[string]int, error) {
		loads.Add(1)
		out := map[string]int{}
		for _, k := range keys {
			out[k] = len(k) * 10
		}
		return out, nil
	}
	replica := func() *cache.Cache[int] {
		r, err := replicas.OpenRedis(ctx, url, prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		c, err := cache.New(cache.Options[int]{
			MaxCost: 1 << 20, TTL: ttl, Now: clock, Remote: r,
			Codec: cache.Codec[int]{
				Marshal:   func(v int) ([]byte, error) { return []byte(strconv.Itoa(v)), nil },
				Unmarshal: func(b []byte) (int, error) { return strconv.Atoi(string(b)) },
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	a, b, c := replica(), replica(), replica()

	check := func(name string, cc *cache.Cache[int], wantLoads int64) {
		t.Helper()
		got, err := cc.GetMany(ctx, []string{"k1", "key2"}, load)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got["k1"] != 20 || got["key2"] != 40 {
			t.Fatalf("%s: got %v", name, got)
		}
		if n := loads.Load(); n != wantLoads {
			t.Fatalf("%s: %d loads so far, want %d", name, n, wantLoads)
		}
	}
	check("first replica loads", a, 1)
	now.Add(int64(ttl - time.Second))
	check("second replica, within the TTL", b, 1)
	if hits, errs := b.RemoteStats(); hits != 2 || errs != 0 {
		t.Fatalf("second replica: remote hits %d, errors %d; want 2, 0", hits, errs)
	}
	now.Add(int64(2 * time.Second))
	check("third replica, past the first load's TTL", c, 2)
}

// Two tagged caches on one Redis, each with a bus of its own (so no
// invalidation reaches the other through a bus): an answer stored by one
// is a hit on the other, until a tag of it is invalidated anywhere; the
// shared generations alone keep the copy in Redis from being served.
func TestTaggedRemoteHonoursSharedInvalidation(t *testing.T) {
	url, prefix := replicastest.RedisURL(t)
	ctx := context.Background()
	replica := func() *cache.Tagged[string] {
		r, err := replicas.OpenRedis(ctx, url, prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		c, err := cache.NewTagged(cache.TaggedOptions[string]{
			MaxCost: 1 << 20, Remote: r, Gens: r,
			Codec: cache.Codec[string]{
				Marshal:   func(v string) ([]byte, error) { return []byte(v), nil },
				Unmarshal: func(b []byte) (string, error) { return string(b), nil },
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	a, b, c := replica(), replica(), replica()
	a.Add(ctx, "list:S001", "v1", time.Minute, a.Stamp(ctx, "backorders:S001"))
	if got, _, ok := b.Get(ctx, "list:S001"); !ok || got != "v1" {
		t.Fatalf("b: %q, %v; want a's v1 from Redis", got, ok)
	}
	if hits, errs := b.RemoteStats(); hits != 1 || errs != 0 {
		t.Fatalf("b: remote hits %d, errors %d; want 1, 0", hits, errs)
	}
	// Another store's invalidation leaves it; this store's drops it.
	if err := a.Invalidate(ctx, "backorders:S002"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Get(ctx, "list:S001"); !ok {
		t.Fatal("c: missed after an invalidation of another store")
	}
	if err := a.Invalidate(ctx, "backorders:*"); err != nil {
		t.Fatal(err)
	}
	// b holds a copy in memory stamped with its own counters, which no bus
	// moved: only a fresh replica shows what Redis serves.
	d := replica()
	if got, _, ok := d.Get(ctx, "list:S001"); ok {
		t.Fatalf("d: served %q from Redis after backorders:* was invalidated", got)
	}
	// A load that began before the invalidation is not shared either.
	stale := a.Stamp(ctx, "customers")
	if err := c.Invalidate(ctx, "customers"); err != nil {
		t.Fatal(err)
	}
	a.Add(ctx, "customers:x", "old", time.Minute, stale)
	if _, _, ok := d.Get(ctx, "customers:x"); ok {
		t.Fatal("d: served a value whose load began before another replica's invalidation")
	}
}
