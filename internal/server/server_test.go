package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
)

type testServer struct {
	URL  string
	DB   *store.DB
	Exec *server.Executor
	// Token is sent by post: head office (devon on seeded databases), who
	// may read every store.
	Token string
	dev   *auth.DevIssuer
	// Up are the demo upstreams (real HTTP on loopback) behind the cache.
	Up *cachedtest.Upstreams
}

// newServer serves db behind the dev issuer's verification (the code path
// Entra ID tokens take too), with employees looked up in db.
func newServer(t *testing.T, db *store.DB) *testServer {
	t.Helper()
	return newServerWith(t, db, db)
}

// newServerWith looks employees up in dir: an empty database gets a fake
// directory holding one head-office employee, oid "oid-hq".
func newServerWith(t testing.TB, db *store.DB, dir auth.Employees) *testServer {
	t.Helper()
	return newServerUp(t, db, dir, cachedtest.Start(t, cachedtest.Options{}))
}

// newServerUp is newServerWith over the given upstreams.
func newServerUp(t testing.TB, db *store.DB, dir auth.Employees, up *cachedtest.Upstreams) *testServer {
	t.Helper()
	cfg := config.Defaults()
	// The statement-count tests must not depend on the machine's load: a
	// wide batch window makes every item of a level join one batch even on
	// a busy CI runner. Production keeps a short window (config.Defaults).
	cfg.GraphQL.BatchWait = 50 * time.Millisecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	exec, err := server.NewExecutor(cfg.GraphQL, db, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	dev, authn := devAuth(t, dir)
	h := server.NewHandler(cfg, server.Deps{Log: log, Exec: exec, Loaders: db, Upstream: up.Sources, Ready: db,
		Authenticate: authn.Middleware(server.WriteError), Issuer: dev.Handler()})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testServer{URL: ts.URL, DB: db, Exec: exec, dev: dev, Up: up}
}

// devAuth is a dev issuer with a fresh key and the Authenticator trusting it.
func devAuth(t testing.TB, dir auth.Employees) (*auth.DevIssuer, *auth.Authenticator) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := auth.NewDevIssuer(key, "http://middletier.test"+auth.DevIssuerPath)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Options{
		Issuers: []string{dev.Issuer()}, Audiences: []string{auth.DevAudience},
		ReadScopes:  []string{config.ScopeRead, config.ScopeReadWrite},
		WriteScopes: []string{config.ScopeReadWrite},
		ClockSkew:   time.Minute, Client: dev.Client(), Employees: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dev, authn
}

// mint signs a dev token for oid.
func (s *testServer) mint(t testing.TB, oid string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{config.ScopeReadWrite}
	}
	tok, err := s.dev.Mint(auth.DevToken{OID: oid, Audience: auth.DevAudience, Scopes: scopes, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tokenFor signs a dev token for a seeded employee.
func (s *testServer) tokenFor(t *testing.T, login string, scopes ...string) string {
	t.Helper()
	e, err := s.DB.EmployeeByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return s.mint(t, e.OID, scopes...)
}

// fakeEmployees is an employee directory for databases without the seed.
type fakeEmployees map[string]store.Employee

func (f fakeEmployees) EmployeeByOID(_ context.Context, oid string) (store.Employee, error) {
	if e, ok := f[oid]; ok {
		return e, nil
	}
	return store.Employee{}, fmt.Errorf("employee %s: %w", oid, store.ErrNotFound)
}

// emptyServer serves a migrated database without data, signed in as a
// head-office employee from a fake directory.
func emptyServer(t testing.TB) *testServer {
	t.Helper()
	s := newServerWith(t, storetest.SQLite(t), fakeEmployees{"oid-hq": {ID: "E-HQ", OID: "oid-hq", Login: "hq", Role: store.RoleHeadOffice}})
	s.Token = s.mint(t, "oid-hq")
	return s
}

// engines returns a server over a freshly seeded database per engine.
func engines(t *testing.T) map[string]*testServer {
	t.Helper()
	out := map[string]*testServer{}
	for _, e := range storetest.SeededEngines(t) {
		s := newServer(t, e.DB)
		s.Token = s.tokenFor(t, "devon")
		out[e.Name] = s
	}
	return out
}

type gqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	c, _ := r.Errors[i].Extensions["code"].(string)
	return c
}

// post sends a GraphQL request with s.Token and decodes the answer.
func (s *testServer) post(t *testing.T, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	return s.postAs(t, s.Token, query, vars)
}

// postAs sends a GraphQL request with token and decodes the answer.
func (s *testServer) postAs(t *testing.T, token, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	return s.postBody(t, token, map[string]any{"query": query, "variables": vars})
}

// postBody sends any GraphQL request body with token and decodes the answer.
func (s *testServer) postBody(t *testing.T, token string, v any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return res.StatusCode, out
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

type pageOf[T any] struct {
	Nodes    []T `json:"nodes"`
	PageInfo struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
	} `json:"pageInfo"`
}

// TestReads runs the read-only tests on one seeded database per engine.
func TestReads(t *testing.T) {
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("stores paging", func(t *testing.T) { testStoresPaging(t, s) })
			t.Run("no N+1", func(t *testing.T) { testNoNPlusOne(t, s) })
			t.Run("availability", func(t *testing.T) { testProductAvailability(t, s) })
			t.Run("bad input", func(t *testing.T) { testBadInput(t, s) })
			t.Run("personas", func(t *testing.T) { testPersonas(t, s) })
			t.Run("access rules", func(t *testing.T) { testAccessRules(t, s) })
		})
	}
}

func testStoresPaging(t *testing.T, s *testServer) {
	var ids []string
	var after *string
	for range 10 {
		_, res := s.post(t, `query($after: String) { stores(first: 7, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %+v", res.Errors)
		}
		p := decode[pageOf[struct{ ID string }]](t, res.Data["stores"])
		for _, n := range p.Nodes {
			ids = append(ids, n.ID)
		}
		if !p.PageInfo.HasNextPage {
			break
		}
		after = p.PageInfo.EndCursor
	}
	if got, want := len(ids), 20; got != want {
		t.Fatalf("paged through %d stores, want %d: %v", got, want, ids)
	}
	if ids[0] != "S001" || ids[19] != "S020" {
		t.Fatalf("stores out of order: first %s last %s", ids[0], ids[19])
	}
}

// testNoNPlusOne counts SQL statements: a list with relations costs one
// statement per entity type, however long the list.
func testNoNPlusOne(t *testing.T, s *testServer) {
	const backorders = `query($n: Int) { backorders(storeId: "S001", first: $n) { nodes { id quantity customer { name } product { name } store { name } } } }`
	const nested = `query($n: Int) { stores(first: $n) { nodes { id
		inventory(first: 10) { nodes { available product { name } } }
		backorders(first: 5) { nodes { customer { name } product { sku } recordedBy { login } history { status changedBy { login } } } } } } }`
	count := func(query string, n int) (int64, int) {
		t.Helper()
		before := s.DB.Statements()
		_, res := s.post(t, query, map[string]any{"n": n})
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %+v", res.Errors)
		}
		return s.DB.Statements() - before, len(res.Data)
	}

	// 100 backorders: the caller's employee record (authentication),
	// the store check, the list, then one statement each for customers
	// and products; store { name } is the store loaded for the check, so
	// it costs nothing more.
	got, _ := count(backorders, 100)
	if want := int64(5); got > want {
		t.Errorf("100 backorders with customer, product and store: %d statements, want at most %d", got, want)
	}

	// Nested lists: stores, inventory pages, backorder pages, customers
	// and history cost one statement each; products (under inventory
	// and under backorders) and employees (recordedBy and changedBy)
	// are asked for at two places in the tree, so up to two each. That
	// bound holds whatever the page size: 2 stores or 20. One more
	// statement looks up the caller's employee record.
	const bound = 10
	for _, n := range []int{2, 20} {
		if got, _ := count(nested, n); got > bound {
			t.Errorf("nested query for %d stores: %d statements, want at most %d", n, got, bound)
		}
	}
}

func testProductAvailability(t *testing.T, s *testServer) {
	_, res := s.post(t, `{ product(sku: "SKU-00001") { sku availability(storeId: "S001", nearbyLimit: 3) { inStock available onHand store { id } nearby { store { id } available distanceKm } } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	type nearby struct {
		Store      struct{ ID string }
		Available  int
		DistanceKm float64
	}
	p := decode[struct {
		SKU          string
		Availability struct {
			InStock   bool
			Available int
			OnHand    int
			Store     struct{ ID string }
			Nearby    []nearby
		}
	}](t, res.Data["product"])
	a := p.Availability
	if a.Store.ID != "S001" || a.InStock != (a.Available > 0) || a.Available > a.OnHand {
		t.Fatalf("inconsistent availability: %+v", a)
	}
	if len(a.Nearby) == 0 || len(a.Nearby) > 3 {
		t.Fatalf("nearby: got %d stores, want 1 to 3", len(a.Nearby))
	}
	for i, n := range a.Nearby {
		if n.Store.ID == "S001" || n.Available <= 0 {
			t.Errorf("nearby[%d] = %+v: want another store with stock", i, n)
		}
		if i > 0 && n.DistanceKm < a.Nearby[i-1].DistanceKm {
			t.Errorf("nearby not sorted by distance: %+v", a.Nearby)
		}
	}
}

func testBadInput(t *testing.T, s *testServer) {
	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		wantCode string
		wantMsg  string
	}{
		{"page too large", `{ stores(first: 1000) { nodes { id } } }`, nil, "BAD_USER_INPUT", "first"},
		{"malformed cursor", `{ stores(after: "garbage!") { nodes { id } } }`, nil, "BAD_USER_INPUT", "cursor"},
		{"unknown store for backorders", `{ backorders(storeId: "S999") { nodes { id } } }`, nil, "NOT_FOUND", "S999"},
		{"unknown store for availability", `{ product(sku: "SKU-00001") { availability(storeId: "S999") { inStock } } }`, nil, "NOT_FOUND", "S999"},
		{"nearby limit", `{ product(sku: "SKU-00001") { availability(storeId: "S001", nearbyLimit: 99) { inStock } } }`, nil, "BAD_USER_INPUT", "nearbyLimit"},
		{"short customer search", `{ customers(search: "a") { nodes { id } } }`, nil, "BAD_USER_INPUT", "2 characters"},
		{"bad enum variable", `query($s: BackorderStatus) { backorders(storeId: "S001", status: $s) { nodes { id } } }`, map[string]any{"s": "LOST"}, "GRAPHQL_VALIDATION_FAILED", "LOST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := s.post(t, tt.query, tt.vars)
			if len(res.Errors) == 0 {
				t.Fatalf("no error, want %s", tt.wantCode)
			}
			if got := res.code(0); got != tt.wantCode {
				t.Errorf("code = %s, want %s (message %q)", got, tt.wantCode, res.Errors[0].Message)
			}
			if !strings.Contains(res.Errors[0].Message, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", res.Errors[0].Message, tt.wantMsg)
			}
		})
	}

	_, res := s.post(t, `{ store(id: "S999") { id } product(sku: "nope") { sku } }`, nil)
	if len(res.Errors) > 0 || string(res.Data["store"]) != "null" || string(res.Data["product"]) != "null" {
		t.Errorf("unknown ids: want null without errors, got data %s errors %+v", res.Data, res.Errors)
	}
}

func TestHTTPProtocol(t *testing.T) {
	s := emptyServer(t)
	query := `{ stores(first: 1) { nodes { id } } }`
	big := `{"query": "{ stores { nodes { id } } }", "pad": "` + strings.Repeat("x", 5<<20) + `"}`
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		accept      string
		body        string
		wantStatus  int
		wantType    string
	}{
		{"post json", "POST", "/graphql", "application/json", "", `{"query":"` + query + `"}`, 200, "application/json"},
		{"post graphql-response", "POST", "/graphql", "application/json", "application/graphql-response+json", `{"query":"` + query + `"}`, 200, "application/graphql-response+json"},
		{"get query", "GET", "/graphql?query=" + url.QueryEscape(query), "", "", "", 200, "application/json"},
		{"get mutation", "GET", "/graphql?query=" + url.QueryEscape(`mutation { rsvpEvent(input: {eventId: "x", response: GOING}) { rsvp { response } } }`), "", "", "", 405, ""},
		{"malformed json", "POST", "/graphql", "application/json", "", `{"query": `, 400, ""},
		{"wrong content type", "POST", "/graphql", "text/plain", "", query, 415, ""},
		{"parse error json", "POST", "/graphql", "application/json", "application/json", `{"query":"{ stores { "}`, 200, "application/json"},
		{"parse error graphql-response", "POST", "/graphql", "application/json", "application/graphql-response+json", `{"query":"{ stores { "}`, 400, ""},
		{"validation error graphql-response", "POST", "/graphql", "application/json", "application/graphql-response+json", `{"query":"{ nope }"}`, 400, ""},
		{"variables of the wrong type", "POST", "/graphql", "application/json", "application/graphql-response+json", `{"query":"query($n: Int) { stores(first: $n) { nodes { id } } }","variables":{"n":"ten"}}`, 400, ""},
		{"unknown operation name", "POST", "/graphql", "application/json", "application/graphql-response+json", `{"query":"query A { stores { nodes { id } } }","operationName":"B"}`, 400, ""},
		{"oversize body", "POST", "/graphql", "application/json", "", big, 413, ""},
		{"delete", "DELETE", "/graphql", "", "", "", 405, ""},
		{"healthz", "GET", "/healthz", "", "", "", 200, ""},
		{"readyz", "GET", "/readyz", "", "", "", 200, ""},
		{"unknown path", "GET", "/nope", "", "", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			req.Header.Set("Authorization", "Bearer "+s.Token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", res.StatusCode, tt.wantStatus, body)
			}
			if tt.wantType != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", res.Header.Get("Content-Type"), tt.wantType)
			}
			if res.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id header")
			}
			if tt.wantStatus >= 400 && strings.Contains(string(body), "xxxxxxxx") {
				t.Error("error body echoes the request body")
			}
		})
	}
}

func TestPersistedQuery(t *testing.T) {
	s := emptyServer(t)
	query := `{ stores(first: 1) { nodes { id } } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	send := func(withQuery bool) gqlResponse {
		t.Helper()
		req := map[string]any{"extensions": ext}
		if withQuery {
			req["query"] = query
		}
		_, out := s.postBody(t, s.Token, req)
		return out
	}
	if res := send(false); res.code(0) != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: code %q, want PERSISTED_QUERY_NOT_FOUND", res.code(0))
	}
	if res := send(true); len(res.Errors) > 0 {
		t.Fatalf("register: %+v", res.Errors)
	}
	s.Exec.WaitCaches()
	// ristretto may refuse an entry at admission; a hit must answer right,
	// and a miss must say so rather than fail.
	res := send(false)
	if res.code(0) != "" && res.code(0) != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("hash only: unexpected error %+v", res.Errors)
	}
	if res.code(0) == "" && !strings.Contains(string(res.Data["stores"]), `"nodes"`) {
		t.Fatalf("hash only: data %s", res.Data["stores"])
	}
}

func TestPanicBecomes500(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := server.Recoverer(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "INTERNAL_SERVER_ERROR" || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("body = %s", rec.Body.String())
	}
}

func TestWrites(t *testing.T) {
	for name, s := range engines(t) {
		// blake manages S001: he may record backorders there and change their status.
		s.Token = s.tokenFor(t, "blake")
		t.Run(name, func(t *testing.T) {
			customers := func() int {
				var n int
				if err := s.DB.SQLX().Get(&n, "SELECT COUNT(*) FROM customers"); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := customers()

			const record = `mutation($in: RecordBackorderInput!) { recordBackorder(input: $in) { backorder {
				id status quantity contactPreference store { id } product { sku } customer { name email }
				history { status } } } }`
			// A failure after the new customer would be written must leave nothing behind.
			_, res := s.post(t, record, map[string]any{"in": map[string]any{
				"storeId": "S001", "sku": "SKU-NOPE", "quantity": 2, "contactPreference": "EMAIL",
				"newCustomer": map[string]any{"name": "Robin Test", "email": "robin@example.com"},
			}})
			if res.code(0) != "NOT_FOUND" || !strings.Contains(res.Errors[0].Message, "SKU-NOPE") {
				t.Fatalf("unknown product: %+v", res.Errors)
			}
			if got := customers(); got != before {
				t.Fatalf("failed recordBackorder left %d new customers", got-before)
			}
			_, res = s.post(t, record, map[string]any{"in": map[string]any{
				"storeId": "S001", "sku": "SKU-00001", "quantity": 0, "contactPreference": "EMAIL",
				"newCustomer": map[string]any{"name": "Robin Test", "email": "robin@example.com"},
			}})
			if res.code(0) != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "quantity") {
				t.Fatalf("quantity 0: %+v", res.Errors)
			}

			_, res = s.post(t, record, map[string]any{"in": map[string]any{
				"storeId": "S001", "sku": "SKU-00001", "quantity": 2, "contactPreference": "EMAIL",
				"newCustomer": map[string]any{"name": "Robin Test", "email": "robin@example.com"},
			}})
			if len(res.Errors) > 0 {
				t.Fatalf("recordBackorder: %+v", res.Errors)
			}
			type backorder struct {
				ID, Status        string
				Quantity          int
				ContactPreference string
				Store             struct{ ID string }
				Product           struct{ SKU string }
				Customer          struct{ Name, Email string }
				History           []struct{ Status string }
			}
			got := decode[struct{ Backorder backorder }](t, res.Data["recordBackorder"]).Backorder
			if got.Status != "OPEN" || got.Quantity != 2 || got.Store.ID != "S001" || got.Product.SKU != "SKU-00001" ||
				got.Customer.Name != "Robin Test" || len(got.History) != 1 || got.History[0].Status != "OPEN" {
				t.Fatalf("recorded backorder = %+v", got)
			}
			if n := customers(); n != before+1 {
				t.Fatalf("customers: %d, want %d", n, before+1)
			}

			const update = `mutation($id: ID!, $s: BackorderStatus!) { updateBackorderStatus(input: {backorderId: $id, status: $s}) { backorder { status history { status } } } }`
			for _, step := range []struct {
				status, wantCode string
				wantHistory      int
			}{
				{"NOTIFIED", "", 2},
				{"NOTIFIED", "", 2}, // a retry changes nothing
				{"FULFILLED", "", 3},
				{"OPEN", "CONFLICT", 0},
			} {
				_, res := s.post(t, update, map[string]any{"id": got.ID, "s": step.status})
				if res.code(0) != step.wantCode {
					t.Fatalf("to %s: code %q, want %q (%+v)", step.status, res.code(0), step.wantCode, res.Errors)
				}
				if step.wantCode != "" {
					continue
				}
				b := decode[struct{ Backorder backorder }](t, res.Data["updateBackorderStatus"]).Backorder
				if b.Status != step.status || len(b.History) != step.wantHistory {
					t.Fatalf("to %s: got %+v", step.status, b)
				}
			}
		})
	}
}

// TestErrorBodies: the errors the server answers itself (not found, too
// large, not signed in, a panic) carry the same body as the facade's, so
// every /api/v1 answer follows one contract: message first, short, no long
// echo of the request, under 1 KB.
func TestErrorBodies(t *testing.T) {
	s := emptyServer(t)
	long := strings.Repeat("x", 5000)
	big := `{"pad": "` + strings.Repeat("y", 5<<20) + `"}`
	tests := []struct {
		name       string
		method     string
		target     string
		token      string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"unknown long path", "GET", "/" + long, s.Token, "", 404, "NOT_FOUND"},
		{"oversize body", "POST", "/graphql", s.Token, big, 413, "PAYLOAD_TOO_LARGE"},
		{"token not valid", "POST", "/graphql", long, `{"query":"{ me { id } }"}`, 401, "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.target, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tt.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			checkErrorBody(t, res.StatusCode, body, tt.wantStatus, tt.wantCode)
		})
	}
	t.Run("panic", func(t *testing.T) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		h := middleware.RequestID(server.Recoverer(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		checkErrorBody(t, rec.Code, rec.Body.Bytes(), 500, "INTERNAL_SERVER_ERROR")
	})
}

func checkErrorBody(t *testing.T, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var b struct {
		Error struct{ Message, Code, RequestID string }
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("body is not JSON: %v: %.300s", err, body)
	}
	if status != wantStatus || b.Error.Code != wantCode {
		t.Fatalf("got %d %s, want %d %s: %.300s", status, b.Error.Code, wantStatus, wantCode, body)
	}
	if !bytes.HasPrefix(body, []byte(`{"error":{"message":`)) {
		t.Errorf("message is not first: %.300s", body)
	}
	if len(body) > 1024 || len(b.Error.Message) > 200 || b.Error.RequestID == "" {
		t.Errorf("body %d bytes, message %d bytes, request id %q: want at most 1024 and 200, and an id", len(body), len(b.Error.Message), b.Error.RequestID)
	}
	if strings.Contains(string(body), strings.Repeat("x", 41)) {
		t.Errorf("body echoes the request: %.300s", body)
	}
}
