package graph

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/config"
)

// codeComplexity is gqlgen's own code for an operation over the complexity
// limit (extension.FixedComplexityLimit's); clients and the facade know it.
const codeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"

func init() {
	// An operation refused for its cost never started, so GraphQL over HTTP
	// calls it a request error (400 with application/graphql-response+json),
	// as for the validation errors; gqlgen classifies codes in a package map
	// that is only safe to write before anything runs.
	errcode.RegisterErrorType(codeComplexity, errcode.KindProtocol)
}

// operationLimits refuses an operation whose shape or cost is over the
// limits before any resolver runs, so a refused request costs no SQL and no
// upstream call. It replaces extension.FixedComplexityLimit because gqlgen's
// complexity walk skips __schema entirely: 1,000 aliased __schema fields cost
// nothing there and returned 10.9 MB.
//
// The shape is checked first, and the walk stops at the first limit crossed:
// the complexity walk expands fragments, so a fragment bomb (each fragment
// spreading the next twice) must be refused by the field count before it.
type operationLimits struct {
	cfg config.GraphQL
	es  graphql.ExecutableSchema
	// schemaCost is what __schema costs: the size of the schema it
	// describes. typeCost is what __type costs: the largest type's size.
	schemaCost, typeCost int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &operationLimits{}

func (*operationLimits) ExtensionName() string { return "OperationLimits" }

// Validate measures the schema: introspection answers are as large as it.
func (l *operationLimits) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	s := es.Schema()
	l.schemaCost, l.typeCost = 0, 0
	for _, t := range s.Types {
		n := 1 + len(t.EnumValues) + len(t.Interfaces) + len(s.GetPossibleTypes(t))
		for _, f := range t.Fields {
			n += 1 + len(f.Arguments)
		}
		l.schemaCost += n
		l.typeCost = max(l.typeCost, n)
	}
	for _, d := range s.Directives {
		l.schemaCost += 1 + len(d.Arguments)
	}
	return nil
}

func (l *operationLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return nil // the executor reports the missing operation itself
	}
	w := shapeWalk{limits: l}
	if err := w.selections(op.SelectionSet, 1); err != nil {
		return err
	}
	// Calculate saturates at MaxInt rather than overflow; so does the sum.
	cost := complexity.Calculate(ctx, l.es, op, opCtx.Variables)
	if cost > math.MaxInt-w.introspection {
		cost = math.MaxInt
	} else {
		cost += w.introspection
	}
	// The same stats gqlgen's extension records, for tracing and tests.
	opCtx.Stats.SetExtension("ComplexityLimit", &extension.ComplexityStats{Complexity: cost, ComplexityLimit: l.cfg.ComplexityLimit})
	if cost > l.cfg.ComplexityLimit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", cost, l.cfg.ComplexityLimit)
		errcode.Set(err, codeComplexity)
		return err
	}
	return nil
}

// shapeWalk counts an operation's fields and depth with fragments expanded.
type shapeWalk struct {
	limits        *operationLimits
	fields, roots int
	introspection int
}

func (w *shapeWalk) selections(set ast.SelectionSet, depth int) *gqlerror.Error {
	cfg := w.limits.cfg
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if depth == 1 {
				w.roots++
				if w.roots > cfg.MaxRootFields {
					return limitError(s.Position, "maxRootFields", "the operation has more than %d root fields (each alias counts); split it into several requests", cfg.MaxRootFields)
				}
			}
			if w.fields > cfg.MaxFields {
				return limitError(s.Position, "maxFields", "the operation selects more than %d fields (each alias counts, fragments are counted where they are spread)", cfg.MaxFields)
			}
			if depth > cfg.MaxDepth {
				return limitError(s.Position, "maxDepth", "the operation nests fields more than %d levels deep", cfg.MaxDepth)
			}
			switch s.Name {
			case "__schema":
				w.introspection += w.limits.schemaCost
			case "__type":
				w.introspection += w.limits.typeCost
			}
			if err := w.selections(s.SelectionSet, depth+1); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition != nil {
				if err := w.selections(s.Definition.SelectionSet, depth); err != nil {
					return err
				}
			}
		case *ast.InlineFragment:
			if err := w.selections(s.SelectionSet, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// limitError is a validation error (the operation is refused as written,
// before anything runs) that names the limit in extensions.limit.
func limitError(pos *ast.Position, limit, format string, args ...any) *gqlerror.Error {
	err := gqlerror.ErrorPosf(pos, format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	err.Extensions["limit"] = limit
	return err
}
