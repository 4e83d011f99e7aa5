package hours

import (
	"context"
	"flag"
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
	Name:     Name,
	Settings: func() upstream.Settings { return &Settings{HoursTTL: 15 * time.Minute} },
	Demo:     NewDemo,
	// A few dozen small entries, one per store.
	CacheShare: 1,
}

// Settings are the hours source's own settings.
type Settings struct {
	BaseURL string
	// HoursTTL: hours change a few times a year; a quarter hour keeps a
	// same-day change (a closure) visible soon enough.
	HoursTTL time.Duration
}

// Flags registers --hours-url and --hours-cache-ttl.
func (s *Settings) Flags(fs *flag.FlagSet) {
	fs.StringVar(&s.BaseURL, "hours-url", s.BaseURL, "base URL of the store hours API (opening hours); empty runs the demo hours service on loopback")
	fs.DurationVar(&s.HoursTTL, "hours-cache-ttl", s.HoursTTL, "how long a store's opening hours are cached (shared by everyone)")
}

// Validate checks the settings once, at start.
func (s *Settings) Validate() []error {
	return upstream.Problems(upstream.CheckURL("hours-url", s.BaseURL), upstream.CheckTTL("hours-cache-ttl", s.HoursTTL))
}

// URL is the configured base URL; empty runs the demo.
func (s *Settings) URL() string { return s.BaseURL }

// Open builds the hours client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.WithTimeout(env.Timeout)), s.HoursTTL, env)
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
