// Package cachedtest wires the demo HR, news and supply services (real HTTP
// on loopback) to their clients and the cache, for tests of the layers above.
// Test code only.
package cachedtest

import (
	"context"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/demo"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/sources"
	"github.com/middletier/middletier/internal/upstream/supply"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

// Upstreams count each client's HTTP requests, and hold the cached sources
// over the clients.
type Upstreams struct {
	HR      *upstreamtest.Counter
	News    *upstreamtest.Counter
	Supply  *upstreamtest.Counter
	Sources *Sources
}

// Sources are the opened sources (what the loaders read) with each cache's
// accounting at hand.
type Sources struct {
	upstream.Set
}

// Stats are the caches' fresh hits and misses since start.
type Stats struct {
	LeaveHits, LeaveMisses     uint64
	RestockHits, RestockMisses uint64
	NewsHits, NewsMisses       uint64
}

type statser interface{ Stats() (hits, misses uint64) }

// Stats reports the caches' own accounting, so tests can tell a hit from a
// write ristretto refused without assuming either.
func (s *Sources) Stats() Stats {
	var st Stats
	st.LeaveHits, st.LeaveMisses = s.Set[hr.Name].(statser).Stats()
	st.RestockHits, st.RestockMisses = s.Set[supply.Name].(statser).Stats()
	st.NewsHits, st.NewsMisses = s.Set[news.Name].(statser).Stats()
	return st
}

// Calls is the HTTP calls made so far by each client.
type Calls struct{ HR, News, Supply int64 }

// Calls reports the clients' counters.
func (u *Upstreams) Calls() Calls {
	return Calls{HR: u.HR.Calls(), News: u.News.Calls(), Supply: u.Supply.Calls()}
}

// Options change what Start wires.
type Options struct {
	// NewsURL, when set, points the news client there instead of the demo
	// (an outage: a closed port or a server answering 503).
	NewsURL string
	// HRURL and SupplyURL do the same for the HR and supply clients.
	HRURL, SupplyURL string
	// StaleFor is the caches' stale-if-error grace; 0 turns it off.
	StaleFor time.Duration
	// Timeout is the clients' --upstream-timeout; 0 keeps their default.
	Timeout time.Duration
	// Resilience is the clients' circuit breaker and retries (none in the
	// zero value).
	Resilience upstream.Resilience
}

// Start runs the demo services until the test ends and returns cached
// sources over them with the production TTLs.
func Start(t testing.TB, opts Options) *Upstreams {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls, stop, err := demo.Start(ctx, sources.All())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); cancel() })
	for name, u := range map[string]string{news.Name: opts.NewsURL, hr.Name: opts.HRURL, supply.Name: opts.SupplyURL} {
		if u != "" {
			urls[name] = u
		}
	}
	to := httpjson.FromEnv(upstream.Env{Timeout: opts.Timeout, Resilience: opts.Resilience})
	u := &Upstreams{HR: upstreamtest.NewCounter(t), News: upstreamtest.NewCounter(t), Supply: upstreamtest.NewCounter(t), Sources: &Sources{Set: upstream.Set{}}}
	t.Cleanup(u.Sources.Close)
	env := upstream.Env{StaleFor: opts.StaleFor, CacheBytes: 2 << 20}
	if u.Sources.Set[hr.Name], err = hr.Cache(hr.New(urls[hr.Name], u.HR.HTTP, to), 5*time.Minute, env); err != nil {
		t.Fatal(err)
	}
	if u.Sources.Set[news.Name], err = news.Cache(news.New(urls[news.Name], u.News.HTTP, to), time.Minute, env); err != nil {
		t.Fatal(err)
	}
	if u.Sources.Set[supply.Name], err = supply.Cache(supply.New(urls[supply.Name], u.Supply.HTTP, to), 2*time.Minute, env); err != nil {
		t.Fatal(err)
	}
	return u
}
