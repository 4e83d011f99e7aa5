package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/demo"
)

// openUpstreams opens every configured source with its cache in front. A
// source without a URL is served by its demo on loopback, started here;
// closeFn stops the demos and releases the caches. It loops over the list
// and names no source. remote, when set, is the cache shared with the
// other replicas (Redis), behind each source's own.
func openUpstreams(ctx context.Context, cfg config.Upstream, remote upstream.SharedCache, log *slog.Logger) (upstream.Set, func(), error) {
	var demos []upstream.Source
	for _, s := range cfg.Sources {
		if s.Settings.URL() == "" {
			demos = append(demos, s.Source)
		}
	}
	stopDemo := func() {}
	demoURLs := demo.URLs{}
	if len(demos) > 0 {
		d, stop, err := demo.Start(ctx, demos)
		if err != nil {
			return nil, nil, err
		}
		stopDemo, demoURLs = stop, d
	}
	// Each source gets its share of the cache memory by its weight.
	var shares int64
	for _, s := range cfg.Sources {
		shares += max(s.CacheShare, 1)
	}
	set := upstream.Set{}
	closeFn := func() { set.Close(); stopDemo() }
	for _, s := range cfg.Sources {
		url := s.Settings.URL()
		if url == "" {
			url = demoURLs[s.Name]
			log.Info("upstream: demo service on loopback (set --"+s.Name+"-url for the real one)", "service", s.Name, "url", url)
		}
		o, err := s.Settings.Open(url, upstream.Env{
			Timeout: cfg.Timeout, StaleFor: cfg.StaleFor, Log: log, Shared: remote,
			CacheBytes: cfg.CacheBytes * max(s.CacheShare, 1) / shares,
		})
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("upstream %s: %w", s.Name, err)
		}
		set[s.Name] = o
	}
	return set, closeFn, nil
}
