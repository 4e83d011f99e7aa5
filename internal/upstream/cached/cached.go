// Package cached puts the cross-request cache (internal/cache) in front of
// the upstream clients through one generic keyed-batch read. Each source
// declares its own policy in its folder (TTL, key, per user or shared); this
// package applies it and names no source. The per-request loaders read
// through it, so a batch asks the upstream only for the keys the cache misses.
package cached

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/upstream"
)

// Policy is how one source read is cached. Sources declare theirs next to
// their client, where the reason for each value is known.
type Policy[K comparable, V any] struct {
	// Name says what is cached, in errors ("leave balances").
	Name string
	// TTL is how long an answer is fresh.
	TTL time.Duration
	// Key is k's cache key. It must carry everything that changes the
	// answer, the user too when the answer is per user, so one user's data
	// can never be served to another.
	Key func(k K) string
	// Cost estimates a value's bytes; nil counts the key plus a small entry.
	Cost func(key string, v V) int64
}

// maybe caches an answer including "none": an employee unknown to HR or a
// product with no restock scheduled is asked about as often as the others,
// and must not cost an upstream call every time.
type maybe[V any] struct {
	value V
	ok    bool
}

// wire is maybe as JSON, for the cache shared between replicas. Source
// values are plain data decoded from their service's JSON, so they make
// the round trip.
type wire[V any] struct {
	Value V    `json:"v"`
	OK    bool `json:"ok"`
}

func jsonCodec[V any]() cache.Codec[maybe[V]] {
	return cache.Codec[maybe[V]]{
		Marshal: func(m maybe[V]) ([]byte, error) { return json.Marshal(wire[V]{Value: m.value, OK: m.ok}) },
		Unmarshal: func(b []byte) (maybe[V], error) {
			var w wire[V]
			err := json.Unmarshal(b, &w)
			return maybe[V]{value: w.Value, ok: w.OK}, err
		},
	}
}

// Batch is one source read with the cache in front. It is safe for
// concurrent use and shared by every request.
type Batch[K comparable, V any] struct {
	p     Policy[K, V]
	c     *cache.Cache[maybe[V]]
	fetch func(context.Context, []K) (map[K]V, error)
}

// NewBatch applies p to fetch, which answers many keys in one call and
// leaves out the keys it has no answer for. Close releases the cache.
func NewBatch[K comparable, V any](p Policy[K, V], fetch func(context.Context, []K) (map[K]V, error), env upstream.Env) (*Batch[K, V], error) {
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cost := func(key string, m maybe[V]) int64 { return int64(len(key)) + 64 }
	if p.Cost != nil {
		cost = func(key string, m maybe[V]) int64 { return p.Cost(key, m.value) }
	}
	opts := cache.Options[maybe[V]]{
		MaxCost: max(env.CacheBytes, 1<<16), TTL: p.TTL, StaleFor: env.StaleFor, Cost: cost,
		OnStale: func(ctx context.Context, key string, err error) {
			log.WarnContext(ctx, "upstream unavailable: serving a stale value", "key", key, "err", err)
		},
	}
	if env.Shared != nil {
		opts.Remote, opts.Codec = env.Shared, jsonCodec[V]()
	}
	c, err := cache.New(opts)
	if err != nil {
		return nil, fmt.Errorf("%s cache: %w", p.Name, err)
	}
	return &Batch[K, V]{p: p, c: c, fetch: fetch}, nil
}

// Close stops the cache's goroutines.
func (b *Batch[K, V]) Close() { b.c.Close() }

// Wait blocks until every pending cache write has been applied or dropped (tests).
func (b *Batch[K, V]) Wait() { b.c.Wait() }

// RemoteStats are the misses the shared cache answered and its failures.
func (b *Batch[K, V]) RemoteStats() (hits, errors uint64) { return b.c.RemoteStats() }

// Stats are the cache's fresh hits and misses since start, so tests can tell
// a hit from a write ristretto refused without assuming either.
func (b *Batch[K, V]) Stats() (hits, misses uint64) { return b.c.Stats() }

// Load serves keys from the cache and loads the misses with one fetch.
// Absence is cached too, so "nothing scheduled" costs no repeat call. On a
// failed fetch only the keys left without a value (fresh or stale) fail.
func (b *Batch[K, V]) Load(ctx context.Context, keys []K) (map[K]V, error) {
	ckeys := make([]string, len(keys))
	byKey := make(map[string]K, len(keys))
	for i, k := range keys {
		ckeys[i] = b.p.Key(k)
		byKey[ckeys[i]] = k
	}
	got, err := b.c.GetMany(ctx, ckeys, func(ctx context.Context, missing []string) (map[string]maybe[V], error) {
		ask := make([]K, len(missing))
		for i, ck := range missing {
			ask[i] = byKey[ck]
		}
		m, err := b.fetch(ctx, ask)
		if err != nil {
			return nil, err
		}
		out := make(map[string]maybe[V], len(missing))
		for _, ck := range missing {
			v, ok := m[byKey[ck]]
			out[ck] = maybe[V]{value: v, ok: ok}
		}
		return out, nil
	})
	out := make(map[K]V, len(got))
	failed := map[K]error{}
	for ck, k := range byKey {
		v, ok := got[ck]
		switch {
		case !ok && err != nil:
			failed[k] = err
		case ok && v.ok:
			out[k] = v.value
		}
	}
	return out, keyErrors(failed, err)
}

// Reads returns the batch read of the source called name in set, for the
// loaders. A source that was not opened (tests of other parts) fails every
// read with unavailable, its own Unavailable error.
func Reads[K comparable, V any](set upstream.Finder, name string, unavailable error) func(context.Context, []K) (map[K]V, error) {
	if set != nil {
		if o, ok := set.Lookup(name); ok {
			if b, ok := o.(*Batch[K, V]); ok {
				return b.Load
			}
		}
	}
	err := fmt.Errorf("%s is not configured: %w", name, unavailable)
	return func(context.Context, []K) (map[K]V, error) { return nil, err }
}

// keyErrors reports a failed batch so that only the keys left without a
// value (fresh or stale) fail: a dataloadgen mapped loader hands each of them
// its own error and answers the rest.
func keyErrors[K comparable](failed map[K]error, err error) error {
	if err == nil || len(failed) == 0 {
		return nil
	}
	return dataloadgen.MappedFetchError[K](failed)
}
