package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// # Tags
//
// A Tagged cache's entries carry tags naming the data they were built from
// ("backorders:S001": the backorders of store S001; "customers": the
// customer directory). A write invalidates the tags of what it changed, and
// every entry carrying one of them is a miss from then on, on this replica
// at once and, through a Bus, on the others.
//
// A tag is "family:value" or a bare family. The value "*" stands for every
// value of the family: an entry tagged "backorders:*" depends on every
// store's backorders (any "backorders:..." invalidation drops it), and an
// invalidation of "backorders:*" drops every "backorders:..." entry (a write
// that cannot tell which store it changed).
//
// Invalidation works by generations, not by finding entries (ristretto
// cannot list its keys): each tag has a counter, an entry records the
// counters of its tags when its load began (Stamp), and it is served only
// while they are unchanged. A load that began before a write and finishes
// after it is therefore never served, even though it is stored after the
// invalidation.

// Bus carries invalidated tags between the replicas of the service, so
// that a write on one replica invalidates the others' caches too. The
// in-process LocalBus is the single-replica (and test) implementation; a
// shared one (Redis pub/sub, PostgreSQL LISTEN/NOTIFY) plugs in here.
type Bus interface {
	// Publish announces that the data under tags changed. The publishing
	// replica has already invalidated its own caches; delivering the tags
	// back to its subscribers is allowed and harmless.
	Publish(ctx context.Context, tags []string) error
	// Subscribe calls fn with every set of tags published through the bus
	// until unsubscribe is called. fn must not block for long.
	Subscribe(fn func(tags []string)) (unsubscribe func())
}

// LocalBus delivers published tags to every subscriber in this process.
type LocalBus struct {
	mu   sync.RWMutex
	subs map[int]func([]string)
	next int
}

// NewLocalBus returns an in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[int]func([]string){}} }

// Publish calls every subscriber with tags, synchronously.
func (b *LocalBus) Publish(_ context.Context, tags []string) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(tags)
	}
	return nil
}

// Subscribe adds fn until the returned function is called.
func (b *LocalBus) Subscribe(fn func([]string)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// TaggedOptions size a Tagged cache.
type TaggedOptions[V any] struct {
	// MaxCost bounds the sum of entry costs.
	MaxCost int64
	// Cost estimates an entry's cost; nil means len(key).
	Cost func(key string, v V) int64
	// Bus carries invalidations to and from other replicas; nil means a
	// LocalBus of this cache's own (one replica).
	Bus Bus
	// Now is the clock for freshness; nil means time.Now.
	Now func() time.Time
}

// Tagged is a cache of entries with their own TTL and tags, invalidated by
// tag (see Tags above).
type Tagged[V any] struct {
	c           *Cache[taggedEntry[V]]
	bus         Bus
	unsubscribe func()

	mu sync.RWMutex
	// gens counts invalidations per tag key; an absent key is 0.
	gens map[genKey]uint64
	// epoch moves when gens is cleared to bound its size, which
	// invalidates everything once.
	epoch uint64

	hits, misses, invalidated atomic.Uint64
}

// maxGens bounds the tag counters kept. Tags come from a bounded set
// (operations times stores) in normal use; past this the counters are
// cleared and every entry is invalidated once, so nothing grows unbounded.
const maxGens = 100_000

type genKind uint8

const (
	genExact genKind = iota // this tag ("backorders:S001", "customers")
	genAll                  // "family:*" was invalidated: every value of the family
	genAny                  // some value of the family was invalidated
)

type genKey struct {
	tag  string // the tag, or its family for genAll and genAny
	kind genKind
}

// Stamp records the generations of an entry's tags when its load began.
type Stamp struct {
	epoch uint64
	keys  []genKey
	gens  []uint64
}

type taggedEntry[V any] struct {
	value V
	stamp Stamp
}

// NewTagged builds a tagged cache subscribed to opts.Bus. Close it to stop
// its goroutines and its subscription.
func NewTagged[V any](opts TaggedOptions[V]) (*Tagged[V], error) {
	cost := opts.Cost
	if cost == nil {
		cost = func(key string, _ V) int64 { return int64(len(key)) }
	}
	c, err := New(Options[taggedEntry[V]]{
		MaxCost: opts.MaxCost,
		Cost:    func(key string, e taggedEntry[V]) int64 { return cost(key, e.value) },
		Now:     opts.Now,
	})
	if err != nil {
		return nil, err
	}
	t := &Tagged[V]{c: c, bus: opts.Bus, gens: map[genKey]uint64{}}
	if t.bus == nil {
		t.bus = NewLocalBus()
	}
	t.unsubscribe = t.bus.Subscribe(t.bump)
	return t, nil
}

// keysOf are the counters an entry tagged tag depends on.
func keysOf(tag string) []genKey {
	family, value, ok := strings.Cut(tag, ":")
	switch {
	case !ok:
		return []genKey{{tag, genExact}}
	case value == "*":
		return []genKey{{family, genAny}}
	default:
		return []genKey{{tag, genExact}, {family, genAll}}
	}
}

// Stamp reads the generations of tags. Take it before loading the value
// that Add will store, so that a write committed meanwhile is not missed.
func (t *Tagged[V]) Stamp(tags ...string) Stamp {
	var s Stamp
	for _, tag := range tags {
		s.keys = append(s.keys, keysOf(tag)...)
	}
	s.gens = make([]uint64, len(s.keys))
	t.mu.RLock()
	defer t.mu.RUnlock()
	s.epoch = t.epoch
	for i, k := range s.keys {
		s.gens[i] = t.gens[k]
	}
	return s
}

// current reports whether no tag of s was invalidated since s was taken.
func (t *Tagged[V]) current(s Stamp) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s.epoch != t.epoch {
		return false
	}
	for i, k := range s.keys {
		if t.gens[k] != s.gens[i] {
			return false
		}
	}
	return true
}

// Get returns the value under key and when it was stored, if it is fresh
// and none of its tags was invalidated since its load began.
func (t *Tagged[V]) Get(_ context.Context, key string) (v V, storedAt time.Time, ok bool) {
	e, _, fresh := t.c.lookup(key)
	if !fresh || !t.current(e.value.stamp) {
		t.misses.Add(1)
		return v, time.Time{}, false
	}
	t.hits.Add(1)
	return e.value.value, e.storedAt, true
}

// Add stores value under key for ttl with the tags stamped in s (taken
// before the value was loaded). A value whose tags were invalidated since
// is not stored: it may predate the write. Like every Add, it is
// asynchronous and may be refused by admission.
func (t *Tagged[V]) Add(ctx context.Context, key string, value V, ttl time.Duration, s Stamp) {
	if ttl <= 0 || !t.current(s) {
		return
	}
	t.c.AddFor(ctx, key, taggedEntry[V]{value: value, stamp: s}, ttl)
}

// Invalidate makes every entry carrying one of tags a miss, here at once
// and through the bus on the other replicas. The local invalidation
// always happens; the error is the bus's.
func (t *Tagged[V]) Invalidate(ctx context.Context, tags ...string) error {
	if len(tags) == 0 {
		return nil
	}
	t.bump(tags)
	t.invalidated.Add(uint64(len(tags)))
	if err := t.bus.Publish(ctx, tags); err != nil {
		return fmt.Errorf("cache: publish invalidation of %v: %w", tags, err)
	}
	return nil
}

// bump moves the counters of tags; it is also what arrives from the bus.
func (t *Tagged[V]) bump(tags []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.gens)+2*len(tags) > maxGens {
		clear(t.gens)
		t.epoch++
	}
	for _, tag := range tags {
		family, value, ok := strings.Cut(tag, ":")
		switch {
		case !ok:
			t.gens[genKey{tag, genExact}]++
		case value == "*":
			t.gens[genKey{family, genAll}]++
			t.gens[genKey{family, genAny}]++
		default:
			t.gens[genKey{tag, genExact}]++
			t.gens[genKey{family, genAny}]++
		}
	}
}

// Stats reports lookups that hit and missed, and tags invalidated by this
// replica's writes (Invalidate; not what arrived from the bus), since start.
func (t *Tagged[V]) Stats() (hits, misses, invalidated uint64) {
	return t.hits.Load(), t.misses.Load(), t.invalidated.Load()
}

// Wait blocks until every pending Add has been applied or dropped (tests).
func (t *Tagged[V]) Wait() { t.c.Wait() }

// Close stops the subscription and the cache's goroutines.
func (t *Tagged[V]) Close() {
	t.unsubscribe()
	t.c.Close()
}
