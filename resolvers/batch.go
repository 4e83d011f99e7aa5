package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/loaders"
)

// batch resolves one field for every parent a batch resolver got (gqlgen
// hands it a list's parents together, `batch: true` in gqlgen.yml): it reads
// each parent's key through l in one call and shapes each value with out
// (required, optional or same). A parent without a key (ok false) gets the
// zero result. Errors stay with their parent (graphql.BatchErrorList), so
// one broken row does not fail its siblings.
//
// When the parents are the whole level of the response (the field's path
// holds exactly one list index: their own list), nothing else at that level
// can add keys, so the read goes at once (Keyed.Fetch): no batch window,
// and no window that closes early under load and splits the level. A
// relation of a lone object, or of a list nested in a list, shares its read
// with the resolvers beside it through the window (Keyed.LoadAll), as
// before: there the window is what keeps one statement per level.
func batch[P any, K comparable, V, R any](ctx context.Context, l *loaders.Keyed[K, V], parents []*P, key func(*P) (K, bool), out func(V, error) (R, error)) ([]R, error) {
	keys := make([]K, 0, len(parents))
	at := make([]int, len(parents)) // parents[i]'s position in keys, -1 for none
	for i, p := range parents {
		k, ok := key(p)
		if !ok {
			at[i] = -1
			continue
		}
		at[i] = len(keys)
		keys = append(keys, k)
	}
	var (
		vs   []V
		errs []error
	)
	if len(keys) > 0 {
		if wholeLevel(ctx) {
			vs, errs = l.Fetch(ctx, keys)
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

// guarded is batch for a relation behind an access rule: a parent that
// allowed refuses gets allowed's error (FORBIDDEN for that parent only, its
// siblings are answered) and costs no read.
func guarded[P any, K comparable, V, R any](ctx context.Context, l *loaders.Keyed[K, V], parents []*P, allowed func(*P) error, key func(*P) K, out func(V, error) (R, error)) ([]R, error) {
	denied := make(map[*P]error)
	for _, p := range parents {
		if err := allowed(p); err != nil {
			denied[p] = err
		}
	}
	res, err := batch(ctx, l, parents, func(p *P) (K, bool) {
		if _, ok := denied[p]; ok {
			var zero K
			return zero, false
		}
		return key(p), true
	}, out)
	if len(denied) == 0 {
		return res, err
	}
	failed, _ := err.(graphql.BatchErrorList)
	if failed == nil {
		failed = make(graphql.BatchErrorList, len(parents))
	}
	for i, p := range parents {
		if e, ok := denied[p]; ok {
			failed[i] = e
		}
	}
	return res, failed
}

// wholeLevel reports whether the field being resolved sits under exactly
// one list in the response, so that its batch holds every parent at its depth.
func wholeLevel(ctx context.Context) bool {
	n := 0
	for _, p := range graphql.GetPath(ctx) {
		if _, ok := p.(ast.PathIndex); ok {
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
