package news

import (
	"context"
	"strconv"
	"time"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/cached"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// Name is the news source's name in the list of sources and in a Set.
const Name = "news"

// Source describes the news service to the code that loops over every source.
var Source = upstream.Source{
	Name: Name,
	Settings: func() upstream.Settings {
		return &Settings{upstream.Endpoint{
			// News is shared by everyone and changes a few times a day.
			TTL:     time.Minute,
			URLFlag: "news-url", URLHelp: "base URL of the intranet news API; empty runs the demo news service on loopback",
			TTLFlag: "news-cache-ttl", TTLHelp: "how long a page of company news is cached (shared by everyone)",
		}}
	},
	Demo: NewDemo,
	// Pages are the largest values, but few: everyone reads the same ones.
	CacheShare: 1,
}

// Settings are the news source's own settings: its endpoint (flags
// --news-url and --news-cache-ttl).
type Settings struct{ upstream.Endpoint }

// Open builds the news client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.FromEnv(env)), s.TTL, env)
}

// PageKey asks for one page of company news.
type PageKey struct {
	First int
	After string
}

// Cache puts the cross-request cache in front of c's pages. News is the
// same for every employee, so the key is the page alone (first and after),
// never the user.
func Cache(c interface {
	Latest(ctx context.Context, first int, after string) (Page, error)
}, ttl time.Duration, env upstream.Env) (*cached.Batch[PageKey, Page], error) {
	return cached.NewBatch(cached.Policy[PageKey, Page]{
		Name: "news pages",
		TTL:  ttl,
		Key:  func(k PageKey) string { return cache.Key("news", "latest", strconv.Itoa(k.First), k.After) },
		Cost: func(key string, p Page) int64 {
			n := int64(len(key) + len(p.EndCursor))
			for _, a := range p.Articles {
				n += int64(len(a.ID)+len(a.Title)+len(a.Summary)+len(a.URL)+len(a.Author)+len(a.Category)) + 32
			}
			return n
		},
	}, func(ctx context.Context, keys []PageKey) (map[PageKey]Page, error) {
		// The API serves one page per call; in practice a request asks
		// for one page.
		out := make(map[PageKey]Page, len(keys))
		for _, k := range keys {
			p, err := c.Latest(ctx, k.First, k.After)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	}, env)
}

// Pages is the cached page read in set.
func Pages(set upstream.Finder) func(ctx context.Context, keys []PageKey) (map[PageKey]Page, error) {
	return cached.Reads[PageKey, Page](set, Name, ErrUnavailable)
}
