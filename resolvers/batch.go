package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/loaders"
)

// batch resolves one field for every parent a batch resolver got (gqlgen
// hands it a list's parents together, `batch: true` in gqlgen.yml): it reads
// each parent's key through l in one call and shapes each value with out
// (required, optional or same). A parent without a key (ok false) gets the
// zero result. Errors stay with their parent (graphql.BatchErrorList), so
// one broken row does not fail its siblings.
//
// The read never waits for the batch window when the parents' whole level
// is known: when the parents are their own list and that list is the only
// one in the field's path (nothing else at that depth can add keys), or
// when the list is one of several nested in an outer list whose batch
// resolver recorded them all (loaders.Levels, see nested): then the first
// list reads every list's keys in one call and the others find theirs in
// the loader's memo. Only a relation of a lone object, or of a nested list
// nobody recorded, shares its read with the resolvers beside it through
// the window (Keyed.LoadAll): there the window is what keeps one statement
// per level.
func batch[P any, K comparable, V, R any](ctx context.Context, l *loaders.Keyed[K, V], parents []*P, key func(*P) (K, bool), out func(V, error) (R, error)) ([]R, error) {
	return batchOf[P, K, V, R, struct{}](ctx, l, parents, key, out, nil)
}

// nested is batch for a field whose values hold lists of rows (a page, a
// history): it records every row of those lists, across the whole level,
// in loaders.Levels, so that the rows' own relations read at once. It
// records only when it read the whole level itself; otherwise the rows'
// relations fall back to the window, as before.
func nested[P any, K comparable, V, R, C any](ctx context.Context, l *loaders.Keyed[K, V], parents []*P, key func(*P) (K, bool), out func(V, error) (R, error), rows func(V) []C) ([]R, error) {
	return batchOf(ctx, l, parents, key, out, rows)
}

func batchOf[P any, K comparable, V, R, C any](ctx context.Context, l *loaders.Keyed[K, V], parents []*P, key func(*P) (K, bool), out func(V, error) (R, error), rows func(V) []C) ([]R, error) {
	keys, at := keysOf(parents, key)
	var (
		vs   []V
		errs []error
	)
	if len(keys) > 0 {
		if wholeLevel(ctx) {
			vs, errs = l.Fetch(ctx, keys)
			if rows != nil {
				record(ctx, vs, errs, rows)
			}
		} else if all, lv, ok := levelOf(ctx, parents); ok {
			lv.Once(graphql.GetFieldContext(ctx).Field.Alias, func() {
				keys, _ := keysOf(all, key)
				avs, aerrs := l.Fetch(ctx, keys)
				if rows != nil {
					record(ctx, avs, aerrs, rows)
				}
			})
			vs, errs = l.Fetch(ctx, keys) // from the memo
		} else {
			vs, errs = l.LoadAll(ctx, keys)
		}
	}
	res := make([]R, len(parents))
	var failed graphql.BatchErrorList
	for i, j := range at {
		if j < 0 {
			continue
		}
		var err error
		if errs != nil {
			err = errs[j]
		}
		r, err := out(vs[j], err)
		if err != nil {
			if failed == nil {
				failed = make(graphql.BatchErrorList, len(parents))
			}
			failed[i] = err
			continue
		}
		res[i] = r
	}
	if failed != nil {
		return res, failed
	}
	return res, nil
}

// keysOf is the keys of parents, and each parent's position in them (-1
// for a parent without a key).
func keysOf[P any, K comparable](parents []*P, key func(*P) (K, bool)) ([]K, []int) {
	keys := make([]K, 0, len(parents))
	at := make([]int, len(parents))
	for i, p := range parents {
		k, ok := key(p)
		if !ok {
			at[i] = -1
			continue
		}
		at[i] = len(keys)
		keys = append(keys, k)
	}
	return keys, at
}

// levelOf is every row of the level parents belong to, when the batch
// resolver one level up recorded it (nested).
func levelOf[P any](ctx context.Context, parents []*P) ([]*P, *loaders.Level, bool) {
	if len(parents) == 0 {
		return nil, nil, false
	}
	lv, ok := loaders.For(ctx).Levels.Of(parents[0])
	if !ok {
		return nil, nil, false
	}
	all, ok := lv.Rows.([]*P)
	return all, lv, ok
}

// record puts the rows of vs (the values read for a whole level) in the
// request's levels: each non-empty list under its first row's address.
func record[V, C any](ctx context.Context, vs []V, errs []error, rows func(V) []C) {
	var (
		firsts []any
		all    []*C
	)
	for i, v := range vs {
		if errs != nil && errs[i] != nil {
			continue
		}
		rs := rows(v)
		if len(rs) == 0 {
			continue
		}
		firsts = append(firsts, &rs[0])
		for j := range rs {
			all = append(all, &rs[j])
		}
	}
	loaders.For(ctx).Levels.Add(firsts, all)
}

// guarded is nested for a relation behind an access rule: a parent that
// allowed refuses gets allowed's error (FORBIDDEN for that parent only, its
// siblings are answered) and costs no read, also when a sibling list reads
// it for the whole level.
func guarded[P any, K comparable, V, R, C any](ctx context.Context, l *loaders.Keyed[K, V], parents []*P, allowed func(*P) error, key func(*P) K, out func(V, error) (R, error), rows func(V) []C) ([]R, error) {
	res, err := nested(ctx, l, parents, func(p *P) (K, bool) {
		if allowed(p) != nil {
			var zero K
			return zero, false
		}
		return key(p), true
	}, out, rows)
	var failed graphql.BatchErrorList
	for i, p := range parents {
		if e := allowed(p); e != nil {
			if failed == nil {
				failed, _ = err.(graphql.BatchErrorList)
			}
			if failed == nil {
				failed = make(graphql.BatchErrorList, len(parents))
			}
			failed[i] = e
		}
	}
	if failed == nil {
		return res, err
	}
	return res, failed
}

// wholeLevel reports whether the field being resolved sits under exactly
// one list in the response, so that its batch holds every parent at its
// depth. It walks the field contexts rather than building the path
// (graphql.GetPath allocates it).
func wholeLevel(ctx context.Context) bool {
	n := 0
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Index != nil {
			n++
		}
	}
	return n == 1
}

// same passes a loaded value through as it is (lists and counts, where a
// missing key already loads as the empty value).
func same[V any](v V, err error) (V, error) { return v, err }

// always is the key function of a relation every parent has.
func always[P any, K comparable](key func(*P) K) func(*P) (K, bool) {
	return func(p *P) (K, bool) { return key(p), true }
}

// ifSet is the key function of an optional reference (nil: no relation).
func ifSet[P any](key func(*P) *string) func(*P) (string, bool) {
	return func(p *P) (string, bool) {
		if k := key(p); k != nil {
			return *k, true
		}
		return "", false
	}
}

// pageRows is the rows of a page, which a connection's nodes serve.
func pageRows[T any](p store.Paged[T]) []T { return p.Items }

// listRows is a list value's own rows.
func listRows[T any](v []T) []T { return v }
