package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

type fixedCounter int64

func (f fixedCounter) Statements() int64 { return int64(f) }

func TestMiddlewareLabelsByRoutePattern(t *testing.T) {
	m := New(fixedCounter(42))
	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.Get("/items/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	r.Handle("/metrics", m.Handler())

	for _, id := range []string{"1", "2", "3"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/"+id, nil))
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`middletier_http_requests_total{code="418",method="GET",route="/items/{id}"} 3`,
		`middletier_db_statements_total 42`,
		`middletier_http_request_duration_seconds_count{method="GET",route="/items/{id}"} 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestResponseCacheCounters(t *testing.T) {
	m := New(nil)
	m.ResponseCacheHit("ListStores")
	m.ResponseCacheHit("ListStores")
	m.ResponseCacheMiss("ListStores")
	m.ResponseCacheInvalidated("backorders")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`middletier_response_cache_hits_total{operation="ListStores"} 2`,
		`middletier_response_cache_misses_total{operation="ListStores"} 1`,
		`middletier_response_cache_invalidations_total{family="backorders"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestResilienceMetrics(t *testing.T) {
	m := New(nil)
	m.BreakerState("hr", "closed")
	m.BreakerState("news", "closed")
	m.BreakerState("hr", "open")
	m.Retried("news")
	m.Retried("news")
	m.Rejected("hr")
	m.RateLimited("user")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`middletier_upstream_breaker_state{source="hr"} 2`,
		`middletier_upstream_breaker_state{source="news"} 0`,
		`middletier_upstream_retries_total{source="news"} 2`,
		`middletier_upstream_breaker_rejections_total{source="hr"} 1`,
		`middletier_rate_limited_total{by="user"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
