package news_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

func TestLatestPagesThroughTheDemoFeed(t *testing.T) {
	srv := upstreamtest.Serve(t, news.NewDemo())
	n := upstreamtest.NewCounter(t)
	c := news.New(srv.URL, n.HTTP)
	ctx := context.Background()

	var all []news.Article
	after := ""
	for {
		p, err := c.Latest(ctx, 15, after)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Articles...)
		if !p.HasNextPage {
			if p.EndCursor != "" {
				t.Errorf("last page has EndCursor %q, want empty", p.EndCursor)
			}
			break
		}
		after = p.EndCursor
	}
	if len(all) != 40 || n.Calls() != 3 {
		t.Fatalf("got %d articles in %d calls, want 40 in 3", len(all), n.Calls())
	}
	seen := map[string]bool{}
	for i, a := range all {
		if seen[a.ID] {
			t.Errorf("article %s served twice", a.ID)
		}
		seen[a.ID] = true
		if a.Title == "" || a.Summary == "" || a.Author == "" || a.Category == "" || !strings.HasPrefix(a.URL, "https://") {
			t.Errorf("article %d incomplete: %+v", i, a)
		}
		if !a.PublishedAt.Before(upstream.DemoReference()) {
			t.Errorf("article %s published %v, not before the reference date", a.ID, a.PublishedAt)
		}
		if i > 0 && !a.PublishedAt.Before(all[i-1].PublishedAt) {
			t.Errorf("article %d (%v) not older than article %d (%v)", i, a.PublishedAt, i-1, all[i-1].PublishedAt)
		}
	}
	want := time.Date(2026, 10, 31, 15, 0, 0, 0, time.UTC)
	if all[0].ID != "news-040" || !all[0].PublishedAt.Equal(want) {
		t.Errorf("newest = %s at %v, want news-040 at %v (stable output)", all[0].ID, all[0].PublishedAt, want)
	}
}

func TestLatestRejectsBadInput(t *testing.T) {
	srv := upstreamtest.Serve(t, news.NewDemo())
	n := upstreamtest.NewCounter(t)
	c := news.New(srv.URL, n.HTTP)
	ctx := context.Background()
	tests := []struct {
		name      string
		first     int
		after     string
		wantCalls int64
	}{
		{"zero first, checked locally", 0, "", 0},
		{"first over the service's maximum", news.MaxPage + 1, "", 1},
		{"unknown cursor", 5, "bm90LWEtY3Vyc29y", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := n.Calls()
			_, err := c.Latest(ctx, tt.first, tt.after)
			if !errors.Is(err, news.ErrBadRequest) {
				t.Fatalf("error = %v, want news.ErrBadRequest", err)
			}
			if got := n.Calls() - before; got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestDemoShape(t *testing.T) {
	rec := httptest.NewRecorder()
	news.NewDemo().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/articles?limit=2", nil))
	var body struct {
		Articles []struct {
			ID          string    `json:"id"`
			Title       string    `json:"title"`
			Summary     string    `json:"summary"`
			URL         string    `json:"url"`
			Author      string    `json:"author"`
			Category    string    `json:"category"`
			PublishedAt time.Time `json:"publishedAt"`
		} `json:"articles"`
		NextCursor string `json:"nextCursor"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || len(body.Articles) != 2 || body.NextCursor == "" {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}

func TestLatestFaults(t *testing.T) {
	sentinel := map[error]error{
		upstream.ErrUnavailable: news.ErrUnavailable,
		upstream.ErrNotFound:    news.ErrNotFound,
		upstream.ErrBadRequest:  news.ErrBadRequest,
	}
	faults := append(upstreamtest.Faults(), upstreamtest.Fault{
		Name: "article without publishedAt",
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"articles":[{"id":"n1","title":"Hello"}]}`))
		}),
		Want: upstream.ErrUnavailable,
	})
	for _, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			c := news.New(upstreamtest.Serve(t, f.Handler).URL, nil)
			ctx := context.Background()
			if f.Blocks {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			got, err := c.Latest(ctx, 10, "")
			if !errors.Is(err, sentinel[f.Want]) || !errors.Is(err, f.Want) {
				t.Fatalf("Latest = %+v, %v; want an error wrapping %v", got, err, sentinel[f.Want])
			}
			if f.Message != "" && !strings.Contains(err.Error(), f.Message) {
				t.Errorf("error %q does not carry the upstream message %q", err, f.Message)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	c := news.New(upstreamtest.RefusedURL(t), nil)
	if _, err := c.Latest(context.Background(), 10, ""); !errors.Is(err, news.ErrUnavailable) {
		t.Fatalf("error = %v, want news.ErrUnavailable", err)
	}
}
