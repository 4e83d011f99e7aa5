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
	// Resilience is every source client's circuit breaker and retries;
	// its Observer is set by cmd (the metrics).
	Resilience upstream.Resilience
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
		Resilience: upstream.Resilience{
			// Two retries fit in the default 3 s budget after fast failures
			// (a refused connection, a 503 from a restarting instance) and
			// are all such a failure usually needs.
			Retries:      2,
			RetryBackoff: 100 * time.Millisecond,
			// Ten calls before judging: one unlucky call of a quiet source
			// does not open its breaker.
			BreakerMinCalls:     10,
			BreakerFailureRatio: 0.5,
			BreakerWindow:       time.Minute,
			// Long enough for a restarting service to come back, short
			// enough that a screen recovers within a minute of it.
			BreakerOpenFor: 30 * time.Second,
		},
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
	r := &u.Resilience
	fs.IntVar(&r.Retries, "upstream-retries", r.Retries, "how many times an idempotent upstream call (GET) is retried after a refused connection, 408, 429, 502, 503 or 504, within --upstream-timeout (0 = never)")
	fs.DurationVar(&r.RetryBackoff, "upstream-retry-backoff", r.RetryBackoff, "longest wait before the first upstream retry; doubles for each further one, randomised below it (jitter)")
	fs.IntVar(&r.BreakerMinCalls, "upstream-breaker-min-calls", r.BreakerMinCalls, "calls to one upstream within --upstream-breaker-window before its circuit breaker judges the failure ratio (0 = no breaker)")
	fs.Float64Var(&r.BreakerFailureRatio, "upstream-breaker-failure-ratio", r.BreakerFailureRatio, "share of failed calls (0 to 1) within the window that opens an upstream's circuit breaker")
	fs.DurationVar(&r.BreakerWindow, "upstream-breaker-window", r.BreakerWindow, "rolling window in which an upstream's calls and failures are counted")
	fs.DurationVar(&r.BreakerOpenFor, "upstream-breaker-open-for", r.BreakerOpenFor, "how long an open circuit breaker fails calls to its upstream at once before it lets one probe call through")
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
	r := u.Resilience
	if r.Retries < 0 || r.Retries > 5 {
		errs = append(errs, fmt.Errorf("upstream-retries must be between 0 and 5, got %d", r.Retries))
	}
	if r.Retries > 0 && r.RetryBackoff <= 0 {
		errs = append(errs, fmt.Errorf("upstream-retry-backoff must be positive when upstream-retries is set, got %s", r.RetryBackoff))
	}
	if r.BreakerMinCalls < 0 {
		errs = append(errs, fmt.Errorf("upstream-breaker-min-calls must not be negative (0 turns the breaker off), got %d", r.BreakerMinCalls))
	}
	if r.BreakerMinCalls > 0 {
		if r.BreakerFailureRatio <= 0 || r.BreakerFailureRatio > 1 {
			errs = append(errs, fmt.Errorf("upstream-breaker-failure-ratio must be above 0 and at most 1, got %g", r.BreakerFailureRatio))
		}
		if r.BreakerWindow < time.Second {
			errs = append(errs, fmt.Errorf("upstream-breaker-window must be at least 1s, got %s", r.BreakerWindow))
		}
		if r.BreakerOpenFor <= 0 {
			errs = append(errs, fmt.Errorf("upstream-breaker-open-for must be positive, got %s", r.BreakerOpenFor))
		}
	}
	if u.CacheBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("upstream-cache-bytes must be at least 1048576, got %d", u.CacheBytes))
	}
	return errs
}
