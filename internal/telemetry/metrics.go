// Package telemetry holds middletier's metrics and tracing: a Prometheus
// registry of its own (no global registry), HTTP request metrics by route
// pattern and the database statement counter; the OpenTelemetry trace
// pipeline configured by the standard OTEL_* variables, the HTTP edge of
// every trace, the traced upstream transport, and the log handler that puts
// the trace id in every log line.
package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/middletier/middletier/internal/upstream"
)

// Metrics is the service's registry and its HTTP instruments.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// The facade's response cache: lookups by operation, invalidations by
	// tag family (never by value, whose store ids would grow the label set).
	cacheHits, cacheMisses, cacheInvalidations *prometheus.CounterVec
	// The upstream clients' resilience, by source.
	breakerState              *prometheus.GaugeVec
	upstreamRetries, rejected *prometheus.CounterVec
	rateLimited               *prometheus.CounterVec
}

// StatementCounter reports how many SQL statements the store has sent.
type StatementCounter interface {
	Statements() int64
}

// New registers the process, Go runtime and HTTP metrics, and the store's
// statement count when db is not nil.
func New(db StatementCounter) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "middletier_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_response_cache_hits_total",
			Help: "Connector GET answers served from the response cache, by operation.",
		}, []string{"operation"}),
		cacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_response_cache_misses_total",
			Help: "Connector GET answers the response cache did not hold and the operation ran for, by operation.",
		}, []string{"operation"}),
		cacheInvalidations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_response_cache_invalidations_total",
			Help: "Tags invalidated in the response cache by writes on this replica, by tag family.",
		}, []string{"family"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "middletier_upstream_breaker_state",
			Help: "Circuit breaker state of each upstream source: 0 closed (calls go through), 1 half-open (one probe call), 2 open (calls fail at once).",
		}, []string{"source"}),
		upstreamRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_upstream_retries_total",
			Help: "Idempotent upstream calls sent again after a failure a retry may fix, by source.",
		}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_upstream_breaker_rejections_total",
			Help: "Upstream calls failed at once by an open (or busy half-open) circuit breaker, never sent, by source.",
		}, []string{"source"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "middletier_rate_limited_total",
			Help: "Requests refused with 429 by the rate limit, by what they were counted against (user or ip).",
		}, []string{"by"}),
	}
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		m.requests, m.duration,
		m.cacheHits, m.cacheMisses, m.cacheInvalidations,
		m.breakerState, m.upstreamRetries, m.rejected, m.rateLimited,
	)
	if db != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "middletier_db_statements_total",
			Help: "SQL statements sent to the database.",
		}, func() float64 { return float64(db.Statements()) }))
	}
	return m
}

// ResponseCacheHit counts an answer served from the response cache.
func (m *Metrics) ResponseCacheHit(operation string) { m.cacheHits.WithLabelValues(operation).Inc() }

// ResponseCacheMiss counts an answer the operation had to run for.
func (m *Metrics) ResponseCacheMiss(operation string) { m.cacheMisses.WithLabelValues(operation).Inc() }

// ResponseCacheInvalidated counts a tag of family invalidated by a write.
func (m *Metrics) ResponseCacheInvalidated(family string) {
	m.cacheInvalidations.WithLabelValues(family).Inc()
}

// breakerStates are the gauge values of middletier_upstream_breaker_state.
var breakerStates = map[string]float64{
	upstream.BreakerClosed:   0,
	upstream.BreakerHalfOpen: 1,
	upstream.BreakerOpen:     2,
}

// BreakerState records source's circuit breaker state (upstream.Observer).
func (m *Metrics) BreakerState(source, state string) {
	m.breakerState.WithLabelValues(source).Set(breakerStates[state])
}

// Retried counts a retry of a call to source (upstream.Observer).
func (m *Metrics) Retried(source string) { m.upstreamRetries.WithLabelValues(source).Inc() }

// Rejected counts a call source's open breaker failed at once (upstream.Observer).
func (m *Metrics) Rejected(source string) { m.rejected.WithLabelValues(source).Inc() }

// RateLimited counts a request refused with 429; by is what it was
// counted against: "user" or "ip".
func (m *Metrics) RateLimited(by string) { m.rateLimited.WithLabelValues(by).Inc() }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Middleware records every request under its chi route pattern (never the
// raw path, whose ids would make the label set unbounded). Behind another
// middleware that wrapped the writer with chi's WrapResponseWriter (the
// access log) it reads the status from that one instead of wrapping again.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww, ok := w.(middleware.WrapResponseWriter)
		if !ok {
			ww = middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		}
		start := time.Now()
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" {
				route = p
			}
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}
