// Package cached puts the cross-request cache (internal/cache) in front of
// the upstream clients: one small place that knows which reads are cached,
// for how long, and under which keys. The per-request loaders read through
// it, so a batch asks the upstream only for the keys the cache misses.
package cached

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
)

// HR is what the leave-balance reads need of the HR client.
type HR interface {
	LeaveBalances(ctx context.Context, employeeIDs []string) (map[string]hr.LeaveBalance, error)
}

// News is what the news reads need of the news client.
type News interface {
	Latest(ctx context.Context, first int, after string) (news.Page, error)
}

// Supply is what the restock reads need of the supply client.
type Supply interface {
	NextRestocks(ctx context.Context, keys []supply.RestockKey) (map[supply.RestockKey]supply.Restock, error)
}

// Options size the caches.
type Options struct {
	LeaveTTL   time.Duration
	NewsTTL    time.Duration
	RestockTTL time.Duration
	// StaleFor is how long past its TTL a value is served when the upstream
	// is unavailable (stale-if-error).
	StaleFor time.Duration
	// MaxBytes bounds the memory of the three caches together.
	MaxBytes int64
	Log      *slog.Logger
}

// maybe caches an answer including "none": an employee unknown to HR or a
// product with no restock scheduled is asked about as often as the others,
// and must not cost an upstream call every time.
type maybe[V any] struct {
	value V
	ok    bool
}

// Sources are the cached upstream reads. They are safe for concurrent use
// and shared by every request; keys never let one user's data reach another.
type Sources struct {
	hr     HR
	news   News
	supply Supply

	leave    *cache.Cache[maybe[hr.LeaveBalance]]
	restocks *cache.Cache[maybe[supply.Restock]]
	pages    *cache.Cache[news.Page]
}

// New builds the cached sources over the three clients. Close releases the caches.
func New(h HR, n News, s Supply, opts Options) (*Sources, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	onStale := func(ctx context.Context, key string, err error) {
		log.WarnContext(ctx, "upstream unavailable: serving a stale value", "key", key, "err", err)
	}
	// Budget: news pages are the largest values, leave and restock entries
	// are small and many.
	var (
		src = &Sources{hr: h, news: n, supply: s}
		err error
	)
	src.leave, err = cache.New(cache.Options[maybe[hr.LeaveBalance]]{
		MaxCost: max(opts.MaxBytes/4, 1<<16), TTL: opts.LeaveTTL, StaleFor: opts.StaleFor, OnStale: onStale,
		Cost: func(key string, _ maybe[hr.LeaveBalance]) int64 { return int64(len(key)) + 64 },
	})
	if err != nil {
		return nil, fmt.Errorf("leave cache: %w", err)
	}
	src.restocks, err = cache.New(cache.Options[maybe[supply.Restock]]{
		MaxCost: max(opts.MaxBytes/2, 1<<16), TTL: opts.RestockTTL, StaleFor: opts.StaleFor, OnStale: onStale,
		Cost: func(key string, _ maybe[supply.Restock]) int64 { return int64(len(key)) + 64 },
	})
	if err != nil {
		src.leave.Close()
		return nil, fmt.Errorf("restock cache: %w", err)
	}
	src.pages, err = cache.New(cache.Options[news.Page]{
		MaxCost: max(opts.MaxBytes/4, 1<<16), TTL: opts.NewsTTL, StaleFor: opts.StaleFor, OnStale: onStale,
		Cost: func(key string, p news.Page) int64 {
			n := int64(len(key) + len(p.EndCursor))
			for _, a := range p.Articles {
				n += int64(len(a.ID)+len(a.Title)+len(a.Summary)+len(a.URL)+len(a.Author)+len(a.Category)) + 32
			}
			return n
		},
	})
	if err != nil {
		src.leave.Close()
		src.restocks.Close()
		return nil, fmt.Errorf("news cache: %w", err)
	}
	return src, nil
}

// Close stops the caches' goroutines.
func (s *Sources) Close() {
	s.leave.Close()
	s.restocks.Close()
	s.pages.Close()
}

// Wait blocks until every pending cache write has been applied or dropped (tests).
func (s *Sources) Wait() {
	s.leave.Wait()
	s.restocks.Wait()
	s.pages.Wait()
}

// Stats are the caches' fresh hits and misses since start.
type Stats struct {
	LeaveHits, LeaveMisses     uint64
	RestockHits, RestockMisses uint64
	NewsHits, NewsMisses       uint64
}

// Stats reports the caches' own accounting, so tests can tell a hit from a
// write ristretto refused without assuming either.
func (s *Sources) Stats() Stats {
	var st Stats
	st.LeaveHits, st.LeaveMisses = s.leave.Stats()
	st.RestockHits, st.RestockMisses = s.restocks.Stats()
	st.NewsHits, st.NewsMisses = s.pages.Stats()
	return st
}

// LeaveBalances returns the balances of the given employees; those HR does
// not know are absent. Misses cost one HR call together. Keys carry the
// employee id: leave is per employee.
func (s *Sources) LeaveBalances(ctx context.Context, employeeIDs []string) (map[string]hr.LeaveBalance, error) {
	return batch(ctx, s.leave, employeeIDs,
		func(id string) string { return cache.Key("hr", "leave", id) },
		s.hr.LeaveBalances)
}

// NextRestocks returns the next restock of each key; keys with none
// scheduled are absent. Misses cost one supply call together.
func (s *Sources) NextRestocks(ctx context.Context, keys []supply.RestockKey) (map[supply.RestockKey]supply.Restock, error) {
	return batch(ctx, s.restocks, keys,
		func(k supply.RestockKey) string { return cache.Key("supply", "restock", k.StoreID, k.SKU) },
		s.supply.NextRestocks)
}

// batch serves keys from c and loads the misses with one fetch. Absence is
// cached too (maybe.ok false), so "nothing scheduled" costs no repeat call.
// On a failed fetch only the keys left without a value (fresh or stale) fail.
func batch[K comparable, V any](
	ctx context.Context,
	c *cache.Cache[maybe[V]],
	keys []K,
	cacheKey func(K) string,
	fetch func(context.Context, []K) (map[K]V, error),
) (map[K]V, error) {
	ckeys := make([]string, len(keys))
	byKey := make(map[string]K, len(keys))
	for i, k := range keys {
		ckeys[i] = cacheKey(k)
		byKey[ckeys[i]] = k
	}
	got, err := c.GetMany(ctx, ckeys, func(ctx context.Context, missing []string) (map[string]maybe[V], error) {
		ask := make([]K, len(missing))
		for i, ck := range missing {
			ask[i] = byKey[ck]
		}
		m, err := fetch(ctx, ask)
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

// LatestNews returns one page of company news. News is the same for every
// employee, so the key is the page alone (first and after), never the user.
func (s *Sources) LatestNews(ctx context.Context, first int, after string) (news.Page, error) {
	return s.pages.GetOrLoad(ctx, cache.Key("news", "latest", strconv.Itoa(first), after), func(ctx context.Context) (news.Page, error) {
		return s.news.Latest(ctx, first, after)
	})
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
