package loaders

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a fetch that records every call's keys.
type recorder struct {
	mu    sync.Mutex
	calls [][]string
}

func (r *recorder) fetch(_ context.Context, keys []string) (map[string]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, slices.Clone(keys))
	out := map[string]int{}
	for _, k := range keys {
		if k != "missing" {
			out[k] = len(k)
		}
	}
	return out, nil
}

func TestKeyedReadsEveryKeyOnce(t *testing.T) {
	var rec recorder
	// An hour-long window: a Fetch that waited for it would end the test
	// by its deadline, not pass.
	k := newKeyed(rec.fetch, time.Hour)
	ctx := t.Context()

	vs, errs := k.Fetch(ctx, []string{"a", "bb", "a", "missing"})
	if !slices.Equal(vs, []int{1, 2, 1, 0}) {
		t.Errorf("values %v, want [1 2 1 0]", vs)
	}
	if errs == nil || errs[0] != nil || errs[1] != nil || !errors.Is(errs[3], ErrNotFound) {
		t.Errorf("errors %v, want ErrNotFound for the missing key only", errs)
	}
	// Known keys, found or not, are answered from the memo without a read.
	if v, err := k.Load(ctx, "bb"); v != 2 || err != nil {
		t.Errorf("Load(bb) = %d, %v; want 2 from the memo", v, err)
	}
	if _, err := k.Load(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(missing) = %v, want ErrNotFound", err)
	}
	vs, errs = k.Fetch(ctx, []string{"a", "ccc"})
	if !slices.Equal(vs, []int{1, 3}) || errs != nil {
		t.Errorf("second fetch: %v %v", vs, errs)
	}
	want := [][]string{{"a", "bb", "missing"}, {"ccc"}}
	if !slices.EqualFunc(rec.calls, want, slices.Equal) {
		t.Errorf("reads %v, want %v", rec.calls, want)
	}
}

func TestKeyedWindowGathersLoads(t *testing.T) {
	var rec recorder
	k := newKeyed(rec.fetch, 20*time.Millisecond)
	ctx := t.Context()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, key := range []string{"a", "bb", "a"} {
		wg.Go(func() {
			<-start
			if v, err := k.Load(ctx, key); v != len(key) || err != nil {
				t.Errorf("Load(%s) = %d, %v", key, v, err)
			}
		})
	}
	close(start)
	wg.Wait()
	// However the loads fell into windows, each key was read exactly once.
	var read []string
	for _, c := range rec.calls {
		read = append(read, c...)
	}
	slices.Sort(read)
	if !slices.Equal(read, []string{"a", "bb"}) {
		t.Errorf("keys read %v, want a and bb once each", read)
	}
}

func TestKeyedPanicReachesWaiters(t *testing.T) {
	k := newKeyed(func(context.Context, []string) (map[string]int, error) { panic("boom") }, time.Hour)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the reader's panic did not go on up")
			}
		}()
		k.Fetch(t.Context(), []string{"a"})
	}()
	// A later reader of the same key gets the error instead of waiting.
	if _, err := k.Load(t.Context(), "a"); err == nil {
		t.Error("Load after a panicked read: no error")
	}
}
