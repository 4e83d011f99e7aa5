package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
)

// clock is a settable time source: entries expire by moving it, not by
// waiting (ristretto's own expiry works in whole seconds).
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

var errHRDown = fmt.Errorf("hr: %w: GET /v1/leave-balances: 503", upstream.ErrUnavailable)

func newTestCache(t *testing.T, clk *clock, opts Options[string]) *Cache[string] {
	t.Helper()
	opts.MaxCost = 1 << 20
	opts.Now = clk.Now
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// store puts value under key and makes sure it landed: ristretto may drop
// an asynchronous Set, so try again rather than assume a hit.
func store(t *testing.T, c *Cache[string], key, value string) {
	t.Helper()
	for range 50 {
		c.Add(context.Background(), key, value)
		c.Wait()
		if got, ok := c.Get(context.Background(), key); ok && got == value {
			return
		}
	}
	t.Fatalf("cache never admitted %q", key)
}

// counted returns a load that returns value or err and counts its calls.
func counted(value string, err error) (func(context.Context) (string, error), *atomic.Int64) {
	var n atomic.Int64
	return func(context.Context) (string, error) {
		n.Add(1)
		return value, err
	}, &n
}

func TestGetOrLoadSharesOneLoad(t *testing.T) {
	const callers = 50
	c := newTestCache(t, newClock(), Options[string]{TTL: time.Minute})
	joined := make(chan struct{}, callers)
	c.afterJoinHook = func(string) { joined <- struct{}{} }

	release := make(chan struct{})
	var loads atomic.Int64
	load := func(context.Context) (string, error) {
		loads.Add(1)
		<-release
		return "balance of E0001", nil
	}

	var wg sync.WaitGroup
	results := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = c.GetOrLoad(context.Background(), "hr:leave:E0001", load) })
	}
	// Every caller has joined the flight before the load may finish, so
	// none can start a second one.
	for range callers {
		<-joined
	}
	close(release)
	wg.Wait()

	if loads.Load() != 1 {
		t.Fatalf("loads = %d, want 1 for %d concurrent misses", loads.Load(), callers)
	}
	for i := range callers {
		if errs[i] != nil || results[i] != "balance of E0001" {
			t.Fatalf("caller %d got %q, %v", i, results[i], errs[i])
		}
	}
}

func TestGetOrLoadCallerCancelDoesNotFailOthers(t *testing.T) {
	c := newTestCache(t, newClock(), Options[string]{TTL: time.Minute})
	joined := make(chan struct{}, 2)
	c.afterJoinHook = func(string) { joined <- struct{}{} }
	release := make(chan struct{})
	var loadCtxErr error
	load := func(ctx context.Context) (string, error) {
		<-release
		loadCtxErr = ctx.Err()
		return "v", nil
	}

	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(first, "k", load)
		firstErr <- err
	}()
	<-joined
	second := make(chan string, 1)
	go func() {
		v, _ := c.GetOrLoad(context.Background(), "k", load)
		second <- v
	}()
	<-joined

	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v, want context.Canceled", err)
	}
	close(release)
	if v := <-second; v != "v" {
		t.Fatalf("second caller got %q, want v", v)
	}
	if loadCtxErr != nil {
		t.Fatalf("load's context ended with the first caller: %v", loadCtxErr)
	}
}

func TestGetOrLoadTTL(t *testing.T) {
	clk := newClock()
	c := newTestCache(t, clk, Options[string]{TTL: time.Minute})
	ctx := context.Background()
	store(t, c, "news:latest", "old")

	load, loads := counted("new", nil)
	clk.Advance(time.Minute - time.Nanosecond)
	if v, err := c.GetOrLoad(ctx, "news:latest", load); v != "old" || err != nil || loads.Load() != 0 {
		t.Fatalf("within TTL: got %q, %v after %d loads; want the cached value and no load", v, err, loads.Load())
	}
	clk.Advance(time.Nanosecond)
	if v, err := c.GetOrLoad(ctx, "news:latest", load); v != "new" || err != nil || loads.Load() != 1 {
		t.Fatalf("at TTL: got %q, %v after %d loads; want a fresh load", v, err, loads.Load())
	}
	// The loaded value is stored: some later call is served without a load.
	for range 50 {
		c.Wait()
		before := loads.Load()
		if _, err := c.GetOrLoad(ctx, "news:latest", load); err != nil {
			t.Fatal(err)
		}
		if loads.Load() == before {
			return
		}
	}
	t.Fatal("GetOrLoad never served the loaded value from the cache")
}

func TestStaleIfError(t *testing.T) {
	const ttl, grace = time.Minute, 10 * time.Minute
	errNotFound := fmt.Errorf("hr: %w", upstream.ErrNotFound)
	tests := []struct {
		name      string
		age       time.Duration
		staleFor  time.Duration
		loadErr   error
		wantValue string
		wantErr   error
	}{
		{"upstream down within grace: stale value", ttl + time.Second, grace, errHRDown, "old", nil},
		{"upstream down at the end of grace", ttl + grace - time.Nanosecond, grace, errHRDown, "old", nil},
		{"upstream down past grace: error", ttl + grace, grace, errHRDown, "", upstream.ErrUnavailable},
		{"not found is not hidden", ttl + time.Second, grace, errNotFound, "", upstream.ErrNotFound},
		{"stale serving off", ttl + time.Second, 0, errHRDown, "", upstream.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			var hookKey string
			var hookErr error
			c := newTestCache(t, clk, Options[string]{TTL: ttl, StaleFor: tt.staleFor, OnStale: func(_ context.Context, key string, err error) {
				hookKey, hookErr = key, err
			}})
			ctx := context.Background()
			store(t, c, "hr:leave:E0001", "old")
			storedAt := clk.Now()
			clk.Advance(tt.age)

			load, _ := counted("", tt.loadErr)
			r, err := c.Fetch(ctx, "hr:leave:E0001", load)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || r.Value != "" {
					t.Fatalf("Fetch = %+v, %v; want error %v", r, err, tt.wantErr)
				}
				if c.StaleServed() != 0 || hookErr != nil {
					t.Errorf("stale reported for a failed load: %d, %v", c.StaleServed(), hookErr)
				}
				return
			}
			if err != nil || r.Value != tt.wantValue || !r.Stale || !errors.Is(r.LoadErr, tt.loadErr) || !r.StoredAt.Equal(storedAt) {
				t.Fatalf("Fetch = %+v, %v; want stale %q stored at %v", r, err, tt.wantValue, storedAt)
			}
			if hookKey != "hr:leave:E0001" || !errors.Is(hookErr, upstream.ErrUnavailable) || c.StaleServed() != 1 {
				t.Errorf("OnStale(%q, %v), StaleServed %d; want the key, the load error and 1", hookKey, hookErr, c.StaleServed())
			}
			// GetOrLoad serves the same value with a nil error; Get never serves stale.
			if v, err := c.GetOrLoad(ctx, "hr:leave:E0001", load); v != "old" || err != nil {
				t.Errorf("GetOrLoad = %q, %v; want old, nil", v, err)
			}
			if v, ok := c.Get(ctx, "hr:leave:E0001"); ok {
				t.Errorf("Get = %q, a hit on a stale entry", v)
			}
		})
	}
}

func TestCustomStaleIf(t *testing.T) {
	clk := newClock()
	errTimeout := errors.New("db timeout")
	c := newTestCache(t, clk, Options[string]{TTL: time.Minute, StaleFor: time.Hour, StaleIf: func(err error) bool { return errors.Is(err, errTimeout) }})
	store(t, c, "k", "old")
	clk.Advance(2 * time.Minute)
	load, _ := counted("", errTimeout)
	if v, err := c.GetOrLoad(context.Background(), "k", load); v != "old" || err != nil {
		t.Fatalf("GetOrLoad = %q, %v; want the stale value for an error StaleIf accepts", v, err)
	}
	load, _ = counted("", errHRDown)
	if _, err := c.GetOrLoad(context.Background(), "k", load); !errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("GetOrLoad error = %v; want the error StaleIf refuses", err)
	}
}

func TestDeleteInvalidates(t *testing.T) {
	c := newTestCache(t, newClock(), Options[string]{TTL: time.Hour, StaleFor: time.Hour})
	ctx := context.Background()
	store(t, c, "k", "before write")
	c.Delete("k")
	load, loads := counted("after write", nil)
	if v, err := c.GetOrLoad(ctx, "k", load); v != "after write" || err != nil || loads.Load() != 1 {
		t.Fatalf("after Delete: %q, %v after %d loads; want a new load", v, err, loads.Load())
	}
	// A deleted entry is gone for stale serving too.
	c.Delete("k")
	c.Wait()
	failing, _ := counted("", errHRDown)
	if _, err := c.GetOrLoad(ctx, "k", failing); !errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("after Delete, failing load: %v; want the error, not a deleted value", err)
	}
}

// A load that began before a Delete read the old data: its callers get it,
// but it must not be stored for later callers.
func TestDeleteDuringLoadIsNotStored(t *testing.T) {
	c := newTestCache(t, newClock(), Options[string]{TTL: time.Hour})
	ctx := context.Background()
	started := make(chan struct{})
	release := make(chan struct{})
	c.beforeLoadHook = func(string) { close(started) }
	done := make(chan string)
	go func() {
		v, _ := c.GetOrLoad(ctx, "k", func(context.Context) (string, error) {
			<-release
			return "read before the write", nil
		})
		done <- v
	}()
	<-started
	c.beforeLoadHook = nil
	c.Delete("k")
	close(release)
	if v := <-done; v != "read before the write" {
		t.Fatalf("in-flight caller got %q", v)
	}
	c.Wait()
	if v, ok := c.Get(ctx, "k"); ok {
		t.Fatalf("Get = %q after Delete during its load; want a miss", v)
	}
}

func TestLoadPanicBecomesError(t *testing.T) {
	c := newTestCache(t, newClock(), Options[string]{TTL: time.Minute})
	_, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (string, error) { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error = %v, want the panic as an error", err)
	}
}

func TestKey(t *testing.T) {
	if Key("a:b", "c") == Key("a", "b:c") || Key("ab", "") == Key("a", "b") {
		t.Fatal("Key lets parts run into each other")
	}
	if Key("hr", "leave", "E0001") != Key("hr", "leave", "E0001") {
		t.Fatal("Key is not deterministic")
	}
}
