package cache

import (
	"context"
	"testing"
	"time"
)

func TestAddGetExpire(t *testing.T) {
	ctx := context.Background()
	c, err := New(Options[string]{MaxCost: 1 << 20, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	c.Add(ctx, "k", "v")
	c.Wait()
	// Admission may refuse a write; a hit must then carry the right value.
	if got, ok := c.Get(ctx, "k"); ok && got != "v" {
		t.Fatalf("Get(k) = %q, want v", got)
	}
	c.Delete("k")
	if _, ok := c.Get(ctx, "k"); ok {
		t.Fatal("Get after Delete: got a hit, want a miss")
	}
	if _, ok := c.Get(ctx, "never-added"); ok {
		t.Fatal("Get of a missing key: got a hit")
	}
}

func TestNewRejectsZeroCost(t *testing.T) {
	if _, err := New(Options[int]{}); err == nil {
		t.Fatal("New with MaxCost 0: got nil error")
	}
}
