// Package cachedtest wires the demo HR, news and supply services (real HTTP
// on loopback) to their clients and the cache, for tests of the layers above.
// Test code only.
package cachedtest

import (
	"context"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream/cached"
	"github.com/middletier/middletier/internal/upstream/demo"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
)

// Upstreams are the clients (their Calls count HTTP requests) and the cached
// sources over them.
type Upstreams struct {
	HR      *hr.Client
	News    *news.Client
	Supply  *supply.Client
	Sources *cached.Sources
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
}

// Start runs the demo services until the test ends and returns cached
// sources over them with the production TTLs.
func Start(t testing.TB, opts Options) *Upstreams {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls, stop, err := demo.Start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); cancel() })
	if opts.NewsURL != "" {
		urls.News = opts.NewsURL
	}
	if opts.HRURL != "" {
		urls.HR = opts.HRURL
	}
	if opts.SupplyURL != "" {
		urls.Supply = opts.SupplyURL
	}
	to := httpjson.WithTimeout(opts.Timeout)
	u := &Upstreams{HR: hr.New(urls.HR, nil, to), News: news.New(urls.News, nil, to), Supply: supply.New(urls.Supply, nil, to)}
	u.Sources, err = cached.New(u.HR, u.News, u.Supply, cached.Options{
		LeaveTTL: 5 * time.Minute, NewsTTL: time.Minute, RestockTTL: 2 * time.Minute,
		StaleFor: opts.StaleFor, MaxBytes: 8 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Sources.Close)
	return u
}
