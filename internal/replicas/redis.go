package replicas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared engine of a deployment with --redis-url: the
// second-level cache (cache.Remote) and the invalidation bus (cache.Bus,
// cache.Syncer). Every key and channel starts with its prefix.
type Redis struct {
	fanout
	client  *redis.Client
	prefix  string
	channel string // invalidations, every replica
	self    string // Sync markers, this process only
	sub     *redis.PubSub
	cancel  context.CancelFunc
	done    chan struct{}
}

// OpenRedis connects to the Redis at url (redis:// or rediss://) and
// starts listening for invalidations. Close it to stop.
func OpenRedis(ctx context.Context, url, prefix string, log *slog.Logger) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	// Named, so an operator can tell the connections in CLIENT LIST.
	opts.ClientName = prefix + "replica"
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("connect to redis: %w", err)
	}
	r := &Redis{fanout: newFanout(log), client: client, prefix: prefix, channel: prefix + "invalidate", done: make(chan struct{})}
	r.self = prefix + "sync:" + r.id
	r.sub = client.Subscribe(ctx, r.channel, r.self)
	// Subscribe returns before Redis confirms; wait for it, so that a
	// publish right after OpenRedis returns is already heard.
	for range 2 {
		if _, err := r.sub.Receive(ctx); err != nil {
			r.sub.Close()
			client.Close()
			return nil, fmt.Errorf("subscribe to %s: %w", r.channel, err)
		}
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	go r.listen(lctx)
	return r, nil
}

// listen reads both channels in order until Close. go-redis reconnects the
// subscription by itself after an error; what was published meanwhile is
// lost, so every cached answer is dropped then.
func (r *Redis) listen(ctx context.Context) {
	defer close(r.done)
	broken := false
	for {
		msg, err := r.sub.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !broken {
				r.lost(err)
			}
			broken = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if broken && m.Kind == "subscribe" {
				r.back()
				broken = false
			}
		case *redis.Message:
			if m.Channel == r.self {
				r.arrived(m.Payload)
				continue
			}
			r.deliver(m.Payload)
		}
	}
}

// Publish applies tags here and sends them to every other replica.
func (r *Redis) Publish(ctx context.Context, tags []string) error {
	r.local.Publish(ctx, tags)
	b, err := r.encode(tags)
	if err != nil {
		return err
	}
	return r.client.Publish(ctx, r.channel, b).Err()
}

// Sync returns once every invalidation published before the call has been
// applied here: Redis delivers one connection's messages in order, and the
// marker is published after them.
func (r *Redis) Sync(ctx context.Context) error {
	return r.await(ctx, func(ctx context.Context, token string) error { return r.client.Publish(ctx, r.self, token).Err() })
}

// MGet returns the bytes under each key, nil where there are none.
func (r *Redis) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + "cache:" + k
	}
	vals, err := r.client.MGet(ctx, full...).Result()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}

// SetMany stores every item for ttl, in one round trip.
func (r *Redis) SetMany(ctx context.Context, items map[string][]byte, ttl time.Duration) error {
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, v := range items {
			p.Set(ctx, r.prefix+"cache:"+k, v, ttl)
		}
		return nil
	})
	return err
}

// Gens reads shared counters (cache.SharedGens); an absent one is 0.
func (r *Redis) Gens(ctx context.Context, names []string) ([]uint64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	full := make([]string, len(names))
	for i, n := range names {
		full[i] = r.prefix + "gen:" + n
	}
	vals, err := r.client.MGet(ctx, full...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			if out[i], err = strconv.ParseUint(s, 10, 64); err != nil {
				return nil, fmt.Errorf("counter %s: %w", full[i], err)
			}
		}
	}
	return out, nil
}

// Bump moves shared counters by one, in one round trip. They never
// expire: there is one per tag, a bounded set.
func (r *Redis) Bump(ctx context.Context, names []string) error {
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, n := range names {
			p.Incr(ctx, r.prefix+"gen:"+n)
		}
		return nil
	})
	return err
}

// Client is the connection, for the rate limiter's shared store.
func (r *Redis) Client() *redis.Client { return r.client }

// Close stops listening and closes the connections.
func (r *Redis) Close() error {
	r.cancel()
	err := r.sub.Close()
	<-r.done
	return errors.Join(err, r.client.Close())
}
