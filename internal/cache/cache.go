// Package cache is middletier's cross-request, in-memory cache: one generic
// wrapper over ristretto v2 with a TTL on every entry. It backs gqlgen's
// parsed-query cache and automatic persisted queries, and later the upstream
// reads. Per-request batching is the loaders' job, never this package's.
package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Cache holds values of type V under string keys, bounded by total cost.
// ristretto's Set is asynchronous and may be refused by admission, so a Get
// right after a Set can miss: callers must treat every Get as "maybe".
type Cache[V any] struct {
	rc   *ristretto.Cache[string, V]
	ttl  time.Duration
	cost func(key string, v V) int64
}

// Options size a cache.
type Options[V any] struct {
	// MaxCost bounds the sum of entry costs (with the default cost: bytes, roughly).
	MaxCost int64
	// TTL is how long an entry lives; 0 means until evicted.
	TTL time.Duration
	// Cost estimates an entry's cost; nil means len(key).
	Cost func(key string, v V) int64
}

// New builds a cache. It must be closed to stop ristretto's goroutines.
func New[V any](opts Options[V]) (*Cache[V], error) {
	if opts.MaxCost <= 0 {
		return nil, fmt.Errorf("cache: MaxCost must be positive, got %d", opts.MaxCost)
	}
	cost := opts.Cost
	if cost == nil {
		cost = func(key string, _ V) int64 { return int64(len(key)) }
	}
	// ristretto recommends about 10 counters per expected item; with entries
	// of a few hundred bytes MaxCost/100 counters is a generous estimate.
	counters := max(opts.MaxCost/100*10, 1000)
	rc, err := ristretto.NewCache(&ristretto.Config[string, V]{
		NumCounters: counters,
		MaxCost:     opts.MaxCost,
		BufferItems: 64,
		Metrics:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Cache[V]{rc: rc, ttl: opts.TTL, cost: cost}, nil
}

// Get returns the value under key, if present and not expired.
func (c *Cache[V]) Get(_ context.Context, key string) (V, bool) { return c.rc.Get(key) }

// Add stores value under key with the cache's TTL. The write is asynchronous
// and may be dropped by admission; that is fine for a cache.
func (c *Cache[V]) Add(_ context.Context, key string, value V) {
	c.rc.SetWithTTL(key, value, c.cost(key, value), c.ttl)
}

// Delete removes key.
func (c *Cache[V]) Delete(key string) { c.rc.Del(key) }

// Wait blocks until every pending Add has been applied or dropped (tests).
func (c *Cache[V]) Wait() { c.rc.Wait() }

// Stats reports hits and misses since start.
func (c *Cache[V]) Stats() (hits, misses uint64) {
	m := c.rc.Metrics
	return m.Hits(), m.Misses()
}

// Close stops the cache's goroutines.
func (c *Cache[V]) Close() { c.rc.Close() }
