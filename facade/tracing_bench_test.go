package facade_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/telemetry"
)

// BenchmarkTracingOverhead is one facade call (ListStoreBackorders, as in
// BenchmarkFacadeVsGraphQL) through the whole router with tracing off (the
// no-op provider, as with no OTEL_* variable) and on (the SDK sampling
// every request, batching to an exporter that drops the spans, so what is
// measured is recording, not a network). Each case builds its own database
// and router after the provider is in place, as serve does.
func BenchmarkTracingOverhead(b *testing.B) {
	cases := []struct {
		name    string
		install func() func()
	}{
		{"off", func() func() { return func() {} }},
		{"on", func() func() {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			uninstall := telemetry.Install(tp)
			return func() { _ = tp.Shutdown(b.Context()); uninstall() }
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			defer c.install()()
			db, _ := storetest.SeededSQLite(b)
			e := newEnv(b, db)
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/api/v1/stores/S001/backorders?status=OPEN&pageSize=20", nil)
				r.Header.Set(userHeader, "blake")
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
