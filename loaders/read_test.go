package loaders_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/loaders"
)

// TestReadBatchesWithinARequestOnly: a Read's loads in one request share one
// batch; another request gets its own loader over its own sources.
func TestReadBatchesWithinARequestOnly(t *testing.T) {
	var batches atomic.Int64
	var mu sync.Mutex
	var seen []upstream.Finder
	read := loaders.NewRead("Test", func(up loaders.Upstream) func(context.Context, []string) (map[string]int, error) {
		mu.Lock()
		seen = append(seen, up)
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
	// A window long enough that the loads below, started together, land in
	// one batch on a loaded machine; the test asserts counts, not time.
	const wait = 50 * time.Millisecond
	db := storetest.SQLite(t) // the store's loaders are built too, and not used
	first, second := upstream.Set{"a": nil}, upstream.Set{"b": nil}
	ctx := loaders.With(context.Background(), loaders.New(db, first, wait))

	keys := []string{"x", "yy", "zzz", "yy", "unknown"}
	got := make([]int, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() { got[i], errs[i] = read.Load(ctx, k) })
	}
	wg.Wait()
	for i, k := range keys[:4] {
		if errs[i] != nil || got[i] != len(k) {
			t.Errorf("Load(%q) = %d, %v; want %d", k, got[i], errs[i], len(k))
		}
	}
	if errs[4] == nil {
		t.Errorf("Load(unknown) = %d, nil; want not found", got[4])
	}
	if n := batches.Load(); n < 1 || n > 2 {
		t.Errorf("%d batches for one request's loads, want 1 (2 if the window split them)", n)
	}

	before := batches.Load()
	other := loaders.With(context.Background(), loaders.New(db, second, wait))
	if v, err := read.Load(other, "x"); err != nil || v != 1 {
		t.Errorf("other request: Load(x) = %d, %v", v, err)
	}
	if batches.Load() != before+1 {
		t.Errorf("other request was served from the first request's loader")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("read opened %d times, want once per request", len(seen))
	}
	for i, name := range []string{"a", "b"} {
		if _, ok := seen[i].(upstream.Set)[name]; !ok {
			t.Errorf("request %d's read opened over %v, want its own sources (%s)", i+1, seen[i], name)
		}
	}
}
