package graph

// Hand-written, like executor.go: the executor's part of a trace.

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/middletier/middletier/internal/gqlerr"
)

// tracerName is the instrumentation scope of the executor's spans.
const tracerName = "github.com/middletier/middletier/graph"

// maxSpanOperationName bounds the client-chosen operation name in a span
// name; the attribute keeps it whole.
const maxSpanOperationName = 64

// tracing gives a trace one span per GraphQL operation ("query GetMyHome")
// and one per root field ("Query.me"), under which the loader batches, SQL
// statements and upstream calls of that field nest. Not one per field: a
// list of 100 items with 10 fields each would cost 1,000 spans, and a field
// resolved from its parent's row does nothing worth timing. /graphql and
// the facade's operations run through it alike.
type tracing struct {
	tracer trace.Tracer
}

func newTracing() tracing { return tracing{tracer: otel.Tracer(tracerName)} }

var (
	_ graphql.HandlerExtension     = tracing{}
	_ graphql.ResponseInterceptor  = tracing{}
	_ graphql.RootFieldInterceptor = tracing{}
)

func (tracing) ExtensionName() string                   { return "Tracing" }
func (tracing) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse spans the execution of the operation: gqlgen resolves
// it inside the response handler, so every root field is a child.
func (t tracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	kind, name := "query", oc.OperationName
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	spanName := kind
	if name != "" {
		spanName += " " + cut(name, maxSpanOperationName)
	}
	ctx, span := t.tracer.Start(ctx, spanName)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(semconv.GraphQLOperationTypeKey.String(kind))
		if name != "" {
			span.SetAttributes(semconv.GraphQLOperationName(name))
		}
	}
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 && span.IsRecording() {
		codesSeen := make([]string, 0, len(resp.Errors))
		for _, e := range resp.Errors {
			c, _ := e.Extensions["code"].(string)
			codesSeen = append(codesSeen, c)
			// A client's mistake is not the service's failure; an
			// internal error or a backend that did not answer is.
			if c == gqlerr.Internal || c == gqlerr.UpstreamUnavailable {
				span.SetStatus(codes.Error, c)
			}
		}
		span.SetAttributes(attribute.StringSlice("graphql.error.codes", codesSeen))
	}
	return resp
}

// InterceptRootField spans one root field with everything it loads.
func (t tracing) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil {
		return next(ctx)
	}
	ctx, span := t.tracer.Start(ctx, rootType(ctx)+"."+fc.Field.Name)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("graphql.field.name", fc.Field.Name))
		if fc.Field.Alias != "" && fc.Field.Alias != fc.Field.Name {
			span.SetAttributes(attribute.String("graphql.field.alias", fc.Field.Alias))
		}
	}
	return next(ctx)
}

// rootType names the operation's root type as the schema does.
func rootType(ctx context.Context) string {
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			switch op.Operation {
			case ast.Mutation:
				return "Mutation"
			case ast.Subscription:
				return "Subscription"
			}
		}
	}
	return "Query"
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
