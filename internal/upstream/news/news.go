// Package news is the client of the intranet news service's REST API and a
// demo implementation of it, so the default run goes through the same HTTP
// path as production.
package news

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// errs carry what an app user reads when the service fails (the error
// presenter shows Message by Kind); each matches the shared upstream class,
// so errors.Is works with either.
var errs = upstream.NewErrors("news", "the news service is not answering; try again shortly")

// Errors of this service.
var (
	ErrUnavailable = errs.Unavailable
	ErrNotFound    = errs.NotFound
	ErrBadRequest  = errs.BadRequest
)

// MaxPage is the largest page the news API serves.
const MaxPage = 50

const articlesPath = "/v1/articles"

// Article is one company news item. News is the same for every employee, so
// it may be cached under one key for all users.
type Article struct {
	ID          string
	Title       string
	Summary     string
	URL         string
	Author      string
	Category    string
	PublishedAt time.Time
}

// Page is a slice of the feed, newest first.
type Page struct {
	Articles []Article
	// EndCursor is passed as after to get the next page; it is opaque and
	// only meaningful to the news service. It is empty on the last page.
	EndCursor   string
	HasNextPage bool
}

// Client calls the news service. It is safe for concurrent use.
type Client struct{ c *httpjson.Client }

// New returns a client for the news API at baseURL. httpClient nil gets a
// pooled client of its own.
func New(baseURL string, httpClient *http.Client, opts ...httpjson.Option) *Client {
	return &Client{c: httpjson.New("news", baseURL, httpClient, errs, opts...)}
}

type wireArticle struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	URL         string    `json:"url"`
	Author      string    `json:"author"`
	Category    string    `json:"category"`
	PublishedAt time.Time `json:"publishedAt"`
}

type wirePage struct {
	Articles   []wireArticle `json:"articles"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

// Latest returns up to first articles, newest first, after the cursor
// (empty: from the newest). first must be at least 1; the service refuses
// more than MaxPage with ErrBadRequest.
func (c *Client) Latest(ctx context.Context, first int, after string) (Page, error) {
	if first < 1 {
		return Page{}, fmt.Errorf("latest news: %w: first must be at least 1, got %d", ErrBadRequest, first)
	}
	q := url.Values{"limit": {strconv.Itoa(first)}}
	if after != "" {
		q.Set("cursor", after)
	}
	var resp wirePage
	if err := c.c.Get(ctx, articlesPath, q, &resp); err != nil {
		return Page{}, fmt.Errorf("latest news: %w", err)
	}
	p := Page{Articles: make([]Article, 0, len(resp.Articles)), EndCursor: resp.NextCursor, HasNextPage: resp.NextCursor != ""}
	for _, a := range resp.Articles {
		if a.ID == "" || a.Title == "" || a.PublishedAt.IsZero() {
			return Page{}, fmt.Errorf("latest news: %w: %s: article without id, title or publishedAt", ErrUnavailable, articlesPath)
		}
		p.Articles = append(p.Articles, Article(a))
	}
	return p, nil
}
