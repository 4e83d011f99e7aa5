package replicas_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/replicas"
	"github.com/middletier/middletier/internal/replicas/replicastest"
	"github.com/middletier/middletier/internal/store/storetest"
)

// bus is what both implementations offer the caches.
type bus interface {
	cache.Bus
	cache.Syncer
	Close() error
}

// heard records what a subscriber was delivered.
type heard struct {
	mu   sync.Mutex
	sets [][]string
}

func (h *heard) add(tags []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sets = append(h.sets, slices.Clone(tags))
}

func (h *heard) got() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.sets)
}

// checkBus publishes on a and, after one Sync on b, finds the tags already
// delivered on b: the barrier is what makes "at once" hold, so no waiting
// or polling is needed. The publisher hears its own tags once, locally.
func checkBus(t *testing.T, a, b bus) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var onA, onB heard
	defer a.Subscribe(onA.add)()
	defer b.Subscribe(onB.add)()

	for i, tags := range [][]string{{"backorders:S001", "customers"}, {"events"}, {"backorders:*"}} {
		if err := a.Publish(ctx, tags); err != nil {
			t.Fatalf("publish %v: %v", tags, err)
		}
		if err := b.Sync(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
		if got := onB.got(); len(got) != i+1 || !slices.Equal(got[i], tags) {
			t.Fatalf("after publish %d and sync, the other replica heard %v, want %v last", i+1, got, tags)
		}
	}
	// a's own messages come back from the engine too; they are not
	// delivered twice.
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := onA.got(); len(got) != 3 {
		t.Fatalf("the publisher heard %d sets of its own tags, want 3 (once each): %v", len(got), got)
	}
}

func TestRedisBus(t *testing.T) {
	url, prefix := replicastest.RedisURL(t)
	ctx := context.Background()
	a, err := replicas.OpenRedis(ctx, url, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := replicas.OpenRedis(ctx, url, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkBus(t, a, b)

	// Another deployment (prefix) hears nothing.
	_, other := replicastest.RedisURL(t)
	c, err := replicas.OpenRedis(ctx, url, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var onC heard
	defer c.Subscribe(onC.add)()
	if err := a.Publish(ctx, []string{"customers"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := onC.got(); len(got) != 0 {
		t.Fatalf("a deployment under another prefix heard %v", got)
	}
}

func TestPostgresBus(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	a, err := replicas.OpenPostgres(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := replicas.OpenPostgres(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkBus(t, a, b)

	// A deployment in another schema hears nothing.
	c, err := replicas.OpenPostgres(ctx, storetest.PostgresURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var onC heard
	defer c.Subscribe(onC.add)()
	if err := a.Publish(ctx, []string{"customers"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := onC.got(); len(got) != 0 {
		t.Fatalf("a deployment in another schema heard %v", got)
	}
}

func TestRedisRemote(t *testing.T) {
	url, prefix := replicastest.RedisURL(t)
	ctx := context.Background()
	r, err := replicas.OpenRedis(ctx, url, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.SetMany(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("two")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := r.MGet(ctx, []string{"b", "missing", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || string(got[0]) != "two" || got[1] != nil || string(got[2]) != "1" {
		t.Fatalf("MGet = %q, want [two <nil> 1]", got)
	}
	ttl, err := r.Client().PTTL(ctx, prefix+"cache:a").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > time.Minute {
		t.Fatalf("entry expires in %s, want within its minute", ttl)
	}
}

// When a replica's subscription drops, what was published meanwhile is
// lost: the replica drops every cached answer, and once it listens again
// it hears the others as before.
func TestRedisBusListensAgainAfterItsConnectionDrops(t *testing.T) {
	url, prefix := replicastest.RedisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := replicas.OpenRedis(ctx, url, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := replicas.OpenRedis(ctx, url, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var onB heard
	defer b.Subscribe(onB.add)()

	// Drop every subscription of this test's replicas (by their name:
	// other tests' connections on the same Redis are left alone).
	list, err := a.Client().ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+prefix+"replica ") && !strings.Contains(line, " sub=0 ") {
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			if err := a.Client().Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 2 {
		t.Fatalf("killed %d subscriptions, want the 2 of this test's replicas", killed)
	}
	// b heard everything-invalidated, then hears a's tags again once its
	// Sync markers come back (go-redis resubscribes by itself).
	for {
		if err := a.Publish(ctx, []string{"events"}); err != nil {
			t.Fatal(err)
		}
		if b.Sync(ctx) == nil && slices.ContainsFunc(onB.got(), func(tags []string) bool { return slices.Equal(tags, []string{"events"}) }) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("b never heard a again; it heard %v", onB.got())
		}
	}
	if !slices.ContainsFunc(onB.got(), func(tags []string) bool { return slices.Equal(tags, []string{cache.InvalidateAll}) }) {
		t.Fatalf("b did not drop its cached answers after its connection dropped; it heard %v", onB.got())
	}
}
