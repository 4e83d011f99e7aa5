package facade_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/internal/store"
)

// The hostile-request suite: every facade operation and every GraphQL root
// field, taken from the loaded operations and the schema (a new operation
// or field is covered without touching this file), gets values no honest
// client sends. Each must be refused with a 4xx and a clear message (the
// facade's JSON error body; for GraphQL an error with extensions.code),
// never a 5xx, and must cost a bounded number of statements; a request
// refused before execution costs nothing beyond identifying its caller.

// hostileUser may call every operation: a manager of S001.
const hostileUser = "blake"

// maxHostileStatements bounds what one hostile request may cost the
// database, whatever it carries: identifying the caller, a lookup or two.
const maxHostileStatements = 5

// hostileValue is one value in the two forms a request carries it: raw in a
// URL (percent-encoded where it must be) and as a JSON literal (raw bytes
// where JSON cannot escape them).
type hostileValue struct {
	name string
	url  string // "" when the value has no URL form
	json string
}

var (
	megabyte = strings.Repeat("x", 1<<20)

	hostileStrings = []hostileValue{
		{"NUL byte", "a%00b", `"a\u0000b"`},
		{"invalid UTF-8 FF FE", "%FF%FE", "\"\xff\xfe\""},
		{"overlong UTF-8 C0 AF", "%C0%AF", "\"\xc0\xaf\""},
		{"UTF-16 surrogate ED A0 80", "%ED%A0%80", "\"\xed\xa0\x80\""},
		{"escaped lone surrogate", "", `"\ud800"`},
		{"1 MB string", megabyte, `"` + megabyte + `"`},
	}
	hostileInts = []hostileValue{
		{"negative", "-1", "-1"},
		{"most negative int64", "-9223372036854775808", "-9223372036854775808"},
		{"2^31", "2147483648", "2147483648"},
		{"huge", "99999999999999999999999", "99999999999999999999999"},
		{"exponent", "1e308", "1e308"},
	}
	hostileCursors = []hostileValue{
		{"forged cursor: not base64", "garbage!", `"garbage!"`},
		{"forged cursor: negative offset", b64("-1"), `"` + b64("-1") + `"`},
		{"forged cursor: huge offset", b64("cursor-99999999999999999999"), `"` + b64("cursor-99999999999999999999") + `"`},
		{"forged cursor: SQL", b64("S001' OR '1'='1"), `"` + b64("S001' OR '1'='1") + `"`},
		{"forged cursor: NUL", b64("S\x00001"), `"` + b64("S\x00001") + `"`},
		{"forged cursor: 1 MB", b64(megabyte), `"` + b64(megabyte) + `"`},
	}
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hostileFor returns the values to try for a value of type t; cursor says
// the value is a page token.
func hostileFor(schema *ast.Schema, t *ast.Type, cursor bool) []hostileValue {
	var out []hostileValue
	switch def := schema.Types[t.Name()]; {
	case t.Name() == "Int" || t.Name() == "Float":
		out = hostileInts
	case def != nil && (def.Kind == ast.Scalar || def.Kind == ast.Enum):
		out = hostileStrings
	}
	if cursor {
		out = append(slices.Clone(out), hostileCursors...)
	}
	return out
}

// known are values that work for arguments and parameters of these names in
// the seeded data, so that a case fails on its hostile value and not on a
// missing neighbour. A name not listed gets a value of its type.
func knownValues(t *testing.T, db *store.DB) map[string]any {
	t.Helper()
	one := func(q string) string {
		var id string
		if err := db.SQLX().Get(&id, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	return map[string]any{
		"storeId":     "S001",
		"id":          "S001",
		"sku":         "SKU-00001",
		"search":      "an",
		"customerId":  one("SELECT id FROM customers ORDER BY id LIMIT 1"),
		"backorderId": one("SELECT id FROM backorders WHERE store_id = 'S001' ORDER BY id LIMIT 1"),
		"eventId":     one("SELECT id FROM events ORDER BY id LIMIT 1"),
	}
}

// baseline is a value of type t for a field or argument called name.
func baseline(schema *ast.Schema, known map[string]any, name string, t *ast.Type) any {
	if v, ok := known[name]; ok {
		return v
	}
	if t.Elem != nil {
		return []any{baseline(schema, known, name, t.Elem)}
	}
	def := schema.Types[t.Name()]
	switch {
	case t.Name() == "Int" || t.Name() == "Float":
		return 1
	case t.Name() == "Boolean":
		return false
	case def != nil && def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def != nil && def.Kind == ast.InputObject:
		obj := map[string]any{}
		for _, f := range def.Fields {
			if _, ok := known[f.Name]; ok || (f.Type.NonNull && f.DefaultValue == nil) {
				obj[f.Name] = baseline(schema, known, f.Name, f.Type)
			}
		}
		return obj
	}
	return "x1"
}

// placeholder marks where the hostile JSON literal goes in a marshalled body.
const placeholder = "HOSTILE-VALUE-PLACEHOLDER"

func withHostile(v any, h hostileValue) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bytes.Replace(raw, []byte(strconv.Quote(placeholder)), []byte(h.json), 1)
}

func TestHostile(t *testing.T) {
	for name, e := range seeded(t) {
		t.Run(name, func(t *testing.T) {
			known := knownValues(t, e.db)
			t.Run("facade", func(t *testing.T) { testHostileFacade(t, e, known) })
			t.Run("graphql", func(t *testing.T) { testHostileGraphQL(t, e, known) })
		})
	}
}

// facadeCase is one hostile request to one operation.
type facadeCase struct {
	name   string
	method string
	target string
	header map[string]string
	body   []byte
}

// facadeCases puts each hostile value in each parameter and each body
// property of op in turn, the others holding working values.
func facadeCases(op facade.Operation, schema *ast.Schema, known map[string]any) []facadeCase {
	var out []facadeCase
	build := func(name string, hostileParam string, h hostileValue, bodyField string) facadeCase {
		c := facadeCase{name: op.ID + " " + name + ": " + h.name, method: op.Method, header: map[string]string{"Idempotency-Key": "hostile-" + strconv.Itoa(len(out))}}
		path := op.Path
		var rawQuery []string
		for _, p := range op.Params {
			var v string
			if p.Name == hostileParam {
				v = h.url
			} else if kv, ok := known[p.Variable]; ok || p.Required {
				if !ok {
					kv = baseline(schema, known, p.Variable, p.Type)
				}
				v = fmt.Sprint(kv)
				if p.In != "header" {
					v = url.PathEscape(v)
				}
			} else {
				continue
			}
			switch p.In {
			case "path":
				path = strings.Replace(path, "{"+p.Name+"}", v, 1)
			case "query":
				rawQuery = append(rawQuery, url.QueryEscape(p.Name)+"="+v)
			case "header":
				if u, err := url.PathUnescape(v); err == nil {
					v = u
				}
				c.header[p.Name] = v
			}
		}
		c.target = facade.BasePath + path
		if len(rawQuery) > 0 {
			c.target += "?" + strings.Join(rawQuery, "&")
		}
		if op.Body != nil {
			obj, _ := baseline(schema, known, op.Body.Variable, op.Body.Type).(map[string]any)
			for _, f := range op.Body.Omit {
				delete(obj, f)
			}
			if bodyField != "" {
				obj[bodyField] = placeholder
			}
			c.body = withHostile(obj, h)
		}
		return c
	}
	for _, p := range op.Params {
		for _, h := range hostileFor(schema, p.Type, p.Variable == op.Cursor) {
			if h.url != "" {
				out = append(out, build(p.In+" "+p.Name, p.Name, h, ""))
			}
		}
	}
	if op.Body != nil {
		def := schema.Types[op.Body.Type.Name()]
		for _, f := range def.Fields {
			if slices.Contains(op.Body.Omit, f.Name) {
				continue
			}
			for _, h := range hostileFor(schema, f.Type, false) {
				out = append(out, build("body "+f.Name, "", h, f.Name))
			}
		}
	}
	return out
}

func testHostileFacade(t *testing.T, e *env, known map[string]any) {
	schema := e.fac.Schema()
	for _, op := range e.fac.Operations() {
		t.Run(op.ID, func(t *testing.T) {
			cases := facadeCases(op, schema, known)
			if len(cases) == 0 {
				t.Skipf("%s takes no parameters", op.ID)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					// The target goes in as the server's parser reads it:
					// httptest.NewRequest would refuse the bytes this
					// suite is about.
					u, err := url.ParseRequestURI(c.target)
					if err != nil {
						t.Fatalf("target %.100s: %v", c.target, err)
					}
					r := httptest.NewRequest(c.method, "/", bytes.NewReader(c.body))
					r.URL, r.RequestURI = u, c.target
					r.Header.Set("Content-Type", "application/json")
					r.Header.Set(userHeader, hostileUser)
					for k, v := range c.header {
						r.Header.Set(k, v)
					}
					w := httptest.NewRecorder()
					before := e.db.Statements()
					e.h.ServeHTTP(w, r)
					cost := e.db.Statements() - before
					if w.Code < 400 || w.Code >= 500 {
						t.Errorf("status %d, want a 4xx: %.200s", w.Code, w.Body)
					} else {
						checkErrorContract(t, w)
					}
					if cost > maxHostileStatements {
						t.Errorf("%d statements, want at most %d", cost, maxHostileStatements)
					}
				})
			}
		})
	}
}

// gqlAnswer is what a hostile GraphQL request got.
type gqlAnswer struct {
	status int
	body   []byte
	cost   int64
	data   json.RawMessage
	code   string
	msg    string
}

func (e *env) graphql(t *testing.T, body []byte) gqlAnswer {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/graphql-response+json")
	r.Header.Set(userHeader, hostileUser)
	w := httptest.NewRecorder()
	before := e.db.Statements()
	e.h.ServeHTTP(w, r)
	a := gqlAnswer{status: w.Code, body: w.Body.Bytes(), cost: e.db.Statements() - before}
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatalf("status %d, body is not JSON: %v: %.200s", w.Code, err, a.body)
	}
	a.data = res.Data
	if len(res.Errors) > 0 {
		a.msg = res.Errors[0].Message
		a.code, _ = res.Errors[0].Extensions["code"].(string)
	}
	return a
}

// refusedAsClientError: a 4xx or a 200 whose first error blames the
// request with a code, never a 5xx or an error the client cannot act on.
func (a gqlAnswer) check(t *testing.T, maxCost int64) {
	t.Helper()
	switch {
	case a.status >= 500:
		t.Errorf("status %d, want a 4xx or an error in the answer: %.200s", a.status, a.body)
	case a.code == "":
		t.Errorf("status %d without an error code: %.200s", a.status, a.body)
	case a.code == "INTERNAL_SERVER_ERROR" || a.code == "UPSTREAM_UNAVAILABLE":
		t.Errorf("status %d code %s: the request's fault reported as the server's: %.200s", a.status, a.code, a.body)
	}
	if len(a.msg) > 200 || strings.Contains(a.msg, strings.Repeat("x", 41)) {
		t.Errorf("message of %d bytes echoes the request: %.200s", len(a.msg), a.msg)
	}
	if a.cost > maxCost {
		t.Errorf("%d statements, want at most %d", a.cost, maxCost)
	}
}

// rootField is one field of Query or Mutation.
type rootField struct {
	op  string // query | mutation
	def *ast.FieldDefinition
}

func rootFields(schema *ast.Schema) []rootField {
	var out []rootField
	for _, root := range []struct {
		op  string
		def *ast.Definition
	}{{"query", schema.Query}, {"mutation", schema.Mutation}} {
		if root.def == nil {
			continue
		}
		for _, f := range root.def.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				out = append(out, rootField{root.op, f})
			}
		}
	}
	return out
}

// selection is the smallest selection f's type allows.
func selection(schema *ast.Schema, t *ast.Type) string {
	if def := schema.Types[t.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		return " { __typename }"
	}
	return ""
}

// rootCall is "f(a: $a, b: $b)" and the variables' declarations and
// working values: required arguments and the ones known, each Int at 1 so
// that a bomb is about its shape, not its page size. hostileArg names the
// argument that is always passed (it carries the hostile value).
func rootCall(schema *ast.Schema, known map[string]any, f *ast.FieldDefinition, hostileArg string) (call, decl string, vars map[string]any) {
	vars = map[string]any{}
	var args, decls []string
	for _, a := range f.Arguments {
		_, isKnown := known[a.Name]
		if a.Name != hostileArg && !isKnown && !(a.Type.NonNull && a.DefaultValue == nil) {
			continue
		}
		args = append(args, a.Name+": $"+a.Name)
		decls = append(decls, "$"+a.Name+": "+a.Type.String())
		vars[a.Name] = baseline(schema, known, a.Name, a.Type)
	}
	call = f.Name
	if len(args) > 0 {
		call += "(" + strings.Join(args, ", ") + ")"
		decl = "(" + strings.Join(decls, ", ") + ")"
	}
	return call, decl, vars
}

func gqlBody(doc string, vars map[string]any) map[string]any {
	return map[string]any{"query": doc, "variables": vars}
}

func testHostileGraphQL(t *testing.T, e *env, known map[string]any) {
	schema := e.fac.Schema()

	// What identifying the caller costs: a request refused before
	// execution may cost this and nothing more.
	auth := e.graphql(t, []byte(`{"query":"{"}`))
	if auth.status != http.StatusBadRequest {
		t.Fatalf("a document that does not parse: status %d, want 400: %s", auth.status, auth.body)
	}
	refusedCost := auth.cost

	for _, rf := range rootFields(schema) {
		f := rf.def
		t.Run(f.Name, func(t *testing.T) {
			// Each argument, and each field of an input-object argument,
			// holds each hostile value in turn.
			for _, a := range f.Arguments {
				targets := []struct {
					name  string
					t     *ast.Type
					field string
				}{{a.Name, a.Type, ""}}
				if def := schema.Types[a.Type.Name()]; def.Kind == ast.InputObject {
					targets = targets[:0]
					for _, in := range def.Fields {
						targets = append(targets, struct {
							name  string
							t     *ast.Type
							field string
						}{a.Name + "." + in.Name, in.Type, in.Name})
					}
				}
				for _, tg := range targets {
					for _, h := range hostileFor(schema, tg.t, tg.name == "after" || tg.name == "before") {
						t.Run(tg.name+": "+h.name, func(t *testing.T) {
							call, decl, vars := rootCall(schema, known, f, a.Name)
							if tg.field == "" {
								vars[a.Name] = placeholder
							} else if obj, ok := vars[a.Name].(map[string]any); ok {
								obj[tg.field] = placeholder
							}
							doc := rf.op + " Hostile" + decl + " { " + call + selection(schema, f.Type) + " }"
							ans := e.graphql(t, withHostile(gqlBody(doc, vars), h))
							ans.check(t, maxHostileStatements)
						})
					}
				}
			}

			t.Run("alias bomb: 1,000 aliases", func(t *testing.T) {
				call, decl, vars := rootCall(schema, known, f, "")
				var doc strings.Builder
				doc.WriteString(rf.op + " Bomb" + decl + " {")
				for i := range 1000 {
					fmt.Fprintf(&doc, " a%d: %s%s", i, call, selection(schema, f.Type))
				}
				doc.WriteString(" }")
				ans := e.graphql(t, withHostile(gqlBody(doc.String(), vars), hostileValue{}))
				ans.check(t, refusedCost)
				if len(ans.data) > 0 && string(ans.data) != "null" {
					t.Errorf("the bomb was executed: %.200s", ans.body)
				}
			})

			t.Run("depth bomb: 100 levels", func(t *testing.T) {
				inner, ok := deepSelection(schema, known, f.Type.Name(), 100, map[depthKey]bool{})
				if !ok {
					t.Skipf("%s's type %s nests no composite fields 100 deep", f.Name, f.Type.Name())
				}
				call, decl, vars := rootCall(schema, known, f, "")
				doc := rf.op + " Deep" + decl + " { " + call + inner + " }"
				ans := e.graphql(t, withHostile(gqlBody(doc, vars), hostileValue{}))
				ans.check(t, refusedCost)
				if len(ans.data) > 0 && string(ans.data) != "null" {
					t.Errorf("the bomb was executed: %.200s", ans.body)
				}
			})
		})
	}

	introspection := []struct {
		name string
		doc  func() string
	}{
		{"introspection abuse: 1,000 __schema aliases", func() string {
			var doc strings.Builder
			doc.WriteString("{")
			for i := range 1000 {
				fmt.Fprintf(&doc, " s%d: __schema { types { name fields { name type { name } } } }", i)
			}
			return doc.String() + " }"
		}},
		{"introspection depth bomb: 100 levels of type { fields }", func() string {
			return "{ __schema { types" + strings.Repeat(" { fields { type", 100) + " { name }" + strings.Repeat(" } }", 100) + " } }"
		}},
	}
	for _, c := range introspection {
		t.Run(c.name, func(t *testing.T) {
			ans := e.graphql(t, withHostile(gqlBody(c.doc(), nil), hostileValue{}))
			ans.check(t, refusedCost)
			if len(ans.data) > 0 && string(ans.data) != "null" {
				t.Errorf("the query was executed (%d bytes of answer)", len(ans.body))
			}
		})
	}

	documents := []struct{ name, doc string }{
		{"NUL byte in the document", "{ store(id: \"S\x00001\") { id } }"},
		{"invalid UTF-8 in the document", "{ store(id: \"\xff\xfe\") { id } }"},
		{"1 MB string literal in the document", `{ store(id: "` + megabyte + `") { id } }`},
	}
	for _, c := range documents {
		t.Run(c.name, func(t *testing.T) {
			raw, _ := json.Marshal(map[string]string{"query": placeholder})
			// The document goes in raw, as a client that does not check
			// its bytes would send it.
			body := bytes.Replace(raw, []byte(strconv.Quote(placeholder)), []byte(`"`+strings.ReplaceAll(c.doc, `"`, `\"`)+`"`), 1)
			ans := e.graphql(t, body)
			ans.check(t, maxHostileStatements)
		})
	}
}

type depthKey struct {
	typ   string
	depth int
}

// deepSelection nests composite fields depth levels deep under typ, each
// field with working arguments and every Int at 1 (so the answer would be
// one thread, not a tree), following the schema's cycles (a store's
// backorders' store, a type's fields' type). dead remembers what cannot go
// deep enough.
func deepSelection(schema *ast.Schema, known map[string]any, typ string, depth int, dead map[depthKey]bool) (string, bool) {
	if depth == 0 {
		return " { __typename }", true
	}
	def := schema.Types[typ]
	if def == nil || (def.Kind != ast.Object && def.Kind != ast.Interface) || dead[depthKey{typ, depth}] {
		return "", false
	}
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		sub, ok := deepSelection(schema, known, f.Type.Name(), depth-1, dead)
		if !ok {
			continue
		}
		var args []string
		for _, a := range f.Arguments {
			_, isKnown := known[a.Name]
			isInt := a.Type.Name() == "Int"
			if !isInt && !isKnown && !(a.Type.NonNull && a.DefaultValue == nil) {
				continue
			}
			v, _ := json.Marshal(baseline(schema, known, a.Name, a.Type))
			if d := schema.Types[a.Type.Name()]; d != nil && d.Kind == ast.Enum {
				v = bytes.Trim(v, `"`)
			}
			args = append(args, a.Name+": "+string(v))
		}
		call := f.Name
		if len(args) > 0 {
			call += "(" + strings.Join(args, ", ") + ")"
		}
		return " { " + call + sub + " }", true
	}
	dead[depthKey{typ, depth}] = true
	return "", false
}
