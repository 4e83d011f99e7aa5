package cache

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

func TestGetMany(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	c := newTestCache(t, clk, Options[string]{TTL: time.Minute, StaleFor: time.Hour})
	store(t, c, "a", "A")

	var asked [][]string
	load := func(v map[string]string, err error) func(context.Context, []string) (map[string]string, error) {
		return func(_ context.Context, missing []string) (map[string]string, error) {
			asked = append(asked, slices.Clone(missing))
			return v, err
		}
	}

	// Misses load together, once; duplicates ask once; a key the load
	// leaves out is absent.
	got, err := c.GetMany(ctx, []string{"a", "b", "c", "b", "x"}, load(map[string]string{"b": "B", "c": "C"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "A", "b": "B", "c": "C"}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if want := [][]string{{"b", "c", "x"}}; !slices.EqualFunc(asked, want, slices.Equal) {
		t.Errorf("loads %v, want %v", asked, want)
	}

	// Past the TTL with the upstream down: what is within grace is served
	// stale; a key never loaded fails, and only it.
	c.Wait()
	clk.Advance(2 * time.Minute)
	asked = nil
	got, err = c.GetMany(ctx, []string{"a", "y"}, load(nil, errHRDown))
	if !errors.Is(err, errHRDown) {
		t.Fatalf("err = %v, want the load's error for y", err)
	}
	if v, ok := got["a"]; ok && v != "A" {
		t.Errorf("stale a = %q, want A", v)
	}
	if _, ok := got["y"]; ok {
		t.Errorf("y has a value without ever loading")
	}
	// Only stale values present: no error.
	if _, ok := got["a"]; ok {
		if _, err := c.GetMany(ctx, []string{"a"}, load(nil, errHRDown)); err != nil {
			t.Errorf("all keys stale-served: err = %v, want nil", err)
		}
	}
	// An error StaleIf refuses is never hidden.
	if _, err := c.GetMany(ctx, []string{"a"}, load(nil, errors.New("bad request"))); err == nil {
		t.Error("non-outage error hidden by a stale value")
	}
}
