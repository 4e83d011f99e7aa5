package facade_test

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/graph"
)

// schemaOf is the executable schema's definition; resolvers are not needed
// to load operations.
func schemaOf() *ast.Schema { return graph.NewExecutableSchema(graph.Config{}).Schema() }

// TestLoadEmbedded: the shipped operations load and have the methods and
// paths ARCHITECTURE.md fixes.
func TestLoadEmbedded(t *testing.T) {
	ops, err := facade.LoadEmbedded(schemaOf())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ListStores":             "GET /stores",
		"SearchProducts":         "GET /products",
		"GetProductAvailability": "GET /stores/{storeId}/products/{sku}/availability",
		"FindCustomers":          "GET /customers",
		"RecordBackorder":        "POST /backorders",
		"ListStoreBackorders":    "GET /stores/{storeId}/backorders",
		"UpdateBackorderStatus":  "POST /backorders/{backorderId}/status",
		"GetMyHome":              "GET /me/home",
		"ListNews":               "GET /news",
		"RsvpEvent":              "POST /events/{eventId}/rsvp",
	}
	got := map[string]string{}
	for _, op := range ops {
		got[op.ID] = op.Method + " " + op.Path
		if op.Write && (op.Body == nil || op.Body.ClientRequestID != "clientRequestId") {
			t.Errorf("%s: a write must take clientRequestId in its body", op.ID)
		}
	}
	for id, route := range want {
		if got[id] != route {
			t.Errorf("%s: got %q, want %q", id, got[id], route)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got operations %v, want %v", got, want)
	}
}

// TestLoadErrors: each broken file is refused with its file, line and reason.
func TestLoadErrors(t *testing.T) {
	const good = `# method: GET
# path: /stores/{storeId}/backorders
# summary: List backorders
# description: Lists backorders.
# result: backorders
# paged: {pageSize: first, cursor: after}
# params:
#   storeId: {in: path, summary: Store ID}
#   first: {in: query, name: pageSize, summary: Page Size}
#   after: {in: query, name: pageToken, summary: Page Token}
query Op($storeId: ID!, $first: Int = 20, $after: String) {
  backorders(storeId: $storeId, first: $first, after: $after) {
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}
`
	cases := []struct {
		name    string
		file    string // Op.graphql unless the case renames it
		src     string
		line    int
		inError string
	}{
		{"no binding", "", "query Op { stores { nodes { id } } }\n", 1, "no binding"},
		{"unknown key", "", strings.Replace(good, "# summary:", "# colour: red\n# summary:", 1), 3, "unknown field"},
		{"bad YAML", "", strings.Replace(good, "# description: Lists backorders.", "# description: Lists: backorders.", 1), 4, "binding"},
		{"schema error", "", strings.Replace(good, "nodes { id }", "nodes { id colour }", 1), 13, `Cannot query field "colour"`},
		{"file name", "Other.graphql", good, 11, "Op.graphql"},
		{"GET mutation", "", strings.Replace(good, "# method: GET", "# method: POST", 1), 1, "POST is for mutations"},
		{"path param not bound", "", strings.Replace(good, "#   storeId: {in: path, summary: Store ID}\n", "", 1), 2, "{storeId} is bound by no parameter"},
		{"param not in path", "", strings.Replace(good, "/stores/{storeId}/backorders", "/backorders", 1), 8, "not in the path"},
		{"nullable path param", "", strings.Replace(good, "$storeId: ID!", `$storeId: ID = "S001"`, 1), 8, "non-null"},
		{"unknown variable", "", strings.Replace(good, "#   storeId: {in: path", "#   shopId: {in: query, summary: X}\n#   storeId: {in: path", 1), 8, "$shopId, which Op does not declare"},
		{"variable unbound", "", strings.Replace(good, "#   after: {in: query, name: pageToken, summary: Page Token}\n", "", 1), 10, "$after is bound to no parameter"},
		{"result missing", "", strings.Replace(good, "# result: backorders", "# result: orders", 1), 5, `result "orders" is not a path`},
		{"paged not a connection", "", strings.Replace(good, "pageInfo { hasNextPage endCursor }", "pageInfo { hasNextPage }", 1), 6, "connection"},
		{"object query param", "", `# method: POST
# path: /backorders
# summary: Record
# description: Records.
# result: recordBackorder.backorder
# body: {variable: other}
# params:
#   input: {in: query, summary: Input}
mutation Op($input: RecordBackorderInput!) { recordBackorder(input: $input) { backorder { id } } }
`, 6, "body variable $other is not declared"},
		{"mutation without body", "", `# method: POST
# path: /backorders
# summary: Record
# description: Records.
# result: recordBackorder.backorder
# params:
#   input: {in: query, summary: Input}
mutation Op($input: RecordBackorderInput!) { recordBackorder(input: $input) { backorder { id } } }
`, 7, "must be scalars or enums"},
		{"picker to nowhere", "", strings.Replace(good, "{in: path, summary: Store ID}", "{in: path, summary: Store ID, picker: {operation: ListShops, value: id, title: name}}", 1), 8, "picker operation ListShops does not exist"},
		{"cache ttl not a duration", "", strings.Replace(good, "# params:", "# cache:\n#   per: store\n#   ttl: 5 minutes\n#   why: x\n# params:", 1), 9, `cache ttl "5 minutes" is not a duration`},
		{"cache ttl too long", "", strings.Replace(good, "# params:", "# cache: {ttl: 48h, per: store, why: x}\n# params:", 1), 7, "between 1s and 1h0m0s"},
		{"cache per unknown", "", strings.Replace(good, "# params:", "# cache:\n#   ttl: 30s\n#   per: team\n#   why: x\n# params:", 1), 9, "caller, store or everyone"},
		{"cache without why", "", strings.Replace(good, "# params:", "# cache: {ttl: 30s, per: store}\n# params:", 1), 7, "needs a why"},
		{"cache tag names no variable", "", strings.Replace(good, "# params:", "# cache:\n#   ttl: 30s\n#   per: store\n#   why: x\n#   tags: [\"backorders:{shopId}\"]\n# params:", 1), 11, "{shopId} names no variable"},
		{"cache tag malformed", "", strings.Replace(good, "# params:", "# cache: {ttl: 30s, per: store, why: x, tags: [\"Back orders\"]}\n# params:", 1), 7, "must be family or family:value"},
		{"GET invalidates", "", strings.Replace(good, "# params:", "# invalidates: [backorders]\n# params:", 1), 7, "only writes invalidate"},
		{"two operations", "", good + "query Two { stores { nodes { id } } }\n", 17, "exactly one operation"},
	}
	s := schemaOf()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := c.file
			if file == "" {
				file = "Op.graphql"
			}
			_, err := facade.Load(fstest.MapFS{file: {Data: []byte(c.src)}}, s)
			if err == nil {
				t.Fatal("loaded a broken file")
			}
			var le *facade.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LoadError", err)
			}
			if !strings.Contains(err.Error(), c.inError) {
				t.Fatalf("error %q does not say %q", err, c.inError)
			}
			if le.File != file || (c.line != 0 && !strings.Contains(err.Error(), file+":"+strconv.Itoa(c.line)+":")) {
				t.Fatalf("error %q does not point at %s:%d", err, file, c.line)
			}
		})
	}
}

// TestReadmeExample keeps the format's documentation true: the example in
// operations/README.md loads.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("operations/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```graphql\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no graphql example in operations/README.md")
	}
	// The example's picker needs ListStores beside it.
	stores, err := facade.Files().Open("ListStores.graphql")
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	storesSrc, err := io.ReadAll(stores)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"ListStoreBackorders.graphql": {Data: []byte(example)},
		"ListStores.graphql":          {Data: storesSrc},
	}
	if _, err := facade.Load(fsys, schemaOf()); err != nil {
		t.Fatalf("the README example does not load: %v", err)
	}
}
