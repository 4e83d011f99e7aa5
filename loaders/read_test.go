package loaders_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/loaders"
)

// TestReadIsPerRequest: a Read's loader is made once per request, over
// that request's sources, and keeps its keys to that request.
func TestReadIsPerRequest(t *testing.T) {
	var batches atomic.Int64
	var mu sync.Mutex
	var opened []upstream.Finder
	read := loaders.NewRead("Test", func(up loaders.Upstream) func(context.Context, []string) (map[string]int, error) {
		mu.Lock()
		opened = append(opened, up)
		mu.Unlock()
		return func(_ context.Context, keys []string) (map[string]int, error) {
			batches.Add(1)
			out := make(map[string]int, len(keys))
			for _, k := range keys {
				if k != "unknown" {
					out[k] = len(k)
				}
			}
			return out, nil
		}
	})
	db := storetest.SQLite(t) // the store's loaders are built too, and not used
	first := loaders.With(context.Background(), loaders.New(db, upstream.Set{"a": nil}, 0))

	// Fetch reads every key in one call, without a window: counts, not timing.
	keys := []string{"x", "yy", "zzz", "yy", "unknown"}
	got, errs := read.In(first).Fetch(first, keys)
	for i, k := range keys[:4] {
		if (errs != nil && errs[i] != nil) || got[i] != len(k) {
			t.Errorf("Fetch %q = %d; want %d", k, got[i], len(k))
		}
	}
	if errs == nil || !errors.Is(errs[4], loaders.ErrNotFound) {
		t.Errorf("Fetch unknown: errs %v, want ErrNotFound", errs)
	}
	if n := batches.Load(); n != 1 {
		t.Errorf("%d batches for one Fetch, want 1", n)
	}
	// The same request: the same loader, its keys already read.
	if v, err := read.Load(first, "zzz"); err != nil || v != 3 || batches.Load() != 1 {
		t.Errorf("Load(zzz) again in the request = %d, %v after %d batches; want 3 from the first read", v, err, batches.Load())
	}

	// Another request: its own loader over its own sources.
	other := loaders.With(context.Background(), loaders.New(db, upstream.Set{"b": nil}, 0))
	if v, err := read.Load(other, "zzz"); err != nil || v != 3 {
		t.Errorf("other request: Load(zzz) = %d, %v", v, err)
	}
	if n := batches.Load(); n != 2 {
		t.Errorf("%d batches after another request's load, want 2: it was served from the first request's loader", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(opened) != 2 {
		t.Fatalf("read opened %d times, want once per request", len(opened))
	}
	for i, name := range []string{"a", "b"} {
		if _, ok := opened[i].(upstream.Set)[name]; !ok {
			t.Errorf("request %d's read opened over %v, want its own sources (%s)", i+1, opened[i], name)
		}
	}
}
