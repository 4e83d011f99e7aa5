package resolvers

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Argument defaults are written once, in the schema (first: Int = 20,
// nearbyLimit: Int = 5), and their bounds next to them (@range, enforced by
// internal/input before any resolver runs). gqlgen passes a default when a
// client leaves the argument out; an explicit null still arrives as nil, and
// then the resolvers and the complexity functions read the same default from
// the schema instead of repeating it in Go.

// orDefault is v, or when the client sent null, the default the schema
// declares for the argument called name of the field being resolved.
func orDefault(ctx context.Context, name string, v *int) (int, error) {
	if v != nil {
		return *v, nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Definition == nil {
		return 0, fmt.Errorf("default of %s: no field being resolved", name)
	}
	return intDefault(fc.Field.Definition, name)
}

// intDefault reads the Int default the schema declares for argument arg of f.
func intDefault(f *ast.FieldDefinition, arg string) (int, error) {
	a := f.Arguments.ForName(arg)
	if a == nil || a.DefaultValue == nil {
		return 0, fmt.Errorf("%s(%s:) declares no default in the schema", f.Name, arg)
	}
	v, err := a.DefaultValue.Value(nil)
	if err != nil {
		return 0, fmt.Errorf("%s(%s:) default: %w", f.Name, arg, err)
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%s(%s:) default %v is not an Int", f.Name, arg, v)
	}
	return int(n), nil
}

// schemaDefaults reads argument defaults once, at start-up, for the
// complexity functions, which run without a field context. The first
// failure is kept, so a list of reads ends with one check.
type schemaDefaults struct {
	schema *ast.Schema
	err    error
}

// int is the Int default of typ.field(arg:); 0 after a failure, which err reports.
func (d *schemaDefaults) int(typ, field, arg string) int {
	def := d.schema.Types[typ]
	if def == nil || def.Fields.ForName(field) == nil {
		d.err = errors.Join(d.err, fmt.Errorf("%s.%s is not in the schema", typ, field))
		return 0
	}
	n, err := intDefault(def.Fields.ForName(field), arg)
	if err != nil {
		d.err = errors.Join(d.err, fmt.Errorf("%s.%w", typ, err))
	}
	return n
}
