package config

import (
	"flag"
	"fmt"
	"net/url"
	"time"
)

// Upstream says where the HR, news and supply services are and how long
// their answers are kept. An empty URL runs that service's demo on loopback,
// so the default run still goes through the real HTTP clients.
type Upstream struct {
	HRURL     string
	NewsURL   string
	SupplyURL string
	// Timeout bounds the calls one request makes to one upstream service,
	// together: a home view gathers several sources for a phone, and one
	// slow source must not hold the whole screen, however many fields ask it.
	Timeout time.Duration
	// LeaveTTL: HR books leave overnight, so minutes are plenty fresh.
	LeaveTTL time.Duration
	// NewsTTL: news is shared by everyone and changes a few times a day.
	NewsTTL time.Duration
	// RestockTTL: delivery dates move rarely within minutes.
	RestockTTL time.Duration
	// StaleFor is how long past its TTL a value is still served when the
	// upstream is down (stale-if-error).
	StaleFor time.Duration
	// CacheBytes bounds the memory of the upstream caches together.
	CacheBytes int64
}

func defaultUpstream() Upstream {
	return Upstream{
		Timeout:    3 * time.Second,
		LeaveTTL:   5 * time.Minute,
		NewsTTL:    time.Minute,
		RestockTTL: 2 * time.Minute,
		StaleFor:   30 * time.Minute,
		CacheBytes: 32 << 20,
	}
}

// Demo reports whether any upstream runs as a demo on loopback.
func (u Upstream) Demo() bool { return u.HRURL == "" || u.NewsURL == "" || u.SupplyURL == "" }

func (u *Upstream) flags(fs *flag.FlagSet) {
	fs.StringVar(&u.HRURL, "hr-url", u.HRURL, "base URL of the HR system's API (leave balances); empty runs the demo HR service on loopback")
	fs.StringVar(&u.NewsURL, "news-url", u.NewsURL, "base URL of the intranet news API; empty runs the demo news service on loopback")
	fs.StringVar(&u.SupplyURL, "supply-url", u.SupplyURL, "base URL of the supply system's API (restock dates); empty runs the demo supply service on loopback")
	fs.DurationVar(&u.Timeout, "upstream-timeout", u.Timeout, "time one request may spend on one upstream service, all its calls together; after a call timed out the request's later calls to that service fail at once")
	fs.DurationVar(&u.LeaveTTL, "leave-cache-ttl", u.LeaveTTL, "how long a leave balance is cached (per employee)")
	fs.DurationVar(&u.NewsTTL, "news-cache-ttl", u.NewsTTL, "how long a page of company news is cached (shared by everyone)")
	fs.DurationVar(&u.RestockTTL, "restock-cache-ttl", u.RestockTTL, "how long a product's next restock at a store is cached")
	fs.DurationVar(&u.StaleFor, "upstream-stale-for", u.StaleFor, "how long past its TTL a cached upstream answer is still served while the upstream is down (0 = never)")
	fs.Int64Var(&u.CacheBytes, "upstream-cache-bytes", u.CacheBytes, "memory for cached upstream answers, in bytes")
}

func (u Upstream) validate() []error {
	var errs []error
	for name, v := range map[string]string{"hr-url": u.HRURL, "news-url": u.NewsURL, "supply-url": u.SupplyURL} {
		if v == "" {
			continue
		}
		if pu, err := url.Parse(v); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an http(s) URL, or empty for the demo service, got %q", name, v))
		}
	}
	if u.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("upstream-timeout must be positive, got %s", u.Timeout))
	}
	for name, d := range map[string]time.Duration{"leave-cache-ttl": u.LeaveTTL, "news-cache-ttl": u.NewsTTL, "restock-cache-ttl": u.RestockTTL} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	if u.StaleFor < 0 {
		errs = append(errs, fmt.Errorf("upstream-stale-for must not be negative, got %s", u.StaleFor))
	}
	if u.CacheBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("upstream-cache-bytes must be at least 1048576, got %d", u.CacheBytes))
	}
	return errs
}
