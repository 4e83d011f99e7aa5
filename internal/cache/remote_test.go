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
