package config

import (
	"flag"
	"fmt"
	"net/url"
	"regexp"
)

// Redis is the optional shared engine of a scaled-out deployment: the
// second-level cache behind each replica's in-memory one and the bus that
// carries cache invalidations between replicas. Empty URL: one replica, or
// several on one PostgreSQL database, whose LISTEN/NOTIFY then carries the
// invalidations.
type Redis struct {
	URL string
	// KeyPrefix starts every key and channel name, so deployments (dev,
	// test, prod) can share one Redis without seeing each other's data.
	KeyPrefix string
}

func defaultRedis() Redis { return Redis{KeyPrefix: "middletier:"} }

func (r *Redis) flags(fs *flag.FlagSet) {
	fs.StringVar(&r.URL, "redis-url", r.URL, "Redis URL (redis://[:password@]host:6379/0, rediss:// for TLS) shared by every replica as the second-level cache and invalidation bus; empty keeps caches in each process (PostgreSQL LISTEN/NOTIFY carries invalidations between replicas on PostgreSQL)")
	fs.StringVar(&r.KeyPrefix, "redis-key-prefix", r.KeyPrefix, "prefix of every Redis key and channel this deployment uses, so several deployments can share one Redis")
}

var keyPrefixRE = regexp.MustCompile(`^[A-Za-z0-9:_.-]{1,64}$`)

func (r Redis) validate() []error {
	var errs []error
	if r.URL != "" {
		if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			errs = append(errs, fmt.Errorf("redis-url must be a redis:// or rediss:// URL with a host, or empty for no Redis"))
		}
	}
	if !keyPrefixRE.MatchString(r.KeyPrefix) {
		errs = append(errs, fmt.Errorf("redis-key-prefix must be 1 to 64 letters, digits or :_.-, got %q", r.KeyPrefix))
	}
	return errs
}
