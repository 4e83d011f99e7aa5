package main

import (
	"context"
	"log/slog"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/replicas"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream"
)

// shared is what this replica shares with the others of its deployment:
// the bus that carries cache invalidations and, with Redis, the
// second-level cache. Both nil on a lone replica (SQLite, no Redis): the
// caches keep to this process, as before.
type shared struct {
	bus     cache.Bus
	remote  upstream.SharedCache
	answers facade.SharedCache // the response cache's second level
	close   func()
}

// openShared picks the shared engine: Redis when --redis-url is set, else
// PostgreSQL's LISTEN/NOTIFY when the database is PostgreSQL.
func openShared(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger) (shared, error) {
	switch {
	case cfg.Redis.URL != "":
		r, err := replicas.OpenRedis(ctx, cfg.Redis.URL, cfg.Redis.KeyPrefix, log)
		if err != nil {
			return shared{}, err
		}
		log.Info("replicas share Redis: second-level cache and invalidation bus", "key_prefix", cfg.Redis.KeyPrefix)
		return shared{bus: r, remote: r, answers: r, close: func() { r.Close() }}, nil
	case db.Dialect() == store.Postgres:
		p, err := replicas.OpenPostgres(ctx, cfg.Database.URL, log)
		if err != nil {
			return shared{}, err
		}
		log.Info("replicas share PostgreSQL: LISTEN/NOTIFY carries cache invalidations (set --redis-url to share caches too)")
		return shared{bus: p, close: func() { p.Close() }}, nil
	}
	return shared{close: func() {}}, nil
}
