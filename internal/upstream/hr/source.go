package hr

import (
	"context"
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
	Name: Name,
	Settings: func() upstream.Settings {
		return &Settings{upstream.Endpoint{
			// HR books leave overnight, so minutes are plenty fresh.
			TTL:     5 * time.Minute,
			URLFlag: "hr-url", URLHelp: "base URL of the HR system's API (leave balances); empty runs the demo HR service on loopback",
			TTLFlag: "leave-cache-ttl", TTLHelp: "how long a leave balance is cached (per employee)",
		}}
	},
	Demo: NewDemo,
	// Leave entries are small, one per employee asking.
	CacheShare: 1,
}

// Settings are the HR source's own settings: its endpoint (flags
// --hr-url and --leave-cache-ttl).
type Settings struct{ upstream.Endpoint }

// Open builds the HR client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.FromEnv(env)), s.TTL, env)
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
