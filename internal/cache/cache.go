// Package cache is middletier's cross-request, in-memory cache: one generic
// wrapper over ristretto v2 with a TTL on every entry. It backs gqlgen's
// parsed-query cache and automatic persisted queries, and the upstream reads
// (GetOrLoad: one load for concurrent misses, the last good value when the
// upstream is down). Per-request batching is the loaders' job, never this
// package's.
//
// # Keys
//
// A key must name everything the value depends on. Keys for per-user data
// MUST include the user's id (leave balances are per employee: "hr:leave:"
// plus the employee id, never just "hr:leave"), or one user is served
// another's data. Build keys with Key so that parts cannot run into each
// other. Shared data (company news) may use one key for everyone.
package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"

	"github.com/middletier/middletier/internal/upstream"
)

// DefaultLoadTimeout bounds a GetOrLoad load. The load is detached from the
// first caller's cancellation (other callers share it), so something else
// must stop it; the upstream clients have shorter timeouts of their own.
const DefaultLoadTimeout = 10 * time.Second

// Cache holds values of type V under string keys, bounded by total cost.
// ristretto's Set is asynchronous and may be refused by admission, so a Get
// right after a Set can miss: callers must treat every Get as "maybe".
type Cache[V any] struct {
	rc          *ristretto.Cache[string, entry[V]]
	ttl         time.Duration
	grace       time.Duration
	cost        func(key string, v V) int64
	now         func() time.Time
	staleIf     func(error) bool
	onStale     func(ctx context.Context, key string, err error)
	loadTimeout time.Duration

	remote Remote
	codec  Codec[V]

	flights singleflight.Group
	// epoch moves on every Delete. A load that started before a Delete may
	// carry the old value; it is returned to its callers but not stored.
	// One counter for all keys keeps memory flat; the price is that a Delete
	// also stops concurrent loads of other keys from being stored once.
	epoch          atomic.Uint64
	hits, misses   atomic.Uint64
	remoteHits     atomic.Uint64
	remoteErrors   atomic.Uint64
	staleServed    atomic.Uint64
	afterJoinHook  func(key string) // tests only: a caller has joined a flight
	beforeLoadHook func(key string) // tests only: a load is about to run
}

// entry is what ristretto stores: the value and when it was loaded, so the
// cache can tell fresh from stale itself (ristretto only knows "expired").
type entry[V any] struct {
	value    V
	storedAt time.Time
	// ttl, when not 0, is this entry's own TTL in place of the cache's
	// (AddFor): one cache holds answers that stay fresh for different times.
	ttl time.Duration
}

// Options size a cache.
type Options[V any] struct {
	// MaxCost bounds the sum of entry costs (with the default cost: bytes, roughly).
	MaxCost int64
	// TTL is how long an entry is fresh; 0 means until evicted.
	TTL time.Duration
	// StaleFor is how long past its TTL an entry is kept to be served when
	// a load fails (stale-if-error). 0 turns stale serving off. It has no
	// effect when TTL is 0.
	StaleFor time.Duration
	// StaleIf says which load errors may be answered with a stale value.
	// nil means upstream.ErrUnavailable: an outage, not "not found" or a
	// bad request, which a stale value would hide.
	StaleIf func(error) bool
	// OnStale, if set, is called whenever a stale value is served instead of
	// an error, so an outage hidden from users still shows in logs and metrics.
	OnStale func(ctx context.Context, key string, err error)
	// LoadTimeout bounds each GetOrLoad load; 0 means DefaultLoadTimeout.
	LoadTimeout time.Duration
	// Cost estimates an entry's cost; nil means len(key).
	Cost func(key string, v V) int64
	// Now is the clock for freshness; nil means time.Now. Tests move it to
	// expire entries without waiting (ristretto's own expiry, TTL+StaleFor
	// on the real clock, only bounds memory).
	Now func() time.Time
	// Remote, if set, is the second level shared by every replica (Redis):
	// GetMany asks it for what this process misses before loading, and
	// stores what it loads there too, so replicas load a value once. Codec
	// turns values into bytes for it and is required with it.
	Remote Remote
	Codec  Codec[V]
}

// Remote is a second-level cache shared by the replicas of the service
// (internal/replicas.Redis). Entries expire on their own after ttl.
type Remote interface {
	// MGet returns the bytes under each key, nil where there are none.
	MGet(ctx context.Context, keys []string) ([][]byte, error)
	// SetMany stores every item for ttl.
	SetMany(ctx context.Context, items map[string][]byte, ttl time.Duration) error
}

// Codec turns a cache's values into bytes for a Remote and back.
type Codec[V any] struct {
	Marshal   func(V) ([]byte, error)
	Unmarshal func([]byte) (V, error)
}

// remoteEntry is what a Remote holds: the value and when it was loaded, so
// a replica that takes it keeps its TTL instead of starting a new one.
type remoteEntry struct {
	StoredAt int64  `json:"at"` // unix milliseconds
	Value    []byte `json:"v"`
}

// New builds a cache. It must be closed to stop ristretto's goroutines.
func New[V any](opts Options[V]) (*Cache[V], error) {
	if opts.MaxCost <= 0 {
		return nil, fmt.Errorf("cache: MaxCost must be positive, got %d", opts.MaxCost)
	}
	if opts.TTL < 0 || opts.StaleFor < 0 || opts.LoadTimeout < 0 {
		return nil, fmt.Errorf("cache: TTL, StaleFor and LoadTimeout must not be negative")
	}
	if opts.Remote != nil && (opts.Codec.Marshal == nil || opts.Codec.Unmarshal == nil || opts.TTL == 0) {
		return nil, fmt.Errorf("cache: a Remote needs a Codec and a TTL")
	}
	c := &Cache[V]{
		ttl:         opts.TTL,
		grace:       opts.StaleFor,
		cost:        opts.Cost,
		now:         opts.Now,
		staleIf:     opts.StaleIf,
		onStale:     opts.OnStale,
		loadTimeout: opts.LoadTimeout,
		remote:      opts.Remote,
		codec:       opts.Codec,
	}
	if c.ttl == 0 {
		c.grace = 0
	}
	if c.cost == nil {
		c.cost = func(key string, _ V) int64 { return int64(len(key)) }
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.staleIf == nil {
		c.staleIf = func(err error) bool { return errors.Is(err, upstream.ErrUnavailable) }
	}
	if c.loadTimeout == 0 {
		c.loadTimeout = DefaultLoadTimeout
	}
	// ristretto recommends about 10 counters per expected item; with entries
	// of a few hundred bytes MaxCost/100 counters is a generous estimate.
	counters := max(opts.MaxCost/100*10, 1000)
	rc, err := ristretto.NewCache(&ristretto.Config[string, entry[V]]{
		NumCounters: counters,
		MaxCost:     opts.MaxCost,
		BufferItems: 64,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.rc = rc
	return c, nil
}

// Key joins parts into a cache key that cannot collide: each part is
// length-prefixed, so ("a:b", "c") and ("a", "b:c") differ. Per-user data
// must have the user's id among the parts.
func Key(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 4 // the length's digits and the colon, for most parts
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// lookup returns the entry under key and whether it is still fresh.
func (c *Cache[V]) lookup(key string) (e entry[V], found, fresh bool) {
	e, found = c.rc.Get(key)
	if !found {
		return e, false, false
	}
	ttl := c.ttl
	if e.ttl > 0 {
		ttl = e.ttl
	}
	age := c.now().Sub(e.storedAt)
	if ttl > 0 && age >= ttl+c.grace {
		return e, false, false // past the grace period on our clock
	}
	return e, true, ttl == 0 || age < ttl
}

// Get returns the value under key, if present and fresh. Stale values are
// only served by GetOrLoad and Fetch, when a load fails.
func (c *Cache[V]) Get(_ context.Context, key string) (V, bool) {
	e, _, fresh := c.lookup(key)
	if !fresh {
		c.misses.Add(1)
		var zero V
		return zero, false
	}
	c.hits.Add(1)
	return e.value, true
}

// Add stores value under key with the cache's TTL. The write is asynchronous
// and may be dropped by admission; that is fine for a cache.
func (c *Cache[V]) Add(_ context.Context, key string, value V) {
	c.set(key, value)
}

// AddFor is Add with a TTL of its own for this entry (ttl > 0), in place of
// the cache's.
func (c *Cache[V]) AddFor(_ context.Context, key string, value V, ttl time.Duration) {
	if ttl <= 0 {
		c.set(key, value)
		return
	}
	c.rc.SetWithTTL(key, entry[V]{value: value, storedAt: c.now(), ttl: ttl}, c.cost(key, value), ttl+c.grace)
}

func (c *Cache[V]) set(key string, value V) { c.setAt(key, value, c.now()) }

// setAt stores value as loaded at storedAt (a value taken from the Remote
// keeps the age it has there).
func (c *Cache[V]) setAt(key string, value V, storedAt time.Time) {
	// ristretto drops the entry once it can no longer be served even stale.
	var hold time.Duration
	if c.ttl > 0 {
		hold = c.ttl + c.grace - c.now().Sub(storedAt)
		if hold <= 0 {
			return
		}
	}
	c.rc.SetWithTTL(key, entry[V]{value: value, storedAt: storedAt}, c.cost(key, value), hold)
}

// Delete removes key, for invalidation after a write. A load of key already
// in flight still answers its callers, but its result is not stored, and the
// next GetOrLoad starts a new load.
func (c *Cache[V]) Delete(key string) {
	c.epoch.Add(1)
	c.flights.Forget(key)
	c.rc.Del(key)
}

// Result is what Fetch returns: the value and how fresh it is.
type Result[V any] struct {
	Value V
	// Stale is true when the value outlived its TTL and is served because
	// the load failed with an error StaleIf accepts (stale-if-error).
	Stale bool
	// StoredAt is when the value was loaded, for "as of" on a screen.
	StoredAt time.Time
	// LoadErr is the load failure a stale value stands in for.
	LoadErr error
}

// GetOrLoad returns the fresh value under key, or loads it. Concurrent
// misses of one key share one load (singleflight). When the load fails with
// an error StaleIf accepts and a value is within StaleFor of its TTL, that
// value is returned with a nil error: stale data beats an error screen for
// reads like leave balances and news. Use Fetch to learn that it was stale.
//
// load runs with a context that keeps ctx's values (request id, identity)
// but not its cancellation, bounded by LoadTimeout: callers share the load,
// so the first caller hanging up must not fail the others. A caller whose
// ctx ends stops waiting and gets ctx's error.
func (c *Cache[V]) GetOrLoad(ctx context.Context, key string, load func(ctx context.Context) (V, error)) (V, error) {
	r, err := c.Fetch(ctx, key, load)
	return r.Value, err
}

// Fetch is GetOrLoad that also says whether the value is stale and why.
func (c *Cache[V]) Fetch(ctx context.Context, key string, load func(ctx context.Context) (V, error)) (Result[V], error) {
	if e, _, fresh := c.lookup(key); fresh {
		c.hits.Add(1)
		return Result[V]{Value: e.value, StoredAt: e.storedAt}, nil
	}
	c.misses.Add(1)
	ch := c.flights.DoChan(key, func() (any, error) { return c.load(ctx, key, load) })
	if c.afterJoinHook != nil {
		c.afterJoinHook(key)
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return Result[V]{}, res.Err
		}
		r := res.Val.(Result[V])
		if r.Stale && c.onStale != nil {
			c.onStale(ctx, key, r.LoadErr)
		}
		return r, nil
	case <-ctx.Done():
		return Result[V]{}, fmt.Errorf("cache: waiting for %q: %w", key, ctx.Err())
	}
}

// load runs inside the flight: one at a time per key.
func (c *Cache[V]) load(ctx context.Context, key string, load func(ctx context.Context) (V, error)) (_ Result[V], err error) {
	// singleflight re-panics a DoChan panic on a goroutine of its own, where
	// no recover in the HTTP stack can catch it and the process dies; turn
	// it into an error for every caller instead.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cache: load of %q panicked: %v\n%s", key, p, debug.Stack())
		}
	}()
	if c.beforeLoadHook != nil {
		c.beforeLoadHook(key)
	}
	epoch := c.epoch.Load()
	loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.loadTimeout)
	defer cancel()
	v, err := load(loadCtx)
	if err == nil {
		if c.epoch.Load() == epoch {
			c.set(key, v)
		}
		return Result[V]{Value: v, StoredAt: c.now()}, nil
	}
	if c.grace > 0 && c.staleIf(err) {
		if e, found, _ := c.lookup(key); found {
			c.staleServed.Add(1)
			return Result[V]{Value: e.value, Stale: true, StoredAt: e.storedAt, LoadErr: err}, nil
		}
	}
	return Result[V]{}, err
}

// Wait blocks until every pending Add has been applied or dropped (tests).
func (c *Cache[V]) Wait() { c.rc.Wait() }

// Stats reports fresh hits and misses since start. A miss answered with a
// stale value counts as a miss.
func (c *Cache[V]) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// RemoteStats reports the misses the Remote answered and the Remote calls
// that failed (each then counted as a miss there) since start.
func (c *Cache[V]) RemoteStats() (hits, errors uint64) {
	return c.remoteHits.Load(), c.remoteErrors.Load()
}

// StaleServed reports how many loads failed and were answered with a stale
// value since start.
func (c *Cache[V]) StaleServed() uint64 { return c.staleServed.Load() }

// Close stops the cache's goroutines.
func (c *Cache[V]) Close() { c.rc.Close() }

// GetMany returns the values under keys: fresh ones from the cache, and the
// misses loaded together by one call of load (a batch upstream call), then
// stored. Keys load leaves out of its map are absent from the result. Unlike
// GetOrLoad there is no singleflight across callers: the batch is the unit
// of work, and the per-request loaders already dedupe within a request.
//
// When load fails with an error StaleIf accepts, misses still within
// StaleFor of their TTL are answered with their stale value; if any miss is
// left without a value, GetMany returns what it has together with the error,
// so the caller can fail only those keys.
func (c *Cache[V]) GetMany(ctx context.Context, keys []string, load func(ctx context.Context, missing []string) (map[string]V, error)) (map[string]V, error) {
	out := make(map[string]V, len(keys))
	seen := make(map[string]bool, len(keys))
	var missing []string
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if e, _, fresh := c.lookup(k); fresh {
			c.hits.Add(1)
			out[k] = e.value
			continue
		}
		c.misses.Add(1)
		missing = append(missing, k)
	}
	if len(missing) == 0 {
		return out, nil
	}
	epoch := c.epoch.Load()
	missing = c.fromRemote(ctx, missing, out)
	if len(missing) == 0 {
		return out, nil
	}
	loadCtx, cancel := context.WithTimeout(ctx, c.loadTimeout)
	defer cancel()
	loaded, err := load(loadCtx, missing)
	if err == nil {
		store := c.epoch.Load() == epoch
		for _, k := range missing {
			if v, ok := loaded[k]; ok {
				out[k] = v
				if store {
					c.set(k, v)
				}
			}
		}
		if store {
			c.toRemote(ctx, missing, loaded)
		}
		return out, nil
	}
	if c.grace == 0 || !c.staleIf(err) {
		return out, err
	}
	complete := true
	for _, k := range missing {
		if e, found, _ := c.lookup(k); found {
			c.staleServed.Add(1)
			out[k] = e.value
			if c.onStale != nil {
				c.onStale(ctx, k, err)
			}
			continue
		}
		complete = false
	}
	if complete {
		return out, nil
	}
	return out, err
}

// fromRemote asks the Remote for missing, puts fresh answers into out and
// this process's cache, and returns the keys still missing. A stale answer
// is kept here (not in out) so that a failing load can still serve it. A
// Remote that fails or holds bytes this binary cannot read is a miss.
func (c *Cache[V]) fromRemote(ctx context.Context, missing []string, out map[string]V) []string {
	if c.remote == nil {
		return missing
	}
	got, err := c.remote.MGet(ctx, missing)
	if err != nil || len(got) != len(missing) {
		c.remoteErrors.Add(1)
		return missing
	}
	var still []string
	now := c.now()
	for i, k := range missing {
		var e remoteEntry
		if got[i] == nil || json.Unmarshal(got[i], &e) != nil {
			still = append(still, k)
			continue
		}
		v, err := c.codec.Unmarshal(e.Value)
		if err != nil {
			still = append(still, k)
			continue
		}
		storedAt := time.UnixMilli(e.StoredAt)
		c.setAt(k, v, storedAt)
		if now.Sub(storedAt) < c.ttl {
			c.remoteHits.Add(1)
			out[k] = v
			continue
		}
		still = append(still, k)
	}
	return still
}

// toRemote shares what a load brought with the other replicas, for as long
// as it may be served (TTL and the stale grace). A failure costs them a load.
func (c *Cache[V]) toRemote(ctx context.Context, keys []string, loaded map[string]V) {
	if c.remote == nil {
		return
	}
	at := c.now().UnixMilli()
	items := make(map[string][]byte, len(keys))
	for _, k := range keys {
		v, ok := loaded[k]
		if !ok {
			continue
		}
		b, err := c.codec.Marshal(v)
		if err != nil {
			continue
		}
		if b, err = json.Marshal(remoteEntry{StoredAt: at, Value: b}); err == nil {
			items[k] = b
		}
	}
	if len(items) == 0 {
		return
	}
	if err := c.remote.SetMany(ctx, items, c.ttl+c.grace); err != nil {
		c.remoteErrors.Add(1)
	}
}
