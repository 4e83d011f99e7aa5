// Package replicas connects the replicas of one deployment through engines
// they already share, so that nothing home-made coordinates them. With
// Redis (--redis-url), Redis is the second-level cache behind each
// replica's in-memory one (cache.Remote) and its pub/sub carries cache
// invalidations (cache.Bus); without Redis, replicas on one PostgreSQL
// database carry invalidations by LISTEN/NOTIFY. A lone replica on SQLite
// needs neither and keeps cache.LocalBus.
//
// Both buses are Syncers: a replica about to serve a cached answer first
// publishes a marker to itself and waits for it to come back. Redis and
// PostgreSQL deliver to one listener in order, so by then every
// invalidation published before the read began has been applied here, and
// a read that follows a write on another replica never sees the old answer.
package replicas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/middletier/middletier/internal/cache"
)

// message is what travels on the invalidation channel.
type message struct {
	// Origin is the publishing process, which has applied the tags itself.
	Origin string   `json:"o"`
	Tags   []string `json:"t"`
}

// fanout is what both buses share: this process's subscribers, its
// identity, and the markers Sync waits for.
type fanout struct {
	id    string
	local *cache.LocalBus
	log   *slog.Logger

	// down is set while the listening connection is away: nothing
	// published meanwhile arrives, so Sync fails at once.
	down atomic.Bool

	mu      sync.Mutex
	waiting map[string]chan struct{}

	// rounds groups concurrent Syncs: one marker answers every Sync that
	// began before it was sent (see await).
	rounds struct {
		sync.Mutex
		next    *round // collecting the Syncs that will share the next marker
		sending bool   // a leader is sending markers
	}
}

// round is one marker shared by the Syncs that joined it before it was sent.
type round struct {
	done    chan struct{}
	err     error
	waiters int // Syncs that joined (read by tests)
}

// syncTimeout bounds a Sync: a marker that takes longer means the bus is
// in trouble (a connection that died without a word), and the caller
// answers without the cache. While the bus is down a Sync waits only
// downSyncTimeout, and the first marker that comes back again brings the
// cache back, emptied of what it may have missed.
const (
	syncTimeout     = 2 * time.Second
	downSyncTimeout = 100 * time.Millisecond
)

func newFanout(log *slog.Logger) fanout {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return fanout{id: randomID(), local: cache.NewLocalBus(), log: log, waiting: map[string]chan struct{}{}}
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Subscribe adds fn for every set of tags published by any replica.
func (f *fanout) Subscribe(fn func(tags []string)) func() { return f.local.Subscribe(fn) }

// encode is the payload for tags published by this process.
func (f *fanout) encode(tags []string) ([]byte, error) {
	return json.Marshal(message{Origin: f.id, Tags: tags})
}

// deliver applies a payload from the invalidation channel: tags published
// by another process go to this process's subscribers.
func (f *fanout) deliver(payload string) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		f.log.Warn("invalidation bus: unreadable message; dropping every cached answer", "err", err)
		f.local.Publish(context.Background(), []string{cache.InvalidateAll})
		return
	}
	if m.Origin != f.id {
		f.local.Publish(context.Background(), m.Tags)
	}
}

// lost is called when the connection that listens dropped: what was
// published meanwhile never arrives, so every cached answer goes.
func (f *fanout) lost(err error) {
	f.down.Store(true)
	f.log.Warn("invalidation bus: listener reconnected; dropping every cached answer", "err", err)
	f.local.Publish(context.Background(), []string{cache.InvalidateAll})
}

// back is called when the listening connection listens again.
func (f *fanout) back() {
	f.local.Publish(context.Background(), []string{cache.InvalidateAll})
	f.down.Store(false)
	f.log.Info("invalidation bus: listening again")
}

// marker registers a Sync marker and returns it with the channel closed
// when it arrives, and a function that forgets it.
func (f *fanout) marker() (string, chan struct{}, func()) {
	token := randomID()
	ch := make(chan struct{})
	f.mu.Lock()
	f.waiting[token] = ch
	f.mu.Unlock()
	return token, ch, func() {
		f.mu.Lock()
		delete(f.waiting, token)
		f.mu.Unlock()
	}
}

// arrived is called with a marker read from this process's own channel.
func (f *fanout) arrived(token string) {
	f.mu.Lock()
	ch, ok := f.waiting[token]
	delete(f.waiting, token)
	f.mu.Unlock()
	if ok {
		close(ch)
	}
}

// await returns once a marker sent after the call began has come back.
// Concurrent calls share markers, as a database groups commits: a call joins
// the round that has not been sent yet, and one leader sends a round's
// marker only after taking it, so every call in it began before its marker
// was sent. One marker is in flight at a time; calls arriving meanwhile wait
// for the next one. So a replica serving many cached answers at once pays
// one round trip to the bus per marker in flight, not one per answer.
func (f *fanout) await(ctx context.Context, send func(ctx context.Context, token string) error) error {
	f.rounds.Lock()
	r := f.rounds.next
	if r == nil {
		r = &round{done: make(chan struct{})}
		f.rounds.next = r
	}
	r.waiters++
	if !f.rounds.sending {
		f.rounds.sending = true
		go f.lead(send)
	}
	f.rounds.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return fmt.Errorf("invalidation bus: sync: %w", ctx.Err())
	}
}

// lead sends the waiting rounds' markers one after another until no Sync
// is waiting. Its context is its own: a caller that gives up leaves the
// others' marker in flight.
func (f *fanout) lead(send func(ctx context.Context, token string) error) {
	for {
		f.rounds.Lock()
		r := f.rounds.next
		f.rounds.next = nil
		if r == nil {
			f.rounds.sending = false
			f.rounds.Unlock()
			return
		}
		f.rounds.Unlock()
		r.err = f.awaitOne(context.Background(), send)
		close(r.done)
	}
}

// awaitOne sends one marker and waits for it to come back.
func (f *fanout) awaitOne(ctx context.Context, send func(ctx context.Context, token string) error) error {
	down := f.down.Load()
	wait := syncTimeout
	if down {
		wait = downSyncTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	token, ch, forget := f.marker()
	defer forget()
	if err := send(tctx, token); err != nil {
		return fmt.Errorf("invalidation bus: sync: %w", err)
	}
	select {
	case <-ch:
		if down {
			f.back()
		}
		return nil
	case <-tctx.Done():
		if ctx.Err() == nil && !down {
			f.lost(fmt.Errorf("no sync marker within %s", wait))
		}
		return fmt.Errorf("invalidation bus: sync: %w", tctx.Err())
	}
}
