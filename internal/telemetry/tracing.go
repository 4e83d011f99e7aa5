package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the service.name traces carry unless OTEL_SERVICE_NAME
// (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const ServiceName = "middletier"

// Tracing is the process's trace pipeline: an OpenTelemetry SDK provider
// exporting by the standard OTEL_* variables, or nothing at all.
//
// The provider is installed as OpenTelemetry's global one, on purpose: the
// hooks that start spans (the HTTP middleware, the GraphQL extension, loader
// batches, the store's statements, the upstream transport) each take a
// tracer from the global provider when they are built, as otelhttp does, so
// no constructor between cmd and those hooks has to carry a provider. When
// tracing is off nothing is installed and every hook gets OpenTelemetry's
// no-op tracer: a span costs one context value and no allocation of its own
// data, nothing is recorded and nothing is sent; no traceparent goes out
// either, since the no-op propagator is left in place.
type Tracing struct {
	provider  *sdktrace.TracerProvider // nil when off
	uninstall func()
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Shutdown flushes the spans not yet exported, stops the exporter and puts
// the no-op provider back; a no-op when tracing is off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	defer t.uninstall()
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// TracingWanted reads the standard variables: tracing is on when
// OTEL_TRACES_EXPORTER names an exporter (otlp, console) or an OTLP endpoint
// is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
// and off when none is, when OTEL_TRACES_EXPORTER is "none" or when
// OTEL_SDK_DISABLED is "true". Unlike the OpenTelemetry default (export to
// localhost:4318 when nothing is set), a service started with no telemetry
// settings sends nothing anywhere.
func TracingWanted(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	switch exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); {
	case strings.EqualFold(exp, "none"):
		return false
	case exp != "":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// StartTracing builds the trace pipeline when TracingWanted(getenv) and
// installs it as the global provider with the W3C trace context and baggage
// propagators. The exporter (go.opentelemetry.io/contrib/exporters/autoexport)
// and the SDK read the rest of the OTEL_* variables from the process
// environment themselves: protocol, endpoint, headers, sampler, batching,
// resource attributes. version goes into service.version.
func StartTracing(ctx context.Context, getenv func(string) string, version string) (*Tracing, error) {
	if !TracingWanted(getenv) {
		return &Tracing{}, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("trace exporter (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*): %w", err)
	}
	if autoexport.IsNoneSpanExporter(exp) {
		return &Tracing{}, nil
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(ServiceName)}
	if version != "" {
		attrs = append(attrs, semconv.ServiceVersion(version))
	}
	// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override the defaults above.
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("trace resource (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{provider: tp, uninstall: Install(tp)}, nil
}

// Install makes tp the global tracer provider, with the W3C trace context
// and baggage propagators, and returns what puts the no-op ones back.
// StartTracing calls it; tests install an SDK provider over an in-memory
// exporter with it. Hooks built after Install use tp.
//
// uninstall sets explicit no-ops rather than the previous values: the
// globals OpenTelemetry starts with forward, once anything was installed,
// to the first provider and propagator ever installed, so "restoring" them
// would keep tracing on.
func Install(tp trace.TracerProvider) (uninstall func()) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	installed.Store(true)
	return func() {
		installed.Store(false)
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	}
}

// installed says whether Install put a provider in place (and it was not
// uninstalled since): it goes with OpenTelemetry's global provider, which
// it describes. TraceHTTP reads it per request, so a handler built before
// Install traces once it is called, as one built after does.
var installed atomic.Bool

// untraced are the paths probes and scrapers call every few seconds: a span
// for each would drown the requests that matter.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// TraceHTTP is the edge of every trace: otelhttp's server span (continuing
// a caller's W3C traceparent when tracing is on), named after the chi route
// once routing has found it ("GET /api/v1/me/home"), never the raw path,
// whose ids would make every URL a span name of its own. It carries the
// request id, so a trace found in Application Insights names the id a maker
// quoted. Mount it on the chi router, after the request id middleware.
//
// When tracing is off (no Install) it is skipped entirely: otelhttp with
// the no-op provider records nothing, but still wraps the body and the
// response writer, starts a no-op span and builds its attributes, about
// 35 allocations and a fifth of an authenticated { __typename }'s CPU
// (BENCHMARKS.md, "Engine: per-request floor"). The HTTP metrics and their
// route labels come from Metrics.Middleware, not from here.
func TraceHTTP(next http.Handler) http.Handler {
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		if !span.IsRecording() {
			next.ServeHTTP(w, r)
			return
		}
		span.SetAttributes(attribute.String("middletier.request_id", middleware.GetReqID(r.Context())))
		next.ServeHTTP(w, r)
		if p := routePattern(r); p != "" {
			span.SetName(r.Method + " " + p)
			span.SetAttributes(semconv.HTTPRoute(p))
		}
	})
	traced := otelhttp.NewHandler(named, "http.server",
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced[r.URL.Path] }),
		// Called at the start, before routing (the method alone), and again
		// at the end when the router set r.Pattern: chi's full pattern then.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if p := routePattern(r); p != "" {
				return r.Method + " " + p
			}
			return r.Method
		}),
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !installed.Load() {
			next.ServeHTTP(w, r)
			return
		}
		traced.ServeHTTP(w, r)
	})
}

// routePattern is the chi route the request matched, "" before routing.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}
