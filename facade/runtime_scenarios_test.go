package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/middletier/middletier/facade/connectortest"
	"github.com/middletier/middletier/internal/store/storetest"
)

// TestRuntime calls the facade as the Power Platform connector runtime does
// (CONNECTOR.md §10), building every call from the published definition
// only, on each engine seeded once. The problem cases are named after the
// problems of issue 7 they catch.
func TestRuntime(t *testing.T) {
	for _, eng := range storetest.SeededEngines(t) {
		e := newRuntimeEnv(t, eng.DB, rtOptions{})
		t.Run(eng.Name, func(t *testing.T) {
			t.Run("every operation as a flow", func(t *testing.T) { testEveryOperation(t, e, connectortest.Flow) })
			t.Run("every operation as an app", func(t *testing.T) { testEveryOperation(t, e, connectortest.App) })
			t.Run("problem1 duplicate writes on retry", func(t *testing.T) { testRetryWritesOnce(t, e) })
			t.Run("problem2 flows cannot page", func(t *testing.T) { testFlowPaging(t, e) })
			t.Run("problem3 null and blank optional fields", func(t *testing.T) { testNullAndBlank(t, e) })
			t.Run("problem4 bad page token is 400", func(t *testing.T) { testBadPageToken(t, e) })
			t.Run("problem5 supply down answers partially", func(t *testing.T) { testSupplyDown(t, e) })
			t.Run("problem6 path values decoded once", func(t *testing.T) { testPathDecodedOnce(t, e) })
			t.Run("problem7 error body contract", func(t *testing.T) { testErrorBodies(t, e) })
		})
	}
}

type rtCall struct {
	name, op, user string
	call           connectortest.Call
}

// judge reports everything a flow or app would fail on in a success answer.
func judge(t *testing.T, e *rtEnv, op string, r connectortest.Result) map[string]any {
	t.Helper()
	o, ok := e.def.Operation(op)
	if !ok {
		t.Fatalf("no operation %s", op)
	}
	for _, p := range o.Judge(r) {
		t.Error(p)
	}
	if r.Attempts > 1 {
		t.Errorf("%s took %d attempts; a healthy call takes one", op, r.Attempts)
	}
	var body map[string]any
	_ = json.Unmarshal(r.Body, &body)
	return body
}

func mustDo(t *testing.T, c *connectortest.Client, op string, call connectortest.Call) connectortest.Result {
	t.Helper()
	r, err := c.Do(context.Background(), op, call)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testEveryOperation calls every operation of the definition the way a
// flow (Idempotency-Key header, retries) or a canvas app (clientRequestId in
// the body, no retries) does, and judges each answer against the definition.
func testEveryOperation(t *testing.T, e *rtEnv, kind connectortest.Kind) {
	who := map[connectortest.Kind]string{connectortest.Flow: "flow", connectortest.App: "app"}[kind]
	called := map[string]bool{}
	reads := []rtCall{
		{"ListStores", "ListStores", "devon", connectortest.Call{}},
		{"SearchProducts", "SearchProducts", "avery", connectortest.Call{Query: map[string]any{"search": "lamp"}}},
		{"SearchProducts scan", "SearchProducts", "avery", connectortest.Call{Query: map[string]any{"sku": "SKU-00042", "search": connectortest.Blank{}, "category": connectortest.Blank{}}}},
		{"FindCustomers", "FindCustomers", "avery", connectortest.Call{Query: map[string]any{"search": "an"}}},
		{"GetProductAvailability", "GetProductAvailability", "avery", connectortest.Call{Path: map[string]string{"storeId": "S001", "sku": "SKU-00042"}}},
		{"ListStoreBackorders", "ListStoreBackorders", "blake", connectortest.Call{Path: map[string]string{"storeId": "S001"}, Query: map[string]any{"status": "OPEN"}}},
		{"GetMyHome associate", "GetMyHome", "avery", connectortest.Call{}},
		{"GetMyHome manager", "GetMyHome", "blake", connectortest.Call{}},
		{"GetMyHome head office", "GetMyHome", "devon", connectortest.Call{}},
		{"ListNews", "ListNews", "avery", connectortest.Call{}},
	}
	for _, c := range reads {
		t.Run(c.name, func(t *testing.T) {
			called[c.op] = true
			judge(t, e, c.op, mustDo(t, e.client(t, kind, c.user), c.op, c.call))
		})
	}

	// Writes: record, move it on, answer an invitation; each with the key
	// its caller uses.
	keyed := func(c connectortest.Call, key string) connectortest.Call {
		if kind == connectortest.Flow {
			c.IdempotencyKey = key
		} else {
			c.Body["clientRequestId"] = key
		}
		return c
	}
	note := "emulator " + who + " " + e.srv.Listener.Addr().String()
	called["RecordBackorder"] = true
	rec := judge(t, e, "RecordBackorder", mustDo(t, e.client(t, kind, "avery"), "RecordBackorder", keyed(connectortest.Call{Body: map[string]any{
		"storeId": "S001", "sku": "SKU-00042", "contactPreference": "EMAIL", "note": note,
		"newCustomer": map[string]any{"name": "Emu Later", "email": "emu@example.com"},
	}}, "rec-"+who)))
	if n := countNotes(t, e.db, note); n != 1 {
		t.Errorf("RecordBackorder wrote %d backorders, want 1", n)
	}
	id, _ := rec["id"].(string)
	if id == "" {
		t.Fatalf("RecordBackorder answered no id")
	}
	called["UpdateBackorderStatus"] = true
	judge(t, e, "UpdateBackorderStatus", mustDo(t, e.client(t, kind, "blake"), "UpdateBackorderStatus", keyed(connectortest.Call{
		Path: map[string]string{"backorderId": id}, Body: map[string]any{"status": "NOTIFIED", "note": "Called the customer"},
	}, "upd-"+who)))
	called["RsvpEvent"] = true
	judge(t, e, "RsvpEvent", mustDo(t, e.client(t, kind, "casey"), "RsvpEvent", keyed(connectortest.Call{
		Path: map[string]string{"eventId": "EV005"}, Body: map[string]any{"response": "GOING"},
	}, "rsvp-"+who)))

	for _, op := range e.def.OperationIDs() {
		if o, _ := e.def.Operation(op); o.Agentic() {
			continue // agents call it over MCP (facade/mcp's tests), not flows or apps
		}
		if !called[op] {
			t.Errorf("operation %s is in the definition but the emulator never calls it", op)
		}
	}
}

// testRetryWritesOnce: flows resend a POST byte for byte, with the same
// Idempotency-Key, after a 5xx or a timeout (CONNECTOR.md §10, Retries). The
// retry must get the first result and the backorder must be written once.
func testRetryWritesOnce(t *testing.T, e *rtEnv) {
	cases := []struct {
		name  string
		fault func(c *connectortest.Client)
	}{
		{"connection dropped after the write", func(c *connectortest.Client) {
			c.OnAttempt = func(n int, abandon context.CancelFunc) {
				if n == 1 {
					e.loaders.armed.Store(&abandon)
				}
			}
		}},
		{"gateway 502 after the write", func(c *connectortest.Client) { c.Transport = &gatewayFailsFirst{} }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			note := fmt.Sprintf("emulator retry %d %s", i, e.srv.Listener.Addr())
			c := e.client(t, connectortest.Flow, "avery")
			tc.fault(c)
			r := mustDo(t, c, "RecordBackorder", connectortest.Call{IdempotencyKey: fmt.Sprintf("retry-%d", i), Body: map[string]any{
				"storeId": "S001", "sku": "SKU-00077", "contactPreference": "EMAIL", "note": note,
				"newCustomer": map[string]any{"name": "Retry Once", "email": "retry@example.com"},
			}})
			e.loaders.armed.Store(nil)
			op, _ := e.def.Operation("RecordBackorder")
			for _, p := range op.Judge(r) {
				t.Errorf("after %d attempts: %s", r.Attempts, p)
			}
			if r.Attempts < 2 {
				t.Errorf("the fault did not make the runtime retry (%d attempt)", r.Attempts)
			}
			if n := countNotes(t, e.db, note); n != 1 {
				t.Fatalf("one call retried %d times wrote %d backorders, want 1", r.Attempts-1, n)
			}
			var got struct{ ID string }
			_ = json.Unmarshal(r.Body, &got)
			var want string
			if err := e.db.SQLX().Get(&want, e.db.SQLX().Rebind(`SELECT id FROM backorders WHERE note = ?`), note); err != nil {
				t.Fatal(err)
			}
			if got.ID != want {
				t.Errorf("the retry answered backorder %q, the one written is %q", got.ID, want)
			}
		})
	}
}

// testFlowPaging pages as a flow with Pagination on: through the
// updatenextlink policy when the package has it, else by calling nextLink
// as is without the connection's token (CONNECTOR.md §2 and §10, Paging).
// And nextLink and the definition's host must name the address the service
// is called on even without --public-url.
func testFlowPaging(t *testing.T, e *rtEnv) {
	cases := []struct {
		name, op, user string
		call           connectortest.Call
		count          string
	}{
		{"ListStores", "ListStores", "devon", connectortest.Call{Query: map[string]any{}}, `SELECT COUNT(*) FROM stores`},
		{"ListStoreBackorders", "ListStoreBackorders", "blake", connectortest.Call{Path: map[string]string{"storeId": "S001"}, Query: map[string]any{"status": "OPEN"}},
			`SELECT COUNT(*) FROM backorders WHERE store_id = 'S001' AND status = 'OPEN'`},
	}
	for _, tc := range cases {
		op, _ := e.def.Operation(tc.op)
		for _, viaPolicy := range []bool{false, true} {
			name := tc.name + " without the policy"
			if viaPolicy {
				name = tc.name + " through the updatenextlink policy"
			}
			t.Run(name, func(t *testing.T) {
				if viaPolicy && !e.def.UpdatesNextLink(op) {
					t.Errorf("apiProperties.json has no updatenextlink policy for %s (nextLinkPropertyName %s): the runtime calls nextLink without the token", tc.op, op.NextLinkName())
				}
				if !viaPolicy && e.def.UpdatesNextLink(op) {
					t.Skip("the package routes nextLink through the connector")
				}
				var want int
				if err := e.db.SQLX().Get(&want, tc.count); err != nil {
					t.Fatal(err)
				}
				// About three pages at whatever size the data has.
				call := tc.call
				call.Query = maps.Clone(tc.call.Query)
				call.Query["pageSize"] = max(1, (want+2)/3)
				pages, err := e.client(t, connectortest.Flow, tc.user).Pages(context.Background(), tc.op, call, viaPolicy, 100)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for i, p := range pages {
					if p.Status != http.StatusOK {
						t.Fatalf("page %d (%s): status %d after %d attempts: %s", i+1, p.URL, p.Status, p.Attempts, connectortest.Clip(p.Body))
					}
					for _, pr := range op.Judge(p) {
						t.Errorf("page %d: %s", i+1, pr)
					}
					var b struct{ Value []map[string]any }
					_ = json.Unmarshal(p.Body, &b)
					for _, it := range b.Value {
						k := fmt.Sprint(it["id"])
						if seen[k] {
							t.Fatalf("item %s on two pages", k)
						}
						seen[k] = true
					}
				}
				if len(pages) < 2 || len(seen) != want {
					t.Fatalf("%d pages with %d items, want at least 2 pages with all %d", len(pages), len(seen), want)
				}
			})
		}
	}

	t.Run("addresses without --public-url", func(t *testing.T) {
		d := newRuntimeEnv(t, e.db, rtOptions{noPublicURL: true})
		called := d.srv.Listener.Addr().String()
		if d.def.Swagger.Host != called {
			t.Errorf("the definition served at %s names host %s", called, d.def.Swagger.Host)
		}
		// Call where the service really is, whatever the definition says.
		req, _ := http.NewRequest(http.MethodGet, d.srv.URL+"/api/v1/stores?pageSize=5", nil)
		req.Header.Set("Authorization", "Bearer "+d.token(t, "devon"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b struct{ NextLink string }
		if err := json.NewDecoder(res.Body).Decode(&b); err != nil || b.NextLink == "" {
			t.Fatalf("ListStores: %d, no nextLink (%v)", res.StatusCode, err)
		}
		if u, err := url.Parse(b.NextLink); err != nil || u.Host != called {
			t.Errorf("nextLink %s, called on %s", b.NextLink, called)
		}
	})
}

// testNullAndBlank: flows send null or "" for optional fields left empty
// and blank query values as name= (CONNECTOR.md §10, Requests); a field with
// a default then takes it.
func testNullAndBlank(t *testing.T, e *rtEnv) {
	cases := []struct {
		name  string
		extra map[string]any
	}{
		{"quantity null", map[string]any{"quantity": nil}},
		{"quantity blank", map[string]any{"quantity": ""}},
		{"note null", map[string]any{"note": nil}},
		{"phone null", map[string]any{"newCustomer": map[string]any{"name": "Nul Able", "email": "null@example.com", "phone": nil}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			note := fmt.Sprintf("emulator null %d %s", i, e.srv.Listener.Addr())
			body := map[string]any{"storeId": "S001", "sku": "SKU-00042", "contactPreference": "EMAIL", "note": note,
				"newCustomer": map[string]any{"name": "Nul Able", "email": "null@example.com"}}
			for k, v := range tc.extra {
				body[k] = v
			}
			r := mustDo(t, e.client(t, connectortest.Flow, "avery"), "RecordBackorder", connectortest.Call{Body: body, IdempotencyKey: fmt.Sprintf("null-%d", i)})
			got := judge(t, e, "RecordBackorder", r)
			if t.Failed() {
				return
			}
			if q, _ := got["quantity"].(float64); q != 1 {
				t.Errorf("quantity %v, want the default 1", got["quantity"])
			}
		})
	}
	t.Run("blank query values", func(t *testing.T) {
		judge(t, e, "ListStores", mustDo(t, e.client(t, connectortest.Flow, "devon"), "ListStores",
			connectortest.Call{Query: map[string]any{"pageSize": connectortest.Blank{}, "pageToken": connectortest.Blank{}}}))
	})
}

// testBadPageToken: a page token the service did not make is the caller's
// mistake: 400 BAD_USER_INPUT, never a 5xx that flows retry for half an
// hour (CONNECTOR.md §10, Retries).
func testBadPageToken(t *testing.T, e *rtEnv) {
	cases := []rtCall{
		{"ListNews", "ListNews", "avery", connectortest.Call{Query: map[string]any{"pageToken": "garbage"}}},
		{"ListStores", "ListStores", "devon", connectortest.Call{Query: map[string]any{"pageToken": "garbage"}}},
		{"SearchProducts", "SearchProducts", "avery", connectortest.Call{Query: map[string]any{"search": "lamp", "pageToken": "garbage"}}},
		{"ListStoreBackorders", "ListStoreBackorders", "blake", connectortest.Call{Path: map[string]string{"storeId": "S001"}, Query: map[string]any{"pageToken": "garbage"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustDo(t, e.client(t, connectortest.Flow, tc.user), tc.op, tc.call)
			var b errorBody
			_ = json.Unmarshal(r.Body, &b)
			if r.Status != http.StatusBadRequest || b.Error.Code != "BAD_USER_INPUT" || r.Attempts != 1 {
				t.Fatalf("pageToken=garbage: status %d %s after %d attempts, want 400 BAD_USER_INPUT at once: %s", r.Status, b.Error.Code, r.Attempts, r.Body)
			}
		})
	}
}

// testSupplyDown: with only the supply service down, operations whose main
// data is in the store answer 200 with what they have and a warning; 503
// (with Retry-After) only when an operation's main data is gone.
func testSupplyDown(t *testing.T, e *rtEnv) {
	down := newRuntimeEnv(t, e.db, rtOptions{supplyDown: true})
	for _, tc := range []rtCall{
		{"ListStoreBackorders", "ListStoreBackorders", "blake", connectortest.Call{Path: map[string]string{"storeId": "S001"}, Query: map[string]any{"status": "OPEN"}}},
		{"GetProductAvailability", "GetProductAvailability", "avery", connectortest.Call{Path: map[string]string{"storeId": "S001", "sku": "SKU-00042"}}},
		{"GetMyHome", "GetMyHome", "blake", connectortest.Call{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustDo(t, down.client(t, connectortest.Flow, tc.user), tc.op, tc.call)
			body := judge(t, down, tc.op, r)
			ws, _ := body["warnings"].([]any)
			if !slices.ContainsFunc(ws, func(w any) bool { m, _ := w.(map[string]any); return m["code"] == "UPSTREAM_UNAVAILABLE" }) {
				t.Errorf("with supply down: status %d, warnings %v; want 200 and an UPSTREAM_UNAVAILABLE warning: %s", r.Status, ws, connectortest.Clip(r.Body))
			}
		})
	}
	t.Run("ListNews with news down", func(t *testing.T) {
		newsDown := newRuntimeEnv(t, e.db, rtOptions{newsDown: true})
		r := mustDo(t, newsDown.client(t, connectortest.Flow, "avery"), "ListNews", connectortest.Call{})
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("ListNews with news down: %d, Retry-After %q; want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"))
		}
	})
}

// testPathDecodedOnce: the runtime escapes a path value once
// (x-ms-url-encoding single), so EV00%34 arrives as EV00%2534 and must be
// read as EV00%34, which names no event, never as EV004.
func testPathDecodedOnce(t *testing.T, e *rtEnv) {
	rsvp := func() string {
		var resp string
		_ = e.db.SQLX().Get(&resp, e.db.SQLX().Rebind(`SELECT r.response FROM rsvps r JOIN employees m ON m.id = r.employee_id WHERE m.login = ? AND r.event_id = ?`), "casey", "EV004")
		return resp
	}
	before := rsvp()
	cases := []rtCall{
		{"RsvpEvent EV00%34", "RsvpEvent", "casey", connectortest.Call{Path: map[string]string{"eventId": "EV00%34"}, Body: map[string]any{"response": "DECLINED"}, IdempotencyKey: "decode-once"}},
		{"ListStoreBackorders S00%31", "ListStoreBackorders", "devon", connectortest.Call{Path: map[string]string{"storeId": "S00%31"}}},
		{"GetProductAvailability S00%31", "GetProductAvailability", "devon", connectortest.Call{Path: map[string]string{"storeId": "S00%31", "sku": "SKU-00042"}}},
		{"GetProductAvailability SKU-0004%32", "GetProductAvailability", "devon", connectortest.Call{Path: map[string]string{"storeId": "S001", "sku": "SKU-0004%32"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustDo(t, e.client(t, connectortest.Flow, tc.user), tc.op, tc.call)
			if !strings.Contains(r.URL, "%25") {
				t.Fatalf("the emulator did not escape %% in %s", r.URL)
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404 for an id that does not exist: %s", r.URL, r.Status, connectortest.Clip(r.Body))
			}
		})
	}
	if after := rsvp(); after != before {
		t.Errorf("casey's answer to EV004 changed from %q to %q by an RSVP to EV00%%34", before, after)
	}
}

// testErrorBodies: every error a maker can meet is short JSON with a human
// message first and a stable code, echoes at most a short prefix of the
// input and never the token, and 429/503 say when to retry (CONNECTOR.md
// §10, Responses).
func testErrorBodies(t *testing.T, e *rtEnv) {
	long := strings.Repeat("X", 400)
	newsDown := newRuntimeEnv(t, e.db, rtOptions{newsDown: true})
	cases := []struct {
		rtCall
		env   *rtEnv
		token string // "" = the user's real token
	}{
		{rtCall: rtCall{"short search", "FindCustomers", "avery", connectortest.Call{Query: map[string]any{"search": "a"}}}},
		{rtCall: rtCall{"long page size", "ListStores", "devon", connectortest.Call{Query: map[string]any{"pageSize": long}}}},
		{rtCall: rtCall{"long status", "ListStoreBackorders", "blake", connectortest.Call{Path: map[string]string{"storeId": "S001"}, Query: map[string]any{"status": long}}}},
		{rtCall: rtCall{"long unknown sku", "GetProductAvailability", "avery", connectortest.Call{Path: map[string]string{"storeId": "S001", "sku": "SKU-" + long}}}},
		{rtCall: rtCall{"long search", "SearchProducts", "avery", connectortest.Call{Query: map[string]any{"search": long, "pageToken": long}}}},
		{rtCall: rtCall{"long store in body", "RecordBackorder", "avery", connectortest.Call{Body: map[string]any{"storeId": long, "sku": "SKU-00001", "contactPreference": "EMAIL", "customerId": "C1"}}}},
		{rtCall: rtCall{"long contact preference", "RecordBackorder", "avery", connectortest.Call{Body: map[string]any{"storeId": "S001", "sku": "SKU-00001", "contactPreference": long, "customerId": "C1"}}}},
		{rtCall: rtCall{"no token", "ListStores", "", connectortest.Call{}}},
		{rtCall: rtCall{"tampered token", "ListStores", "devon", connectortest.Call{}}, token: "tampered"},
		{rtCall: rtCall{"news down", "ListNews", "avery", connectortest.Call{}}, env: newsDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := e
			if tc.env != nil {
				env = tc.env
			}
			c := env.client(t, connectortest.App, tc.user)
			if tc.token == "tampered" {
				c.Token = c.Token[:len(c.Token)-4] + "AAAA"
			}
			r := mustDo(t, c, tc.op, tc.call)
			for _, p := range connectortest.JudgeError(r, c.Token) {
				t.Errorf("%d: %s\n%s", r.Status, p, r.Body)
			}
			if r.Status >= 500 && r.Status != http.StatusServiceUnavailable {
				t.Errorf("status %d for a caller's mistake", r.Status)
			}
			if echoed(string(r.Body), long) {
				t.Errorf("the error body echoes %d or more characters of the input (%d bytes)", maxEcho, len(r.Body))
			}
		})
	}
}

// maxEcho is the longest piece of input an error message may repeat.
const maxEcho = 40

func echoed(body, input string) bool {
	for i := 0; i+maxEcho <= len(input); i++ {
		if strings.Contains(body, input[i:i+maxEcho]) {
			return true
		}
	}
	return false
}
