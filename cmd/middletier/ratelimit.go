package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/ratelimit"
	"github.com/middletier/middletier/internal/redact"
	"github.com/middletier/middletier/internal/telemetry"
)

// newRateLimiter builds the rate limit, counted in Redis when --redis-url
// is set so that it holds across replicas; nil when --rate-limit is 0.
func newRateLimiter(cfg config.Config, metrics *telemetry.Metrics, log *slog.Logger) (*ratelimit.Limiter, error) {
	if cfg.HTTP.RateLimit == 0 {
		return nil, nil
	}
	o := ratelimit.Options{
		Requests: cfg.HTTP.RateLimit, Window: cfg.HTTP.RateLimitWindow,
		KeyPrefix: cfg.Redis.KeyPrefix + "ratelimit", Metrics: metrics, Log: log,
	}
	if cfg.Redis.URL != "" {
		ro, err := redis.ParseURL(cfg.Redis.URL)
		if err != nil {
			return nil, fmt.Errorf("redis-url %q: %w", redact.URL(cfg.Redis.URL), err)
		}
		// A client of its own with short timeouts and no retries, as
		// httprate-redis advises: a slow Redis must switch the count to
		// this replica quickly rather than hold every request.
		ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = time.Second, 500*time.Millisecond, 500*time.Millisecond
		ro.MaxRetries = -1
		o.Redis = redis.NewClient(ro)
	}
	log.Info("rate limit", "requests", o.Requests, "window", o.Window, "shared_in_redis", o.Redis != nil)
	return ratelimit.New(o), nil
}
