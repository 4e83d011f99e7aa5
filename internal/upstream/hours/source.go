package hours

import (
	"context"
	"time"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/cached"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// Name is the hours source's name in the list of sources and in a Set.
const Name = "hours"

// Source describes the store hours service to the code that loops over
// every source.
var Source = upstream.Source{
	Name: Name,
	Settings: func() upstream.Settings {
		return &Settings{upstream.Endpoint{
			// Hours change a few times a year; a quarter hour keeps a
			// same-day change (a closure) visible soon enough.
			TTL:     15 * time.Minute,
			URLFlag: "hours-url", URLHelp: "base URL of the store hours API (opening hours); empty runs the demo hours service on loopback",
			TTLFlag: "hours-cache-ttl", TTLHelp: "how long a store's opening hours are cached (shared by everyone)",
		}}
	},
	Demo: NewDemo,
	// A few dozen small entries, one per store.
	CacheShare: 1,
}

// Settings are the hours source's own settings: its endpoint (flags
// --hours-url and --hours-cache-ttl).
type Settings struct{ upstream.Endpoint }

// Open builds the hours client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.FromEnv(env)), s.TTL, env)
}

// Cache puts the cross-request cache in front of c's hours. Hours are the
// same for every user, so the key is the store alone.
func Cache(c interface {
	OpeningHours(ctx context.Context, storeIDs []string) (map[string]Hours, error)
}, ttl time.Duration, env upstream.Env) (*cached.Batch[string, Hours], error) {
	return cached.NewBatch(cached.Policy[string, Hours]{
		Name: "opening hours",
		TTL:  ttl,
		Key:  func(id string) string { return cache.Key("hours", "store", id) },
	}, c.OpeningHours, env)
}

// OpeningHours is the cached hours read in set: stores the service does not
// know are absent.
func OpeningHours(set upstream.Finder) func(ctx context.Context, storeIDs []string) (map[string]Hours, error) {
	return cached.Reads[string, Hours](set, Name, ErrUnavailable)
}
