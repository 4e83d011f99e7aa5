package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

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
			t.Run("explicit null is the default", func(t *testing.T) { testExplicitNull(t, s) })
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
		_, res := s.Post(t, `query($after: String) { stores(first: 7, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
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
	// A server of its own with the production batch settings: the counts
	// below must hold on a loaded machine, lists nested in lists included
	// (their levels are read at once, not gathered by the window).
	s = countingServer(t, s.DB)
	s.Token = s.TokenFor(t, "devon")
	count := func(query string, n int) (int64, int) {
		t.Helper()
		before := s.DB.Statements()
		_, res := s.Post(t, query, map[string]any{"n": n})
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
	_, res := s.Post(t, `{ product(sku: "SKU-00001") { sku availability(storeId: "S001", nearbyLimit: 3) { inStock available onHand store { id } nearby { store { id } available distanceKm } } } }`, nil)
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

// testExplicitNull: an argument sent as null gets the schema's default, the
// same answer as leaving it out (resolvers read the default from the schema).
func testExplicitNull(t *testing.T, s *testServer) {
	for _, tt := range []struct{ name, omitted, null string }{
		{"news(first:)", `{ news { nodes { id } } }`, `{ news(first: null) { nodes { id } } }`},
		{"availability(nearbyLimit:)",
			`{ product(sku: "SKU-00001") { availability(storeId: "S001") { nearby { store { id } } } } }`,
			`{ product(sku: "SKU-00001") { availability(storeId: "S001", nearbyLimit: null) { nearby { store { id } } } } }`},
		{"stores(first:)", `{ stores { nodes { id } pageInfo { hasNextPage } } }`, `{ stores(first: null) { nodes { id } pageInfo { hasNextPage } } }`},
	} {
		_, omitted := s.Post(t, tt.omitted, nil)
		_, null := s.Post(t, tt.null, nil)
		if len(omitted.Errors) > 0 || len(null.Errors) > 0 {
			t.Errorf("%s: errors omitted %+v, null %+v", tt.name, omitted.Errors, null.Errors)
			continue
		}
		got, _ := json.Marshal(null.Data)
		want, _ := json.Marshal(omitted.Data)
		if string(got) != string(want) {
			t.Errorf("%s: null answers %s, want the default's %s", tt.name, got, want)
		}
		if len(want) < 40 {
			t.Errorf("%s: answer %s too small to tell defaults apart", tt.name, want)
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
			_, res := s.Post(t, tt.query, tt.vars)
			if len(res.Errors) == 0 {
				t.Fatalf("no error, want %s", tt.wantCode)
			}
			if got := res.Code(0); got != tt.wantCode {
				t.Errorf("code = %s, want %s (message %q)", got, tt.wantCode, res.Errors[0].Message)
			}
			if !strings.Contains(res.Errors[0].Message, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", res.Errors[0].Message, tt.wantMsg)
			}
		})
	}

	_, res := s.Post(t, `{ store(id: "S999") { id } product(sku: "nope") { sku } }`, nil)
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
		_, out := s.PostBody(t, s.Token, req)
		return out
	}
	if res := send(false); res.Code(0) != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: code %q, want PERSISTED_QUERY_NOT_FOUND", res.Code(0))
	}
	if res := send(true); len(res.Errors) > 0 {
		t.Fatalf("register: %+v", res.Errors)
	}
	s.Exec.WaitCaches()
	// ristretto may refuse an entry at admission; a hit must answer right,
	// and a miss must say so rather than fail.
	res := send(false)
	if res.Code(0) != "" && res.Code(0) != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("hash only: unexpected error %+v", res.Errors)
	}
	if res.Code(0) == "" && !strings.Contains(string(res.Data["stores"]), `"nodes"`) {
		t.Fatalf("hash only: data %s", res.Data["stores"])
	}
}

func TestWrites(t *testing.T) {
	for name, s := range engines(t) {
		// blake manages S001: he may record backorders there and change their status.
		s.Token = s.TokenFor(t, "blake")
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
			_, res := s.Post(t, record, map[string]any{"in": map[string]any{
				"storeId": "S001", "sku": "SKU-NOPE", "quantity": 2, "contactPreference": "EMAIL",
				"newCustomer": map[string]any{"name": "Robin Test", "email": "robin@example.com"},
			}})
			if res.Code(0) != "NOT_FOUND" || !strings.Contains(res.Errors[0].Message, "SKU-NOPE") {
				t.Fatalf("unknown product: %+v", res.Errors)
			}
			if got := customers(); got != before {
				t.Fatalf("failed recordBackorder left %d new customers", got-before)
			}
			_, res = s.Post(t, record, map[string]any{"in": map[string]any{
				"storeId": "S001", "sku": "SKU-00001", "quantity": 0, "contactPreference": "EMAIL",
				"newCustomer": map[string]any{"name": "Robin Test", "email": "robin@example.com"},
			}})
			if res.Code(0) != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "quantity") {
				t.Fatalf("quantity 0: %+v", res.Errors)
			}

			_, res = s.Post(t, record, map[string]any{"in": map[string]any{
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
				_, res := s.Post(t, update, map[string]any{"id": got.ID, "s": step.status})
				if res.Code(0) != step.wantCode {
					t.Fatalf("to %s: code %q, want %q (%+v)", step.status, res.Code(0), step.wantCode, res.Errors)
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
