package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestTracingWanted(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"OTLP endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"exporter named", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, false},
		{"SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, false},
		{"SDK not disabled", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TracingWanted(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStartTracingOff(t *testing.T) {
	tr, err := StartTracing(context.Background(), func(string) string { return "" }, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Error("tracing is on with no OTEL_* variable set")
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown of tracing that is off: %v", err)
	}
}

func TestLogHandler(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	traced := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	tests := []struct {
		name      string
		ctx       context.Context
		wantTrace any
		wantSpan  any
	}{
		{"traced", traced, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"no span", context.Background(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
			log.InfoContext(tt.ctx, "hello", "k", "v")
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got["trace_id"] != tt.wantTrace || got["span_id"] != tt.wantSpan || got["component"] != "test" || got["k"] != "v" {
				t.Errorf("got %v, want trace_id %v, span_id %v and the record's own attributes", got, tt.wantTrace, tt.wantSpan)
			}
		})
	}
}
