package resolvers

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/input"
	"github.com/middletier/middletier/internal/upstream/news"
)

// schema is a shallow copy of the parsed schema, which every executable
// schema in the process shares: setDefault changes copies only.
func schema(t *testing.T) *ast.Schema {
	t.Helper()
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	if s == nil {
		t.Fatal("no schema")
	}
	c := *s
	return &c
}

func field(t *testing.T, s *ast.Schema, typ, name string) *ast.FieldDefinition {
	t.Helper()
	f := s.Types[typ].Fields.ForName(name)
	if f == nil {
		t.Fatalf("%s.%s not in the schema", typ, name)
	}
	return f
}

// setDefault replaces an argument's default in s, copying every definition
// on the way so the shared parsed schema stays as it is.
func setDefault(t *testing.T, s *ast.Schema, typ, name, arg string, v *ast.Value) {
	t.Helper()
	f := *field(t, s, typ, name)
	f.Arguments = append(ast.ArgumentDefinitionList(nil), f.Arguments...)
	for i, a := range f.Arguments {
		if a.Name == arg {
			c := *a
			c.DefaultValue = v
			f.Arguments[i] = &c
		}
	}
	def := *s.Types[typ]
	def.Fields = append(ast.FieldList(nil), def.Fields...)
	for i, fd := range def.Fields {
		if fd.Name == name {
			def.Fields[i] = &f
		}
	}
	types := make(map[string]*ast.Definition, len(s.Types))
	for k, v := range s.Types {
		types[k] = v
	}
	types[typ] = &def
	s.Types = types
}

func TestComplexityReadsDefaultsFromTheSchema(t *testing.T) {
	s := schema(t)
	setDefault(t, s, "Query", "news", "first", &ast.Value{Kind: ast.IntValue, Raw: "7"})
	setDefault(t, s, "Product", "availability", "nearbyLimit", &ast.Value{Kind: ast.IntValue, Raw: "3"})
	c, err := Complexity(s)
	if err != nil {
		t.Fatal(err)
	}
	two := 2
	tests := []struct {
		name      string
		got, want int
	}{
		{"news, first null: the schema's default", c.Query.News(1, nil, nil), upstreamListCost + 1 + 7},
		{"news, first 2", c.Query.News(1, &two, nil), upstreamListCost + 1 + 2},
		{"availability, nearbyLimit null", c.Product.Availability(10, "S001", nil), 1 + 10*3},
		{"stores, first null: 20 as declared", c.Query.Stores(1, nil, nil), 1 + 20},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: cost %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestComplexityNeedsEveryDefault(t *testing.T) {
	s := schema(t)
	setDefault(t, s, "Store", "inventory", "first", nil)
	_, err := Complexity(s)
	if err == nil || !strings.Contains(err.Error(), "Store.inventory(first:) declares no default") {
		t.Errorf("err = %v, want one naming Store.inventory(first:)", err)
	}
}

func TestOrDefaultReadsTheFieldBeingResolved(t *testing.T) {
	s := schema(t)
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{
		Field: graphql.CollectedField{Field: &ast.Field{Name: "news", Definition: field(t, s, "Query", "news")}},
	})
	five := 5
	tests := []struct {
		name string
		arg  string
		v    *int
		want int
		err  string
	}{
		{"given", "first", &five, 5, ""},
		{"null: the schema's default", "first", nil, 10, ""},
		{"an argument without a default", "after", nil, 0, "news(after:) declares no default"},
	}
	for _, tt := range tests {
		got, err := orDefault(ctx, tt.arg, tt.v)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: orDefault = %d, %v; want %d, %q", tt.name, got, err, tt.want, tt.err)
		}
	}
	if _, err := orDefault(context.Background(), "first", nil); err == nil {
		t.Error("orDefault outside a field: no error")
	}
}

// TestNewsPageWithinTheService: the schema's @range on news(first:) is what
// the input contract enforces, so it must stay within what the news service
// serves, or a valid GraphQL page size would fail upstream.
func TestNewsPageWithinTheService(t *testing.T) {
	l, err := input.LimitsOf(field(t, schema(t), "Query", "news").Arguments.ForName("first").Directives)
	if err != nil {
		t.Fatal(err)
	}
	if !l.HasRange || l.Min < 1 || l.Max > news.MaxPage {
		t.Errorf("news(first:) range %+v, want within 1..%d", l, news.MaxPage)
	}
}
