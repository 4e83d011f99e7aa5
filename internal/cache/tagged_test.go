package cache

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func newTagged(t *testing.T, clk *clock, bus Bus) *Tagged[string] {
	t.Helper()
	c, err := NewTagged(TaggedOptions[string]{MaxCost: 1 << 20, Now: clk.Now, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// storeTagged puts value under key with tags and makes sure it landed:
// ristretto may drop a Set, so it is retried (never assumed).
func storeTagged(t *testing.T, c *Tagged[string], key, value string, tags ...string) {
	t.Helper()
	for range 50 {
		c.Add(context.Background(), key, value, time.Minute, c.Stamp(tags...))
		c.Wait()
		if got, _, ok := c.Get(context.Background(), key); ok && got == value {
			return
		}
	}
	t.Fatalf("cache never admitted %q", key)
}

func TestTaggedInvalidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		tags       []string // the entry's
		invalidate string
		dropped    bool
	}{
		{"same tag", []string{"backorders:S001"}, "backorders:S001", true},
		{"another store", []string{"backorders:S001"}, "backorders:S002", false},
		{"the whole family", []string{"backorders:S001"}, "backorders:*", true},
		{"entry depends on every store", []string{"backorders:*"}, "backorders:S002", true},
		{"entry depends on every store, family invalidated", []string{"backorders:*"}, "backorders:*", true},
		{"another family", []string{"backorders:S001"}, "customers", false},
		{"bare tag", []string{"events", "customers"}, "customers", true},
		{"prefix of a tag is not the tag", []string{"backorders:S0011"}, "backorders:S001", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTagged(t, newClock(), nil)
			storeTagged(t, c, "k", "v", tc.tags...)
			if err := c.Invalidate(ctx, tc.invalidate); err != nil {
				t.Fatal(err)
			}
			_, _, ok := c.Get(ctx, "k")
			if got, want := !ok, tc.dropped; got != want {
				t.Errorf("entry tagged %v after invalidating %s: dropped = %v, want %v", tc.tags, tc.invalidate, got, want)
			}
		})
	}
}

// A load that began before a write and ends after its invalidation carries
// data from before the write: it must never be served.
func TestTaggedLoadAcrossInvalidation(t *testing.T) {
	ctx := context.Background()
	c := newTagged(t, newClock(), nil)
	s := c.Stamp("backorders:S001")
	if err := c.Invalidate(ctx, "backorders:S001"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c.Add(ctx, "k", "old", time.Minute, s)
		c.Wait()
		if v, _, ok := c.Get(ctx, "k"); ok {
			t.Fatalf("served %q, loaded before the invalidation", v)
		}
	}
	// A load stamped after the invalidation is stored as usual.
	storeTagged(t, c, "k", "new", "backorders:S001")
}

func TestTaggedOwnTTL(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	c := newTagged(t, clk, nil)
	for range 50 {
		c.Add(ctx, "short", "s", time.Second, c.Stamp())
		c.Add(ctx, "long", "l", time.Hour, c.Stamp())
		c.Wait()
		_, _, okS := c.Get(ctx, "short")
		_, storedAt, okL := c.Get(ctx, "long")
		if okS && okL {
			if !storedAt.Equal(clk.Now()) {
				t.Errorf("storedAt = %v, want %v", storedAt, clk.Now())
			}
			break
		}
	}
	clk.Advance(2 * time.Second)
	if _, _, ok := c.Get(ctx, "short"); ok {
		t.Error("an entry past its own TTL of 1s was served")
	}
	if _, _, ok := c.Get(ctx, "long"); !ok {
		t.Error("an entry within its own TTL of 1h was dropped (or never admitted)")
	}
}

// Two caches on one bus stand for two replicas: a write on one drops the
// entry on the other too.
func TestTaggedAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	bus := NewLocalBus()
	clk := newClock()
	a, b := newTagged(t, clk, bus), newTagged(t, clk, bus)
	storeTagged(t, a, "k", "v", "customers")
	storeTagged(t, b, "k", "v", "customers")
	if err := a.Invalidate(ctx, "customers"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := b.Get(ctx, "k"); ok {
		t.Error("replica b still serves an entry replica a invalidated")
	}
	if _, _, ok := a.Get(ctx, "k"); ok {
		t.Error("replica a still serves an entry it invalidated")
	}
	if _, _, inv := a.Stats(); inv != 1 {
		t.Errorf("a counted %d invalidated tags, want 1", inv)
	}
	if _, _, inv := b.Stats(); inv != 0 {
		t.Errorf("b counted %d invalidated tags, want 0 (they were a's writes)", inv)
	}
}

// The tag counters stay bounded: past maxGens they are cleared, which
// drops every entry once rather than serving one wrongly.
func TestTaggedBoundedCounters(t *testing.T) {
	ctx := context.Background()
	c := newTagged(t, newClock(), nil)
	storeTagged(t, c, "k", "v", "customers")
	// Each "family:value" tag takes a counter of its own; two rounds of
	// distinct tags pass the bound.
	for round := range 2 {
		tags := make([]string, 0, maxGens/2)
		for i := range maxGens / 2 {
			tags = append(tags, fmt.Sprintf("f%d:%d-%d", i%7, round, i))
		}
		if err := c.Invalidate(ctx, tags...); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.RLock()
	n := len(c.gens)
	c.mu.RUnlock()
	if n > maxGens {
		t.Errorf("%d tag counters, want at most %d", n, maxGens)
	}
	if _, _, ok := c.Get(ctx, "k"); ok {
		t.Error("entry survived the counters being cleared")
	}
}
