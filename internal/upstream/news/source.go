package news

import (
	"context"
	"flag"
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
	Name:     Name,
	Settings: func() upstream.Settings { return &Settings{NewsTTL: time.Minute} },
	Demo:     NewDemo,
	// Pages are the largest values, but few: everyone reads the same ones.
	CacheShare: 1,
}

// Settings are the news source's own settings.
type Settings struct {
	BaseURL string
	// NewsTTL: news is shared by everyone and changes a few times a day.
	NewsTTL time.Duration
}

// Flags registers --news-url and --news-cache-ttl.
func (s *Settings) Flags(fs *flag.FlagSet) {
	fs.StringVar(&s.BaseURL, "news-url", s.BaseURL, "base URL of the intranet news API; empty runs the demo news service on loopback")
	fs.DurationVar(&s.NewsTTL, "news-cache-ttl", s.NewsTTL, "how long a page of company news is cached (shared by everyone)")
}

// Validate checks the settings once, at start.
func (s *Settings) Validate() []error {
	return upstream.Problems(upstream.CheckURL("news-url", s.BaseURL), upstream.CheckTTL("news-cache-ttl", s.NewsTTL))
}

// URL is the configured base URL; empty runs the demo.
func (s *Settings) URL() string { return s.BaseURL }

// Open builds the news client at baseURL with its cache in front.
func (s *Settings) Open(baseURL string, env upstream.Env) (upstream.Opened, error) {
	return Cache(New(baseURL, nil, httpjson.WithTimeout(env.Timeout)), s.NewsTTL, env)
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
