package upstream

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Source describes one backend REST service to the code that loops over
// every source (config, the demo starter, cmd), so that code names none of
// them: a new source is its own folder and one line in the list
// (internal/upstream/sources).
type Source struct {
	// Name is the source's short name: its key in a Set, its time budget
	// within a request, and its name in logs ("hr").
	Name string
	// Settings returns the source's own settings at their defaults.
	Settings func() Settings
	// Demo is the source's demo API, served on loopback when no URL is set,
	// so the default run goes through the real HTTP client.
	Demo func() http.Handler
	// CacheShare is the source's weight in --upstream-cache-bytes: sources
	// with many or large answers get more of the memory.
	CacheShare int64
}

// Settings are one source's own settings: it registers its flags (each also
// an environment variable, see internal/config), checks them, and opens the
// source with them.
type Settings interface {
	Flags(fs *flag.FlagSet)
	Validate() []error
	// URL is the configured base URL; empty runs the source's demo.
	URL() string
	// Open builds the client for baseURL with the source's cache policy in
	// front of it.
	Open(baseURL string, env Env) (Opened, error)
}

// Env is what every source is opened with: the settings shared by all.
type Env struct {
	// Timeout bounds a request's calls to one source together (Budget).
	Timeout time.Duration
	// Resilience is the source client's circuit breaker and retries.
	Resilience Resilience
	// StaleFor is how long past its TTL a value is served while the source
	// is unavailable.
	StaleFor time.Duration
	// CacheBytes is this source's share of the upstream cache memory.
	CacheBytes int64
	Log        *slog.Logger
	// Shared, when set, is the second-level cache every replica shares
	// (Redis): a value one replica loaded is not loaded again by another
	// while it is fresh. nil keeps each replica's cache its own.
	Shared SharedCache
}

// SharedCache is a second-level cache shared by replicas
// (internal/replicas.Redis); it is cache.Remote, declared here because the
// cache package builds on this one.
type SharedCache interface {
	MGet(ctx context.Context, keys []string) ([][]byte, error)
	SetMany(ctx context.Context, items map[string][]byte, ttl time.Duration) error
}

// Opened is a source's cached reads, shared by every request.
type Opened interface {
	// Close releases the caches.
	Close()
	// Wait blocks until pending cache writes are applied or dropped (tests).
	Wait()
}

// Finder finds an opened source by name; Set is one, and so is anything
// embedding a Set (test doubles counting calls).
type Finder interface {
	Lookup(name string) (Opened, bool)
}

// Set is the opened sources by name. Each source package finds its own
// reads in it (hr.LeaveBalances(set)); nothing else looks inside.
type Set map[string]Opened

// Lookup returns the source called name, if it was opened.
func (s Set) Lookup(name string) (Opened, bool) {
	o, ok := s[name]
	return o, ok
}

// Close releases every source's caches.
func (s Set) Close() {
	for _, o := range s {
		o.Close()
	}
}

// Wait waits for every source's pending cache writes (tests).
func (s Set) Wait() {
	for _, o := range s {
		o.Wait()
	}
}

// CheckURL reports a setting that is neither empty (demo) nor an http(s) URL.
func CheckURL(flagName, v string) error {
	if v == "" {
		return nil
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an http(s) URL, or empty for the demo service, got %q", flagName, v)
	}
	return nil
}

// CheckTTL reports a cache lifetime that is not positive.
func CheckTTL(flagName string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s must be positive, got %s", flagName, d)
	}
	return nil
}

// Problems drops the nils from checks, so a Validate is one line per setting.
func Problems(checks ...error) []error {
	var out []error
	for _, err := range checks {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Endpoint is what every source's settings hold: where its API is (empty:
// its demo on loopback) and how long its answers are cached, each a flag
// and so a MIDDLETIER_* variable. A source's Settings embed it and add
// Open (and any setting of their own).
type Endpoint struct {
	BaseURL string
	TTL     time.Duration
	// URLFlag and TTLFlag name the flags ("hr-url", "leave-cache-ttl");
	// URLHelp and TTLHelp are their help texts.
	URLFlag, URLHelp, TTLFlag, TTLHelp string
}

// Flags registers the URL and TTL flags.
func (e *Endpoint) Flags(fs *flag.FlagSet) {
	fs.StringVar(&e.BaseURL, e.URLFlag, e.BaseURL, e.URLHelp)
	fs.DurationVar(&e.TTL, e.TTLFlag, e.TTL, e.TTLHelp)
}

// Validate checks the settings once, at start.
func (e *Endpoint) Validate() []error {
	return Problems(CheckURL(e.URLFlag, e.BaseURL), CheckTTL(e.TTLFlag, e.TTL))
}

// URL is the configured base URL; empty runs the demo.
func (e *Endpoint) URL() string { return e.BaseURL }
