package httpjson_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

var errs = httpjson.Errors{} // the shared classes stand in for a service's sentinels

type echo struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Query       string `json:"query"`
	Body        string `json:"body"`
	ContentType string `json:"contentType"`
}

func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		httpjson.WriteJSON(w, http.StatusOK, echo{r.Method, r.URL.Path, r.URL.RawQuery, string(b), r.Header.Get("Content-Type")})
	})
}

func TestGetAndPost(t *testing.T) {
	srv := upstreamtest.Serve(t, echoHandler())
	n := upstreamtest.NewCounter(t)
	c := httpjson.New("test", srv.URL+"/base/", n.HTTP, errs, httpjson.WithUserAgent("middletier/1.2"))
	ctx := context.Background()

	var got echo
	if err := c.Get(ctx, "/v1/things", map[string][]string{"id": {"a", "b&c"}}, &got); err != nil {
		t.Fatal(err)
	}
	want := echo{Method: "GET", Path: "/base/v1/things", Query: "id=a&id=b%26c"}
	if got != want {
		t.Errorf("GET: got %+v, want %+v", got, want)
	}
	if h := srv.LastHeader(); h.Get("User-Agent") != "middletier/1.2" || h.Get("X-Request-Id") != "" {
		t.Errorf("headers: User-Agent %q, X-Request-Id %q; want middletier/1.2 and none without a request id", h.Get("User-Agent"), h.Get("X-Request-Id"))
	}

	if err := c.Post(ctx, "/v1/things:query", map[string]int{"n": 1}, &got); err != nil {
		t.Fatal(err)
	}
	want = echo{Method: "POST", Path: "/base/v1/things:query", Body: `{"n":1}`, ContentType: "application/json"}
	if got != want {
		t.Errorf("POST: got %+v, want %+v", got, want)
	}
	if n.Calls() != 2 {
		t.Errorf("Calls() = %d, want 2", n.Calls())
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"", "localhost:8080", "ftp://example.com", "http://%zz"} {
		n := upstreamtest.NewCounter(t)
		c := httpjson.New("test", base, n.HTTP, errs)
		var v any
		err := c.Get(context.Background(), "/x", nil, &v)
		if err == nil || errors.Is(err, upstream.ErrUnavailable) || n.Calls() != 0 {
			t.Errorf("base %q: error %v after %d calls; want a configuration error and no call", base, err, n.Calls())
		}
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        error // nil: an error wrapping no class
		wantText    string
	}{
		{"nested message", 400, "application/json", `{"error":{"code":"x","message":"sku is required"}}`, upstream.ErrBadRequest, "400 Bad Request: sku is required"},
		{"string error", 422, "application/problem+json", `{"error":"quantity too large"}`, upstream.ErrBadRequest, "quantity too large"},
		{"top-level message", 400, "application/json", `{"message":"bad cursor"}`, upstream.ErrBadRequest, "bad cursor"},
		{"plain text, one line, cut short", 400, "text/plain; charset=utf-8", "line one\nline two " + strings.Repeat("x", 500), upstream.ErrBadRequest, "line one line two xxx"},
		{"HTML body not quoted", 400, "text/html", "<html>secret</html>", upstream.ErrBadRequest, "400 Bad Request"},
		{"408", 408, "", "", upstream.ErrUnavailable, "408"},
		{"504", 504, "", "", upstream.ErrUnavailable, "504"},
		{"401 is our misconfiguration", 401, "", "", nil, "unexpected 401"},
		{"403 is our misconfiguration", 403, "", "", nil, "unexpected 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := upstreamtest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			var v any
			err := httpjson.New("test", srv.URL, nil, errs).Get(context.Background(), "/x", nil, &v)
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantText)
			}
			for _, class := range []error{upstream.ErrUnavailable, upstream.ErrNotFound, upstream.ErrBadRequest} {
				if errors.Is(err, class) != (class == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, class, !(class == tt.want))
				}
			}
			if strings.Contains(err.Error(), "secret") || len(err.Error()) > 400 {
				t.Errorf("error text leaks or is too long: %q", err)
			}
		})
	}
}

func TestMaxBodyOption(t *testing.T) {
	srv := upstreamtest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpjson.WriteJSON(w, http.StatusOK, map[string]string{"pad": strings.Repeat("x", 2000)})
	}))
	var v any
	err := httpjson.New("test", srv.URL, nil, errs, httpjson.WithMaxBodyBytes(1024)).Get(context.Background(), "/x", nil, &v)
	if !errors.Is(err, upstream.ErrUnavailable) || !strings.Contains(err.Error(), "larger than 1024") {
		t.Fatalf("error = %v, want ErrUnavailable for a body over 1024 bytes", err)
	}
	if err := httpjson.New("test", srv.URL, nil, errs).Get(context.Background(), "/x", nil, &v); err != nil {
		t.Fatalf("default limit: %v", err)
	}
}

// The earlier of the caller's deadline and the client's timeout wins.
func TestDeadlines(t *testing.T) {
	var slow http.Handler
	for _, f := range upstreamtest.Faults() {
		if f.Blocks {
			slow = f.Handler
		}
	}
	url := upstreamtest.Serve(t, slow).URL
	tests := []struct {
		name           string
		clientTimeout  time.Duration
		callerDeadline time.Duration
	}{
		{"client timeout shorter", 20 * time.Millisecond, time.Hour},
		{"caller deadline shorter", time.Hour, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.callerDeadline)
			defer cancel()
			var v any
			err := httpjson.New("test", url, nil, errs, httpjson.WithTimeout(tt.clientTimeout)).Get(ctx, "/x", nil, &v)
			if !errors.Is(err, upstream.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want ErrUnavailable wrapping context.DeadlineExceeded", err)
			}
		})
	}
}

// TestRequestBudget: within one request (upstream.WithBudget), calls to a
// hanging service share one timeout, and once one timed out the others fail
// fast without reaching it; another service keeps its own budget.
func TestRequestBudget(t *testing.T) {
	var blocks http.Handler
	for _, f := range upstreamtest.Faults() {
		if f.Blocks {
			blocks = f.Handler
		}
	}
	hang := upstreamtest.Serve(t, blocks)
	ok := upstreamtest.Serve(t, echoHandler())
	ctx := upstream.WithBudget(context.Background())
	n := upstreamtest.NewCounter(t)
	slow := httpjson.New("slow", hang.URL, n.HTTP, errs, httpjson.WithTimeout(50*time.Millisecond))
	fine := httpjson.New("fine", ok.URL, nil, errs)

	const calls = 20
	for i := range calls {
		var v any
		err := slow.Get(ctx, "/x", nil, &v)
		if !errors.Is(err, upstream.ErrUnavailable) {
			t.Fatalf("call %d: error = %v, want ErrUnavailable", i, err)
		}
		if i > 0 && !errors.Is(err, upstream.ErrBudgetSpent) {
			t.Errorf("call %d: error = %v, want ErrBudgetSpent (fail fast)", i, err)
		}
	}
	if got := hang.Requests(); got != 1 {
		t.Errorf("%d of %d calls reached the hanging service, want 1", got, calls)
	}
	if got := n.Calls(); got != 1 {
		t.Errorf("client sent %d requests, want 1", got)
	}
	var v echo
	if err := fine.Get(ctx, "/y", nil, &v); err != nil {
		t.Errorf("another service in the same request: %v", err)
	}

	// A new request starts with a fresh budget.
	var w any
	if err := slow.Get(upstream.WithBudget(context.Background()), "/x", nil, &w); errors.Is(err, upstream.ErrBudgetSpent) {
		t.Errorf("a new request inherited the spent budget: %v", err)
	}
	if got := hang.Requests(); got != 2 {
		t.Errorf("the new request's call did not reach the service: %d requests", got)
	}
}
