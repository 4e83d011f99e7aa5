package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/mcp"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// stack is the whole HTTP surface as cmd/middletier wires it, with /mcp,
// served over real HTTP: the dev issuer's tokens verified by the same
// middleware as Entra ID's, the facade, the loaders over the store and the
// demo upstreams (real HTTP on loopback).
type stack struct {
	URL  string
	hits *hits
	db   *store.DB
	dev  *auth.DevIssuer
	tool map[string]facade.Operation
}

func newStack(t *testing.T, db *store.DB) *stack {
	t.Helper()
	cfg := config.Defaults()
	log := slog.New(slog.DiscardHandler)
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	pub, err := publicurl.New("", nil) // follow the request, as without --public-url
	if err != nil {
		t.Fatal(err)
	}
	hits := &hits{}
	fac, err := facade.New(exec, db, facade.Options{Origin: pub.Origin, Log: log, ResponseCacheBytes: cfg.Facade.ResponseCacheBytes, CacheMetrics: hits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fac.Close)
	srv, err := mcp.NewServer(fac, mcp.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	dev, authn := graphtest.DevAuth(t, db)
	res := mcp.Resource{
		AuthorizationServers: []string{dev.Issuer()},
		Scopes:               []string{config.ScopeRead, config.ScopeReadWrite},
		Paths:                []string{"/mcp", "/api/v1/mcp"},
		Origin:               pub.Origin,
	}
	up := cachedtest.Start(t, cachedtest.Options{})
	h := server.NewHandler(cfg, server.Deps{
		Log: log, GraphQL: exec.Handler(), Ready: db,
		Loaders:          loaders.Middleware(db, up.Sources, cfg.GraphQL.BatchWait),
		Authenticate:     authn.Middleware(server.WriteError),
		MCPAuthenticate:  authn.MiddlewareWith(server.WriteError, res.Challenge),
		Facade:           fac,
		MCP:              mcp.Handler(srv, mcp.HandlerOptions{Origin: pub.Origin, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Log: log}),
		ResourceMetadata: res.Metadata(),
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s := &stack{URL: ts.URL, hits: hits, db: db, dev: dev, tool: map[string]facade.Operation{}}
	for _, op := range fac.Operations() {
		s.tool[op.ID] = op
	}
	return s
}

// hits counts the response cache's hits per operation.
type hits struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *hits) ResponseCacheHit(op string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[op]++
}
func (h *hits) ResponseCacheMiss(string)        {}
func (h *hits) ResponseCacheInvalidated(string) {}

func (h *hits) of(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[op]
}

func (s *stack) token(t *testing.T, login string, scopes ...string) string {
	t.Helper()
	e, err := s.db.EmployeeByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{config.ScopeReadWrite}
	}
	tok, err := s.dev.Mint(auth.DevToken{OID: e.OID, Audience: auth.DevAudience, Scopes: scopes, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// bearer sends every request with the token, as a client configured with
// the connection's sign-in does.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// testContext ends a minute before the test's deadline, so that a hung
// call fails the test with a message rather than a panic.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		c, cancel := context.WithDeadline(ctx, d.Add(-time.Minute))
		t.Cleanup(cancel)
		ctx = c
	}
	return ctx
}

// connect opens an MCP session with the SDK's own client over streamable
// HTTP, signed in with token.
func (s *stack) connect(t *testing.T, endpoint, token string) *sdk.ClientSession {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "middletier-test", Version: "1"}, nil)
	cs, err := c.Connect(testContext(t), &sdk.StreamableClientTransport{
		Endpoint:   s.URL + endpoint,
		HTTPClient: &http.Client{Transport: bearer{token}},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("connect to %s: %v", endpoint, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// seeded is one seeded SQLite database shared by a test's subtests; each
// test function seeds its own, so writes in one do not change another.
func seeded(t *testing.T) *stack {
	t.Helper()
	db, _ := storetest.SeededSQLite(t)
	return newStack(t, db)
}

// TestListTools: one tool per operation file, named by its operationId,
// with an input schema that is valid JSON Schema, self-contained and
// single-typed (what Copilot Studio accepts), and the annotations the
// operation's nature gives.
func TestListTools(t *testing.T) {
	s := seeded(t)
	cs := s.connect(t, "/mcp", s.token(t, "avery"))
	res, err := cs.ListTools(testContext(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	var want []string
	for id, op := range s.tool {
		if !op.Tool.Off {
			want = append(want, id)
		}
	}
	slices.Sort(names)
	slices.Sort(want)
	if len(names) != 10 || !slices.Equal(names, want) {
		t.Fatalf("tools = %v, want the ten operations %v", names, want)
	}
	for _, tl := range res.Tools {
		t.Run(tl.Name, func(t *testing.T) {
			op := s.tool[tl.Name]
			raw, err := json.Marshal(tl.InputSchema)
			if err != nil {
				t.Fatal(err)
			}
			if err := selfContained(raw); err != nil {
				t.Errorf("input schema %s: %v", raw, err)
			}
			if _, err := compile(raw); err != nil {
				t.Errorf("input schema is not valid JSON Schema: %v\n%s", err, raw)
			}
			if !strings.HasPrefix(tl.Description, op.Summary+". ") || !strings.Contains(tl.Description, op.Description) {
				t.Errorf("description %q does not give summary and description", tl.Description)
			}
			a := tl.Annotations
			if a == nil || a.ReadOnlyHint == op.Write || a.DestructiveHint == nil || *a.DestructiveHint != op.Tool.Destructive {
				t.Errorf("annotations %+v for a write=%v destructive=%v operation", a, op.Write, op.Tool.Destructive)
			}
			if op.Write && !a.IdempotentHint {
				t.Errorf("write %s takes a clientRequestId but is not idempotentHint", tl.Name)
			}
			for _, p := range op.Params {
				if !strings.Contains(string(raw), `"`+p.Name+`"`) {
					t.Errorf("parameter %s is not an argument: %s", p.Name, raw)
				}
			}
		})
	}
}

// selfContained refuses what Copilot Studio drops a tool for: $ref,
// combinators, and a type that is not one string.
func selfContained(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	var walk func(v any, at string) error
	walk = func(v any, at string) error {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				switch k {
				case "$ref", "$defs", "definitions", "anyOf", "oneOf", "allOf":
					return fmt.Errorf("%s has %s", at, k)
				case "type":
					if _, ok := e.(string); !ok {
						return fmt.Errorf("%s has type %v", at, e)
					}
				}
				if err := walk(e, at+"/"+k); err != nil {
					return err
				}
			}
		case []any:
			for i, e := range v {
				if err := walk(e, fmt.Sprintf("%s/%d", at, i)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v, "#")
}

// compile checks a schema against the JSON Schema metaschema (2020-12, the
// MCP default) and returns it for validating arguments.
func compile(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("tool.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("tool.json")
}

// personas are the demo users and the store each works at.
var personas = []string{"avery", "blake", "casey", "devon"}

// seedIDs are rows of the seed the calls act on.
type seedIDs struct {
	sku, customer string
	// open are OPEN backorders of S001, one per persona.
	open map[string]string
}

func ids(t *testing.T, db *store.DB) seedIDs {
	t.Helper()
	x := db.SQLX()
	var out seedIDs
	if err := x.Get(&out.sku, `SELECT sku FROM products ORDER BY sku LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if err := x.Get(&out.customer, `SELECT id FROM customers ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	var open []string
	if err := x.Select(&open, x.Rebind(`SELECT id FROM backorders WHERE store_id = 'S001' AND status = 'OPEN' ORDER BY id LIMIT ?`), len(personas)); err != nil {
		t.Fatal(err)
	}
	if len(open) < len(personas) {
		t.Fatalf("the seed has %d open backorders at S001", len(open))
	}
	out.open = map[string]string{}
	for i, p := range personas {
		out.open[p] = open[i]
	}
	return out
}

// TestEveryToolAsEachPersona calls every tool as each demo persona. The
// access rules are the facade's: a tool answers what the REST operation
// answers the same person (reads are compared byte for byte, request ids
// aside), and what the rules refuse comes back as a tool error with the
// facade's code: casey (S002) cannot read S001 through a tool either.
func TestEveryToolAsEachPersona(t *testing.T) {
	s := seeded(t)
	seed := ids(t, s.db)
	// The outcome the access rules (README, "Who sees what") give each
	// persona; "" is success.
	forbidden := map[string]map[string]bool{
		"GetProductAvailability": {"casey": true},
		"ListStoreBackorders":    {"casey": true},
		"RecordBackorder":        {"casey": true, "devon": true},
		"UpdateBackorderStatus":  {"avery": true, "casey": true},
	}
	for _, who := range personas {
		t.Run(who, func(t *testing.T) {
			token := s.token(t, who)
			cs := s.connect(t, "/mcp", token)
			calls := map[string]map[string]any{
				"ListStores":             {"pageSize": 5},
				"SearchProducts":         {"search": "a", "pageSize": 2},
				"GetProductAvailability": {"storeId": "S001", "sku": seed.sku, "nearbyLimit": 2},
				"FindCustomers":          {"search": "an", "pageSize": 2},
				"ListStoreBackorders":    {"storeId": "S001", "status": "OPEN", "pageSize": 2},
				"GetMyHome":              {},
				"ListNews":               {"pageSize": 2},
				"RecordBackorder": {"storeId": "S001", "sku": seed.sku, "quantity": 2, "customerId": seed.customer,
					"contactPreference": "EMAIL", "note": "mcp " + who, "clientRequestId": "mcp-record-" + who},
				"UpdateBackorderStatus": {"backorderId": seed.open[who], "status": "NOTIFIED", "clientRequestId": "mcp-status-" + who},
				"RsvpEvent":             {"eventId": "EV005", "response": "MAYBE", "clientRequestId": "mcp-rsvp-" + who},
			}
			if len(calls) != len(s.tool) {
				t.Fatalf("%d calls for %d tools", len(calls), len(s.tool))
			}
			tools, err := cs.ListTools(testContext(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, tl := range tools.Tools {
				args := calls[tl.Name]
				t.Run(tl.Name, func(t *testing.T) {
					validArgs(t, tl, args)
					res, err := cs.CallTool(testContext(t), &sdk.CallToolParams{Name: tl.Name, Arguments: args})
					if err != nil {
						t.Fatalf("call: %v", err)
					}
					text := resultText(t, res)
					wantErr := forbidden[tl.Name][who]
					switch {
					case wantErr && (!res.IsError || errorCode(t, text) != "FORBIDDEN"):
						t.Fatalf("isError=%v %s; want a FORBIDDEN tool error", res.IsError, text)
					case !wantErr && res.IsError:
						t.Fatalf("tool error %s; want success", text)
					}
					op := s.tool[tl.Name]
					if op.Write {
						if !wantErr {
							// The REST route with the same key answers the
							// tool's write again rather than writing twice:
							// one idempotency record behind both.
							status, hdr, body := s.rest(t, op, token, args)
							if hdr.Get("Idempotent-Replayed") != "true" || string(body) != text {
								t.Errorf("REST with the tool's key: %d replayed=%q %s; want the tool's answer %s", status, hdr.Get("Idempotent-Replayed"), body, text)
							}
						}
						return
					}
					status, _, body := s.rest(t, op, token, args)
					if got, want := withoutRequestID(t, text), withoutRequestID(t, string(body)); got != want {
						t.Errorf("tool answered\n%s\nREST (%d) answered\n%s", got, status, want)
					}
					if !res.IsError && strings.HasPrefix(text, "{") && res.StructuredContent == nil {
						t.Errorf("an object answer without structured content")
					}
				})
			}
		})
	}
}

// validArgs checks that the arguments a test sends are valid under the
// tool's own input schema: the schema describes what the tool takes.
func validArgs(t *testing.T, tl *sdk.Tool, args map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(tl.InputSchema)
	sch, err := compile(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(args)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err := sch.Validate(v); err != nil {
		t.Errorf("arguments %s do not validate against %s's input schema: %v", b, tl.Name, err)
	}
}

func resultText(t *testing.T, res *sdk.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("%d content items, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

func errorCode(t *testing.T, text string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(text), &e); err != nil {
		t.Fatalf("error text is not the service's error body: %v\n%s", err, text)
	}
	return e.Error.Code
}

// withoutRequestID drops the error body's requestId, which differs per request.
func withoutRequestID(t *testing.T, body string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return body // an array answer has none
	}
	if e, ok := v["error"].(map[string]any); ok {
		delete(e, "requestId")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// rest calls op's REST route with the same values: path and query
// parameters where the route takes them, the rest as the JSON body, and a
// write's clientRequestId as its Idempotency-Key header.
func (s *stack) rest(t *testing.T, op facade.Operation, token string, args map[string]any) (int, http.Header, []byte) {
	t.Helper()
	path := op.Path
	query := url.Values{}
	body := map[string]any{}
	for k, v := range args {
		body[k] = v
	}
	for _, p := range op.Params {
		v, ok := args[p.Name]
		if !ok {
			continue
		}
		delete(body, p.Name)
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(fmt.Sprint(v)))
		case "query":
			query.Set(p.Name, fmt.Sprint(v))
		}
	}
	target := s.URL + facade.BasePath + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	if op.Body == nil {
		r, _ := http.NewRequestWithContext(testContext(t), op.Method, target, nil)
		return s.send(t, r, token)
	}
	key := body[op.Body.ClientRequestID]
	delete(body, op.Body.ClientRequestID)
	b, _ := json.Marshal(body)
	r, _ := http.NewRequestWithContext(testContext(t), op.Method, target, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", fmt.Sprint(key))
	return s.send(t, r, token)
}

func (s *stack) send(t *testing.T, r *http.Request, token string) (int, http.Header, []byte) {
	t.Helper()
	r.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

func countNotes(t *testing.T, db *store.DB, note string) int {
	t.Helper()
	var n int
	if err := db.SQLX().Get(&n, db.SQLX().Rebind(`SELECT COUNT(*) FROM backorders WHERE note = ?`), note); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriteReplays: a write tool called again with the same clientRequestId
// returns the first answer and writes once; a new key writes again.
func TestWriteReplays(t *testing.T) {
	s := seeded(t)
	seed := ids(t, s.db)
	cs := s.connect(t, "/mcp", s.token(t, "avery"))
	args := func(key string) map[string]any {
		return map[string]any{"storeId": "S001", "sku": seed.sku, "quantity": 1, "customerId": seed.customer,
			"contactPreference": "PHONE", "note": "mcp replay", "clientRequestId": key}
	}
	call := func(key string) string {
		t.Helper()
		res, err := cs.CallTool(testContext(t), &sdk.CallToolParams{Name: "RecordBackorder", Arguments: args(key)})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError {
			t.Fatalf("RecordBackorder: %s", resultText(t, res))
		}
		return resultText(t, res)
	}
	first := call("replay-1")
	again := call("replay-1")
	if again != first {
		t.Errorf("the retry answered\n%s\nthe first call\n%s", again, first)
	}
	if n := countNotes(t, s.db, "mcp replay"); n != 1 {
		t.Fatalf("%d backorders after two calls with one key, want 1", n)
	}
	if other := call("replay-2"); other == first {
		t.Error("a new key answered the first call's backorder")
	}
	if n := countNotes(t, s.db, "mcp replay"); n != 2 {
		t.Errorf("%d backorders after a second key, want 2", n)
	}
}

// TestBadArguments: a bad argument is a tool error with the facade's code
// whose message and details name the argument.
func TestBadArguments(t *testing.T) {
	s := seeded(t)
	cs := s.connect(t, "/mcp", s.token(t, "blake"))
	tests := []struct {
		name, tool string
		args       map[string]any
		argument   string
	}{
		{"page size out of range", "SearchProducts", map[string]any{"search": "a", "pageSize": 0}, "pageSize"},
		{"unknown argument", "ListNews", map[string]any{"pageSize": 2, "page": 3}, "page"},
		{"list for a parameter", "ListStores", map[string]any{"pageSize": []any{1, 2}}, "pageSize"},
		{"enum value", "UpdateBackorderStatus", map[string]any{"backorderId": "B1", "status": "LOST"}, "status"},
		{"body property type", "RecordBackorder", map[string]any{"storeId": "S001", "sku": "X", "quantity": "many", "contactPreference": "EMAIL"}, "quantity"},
		{"missing required", "RsvpEvent", map[string]any{"eventId": "EV005"}, "response"},
		{"text too long", "FindCustomers", map[string]any{"search": strings.Repeat("x", 201)}, "search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := cs.CallTool(testContext(t), &sdk.CallToolParams{Name: tt.tool, Arguments: tt.args})
			if err != nil {
				t.Fatalf("a bad argument is a protocol error (%v), want a tool error", err)
			}
			text := resultText(t, res)
			var e struct {
				Error struct {
					Code, Message string
					Details       []map[string]string
				}
			}
			if err := json.Unmarshal([]byte(text), &e); err != nil {
				t.Fatal(err)
			}
			if !res.IsError || e.Error.Code != "BAD_USER_INPUT" || !strings.HasPrefix(e.Error.Message, tt.argument+": ") {
				t.Fatalf("isError=%v %s; want BAD_USER_INPUT naming %s", res.IsError, text, tt.argument)
			}
			if len(e.Error.Details) == 0 || e.Error.Details[0]["parameter"] != tt.argument {
				t.Errorf("details %v do not name %s", e.Error.Details, tt.argument)
			}
		})
	}
}

// TestTokenProblems: without a valid token /mcp is a 401 whose challenge
// names the protected resource metadata (MCP authorization, RFC 9728),
// which names the authorization server; the SDK's client cannot connect;
// a read-only token cannot run a write tool.
func TestTokenProblems(t *testing.T) {
	s := seeded(t)
	for _, path := range []string{"/mcp", "/api/v1/mcp"} {
		t.Run(path, func(t *testing.T) {
			init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
			for name, token := range map[string]string{"missing": "", "forged": "eyJhbGciOiJub25lIn0.e30."} {
				r, _ := http.NewRequestWithContext(testContext(t), http.MethodPost, s.URL+path, strings.NewReader(init))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Accept", "application/json, text/event-stream")
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				want := `resource_metadata="` + s.URL + mcp.WellKnownPath + path + `"`
				if c := res.Header.Get("WWW-Authenticate"); res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(c, "Bearer ") || !strings.Contains(c, want) {
					t.Errorf("%s token: %d, WWW-Authenticate %q; want 401 with %s", name, res.StatusCode, c, want)
				}
			}

			res, err := http.Get(s.URL + mcp.WellKnownPath + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var md struct {
				Resource             string   `json:"resource"`
				AuthorizationServers []string `json:"authorization_servers"`
			}
			if err := json.NewDecoder(res.Body).Decode(&md); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK || md.Resource != s.URL+path || !slices.Equal(md.AuthorizationServers, []string{s.dev.Issuer()}) {
				t.Errorf("metadata %d %+v; want resource %s and the dev issuer %s", res.StatusCode, md, s.URL+path, s.dev.Issuer())
			}
		})
	}

	c := sdk.NewClient(&sdk.Implementation{Name: "middletier-test", Version: "1"}, nil)
	if cs, err := c.Connect(testContext(t), &sdk.StreamableClientTransport{Endpoint: s.URL + "/mcp", MaxRetries: -1}, nil); err == nil {
		cs.Close()
		t.Error("the SDK client connected without a token")
	}

	cs := s.connect(t, "/api/v1/mcp", s.token(t, "blake", config.ScopeRead))
	res, err := cs.CallTool(testContext(t), &sdk.CallToolParams{Name: "RsvpEvent", Arguments: map[string]any{"eventId": "EV005", "response": "GOING"}})
	if err != nil {
		t.Fatal(err)
	}
	if text := resultText(t, res); !res.IsError || errorCode(t, text) != "FORBIDDEN" {
		t.Errorf("a write with a read-only token: isError=%v %s; want FORBIDDEN", res.IsError, text)
	}
}

// TestToolWriteRefreshesCachedReads: tools and REST share the response
// cache, and a write through a tool drops the answers it makes wrong, so
// the app's next read sees the agent's backorder.
func TestToolWriteRefreshesCachedReads(t *testing.T) {
	s := seeded(t)
	seed := ids(t, s.db)
	token := s.token(t, "avery")
	cs := s.connect(t, "/mcp", token)
	list := map[string]any{"storeId": "S001", "status": "OPEN", "pageSize": 100}
	_, _, before := s.rest(t, s.tool["ListStoreBackorders"], token, list)
	// The cache stores asynchronously: ask through the tool until an answer
	// comes from it, so that the write below has a cached answer to drop.
	ctx := testContext(t)
	for s.hits.of("ListStoreBackorders") == 0 {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "ListStoreBackorders", Arguments: list})
		if err != nil || res.IsError || resultText(t, res) != string(before) {
			t.Fatalf("the tool's list differs from REST's: %v %s\n%s", err, resultText(t, res), before)
		}
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "RecordBackorder", Arguments: map[string]any{
		"storeId": "S001", "sku": seed.sku, "customerId": seed.customer, "contactPreference": "SMS", "note": "mcp cache"}})
	if err != nil || res.IsError {
		t.Fatalf("RecordBackorder: %v %s", err, resultText(t, res))
	}
	var rec struct{ ID string }
	if err := json.Unmarshal([]byte(resultText(t, res)), &rec); err != nil || rec.ID == "" {
		t.Fatalf("RecordBackorder answered no id: %s", resultText(t, res))
	}
	if strings.Contains(string(before), rec.ID) {
		t.Fatalf("the list had %s before it was recorded", rec.ID)
	}
	if _, _, after := s.rest(t, s.tool["ListStoreBackorders"], token, list); !strings.Contains(string(after), rec.ID) {
		t.Errorf("REST's list after the tool's write lacks %s: the cached answer was served", rec.ID)
	}
}
