package connector

import (
	"bytes"
	"encoding/json"
	"flag"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/graph"
)

var update = flag.Bool("update", false, "rewrite the golden definition")

// updating reports -update.
func updating() bool { return *update }

const goldenFile = "testdata/" + DefinitionFile

// goldenOptions are sample settings: a production-like host and no real
// client id, so that the golden file and the checklist see what a maker
// would import.
var goldenOptions = Options{
	PublicURL: "https://middletier.example.com",
	Scopes:    []string{"Data.ReadWrite"},
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }

func realDefinition(t *testing.T) []byte {
	t.Helper()
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	ops, err := facade.LoadEmbedded(schema)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Swagger(ops, schema, goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSwaggerGolden keeps the generated definition as a golden file, so any
// change to the connector's contract is a visible diff in review. Run
// `go test ./facade/connector -run 'TestSwaggerGolden|TestSwaggerContract' -update`
// to accept a change.
func TestSwaggerGolden(t *testing.T) {
	got := realDefinition(t)
	if again := realDefinition(t); !bytes.Equal(got, again) {
		t.Fatal("two generations differ: the output is not deterministic")
	}
	if updating() {
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the definition differs from %s; review the change (breaking ones are listed by TestSwaggerContract) and run go test ./facade/connector -run TestSwaggerGolden -update\n%s", goldenFile, firstDiff(want, got))
	}
}

// TestSwaggerContract fails on a breaking change against the golden file:
// makers' apps break when an operation, parameter or response property
// disappears, a type changes or a new required parameter appears.
func TestSwaggerContract(t *testing.T) {
	if updating() {
		t.Skip("-update rewrites the golden file; the contract is checked against the new one")
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	got := realDefinition(t)
	breaks, err := breakingChanges(want, got)
	if err != nil {
		t.Fatal(err)
	}
	if len(breaks) > 0 {
		t.Errorf("breaking changes to the connector contract (published apps would break):\n  %s\nIf this is deliberate (a new major version), update the golden file with -update and say so in the release notes.", strings.Join(breaks, "\n  "))
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "first difference at line " + itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// testSchema is a small schema with what the generator must handle beyond
// the product schema: an interface, aliases and fragments.
const testSchemaSDL = `
scalar DateTime
"""Root."""
type Query {
  """The shelf."""
  shelf(
    """Which shelf."""
    id: ID!
    """Only items of this kind."""
    kind: Kind
    """How many."""
    first: Int = 10
    """Starting after."""
    after: String
    """Include hidden items."""
    hidden: Boolean = false
    """Minimum weight."""
    minWeight: Float
    """Changed since."""
    since: DateTime
  ): Shelf
}
"""Writes."""
type Mutation {
  """Put an item."""
  putItem(
    """What to put."""
    input: PutItemInput!
  ): Item!
}
"""A kind."""
enum Kind {
  """Small."""
  SMALL_THING
  """Big."""
  BIG
}
"""A shelf."""
type Shelf {
  """Shelf id."""
  id: ID!
  """Shelf label."""
  label: String
  """Items."""
  items: [Thing!]!
}
"""Something on a shelf."""
interface Thing {
  """Thing id."""
  id: ID!
}
"""An item."""
type Item implements Thing {
  """Item id."""
  id: ID!
  """Item kind."""
  kind: Kind!
  """Weight in kg."""
  weight: Float!
  """When it was put."""
  putAt: DateTime!
}
"""A box."""
type Box implements Thing {
  """Box id."""
  id: ID!
  """How many inside."""
  count: Int!
}
"""What to put."""
input PutItemInput {
  """The shelf."""
  shelfId: ID!
  """The kind."""
  kind: Kind!
  """How heavy."""
  weight: Float = 1.5
  """A note."""
  note: String
}
`

func testOp(t *testing.T, schema *ast.Schema, op facade.Operation) facade.Operation {
	t.Helper()
	doc, err := gqlparser.LoadQuery(schema, op.Source)
	if err != nil {
		t.Fatal(err)
	}
	op.Doc, op.Op = doc, doc.Operations[0]
	op.ID = op.Op.Name
	return op
}

func decode(t *testing.T, b []byte) obj {
	t.Helper()
	var d obj
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func at(v any, path ...string) any {
	for _, p := range path {
		v = asObj(v)[p]
	}
	return v
}

// TestSwaggerFromSelection checks the response schema derived from a
// selection set with aliases, fragments on an interface, __typename and a
// paged result, and parameter typing for each scalar.
func TestSwaggerFromSelection(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphqls", Input: testSchemaSDL})
	get := testOp(t, schema, facade.Operation{
		File: "GetShelf.graphql", Method: "GET", Path: "/shelves/{shelfId}", Summary: "Get a shelf",
		Description: "Gets one shelf.", Result: "theShelf",
		Params: []facade.Param{
			{Name: "shelfId", In: "path", Variable: "id", Summary: "Shelf ID", Required: true},
			{Name: "kind", In: "query", Variable: "kind", Summary: "Kind"},
			{Name: "hidden", In: "query", Variable: "hidden", Summary: "Hidden", Default: false},
			{Name: "minWeight", In: "query", Variable: "minWeight", Summary: "Minimum Weight"},
			{Name: "since", In: "query", Variable: "since", Summary: "Since"},
		},
		Source: `query GetShelf($id: ID!, $kind: Kind, $hidden: Boolean = false, $minWeight: Float, $since: DateTime) {
  theShelf: shelf(id: $id, kind: $kind, hidden: $hidden, minWeight: $minWeight, since: $since) {
    ...ShelfFields
    title: label
    items {
      __typename
      id
      ... on Item { kind weight }
      ...BoxFields
    }
  }
}
fragment ShelfFields on Shelf { id }
fragment BoxFields on Box { count }`,
	})
	put := testOp(t, schema, facade.Operation{
		File: "PutItem.graphql", Method: "POST", Path: "/shelves/{shelfId}/items", Summary: "Put an item",
		Description: "Puts an item on a shelf.", Result: "putItem", Write: true,
		Params: []facade.Param{{Name: "shelfId", In: "path", Variable: "input", Field: "shelfId", Summary: "Shelf ID", Required: true}},
		Body:   &facade.Body{Variable: "input", ClientRequestID: "clientRequestId", Omit: []string{"shelfId"}},
		Source: `mutation PutItem($input: PutItemInput!) { putItem(input: $input) { id kind putAt } }`,
	})
	b, err := Swagger([]facade.Operation{get, put}, schema, Options{PublicURL: "http://localhost:8080/mt"})
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, b)
	if d["host"] != "localhost:8080" || d["basePath"] != "/mt/api/v1" || !slices.Equal(asArr(d["schemes"]), []any{"http"}) {
		t.Errorf("host %v basePath %v schemes %v", d["host"], d["basePath"], d["schemes"])
	}

	getOp := asObj(at(d, "paths", "/shelves/{shelfId}", "get"))
	params := map[string]obj{}
	for _, p := range asArr(getOp["parameters"]) {
		params[asStr(asObj(p)["name"])] = asObj(p)
	}
	for name, want := range map[string]obj{
		"shelfId":   {"type": "string", "in": "path", "required": true, "x-ms-url-encoding": "single", "description": "Which shelf.", "x-ms-summary": "Shelf ID"},
		"kind":      {"type": "string", "enum": []any{"SMALL_THING", "BIG"}, "x-ms-enum-values": []any{obj{"value": "SMALL_THING", "displayName": "Small Thing"}, obj{"value": "BIG", "displayName": "Big"}}},
		"hidden":    {"type": "boolean", "default": false},
		"minWeight": {"type": "number", "format": "double"},
		"since":     {"type": "string", "format": "date-time"},
	} {
		for k, w := range want {
			if g := params[name][k]; !jsonEqual(g, w) {
				t.Errorf("parameter %s: %s = %v, want %v", name, k, g, w)
			}
		}
	}
	if has(params["minWeight"], "default") || has(params["kind"], "x-ms-url-encoding") {
		t.Errorf("minWeight has a default or kind an encoding: %v %v", params["minWeight"], params["kind"])
	}

	s := asObj(at(getOp, "responses", "200", "schema"))
	if got := asArr(s["required"]); !slices.Equal(got, []any{"id", "items"}) {
		t.Errorf("shelf required = %v, want [id items] (title is nullable)", got)
	}
	if at(s, "properties", "title", "x-ms-summary") != "Title" || at(s, "properties", "title", "description") != "Shelf label." {
		t.Errorf("alias title = %v", at(s, "properties", "title"))
	}
	item := asObj(at(s, "properties", "items", "items"))
	if got := asArr(item["required"]); !slices.Equal(got, []any{"__typename", "id"}) {
		t.Errorf("item required = %v: fields behind a type condition are optional", got)
	}
	for _, k := range []string{"__typename", "id", "kind", "weight", "count"} {
		if !has(asObj(item["properties"]), k) {
			t.Errorf("items lack %s: %v", k, item["properties"])
		}
	}
	if at(item, "properties", "count", "type") != "integer" || at(item, "properties", "count", "format") != "int32" {
		t.Errorf("count = %v", at(item, "properties", "count"))
	}
	for _, code := range []string{"400", "401", "403", "404", "500", "default"} {
		r := asObj(at(getOp, "responses", code))
		if r == nil || has(r, "schema") || asStr(r["description"]) == "" {
			t.Errorf("response %s = %v, want a description only", code, r)
		}
	}

	postOp := asObj(at(d, "paths", "/shelves/{shelfId}/items", "post"))
	var body, idem obj
	for _, p := range asArr(postOp["parameters"]) {
		switch asObj(p)["in"] {
		case "body":
			body = asObj(p)
		case "header":
			idem = asObj(p)
		}
	}
	if idem["name"] != "Idempotency-Key" || idem["required"] == true {
		t.Errorf("Idempotency-Key header = %v", idem)
	}
	bs := asObj(body["schema"])
	if has(asObj(bs["properties"]), "shelfId") {
		t.Error("the body repeats shelfId, which the path fills")
	}
	if got := asArr(bs["required"]); !slices.Equal(got, []any{"kind"}) {
		t.Errorf("body required = %v, want [kind] (weight has a default)", got)
	}
	if at(bs, "properties", "weight", "default") != 1.5 || at(bs, "properties", "clientRequestId", "type") != "string" {
		t.Errorf("body properties = %v", bs["properties"])
	}
	if !has(asObj(postOp["responses"]), "200") || has(asObj(postOp["responses"]), "201") {
		t.Errorf("POST to a sub-resource answers 200: %v", postOp["responses"])
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestSwaggerRejects covers what only the publisher checks. An unbound path
// variable or a picker to nowhere is the loader's to reject, before an
// operation reaches the publisher (TestLoadErrors).
func TestSwaggerRejects(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphqls", Input: testSchemaSDL})
	base := facade.Operation{File: "GetShelf.graphql", Method: "GET", Path: "/shelves/{shelfId}", Summary: "Get a shelf", Description: "Gets one shelf.", Result: "shelf",
		Source: `query GetShelf($id: ID!) { shelf(id: $id) { id } }`,
		Params: []facade.Param{{Name: "shelfId", In: "path", Variable: "id", Summary: "Shelf ID"}}}
	tests := []struct {
		name    string
		mut     func(o *facade.Operation)
		opts    Options
		wantErr string
	}{
		{"result not selected", func(o *facade.Operation) { o.Result = "shelves" }, Options{}, "no field shelves"},
		{"relative public URL", func(o *facade.Operation) {}, Options{PublicURL: "example.com"}, "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := base
			op.Params = slices.Clone(base.Params)
			tt.mut(&op)
			op = testOp(t, schema, op)
			_, err := Swagger([]facade.Operation{op}, schema, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestTitleCase(t *testing.T) {
	for in, want := range map[string]string{
		"storeId": "Store ID", "STORE_ASSOCIATE": "Store Associate", "__typename": "Type Name", "onHand": "On Hand",
		"sku": "SKU", "nextCursor": "Next Cursor", "HTTPStatus": "HTTP Status", "distanceKm": "Distance Km", "myRsvp": "My RSVP",
	} {
		if got := TitleCase(in); got != want {
			t.Errorf("TitleCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportPackage exports into a temp dir and checks each file on its
// own terms: JSON that parses, the settings paconn reads, a real PNG.
func TestExportPackage(t *testing.T) {
	files := exportForTest(t)
	var settings map[string]string
	if err := json.Unmarshal(files[SettingsFile], &settings); err != nil {
		t.Fatalf("settings.json: %v", err)
	}
	for k, want := range map[string]string{"apiDefinition": DefinitionFile, "apiProperties": PropertiesFile, "icon": IconFile, "powerAppsUrl": "https://api.powerapps.com", "powerAppsApiVersion": "2016-11-01"} {
		if settings[k] != want {
			t.Errorf("settings.json %s = %q, want %q", k, settings[k], want)
		}
	}
	if _, ok := settings["environment"]; ok {
		t.Error("settings.json names an environment nobody configured")
	}
	props := decode(t, files[PropertiesFile])
	oauth := asObj(at(props, "properties", "connectionParameters", "token", "oAuthSettings"))
	for k, want := range map[string]any{
		"identityProvider": "aad", "clientId": PlaceholderClientID, "redirectMode": "GlobalPerConnector",
		"redirectUrl": "https://global.consent.azure-apim.net/redirect", "scopes": []any{"Data.ReadWrite"},
	} {
		if !jsonEqual(oauth[k], want) {
			t.Errorf("oAuthSettings.%s = %v, want %v", k, oauth[k], want)
		}
	}
	for k, want := range map[string]string{"loginUri": "https://login.microsoftonline.com", "tenantId": "common", "resourceUri": PlaceholderResourceURI, "enableOnbehalfOfLogin": "false"} {
		if got := at(oauth, "customParameters", k, "value"); got != want {
			t.Errorf("customParameters.%s = %v, want %q", k, got, want)
		}
	}
	img, err := png.Decode(bytes.NewReader(files[IconFile]))
	if err != nil {
		t.Fatalf("icon.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != IconSize || b.Dy() != IconSize || len(files[IconFile]) > 1<<20 {
		t.Errorf("icon is %v, %d bytes", b, len(files[IconFile]))
	}
	if r, g, bb, a := img.At(2, 2).RGBA(); r>>8 != 0x1f || g>>8 != 0x6f || bb>>8 != 0x8b || a>>8 != 0xff {
		t.Errorf("icon background = %x %x %x %x, want the brand colour #1f6f8b, opaque", r>>8, g>>8, bb>>8, a>>8)
	}
	if r, g, bb, _ := img.At(IconSize/2, IconSize/2).RGBA(); r>>8 != 0xff || g>>8 != 0xff || bb>>8 != 0xff {
		t.Error("icon has no white mark in the middle")
	}
}

func TestAPIPropertiesRejectsReservedColor(t *testing.T) {
	for _, c := range []string{"#007EE5", "#ffffff", "#da3b01", "blue"} {
		if _, err := APIProperties(nil, Options{BrandColor: c}); err == nil {
			t.Errorf("brand color %s accepted", c)
		}
	}
}

func TestDefinitionHandler(t *testing.T) {
	def := []byte(`{"swagger":"2.0"}`)
	h := DefinitionHandler(def)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/swagger.json", nil))
	if rec.Code != 200 || rec.Body.String() != string(def) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/swagger.json", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, req)
	if rec2.Code != http.StatusNotModified {
		t.Errorf("revalidation = %d, want 304", rec2.Code)
	}
}

// TestAPIPropertiesUpdateNextLink: the updatenextlink policy names exactly
// the pageable operations, whatever they are, and is left out when none
// pages (an unscoped one would rewrite every answer).
func TestAPIPropertiesUpdateNextLink(t *testing.T) {
	paged := func(id string) facade.Operation { return facade.Operation{ID: id, Paged: true} }
	tests := []struct {
		name string
		ops  []facade.Operation
		want []any // nil: no policy
	}{
		{"only the paged ones, sorted", []facade.Operation{paged("ListZ"), {ID: "GetOne"}, paged("ListA")}, []any{"ListA", "ListZ"}},
		{"none paged", []facade.Operation{{ID: "GetOne"}}, nil},
		{"no operations", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := APIProperties(tt.ops, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var f obj
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			pols := asArr(asObj(f["properties"])["policyTemplateInstances"])
			if tt.want == nil {
				if pols != nil {
					t.Fatalf("policies = %v, want none", pols)
				}
				return
			}
			if len(pols) != 1 {
				t.Fatalf("policies = %v, want one", pols)
			}
			p := asObj(pols[0])
			params := asObj(p["parameters"])
			if p["templateId"] != "updatenextlink" || asStr(p["title"]) == "" || params["x-ms-apimTemplateParameter.nextLinkPropertyName"] != "nextLink" {
				t.Fatalf("policy = %v", p)
			}
			if got := asArr(params["x-ms-apimTemplate-operationName"]); !slices.Equal(got, tt.want) {
				t.Fatalf("operations = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIdempotencyKeyVisible: every write offers the Idempotency-Key header
// where makers see it (not under advanced), since flows retry every POST.
func TestIdempotencyKeyVisible(t *testing.T) {
	def := decode(t, realDefinition(t))
	writes := 0
	for path, item := range asObj(def["paths"]) {
		op := asObj(asObj(item)["post"])
		if op == nil || has(op, "x-ms-agentic-protocol") {
			continue // MCP's write tools take the key as clientRequestId
		}
		writes++
		found := false
		for _, p := range asArr(op["parameters"]) {
			p := asObj(p)
			if p["in"] != "header" || p["name"] != "Idempotency-Key" {
				continue
			}
			found = true
			if v := asStr(p["x-ms-visibility"]); v == "advanced" || v == "internal" {
				t.Errorf("POST %s: Idempotency-Key has x-ms-visibility %q", path, v)
			}
		}
		if !found {
			t.Errorf("POST %s: no Idempotency-Key header parameter", path)
		}
	}
	if writes == 0 {
		t.Fatal("the definition has no POST operations")
	}
}
