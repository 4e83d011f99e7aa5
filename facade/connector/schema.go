package connector

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/internal/input"
)

// scalarType maps a GraphQL scalar onto a Swagger type and format that Power
// Fx understands (CONNECTOR.md §8.5). 64-bit numbers never occur: GraphQL's
// Int is 32-bit. Unknown custom scalars travel as strings.
func scalarType(name string) (typ, format string) {
	switch name {
	case "Int":
		return "integer", "int32"
	case "Float":
		return "number", "double"
	case "Boolean":
		return "boolean", ""
	case "DateTime", "Time":
		return "string", "date-time"
	case "Date":
		return "string", "date"
	default: // ID, String and custom scalars
		return "string", ""
	}
}

// maxInputDepth stops a self-referencing input type from recursing forever.
const maxInputDepth = 8

func (g *generator) inputSchema(def *ast.Definition, exclude map[string]bool, depth int) *spec.Schema {
	s := &spec.Schema{}
	s.Typed("object", "")
	s.Properties = spec.SchemaProperties{}
	for _, f := range def.Fields {
		if exclude[f.Name] {
			continue
		}
		ps := g.inputType(f.Type, depth)
		if ps == nil {
			continue
		}
		if ps.Type.Contains("string") || ps.Type.Contains("integer") {
			var cv spec.CommonValidations
			applyLimits(&cv, ps.Type[0], limits(f.Directives))
			ps.MaxLength, ps.Minimum, ps.Maximum = cv.MaxLength, cv.Minimum, cv.Maximum
		}
		ps.Description = sentence(f.Description)
		ps.AddExtension("x-ms-summary", TitleCase(f.Name))
		if d := defaultValue(f.DefaultValue); d != nil {
			ps.Default = d
		}
		if f.Type.NonNull && f.DefaultValue == nil {
			s.Required = append(s.Required, f.Name)
		}
		s.Properties[f.Name] = *ps
	}
	return s
}

func (g *generator) inputType(t *ast.Type, depth int) *spec.Schema {
	if t.Elem != nil {
		items := g.inputType(t.Elem, depth)
		if items == nil {
			return nil
		}
		return spec.ArrayProperty(items)
	}
	def := g.schema.Types[t.NamedType]
	if s := leafSchema(def); s != nil {
		return s
	}
	if def.Kind != ast.InputObject || depth >= maxInputDepth {
		return nil
	}
	return g.inputSchema(def, nil, depth+1)
}

// applyLimits declares the input contract's limits: maxLength on text
// (in characters, as the contract counts), minimum and maximum on ranged
// whole numbers, so that a maker sees them in the designer.
func applyLimits(cv *spec.CommonValidations, typ string, l input.Limits) {
	switch typ {
	case "string":
		if l.MaxLength > 0 {
			n := int64(l.MaxLength)
			cv.MaxLength = &n
		}
	case "integer":
		if l.HasRange {
			lo, hi := float64(l.Min), float64(l.Max)
			cv.Minimum, cv.Maximum = &lo, &hi
		}
	}
}

// leafSchema is the schema of a scalar or enum value, alike in inputs and
// results; nil for other kinds.
func leafSchema(def *ast.Definition) *spec.Schema {
	switch def.Kind {
	case ast.Scalar:
		return scalarSchema(def.Name)
	case ast.Enum:
		return enumSchema(def)
	}
	return nil
}

func scalarSchema(name string) *spec.Schema {
	typ, format := scalarType(name)
	return new(spec.Schema).Typed(typ, format)
}

func enumSchema(def *ast.Definition) *spec.Schema {
	s := spec.StringProperty()
	values, named := enumValues(def)
	s.Enum = values
	s.AddExtension("x-ms-enum-values", named)
	return s
}

// resultSchema derives the 2xx schema from the operation's selection set at
// its result path, and returns the description of the result field.
func (g *generator) resultSchema(op *facade.Operation) (*spec.Schema, string, error) {
	t := &ast.Type{NamedType: facade.RootType(g.schema, op.Op).Name, NonNull: true}
	set := op.Op.SelectionSet
	desc := ""
	if op.Result != "" {
		for _, seg := range strings.Split(op.Result, ".") {
			// The loader follows the result path by response keys; that
			// the body is cut out of an object, never out of a list, is the
			// publisher's to say.
			if t.Elem != nil {
				return nil, "", fmt.Errorf("%s is a list; the result path cannot go into it", seg)
			}
			f, err := g.field(g.schema.Types[t.Name()], set, seg)
			if err != nil {
				return nil, "", err
			}
			t, set, desc = f.Def.Type, f.Selections(), f.Def.Description
		}
	}
	if op.Paged {
		s, err := g.pagedSchema(t, set, desc)
		return s, sentence(desc), err
	}
	s := g.outputType(t, set)
	// An unpaged list is sent as the JSON array itself (the handler shapes
	// only paged results); Power Fx reads an array of records as a table.
	s.Description = sentence(desc)
	return s, sentence(desc), nil
}

// field is the field set selects under key. The loader checked that the
// result path and a connection's nodes are selected; an operation that
// did not come through it still gets an error, not a panic.
func (g *generator) field(on *ast.Definition, set ast.SelectionSet, key string) (facade.SelectedField, error) {
	f, ok := facade.Lookup(g.schema, on, set, key)
	if !ok {
		return f, fmt.Errorf("the selection has no field %s", key)
	}
	return f, nil
}

// pagedSchema is the body of a paged list: {value, nextLink, nextCursor}.
// The loader checked that the connection selects nodes and pageInfo; that
// it is one object whose nodes are a list is the publisher's to check.
func (g *generator) pagedSchema(t *ast.Type, set ast.SelectionSet, desc string) (*spec.Schema, error) {
	def := g.schema.Types[t.Name()]
	if def == nil || t.Elem != nil || (def.Kind != ast.Object && def.Kind != ast.Interface) {
		return nil, fmt.Errorf("a paged result must be a connection object, not %s", t)
	}
	nodes, err := g.field(def, set, "nodes")
	if err != nil {
		return nil, err
	}
	if nodes.Def.Type.Elem == nil {
		return nil, fmt.Errorf("%s.nodes is not a list", def.Name)
	}
	value := g.outputType(nodes.Def.Type, nodes.Selections())
	value.Description = sentence(cmp.Or(nodes.Def.Description, desc))
	value.AddExtension("x-ms-summary", "Value")
	next := spec.StringProperty()
	next.Description = "The address of the next page, for callers that follow links; absent on the last page."
	next.AddExtension("x-ms-summary", "Next Link")
	next.AddExtension("x-ms-visibility", "advanced")
	cursor := spec.StringProperty()
	cursor.Description = "Pass this as the page token to get the next page; absent on the last page."
	cursor.AddExtension("x-ms-summary", "Next Page Token")
	s := &spec.Schema{}
	s.Typed("object", "")
	s.Description = sentence(desc)
	s.Properties = spec.SchemaProperties{"value": *value, "nextLink": *next, "nextCursor": *cursor}
	s.Required = []string{"value"}
	return s, nil
}

// outputType is the schema of a value of type t with selection set, whose
// fields are merged by the facade's selection walker. Descriptions and
// x-ms-summary go on properties, by the caller. The document was validated
// at load, so a composite type always has a selection and a leaf none.
func (g *generator) outputType(t *ast.Type, set ast.SelectionSet) *spec.Schema {
	if t.Elem != nil {
		return spec.ArrayProperty(g.outputType(t.Elem, set))
	}
	def := g.schema.Types[t.NamedType]
	if s := leafSchema(def); s != nil {
		return s
	}
	s := &spec.Schema{}
	s.Typed("object", "")
	s.Properties = spec.SchemaProperties{}
	for _, f := range facade.CollectFields(g.schema, def, set) {
		ps := g.outputType(f.Def.Type, f.Selections())
		ps.Description = sentence(f.Def.Description)
		if ps.Description == "" {
			ps.Description = TitleCase(f.Key) + "."
		}
		ps.AddExtension("x-ms-summary", TitleCase(f.Key))
		// Required only when the facade always sends it: a non-null field
		// not behind a fragment condition. Flows fail a run when a required
		// property is missing (CONNECTOR.md §6).
		if f.Def.Type.NonNull && !f.Conditional {
			s.Required = append(s.Required, f.Key)
		}
		s.Properties[f.Key] = *ps
	}
	return s
}
