package store

import (
	"context"
	"errors"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the store's spans.
const tracerName = "github.com/middletier/middletier/internal/store"

// statement starts the span of one SQL statement, in the same helpers that
// count statements, so a trace shows exactly what the counter counts: a
// child of the loader batch or resolver that sent it, named by its verb
// ("SELECT"), with the statement's text. The text has ? placeholders, never
// values, so no customer data leaves in a trace. When tracing is off the
// span is OpenTelemetry's no-op one and nothing below is computed.
func (s *DB) statement(ctx context.Context, query string) (context.Context, trace.Span) {
	verb := verbOf(query)
	ctx, span := s.tracer.Start(ctx, verb, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		sys := semconv.DBSystemNameSQLite
		if s.dialect == Postgres {
			sys = semconv.DBSystemNamePostgreSQL
		}
		span.SetAttributes(sys, semconv.DBOperationName(verb), semconv.DBQueryText(strings.TrimSpace(query)))
	}
	return ctx, span
}

// endStatement ends a statement's span; a row that is not there is an
// answer, not a failure.
func endStatement(span trace.Span, err error) {
	if err != nil && !errors.Is(err, ErrNotFound) && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, "statement failed")
	}
	span.End()
}

// newTracer takes the store's tracer from the global provider that
// internal/telemetry installs (a no-op one while tracing is off).
func newTracer() trace.Tracer { return otel.Tracer(tracerName) }

// verbOf is the first word of query, upper-cased: SELECT, INSERT, WITH.
func verbOf(query string) string {
	q := strings.TrimSpace(query)
	if i := strings.IndexFunc(q, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '(' }); i > 0 {
		q = q[:i]
	}
	return strings.ToUpper(q)
}
