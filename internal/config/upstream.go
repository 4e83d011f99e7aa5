package config

import (
	"flag"
	"fmt"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/sources"
)

// Upstream holds each upstream source's own settings (where it is, how long
// its answers are kept) and the settings they share. An empty URL runs that
// service's demo on loopback, so the default run still goes through the
// real HTTP clients.
type Upstream struct {
	// Sources are every source with its settings, in the order of
	// sources.All; each source registers its own flags.
	Sources []Source
	// Timeout bounds the calls one request makes to one upstream service,
	// together: a home view gathers several sources for a phone, and one
	// slow source must not hold the whole screen, however many fields ask it.
	Timeout time.Duration
	// StaleFor is how long past its TTL a value is still served when the
	// upstream is down (stale-if-error).
	StaleFor time.Duration
	// CacheBytes bounds the memory of the upstream caches together.
	CacheBytes int64
}

// Source is one upstream source and its settings.
type Source struct {
	upstream.Source
	Settings upstream.Settings
}

func defaultUpstream() Upstream {
	u := Upstream{
		Timeout:    3 * time.Second,
		StaleFor:   30 * time.Minute,
		CacheBytes: 32 << 20,
	}
	for _, s := range sources.All() {
		u.Sources = append(u.Sources, Source{Source: s, Settings: s.Settings()})
	}
	return u
}

// Demo reports whether any upstream runs as a demo on loopback.
func (u Upstream) Demo() bool {
	for _, s := range u.Sources {
		if s.Settings.URL() == "" {
			return true
		}
	}
	return false
}

// URL is the configured base URL of the source called name ("" for its demo).
func (u Upstream) URL(name string) string {
	for _, s := range u.Sources {
		if s.Name == name {
			return s.Settings.URL()
		}
	}
	return ""
}

func (u *Upstream) flags(fs *flag.FlagSet) {
	for _, s := range u.Sources {
		s.Settings.Flags(fs)
	}
	fs.DurationVar(&u.Timeout, "upstream-timeout", u.Timeout, "time one request may spend on one upstream service, all its calls together; after a call timed out the request's later calls to that service fail at once")
	fs.DurationVar(&u.StaleFor, "upstream-stale-for", u.StaleFor, "how long past its TTL a cached upstream answer is still served while the upstream is down (0 = never)")
	fs.Int64Var(&u.CacheBytes, "upstream-cache-bytes", u.CacheBytes, "memory for cached upstream answers, in bytes")
}

func (u Upstream) validate() []error {
	var errs []error
	for _, s := range u.Sources {
		errs = append(errs, s.Settings.Validate()...)
	}
	if u.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("upstream-timeout must be positive, got %s", u.Timeout))
	}
	if u.StaleFor < 0 {
		errs = append(errs, fmt.Errorf("upstream-stale-for must not be negative, got %s", u.StaleFor))
	}
	if u.CacheBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("upstream-cache-bytes must be at least 1048576, got %d", u.CacheBytes))
	}
	return errs
}
