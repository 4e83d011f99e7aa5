package facade

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Every write path drops the cached answers it makes wrong, not only the
// facade's: a mutation sent to /graphql (or by any other client of the
// executor) invalidates the same tags as the connector operation that runs
// that mutation field declares in its file. One declaration, every path.

// writeTags is what a mutation root field invalidates: the tags of the
// write operations that run it, with the operation's variables read from
// the field's arguments.
type writeTags struct {
	op *Operation
	// argOf names the field argument each variable of op is passed as
	// (recordBackorder(input: $input): "input" -> "input").
	argOf map[string]string
}

type facadeWriteKey struct{}

// withFacadeWrite marks ctx as a facade write, which invalidates after its
// own commit.
func withFacadeWrite(ctx context.Context) context.Context {
	return context.WithValue(ctx, facadeWriteKey{}, true)
}

func isFacadeWrite(ctx context.Context) bool {
	v, _ := ctx.Value(facadeWriteKey{}).(bool)
	return v
}

// mutationTags maps each mutation root field run by a write operation that
// declares invalidates to what it invalidates.
func mutationTags(ops []Operation) map[string][]writeTags {
	out := map[string][]writeTags{}
	for i := range ops {
		op := &ops[i]
		if !op.Write || len(op.Invalidates) == 0 || op.Op.Operation != ast.Mutation {
			continue
		}
		for _, sel := range op.Op.SelectionSet {
			f, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			w := writeTags{op: op, argOf: map[string]string{}}
			for _, a := range f.Arguments {
				if a.Value.Kind == ast.Variable {
					w.argOf[a.Value.Raw] = a.Name
				}
			}
			out[f.Name] = append(out[f.Name], w)
		}
	}
	return out
}

// Invalidation is the executor extension that makes mutations run outside
// the facade (through /graphql) invalidate the response cache after their
// root field succeeded. The store commits inside the field's resolver
// there, so the answers are dropped after the write is durable.
//
// It intercepts root fields, not every field: a field interceptor runs
// around each field of every query (a page of 100 rows has thousands),
// while only a mutation's root fields write.
func (f *Facade) Invalidation() graphql.HandlerExtension {
	return invalidation{f: f, byField: mutationTags(f.ops)}
}

type invalidation struct {
	f       *Facade
	byField map[string][]writeTags
}

var _ interface {
	graphql.HandlerExtension
	graphql.RootFieldInterceptor
} = invalidation{}

func (invalidation) ExtensionName() string                   { return "ResponseCacheInvalidation" }
func (invalidation) Validate(graphql.ExecutableSchema) error { return nil }

func (v invalidation) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	res := next(ctx)
	if v.f.rc == nil || !graphql.HasOperationContext(ctx) || isFacadeWrite(ctx) {
		return res
	}
	oc := graphql.GetOperationContext(ctx)
	rc := graphql.GetRootFieldContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation || rc == nil {
		return res
	}
	ws := v.byField[rc.Field.Name]
	if len(ws) == 0 || failed(ctx, rc) {
		return res
	}
	args := rc.Field.ArgumentMap(oc.Variables)
	var tags []string
	for _, w := range ws {
		opVars := make(map[string]any, len(w.argOf))
		for variable, arg := range w.argOf {
			opVars[variable] = args[arg]
		}
		tags = append(tags, w.op.expandTags(w.op.Invalidates, ctx, opVars)...)
		for _, t := range w.op.Invalidates {
			v.f.rc.metrics.ResponseCacheInvalidated(t.Family)
		}
	}
	if err := v.f.rc.c.Invalidate(ctx, tags...); err != nil {
		v.f.log.WarnContext(ctx, "publish cache invalidation", "err", err, "tags", tags)
	}
	return res
}

// failed reports whether the root field rc ended in an error of its own
// (at its path, not a child's): its resolver or its arguments failed, it
// panicked or the write scope refused it. gqlgen puts such an error on the
// field's path, and a root interceptor sees the field only through that.
// (It also puts "must not be null" there for a resolver that returned no
// payload and no error, which the old field interceptor would have taken
// for a success; no resolver here does that.)
func failed(ctx context.Context, rc *graphql.RootFieldContext) bool {
	return graphql.HasFieldError(ctx, &graphql.FieldContext{Field: rc.Field})
}
