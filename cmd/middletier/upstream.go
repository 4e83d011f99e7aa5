package main

import (
	"context"
	"log/slog"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/upstream/cached"
	"github.com/middletier/middletier/internal/upstream/demo"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
)

// openUpstreams builds the HR, news and supply clients with the cache in
// front. A service without a URL is served by its demo on loopback, started
// here; closeFn stops the demos and releases the caches.
func openUpstreams(ctx context.Context, cfg config.Upstream, log *slog.Logger) (*cached.Sources, func(), error) {
	urls := demo.URLs{HR: cfg.HRURL, News: cfg.NewsURL, Supply: cfg.SupplyURL}
	stopDemo := func() {}
	if cfg.Demo() {
		d, stop, err := demo.Start(ctx)
		if err != nil {
			return nil, nil, err
		}
		stopDemo = stop
		for _, s := range []struct {
			name string
			url  *string
			demo string
		}{{"hr", &urls.HR, d.HR}, {"news", &urls.News, d.News}, {"supply", &urls.Supply, d.Supply}} {
			if *s.url == "" {
				*s.url = s.demo
				log.Info("upstream: demo service on loopback (set --"+s.name+"-url for the real one)", "service", s.name, "url", s.demo)
			}
		}
	}
	timeout := httpjson.WithTimeout(cfg.Timeout)
	src, err := cached.New(
		hr.New(urls.HR, nil, timeout),
		news.New(urls.News, nil, timeout),
		supply.New(urls.Supply, nil, timeout),
		cached.Options{
			LeaveTTL: cfg.LeaveTTL, NewsTTL: cfg.NewsTTL, RestockTTL: cfg.RestockTTL,
			StaleFor: cfg.StaleFor, MaxBytes: cfg.CacheBytes, Log: log,
		})
	if err != nil {
		stopDemo()
		return nil, nil, err
	}
	return src, func() { src.Close(); stopDemo() }, nil
}
