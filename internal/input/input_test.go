package input_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/input"
	"github.com/middletier/middletier/internal/store"
)

func productSchema(t testing.TB) *ast.Schema {
	t.Helper()
	return graph.NewExecutableSchema(graph.Config{}).Schema()
}

func contract(t testing.TB) *input.Contract {
	t.Helper()
	c, err := input.New(productSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		name string
		s    string
		max  int
		want string // substring of the reason; "" = accepted
	}{
		{"plain", "Avery", 200, ""},
		{"empty", "", 200, ""},
		{"exactly the limit in multibyte characters", strings.Repeat("é", 200), 200, ""},
		{"emoji counted as one character each", strings.Repeat("😀", 200), 200, ""},
		{"one over", strings.Repeat("a", 201), 200, "at most 200 characters, got 201"},
		{"1 MB", strings.Repeat("a", 1<<20), 200, "got 1048576"},
		{"U+FFFD from a lone surrogate escape is valid text", "a\uFFFDb", 200, ""},
		{"NUL", "a\x00b", 200, "NUL"},
		{"NUL without limit", "\x00", 0, "NUL"},
		{"FF FE", "\xff\xfe", 200, "UTF-8"},
		{"overlong slash", "\xc0\xaf", 200, "UTF-8"},
		{"surrogate half", "\xed\xa0\x80", 200, "UTF-8"},
		{"truncated sequence", "caf\xc3", 200, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := input.CheckText(tt.s, tt.max)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNewRefusesUnboundedText: a text argument without @maxLength, or a
// limit on the wrong type, stops the service from starting.
func TestNewRefusesUnboundedText(t *testing.T) {
	tests := []struct {
		name, sdl, want string
	}{
		{"argument without limit", `type Query { a(s: String): Int }`, "Query.a(s): a String needs @maxLength"},
		{"input field without limit", `input I { s: ID } type Query { a(i: I): Int }`, "I.s: a ID needs @maxLength"},
		{"limit on an Int", `type Query { a(n: Int @maxLength(n: 3)): Int }`, "not text"},
		{"range on a String", `type Query { a(s: String @maxLength(n: 3) @range(min: 1, max: 2)): Int }`, "not an Int"},
		{"inverted range", `type Query { a(n: Int @range(min: 5, max: 2)): Int }`, "min above max"},
		{"zero limit", `type Query { a(s: String @maxLength(n: 0)): Int }`, "at least 1"},
	}
	const dirs = `directive @maxLength(n: Int!) on ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
directive @range(min: Int!, max: Int!) on ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := gqlparser.LoadSchema(&ast.Source{Name: "t", Input: dirs + tt.sdl})
			if err != nil {
				t.Fatal(err)
			}
			_, err = input.New(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	schema := productSchema(t)
	c := contract(t)
	const record = `mutation($in: RecordBackorderInput!) { recordBackorder(input: $in) { backorder { id } } }`
	newCustomer := func(name, email string) map[string]any {
		return map[string]any{"in": map[string]any{"storeId": "S001", "sku": "SKU-00001", "contactPreference": "EMAIL",
			"newCustomer": map[string]any{"name": name, "email": email}}}
	}
	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		wantArg  string // "" = accepted
		wantPath string
	}{
		{"valid search", `{ products(search: "lamp") { nodes { sku } } }`, nil, "", ""},
		{"search literal too long", `{ products(search: "` + strings.Repeat("a", 201) + `") { nodes { sku } } }`, nil, "search", "products"},
		{"search variable too long", `query($s: String) { products(search: $s) { nodes { sku } } }`, map[string]any{"s": strings.Repeat("a", 1<<20)}, "search", "variable.s"},
		{"NUL in a variable", `query($s: String!) { customers(search: $s) { nodes { id } } }`, map[string]any{"s": "ab\x00"}, "search", "variable.s"},
		{"invalid UTF-8 in a variable", `query($id: ID!) { store(id: $id) { id } }`, map[string]any{"id": "\xff\xfe"}, "id", "variable.id"},
		{"aliased field", `{ a: store(id: "S001") { id } b: store(id: "` + strings.Repeat("x", 65) + `") { id } }`, nil, "id", "b"},
		{"nested argument in a fragment", `{ me { ...F } } fragment F on Employee { store { inventory(after: "` + strings.Repeat("x", 513) + `") { nodes { onHand } } } }`, nil, "after", "me.store.inventory"},
		{"name at the limit in multibyte characters", record, newCustomer(strings.Repeat("é", 200), "e@x.org"), "", ""},
		{"name over the limit", record, newCustomer(strings.Repeat("a", 201), "e@x.org"), "input.newCustomer.name", "variable.in.newCustomer.name"},
		{"1 MB email", record, newCustomer("Eve", strings.Repeat("a", 1<<20)+"@x.org"), "input.newCustomer.email", "variable.in.newCustomer.email"},
		{"input literal", `mutation { updateBackorderStatus(input: {backorderId: "B1", status: CANCELLED, note: "a` + "\\u0000" + `"}) { backorder { id } } }`, nil, "input.note", "updateBackorderStatus"},
		{"first zero", `{ stores(first: 0) { nodes { id } } }`, nil, "first", "stores"},
		{"first negative", `{ stores(first: -1) { nodes { id } } }`, nil, "first", "stores"},
		{"first 101", `{ stores(first: 101) { nodes { id } } }`, nil, "first", "stores"},
		{"first 100", `{ stores(first: 100) { nodes { id } } }`, nil, "", ""},
		{"first variable out of range", `query($n: Int) { events(first: $n) { nodes { id } } }`, map[string]any{"n": int64(-5)}, "first", "variable.n"},
		{"news first 51", `{ news(first: 51) { nodes { id } } }`, nil, "first", "news"},
		{"nearbyLimit 21", `{ product(sku: "SKU-00001") { availability(storeId: "S001", nearbyLimit: 21) { onHand } } }`, nil, "nearbyLimit", "product.availability"},
		{"enum value passes", `{ backorders(storeId: "S001", status: OPEN) { nodes { id } } }`, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tt.query)
			if errs != nil {
				t.Fatalf("query does not validate: %v", errs)
			}
			v := c.Check(doc.Operations[0], tt.vars)
			if tt.wantArg == "" {
				if v != nil {
					t.Fatalf("refused: %v", v)
				}
				return
			}
			if v == nil {
				t.Fatal("accepted, want a violation")
			}
			if v.Argument != tt.wantArg || v.Path.String() != tt.wantPath {
				t.Fatalf("got argument %q path %q, want %q %q", v.Argument, v.Path, tt.wantArg, tt.wantPath)
			}
			g := v.GQLError()
			if g.Extensions["code"] != input.Code || !strings.Contains(g.Message, tt.wantArg) {
				t.Fatalf("GraphQL error %+v", g)
			}
		})
	}
}

// FuzzCheckText: a value is accepted exactly when it is valid UTF-8, has no
// NUL and at most max characters; the reason never echoes the value.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "Avery", "\x00", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\uFFFD", strings.Repeat("é", 65), strings.Repeat("a", 1<<20)} {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 {
			max = -max
		}
		got := input.CheckText(s, max)
		ok := utf8.ValidString(s) && !strings.ContainsRune(s, 0) && (max == 0 || utf8.RuneCountInString(s) <= max)
		if ok != (got == "") {
			t.Fatalf("CheckText(%q, %d) = %q, want accepted=%v", s, max, got, ok)
		}
		if len(got) > 80 {
			t.Fatalf("reason too long: %q", got)
		}
	})
}

// FuzzContract runs one text value through every text argument of a real
// operation, as a variable: the contract accepts it exactly when CheckText
// does with the argument's limit, and a refusal names the variable.
func FuzzContract(f *testing.F) {
	for _, s := range []string{"lamp", "\x00", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", strings.Repeat("a", 201), strings.Repeat("a", 1<<20)} {
		f.Add(s, int64(20))
	}
	f.Add("lamp", int64(0))
	f.Add("lamp", int64(-1))
	f.Add("lamp", int64(101))
	f.Add("lamp", int64(1)<<40)
	schema := productSchema(f)
	c := contract(f)
	doc, errs := gqlparser.LoadQuery(schema, `query($s: String, $n: Int) { products(search: $s, first: $n) { nodes { sku } } }`)
	if errs != nil {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		v := c.Check(doc.Operations[0], map[string]any{"s": s, "n": n})
		textOK := input.CheckText(s, 200) == ""
		rangeOK := n >= 1 && n <= 100
		switch {
		case textOK && rangeOK && v != nil:
			t.Fatalf("refused valid input: %v", v)
		case !textOK && (v == nil || v.Path.String() != "variable.s"):
			t.Fatalf("bad text %q: got %v, want a violation at variable.s", s, v)
		case textOK && !rangeOK && (v == nil || v.Path.String() != "variable.n"):
			t.Fatalf("first %d: got %v, want a violation at variable.n", n, v)
		}
	})
}

// TestNoteLimitIsTheStores: the store guards what it writes with
// store.MaxNoteLen and the schema declares the limit makers see; the store
// cannot read the schema (graph binds to store types), so this pins the two.
func TestNoteLimitIsTheStores(t *testing.T) {
	schema := productSchema(t)
	for _, typ := range []string{"RecordBackorderInput", "UpdateBackorderStatusInput"} {
		l, err := input.LimitsOf(schema.Types[typ].Fields.ForName("note").Directives)
		if err != nil || l.MaxLength != store.MaxNoteLen {
			t.Errorf("%s.note: @maxLength %d (%v), store.MaxNoteLen %d", typ, l.MaxLength, err, store.MaxNoteLen)
		}
	}
}
