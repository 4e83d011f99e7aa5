package supply

import (
	"context"
	"time"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/cached"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// Name is the supply source's name in the list of sources and in a Set.
const Name = "supply"

// Source describes the supply system to the code that loops over every source.
var Source = upstream.Source{
	Name: Name,
	Settings: func() upstream.Settings {
		return &Settings{upstream.Endpoint{
			// Delivery dates move rarely within minutes.
			TTL:     2 * time.Minute,
			URLFlag: "supply-url", URLHelp: "base URL of the supply system's API (restock dates); empty runs the demo supply service on loopback",
			TTLFlag: "restock-cache-ttl", TTLHelp: "how long a product's next restock at a store is cached",
		}}
	},
	Demo: NewDemo,
	// Restock entries are small but many: one per product on every
	// availability and backorder screen.
	CacheShare: 2,
}

// Settings are the supply source's own settings: its endpoint (flags
// --supply-url and --restock-cache-ttl).
type Settings struct{ upstream.Endpoint }

// Open builds the supply client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.FromEnv(env)), s.TTL, env)
}

// Cache puts the cross-request cache in front of c's restocks. Delivery
// dates are the same for every user, so the key is the store and product.
func Cache(c interface {
	NextRestocks(ctx context.Context, keys []RestockKey) (map[RestockKey]Restock, error)
}, ttl time.Duration, env upstream.Env) (*cached.Batch[RestockKey, Restock], error) {
	return cached.NewBatch(cached.Policy[RestockKey, Restock]{
		Name: "restocks",
		TTL:  ttl,
		Key:  func(k RestockKey) string { return cache.Key("supply", "restock", k.StoreID, k.SKU) },
	}, c.NextRestocks, env)
}

// NextRestocks is the cached restock read in set: keys with none scheduled
// are absent. Misses cost one supply call together.
func NextRestocks(set upstream.Finder) func(ctx context.Context, keys []RestockKey) (map[RestockKey]Restock, error) {
	return cached.Reads[RestockKey, Restock](set, Name, ErrUnavailable)
}
