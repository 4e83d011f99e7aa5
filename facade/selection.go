package facade

import (
	"cmp"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// The one walk over an operation's selection sets. The loader (result
// paths, paged shapes, pickers, parameter descriptions) and the connector
// publisher (response schemas, parameter limits) both read selections
// through it, so that fragments, inline fragments, aliases and type
// conditions mean the same thing to both. Every document it walks was
// validated against the schema at load: fields, types and fragments exist
// and fragments do not cycle, so the walk does not check them again.

// SelectedField is one response key of a selection set with every field
// that contributes to it: a key may be selected several times, directly and
// through fragments, and its sub-selection is the union of theirs.
type SelectedField struct {
	Key    string // response key: the alias, else the field name
	Def    *ast.FieldDefinition
	Fields []*ast.Field
	// Conditional: every selection of the key is under a type condition
	// that may not hold or under @skip/@include, so the key may be absent.
	Conditional bool
}

// Selections is the merged sub-selection of every field behind the key.
func (f SelectedField) Selections() ast.SelectionSet {
	var set ast.SelectionSet
	for _, fl := range f.Fields {
		set = append(set, fl.SelectionSet...)
	}
	return set
}

// Type is the schema type the key's sub-selection selects on.
func (f SelectedField) Type(schema *ast.Schema) *ast.Definition {
	return schema.Types[f.Def.Type.Name()]
}

// typenameField stands for __typename, which every type has but no type
// lists among its fields.
var typenameField = &ast.FieldDefinition{
	Name:        "__typename",
	Description: "The name of the object's type.",
	Type:        ast.NonNullNamedType("String", nil),
}

// RootType is the schema type op's top-level selection set selects on.
func RootType(schema *ast.Schema, op *ast.OperationDefinition) *ast.Definition {
	switch op.Operation {
	case ast.Mutation:
		return schema.Mutation
	case ast.Subscription:
		return schema.Subscription
	default:
		return schema.Query
	}
}

// CollectFields merges set's fields (set selects on type on) by response
// key, in first-seen order, following inline fragments and fragment spreads.
func CollectFields(schema *ast.Schema, on *ast.Definition, set ast.SelectionSet) []SelectedField {
	var out []SelectedField
	idx := map[string]int{}
	eachField(schema, on, on, set, false, func(f *ast.Field, fd *ast.FieldDefinition, conditional bool) {
		key := cmp.Or(f.Alias, f.Name)
		if i, ok := idx[key]; ok {
			out[i].Fields = append(out[i].Fields, f)
			out[i].Conditional = out[i].Conditional && conditional
			return
		}
		idx[key] = len(out)
		out = append(out, SelectedField{Key: key, Def: fd, Fields: []*ast.Field{f}, Conditional: conditional})
	})
	return out
}

// Lookup is the field set selects under the response key, merged over every
// place it is selected.
func Lookup(schema *ast.Schema, on *ast.Definition, set ast.SelectionSet, key string) (SelectedField, bool) {
	fields := CollectFields(schema, on, set)
	i := slices.IndexFunc(fields, func(f SelectedField) bool { return f.Key == key })
	if i < 0 {
		return SelectedField{}, false
	}
	return fields[i], true
}

// WalkFields calls visit for every field selected in set (on type on) and,
// depth first, below it, in document order.
func WalkFields(schema *ast.Schema, on *ast.Definition, set ast.SelectionSet, visit func(f *ast.Field, fd *ast.FieldDefinition)) {
	eachField(schema, on, on, set, false, func(f *ast.Field, fd *ast.FieldDefinition, _ bool) {
		visit(f, fd)
		WalkFields(schema, schema.Types[fd.Type.Name()], f.SelectionSet, visit)
	})
}

// eachField calls visit for each field of set, which selects on type on
// within a value of type parent, stepping into fragments: the one place
// that knows how a fragment applies.
func eachField(schema *ast.Schema, parent, on *ast.Definition, set ast.SelectionSet, conditional bool, visit func(f *ast.Field, fd *ast.FieldDefinition, conditional bool)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			fd := typenameField
			if s.Name != "__typename" {
				fd = on.Fields.ForName(s.Name)
			}
			visit(s, fd, conditional || skippable(s.Directives))
		case *ast.InlineFragment:
			on2, cond := narrow(schema, parent, on, s.TypeCondition)
			eachField(schema, parent, on2, s.SelectionSet, conditional || cond || skippable(s.Directives), visit)
		case *ast.FragmentSpread:
			fd := s.Definition
			on2, cond := narrow(schema, parent, on, fd.TypeCondition)
			eachField(schema, parent, on2, fd.SelectionSet, conditional || cond || skippable(s.Directives), visit)
		}
	}
}

// narrow resolves a fragment's type condition: the type whose fields it
// selects, and whether it may not apply to every object of parent's type
// (then its fields may be absent from the answer).
func narrow(schema *ast.Schema, parent, on *ast.Definition, cond string) (*ast.Definition, bool) {
	if cond == "" || cond == on.Name {
		return on, false
	}
	t := schema.Types[cond]
	if parent.Kind == ast.Object {
		// A fragment on an interface or union that parent belongs to always applies.
		return t, !slices.ContainsFunc(schema.GetPossibleTypes(t), func(d *ast.Definition) bool { return d.Name == parent.Name })
	}
	return t, true
}

func skippable(ds ast.DirectiveList) bool {
	return ds.ForName("skip") != nil || ds.ForName("include") != nil
}
