package hr

import (
	"context"
	"flag"
	"time"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/cached"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// Name is the HR source's name in the list of sources and in a Set.
const Name = "hr"

// Source describes the HR system to the code that loops over every source.
var Source = upstream.Source{
	Name:     Name,
	Settings: func() upstream.Settings { return &Settings{LeaveTTL: 5 * time.Minute} },
	Demo:     NewDemo,
	// Leave entries are small, one per employee asking.
	CacheShare: 1,
}

// Settings are the HR source's own settings.
type Settings struct {
	BaseURL string
	// LeaveTTL: HR books leave overnight, so minutes are plenty fresh.
	LeaveTTL time.Duration
}

// Flags registers --hr-url and --leave-cache-ttl.
func (s *Settings) Flags(fs *flag.FlagSet) {
	fs.StringVar(&s.BaseURL, "hr-url", s.BaseURL, "base URL of the HR system's API (leave balances); empty runs the demo HR service on loopback")
	fs.DurationVar(&s.LeaveTTL, "leave-cache-ttl", s.LeaveTTL, "how long a leave balance is cached (per employee)")
}

// Validate checks the settings once, at start.
func (s *Settings) Validate() []error {
	return upstream.Problems(upstream.CheckURL("hr-url", s.BaseURL), upstream.CheckTTL("leave-cache-ttl", s.LeaveTTL))
}

// URL is the configured base URL; empty runs the demo.
func (s *Settings) URL() string { return s.BaseURL }

// Open builds the HR client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.WithTimeout(env.Timeout)), s.LeaveTTL, env)
}

// Cache puts the cross-request cache in front of c's leave balances. Leave
// is per employee, so the key is the employee id: one employee's balance is
// never another's.
func Cache(c interface {
	LeaveBalances(ctx context.Context, employeeIDs []string) (map[string]LeaveBalance, error)
}, ttl time.Duration, env upstream.Env) (*cached.Batch[string, LeaveBalance], error) {
	return cached.NewBatch(cached.Policy[string, LeaveBalance]{
		Name: "leave balances",
		TTL:  ttl,
		Key:  func(id string) string { return cache.Key("hr", "leave", id) },
	}, c.LeaveBalances, env)
}

// LeaveBalances is the cached leave-balance read in set: employees HR does
// not know are absent. Misses cost one HR call together.
func LeaveBalances(set upstream.Finder) func(ctx context.Context, employeeIDs []string) (map[string]LeaveBalance, error) {
	return cached.Reads[string, LeaveBalance](set, Name, ErrUnavailable)
}
