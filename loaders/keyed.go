package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"
)

// ErrNotFound is what a key without a row loads as.
var ErrNotFound = dataloadgen.ErrNotFound

// Keyed is one request's reads of one kind of value by key. Every key is
// read at most once per request, whichever way it is asked for:
//
//   - Load and LoadAll wait for the batch window and share one read with
//     every other key asked for in it: for resolvers that fan in
//     independently (root fields, aliases, a relation of a lone object).
//   - Fetch reads the keys it is given at once, in one call, without a
//     window: for a batch resolver that already holds every key of its
//     level (a page's customers), where waiting would only add latency
//     and, under load, split the level into several statements.
//
// Both share one memo, so a key read by either is never read again, and a
// key in flight is waited for rather than read twice. dataloadgen does the
// windowed batching (without its own cache, since the memo is the cache).
type Keyed[K comparable, V any] struct {
	fetch  func(context.Context, []K) (map[K]V, error)
	window *dataloadgen.Loader[K, V]

	mu   sync.Mutex
	memo map[K]*result[V]
}

type result[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func newKeyed[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error), wait time.Duration) *Keyed[K, V] {
	return &Keyed[K, V]{
		fetch:  fetch,
		window: dataloadgen.NewMappedLoader(fetch, dataloadgen.WithWait(wait), dataloadgen.WithoutCache()),
		memo:   make(map[K]*result[V]),
	}
}

// Load reads one key, batched with the keys other resolvers ask for within
// the window; a key without a value loads as ErrNotFound. A resolver that no
// other resolver can join (see alone) reads at once instead: waiting would
// only add a window of latency per level.
func (k *Keyed[K, V]) Load(ctx context.Context, key K) (V, error) {
	vs, errs := k.read(ctx, []K{key}, false)
	if errs != nil {
		return vs[0], errs[0]
	}
	return vs[0], nil
}

// LoadAll reads keys batched like Load; errs is nil when every key loaded.
func (k *Keyed[K, V]) LoadAll(ctx context.Context, keys []K) ([]V, []error) {
	return k.read(ctx, keys, false)
}

// Fetch reads keys now: those not yet read or in flight in one call, the
// others from the memo. vs and errs follow keys; errs is nil when every key
// loaded, and a key without a value has ErrNotFound.
func (k *Keyed[K, V]) Fetch(ctx context.Context, keys []K) ([]V, []error) {
	return k.read(ctx, keys, true)
}

func (k *Keyed[K, V]) read(ctx context.Context, keys []K, now bool) ([]V, []error) {
	if !now && alone(ctx) {
		now = true
	}
	rs := make([]*result[V], len(keys))
	var mine []K
	var mineRs []*result[V]
	k.mu.Lock()
	for i, key := range keys {
		r, ok := k.memo[key]
		if !ok {
			r = &result[V]{done: make(chan struct{})}
			k.memo[key] = r
			mine, mineRs = append(mine, key), append(mineRs, r)
		}
		rs[i] = r
	}
	k.mu.Unlock()
	if len(mine) > 0 {
		k.resolve(ctx, mine, mineRs, now)
	}
	vs := make([]V, len(keys))
	var errs []error
	for i, r := range rs {
		var err error
		select {
		case <-r.done:
			vs[i], err = r.v, r.err
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(keys))
			}
			errs[i] = err
		}
	}
	return vs, errs
}

// resolve reads keys, which this call added to the memo as rs, and
// completes them; a panic in the read completes them with an error before
// it goes on up, so no other reader waits for them forever.
func (k *Keyed[K, V]) resolve(ctx context.Context, keys []K, rs []*result[V], now bool) {
	completed := false
	defer func() {
		if completed {
			return
		}
		p := recover()
		for _, r := range rs {
			r.err = fmt.Errorf("load: panic: %v", p)
			close(r.done)
		}
		panic(p)
	}()
	if now {
		m, err := k.fetch(ctx, keys)
		// A source may fail some keys only (dataloadgen.MappedFetchError,
		// as the upstream caches do); the others keep their values.
		var each dataloadgen.MappedFetchError[K]
		partial := errors.As(err, &each)
		for i, key := range keys {
			v, ok := m[key]
			switch {
			case partial && each[key] != nil:
				rs[i].err = each[key]
			case err != nil && !partial:
				rs[i].err = err
			case ok:
				rs[i].v = v
			default:
				rs[i].err = ErrNotFound
			}
		}
	} else {
		vs, err := k.window.LoadAll(ctx, keys)
		var each dataloadgen.ErrorSlice
		errors.As(err, &each)
		for i := range keys {
			rs[i].v = vs[i]
			if i < len(each) {
				rs[i].err = each[i]
			}
		}
	}
	for _, r := range rs {
		close(r.done)
	}
	completed = true
}

// alone reports whether the field asking is the only one at its place in
// the response, so no other resolver can add keys to its read and a batch
// window would be latency for nothing:
//
//   - a field under a lone object (no list index in its path, below the
//     root: profile.store, profile.store.backorders) runs once per request
//     at that place;
//   - a root field runs once unless the operation asks for the same root
//     field more than once (aliases) or spreads fragments at the root, where
//     the window still gathers their keys into one read.
//
// A field under a list (a row's relation) is never alone: its siblings are
// the other rows, and the batch resolvers or the window gather them.
func alone(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	depth := 0
	for _, p := range fc.Path() {
		if _, ok := p.(ast.PathIndex); ok {
			return false
		}
		depth++
	}
	if depth != 1 {
		return depth > 1
	}
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil {
		return false
	}
	same := 0
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return false
		}
		if f.Name == fc.Field.Name {
			same++
		}
	}
	return same == 1
}
