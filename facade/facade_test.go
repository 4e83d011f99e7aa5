package facade_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// publicURL is the configured public URL every nextLink must point at.
const publicURL = "https://middletier.example.com"

// userHeader names the persona a test request runs as; testAuth stands in
// for the bearer-token middleware and puts the same principal in the context.
const userHeader = "X-Test-User"

type env struct {
	h   http.Handler
	db  *store.DB
	fac *facade.Facade
	up  *cachedtest.Upstreams
}

// newEnv builds the whole router the way cmd/middletier's buildHandler does:
// the shared executor, the facade at /api/v1, loaders over the store and the
// demo upstreams (real HTTP on loopback), and authentication.
func newEnv(t testing.TB, db *store.DB, ops ...facade.Operation) *env {
	t.Helper()
	return newEnvWith(t, db, cachedtest.Start(t, cachedtest.Options{}), ops...)
}

// newEnvWith is newEnv over the given upstreams.
func newEnvWith(t testing.TB, db *store.DB, up *cachedtest.Upstreams, ops ...facade.Operation) *env {
	t.Helper()
	return newEnvOpts(t, db, up, facade.Options{Operations: ops})
}

// newEnvOpts is newEnvWith with the facade's options (public URL and log
// are set here).
func newEnvOpts(t testing.TB, db *store.DB, up *cachedtest.Upstreams, opts facade.Options) *env {
	t.Helper()
	cfg := config.Defaults()
	cfg.PublicURL = publicURL
	log := slog.New(slog.DiscardHandler)
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	pub, err := publicurl.New(cfg.PublicURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Origin, opts.Log = pub.Origin, log
	fac, err := facade.New(exec, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := server.NewHandler(cfg, server.Deps{
		Log: log, GraphQL: exec.Handler(), Loaders: loaders.Middleware(db, up.Sources, cfg.GraphQL.BatchWait), Ready: db,
		Authenticate: testAuth(db),
		Facade:       fac,
	})
	return &env{h: h, db: db, fac: fac, up: up}
}

func testAuth(db *store.DB) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			login := r.Header.Get(userHeader)
			if login == "" {
				next.ServeHTTP(w, r)
				return
			}
			e, err := db.EmployeeByLogin(r.Context(), login)
			if err != nil {
				http.Error(w, "unknown test user", http.StatusUnauthorized)
				return
			}
			p := auth.Principal{EmployeeID: e.ID, Login: e.Login, Role: e.Role, CanWrite: true}
			if e.StoreID != nil {
				p.StoreID = *e.StoreID
			}
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
		})
	}
}

// seeded returns one seeded router per engine; seeding is the slow part,
// so each test function seeds once and runs its cases as subtests.
func seeded(t *testing.T) map[string]*env {
	t.Helper()
	out := map[string]*env{}
	for _, e := range storetest.SeededEngines(t) {
		out[e.Name] = newEnv(t, e.DB)
	}
	return out
}

type req struct {
	method, target, user, body string
	header                     map[string]string
}

func (e *env) do(t testing.TB, rq req) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.target, body)
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.user != "" {
		r.Header.Set(userHeader, rq.user)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func get(target, user string) req { return req{method: http.MethodGet, target: target, user: user} }

func post(target, user, body string) req {
	return req{method: http.MethodPost, target: target, user: user, body: body}
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reqRE  = regexp.MustCompile(`"requestId": "[^"]*"`)
)

// golden compares a response with testdata/name.golden: status, the headers
// that are part of the contract, and the indented body. New ids and request
// ids vary per run and are masked.
func golden(t *testing.T, name string, w *httptest.ResponseRecorder, maskTimes []string) {
	t.Helper()
	var got bytes.Buffer
	fmt.Fprintf(&got, "%d\n", w.Code)
	for _, h := range []string{"Content-Type", "Cache-Control", "Retry-After"} {
		if v := w.Header().Get(h); v != "" {
			fmt.Fprintf(&got, "%s: %s\n", h, v)
		}
	}
	got.WriteString("\n")
	var ind bytes.Buffer
	if err := json.Indent(&ind, w.Body.Bytes(), "", "  "); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, w.Body.String())
	}
	body := uuidRE.ReplaceAllString(ind.String(), "<uuid>")
	body = reqRE.ReplaceAllString(body, `"requestId": "<request id>"`)
	for _, k := range maskTimes {
		body = regexp.MustCompile(`"`+k+`": "[^"]*"`).ReplaceAllString(body, `"`+k+`": "<time>"`)
	}
	got.WriteString(body)
	got.WriteString("\n")

	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./facade -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("%s differs from %s (go test ./facade -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got.String(), want)
	}
}

func decodeBody[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body.String(), err)
	}
	return v
}

type errorBody struct {
	Error struct {
		Code      string              `json:"code"`
		Message   string              `json:"message"`
		RequestID string              `json:"requestId"`
		Details   []map[string]string `json:"details"`
	} `json:"error"`
}

type page struct {
	Value      []map[string]any `json:"value"`
	NextLink   string           `json:"nextLink"`
	NextCursor string           `json:"nextCursor"`
}

// TestFacade runs every facade behaviour against one seeded database per
// engine. The read cases come first: the write cases add rows.
func TestFacade(t *testing.T) {
	for name, e := range seeded(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("operations", func(t *testing.T) { testOperations(t, e) })
			t.Run("binding accepts", func(t *testing.T) { testBindingAccepts(t, e) })
			t.Run("binding errors", func(t *testing.T) { testBindingErrors(t, e) })
			t.Run("error mapping", func(t *testing.T) { testErrorMapping(t, e) })
			t.Run("error contract", func(t *testing.T) { testErrorContract(t, e) })
			t.Run("page tokens", func(t *testing.T) { testPageTokens(t, e) })
			t.Run("paging", func(t *testing.T) { testPaging(t, e) })
			t.Run("etag", func(t *testing.T) { testETag(t, e) })
			t.Run("no nulls", func(t *testing.T) { testNoNulls(t, e) })
			t.Run("partial results", func(t *testing.T) { testPartial(t, e) })
			t.Run("degrade", func(t *testing.T) { testDegrade(t, e) })
			t.Run("writes", func(t *testing.T) { testWrites(t, e) })
			t.Run("runtime inputs", func(t *testing.T) { testRuntimeInputs(t, e) })
			t.Run("path values", func(t *testing.T) { testPathValues(t, e) })
			t.Run("idempotency", func(t *testing.T) { testIdempotency(t, e) })
			t.Run("concurrent retries", func(t *testing.T) { testConcurrentRetries(t, e) })
		})
	}
}

// testOperations calls every read operation end to end and compares the
// answer with its golden file (the same seed gives the same answer on both
// engines, so both share one file).
func testOperations(t *testing.T, e *env) {
	cases := []struct {
		name string
		req  req
	}{
		{"ListStores", get("/api/v1/stores?pageSize=3", "devon")},
		{"SearchProducts", get("/api/v1/products?search=lamp&pageSize=2", "avery")},
		{"SearchProducts_scan", get("/api/v1/products?sku=SKU-00042&search=&category=", "avery")},
		{"GetProductAvailability", get("/api/v1/stores/S001/products/SKU-00042/availability?nearbyLimit=2", "avery")},
		{"FindCustomers", get("/api/v1/customers?search=an&pageSize=2", "avery")},
		{"ListStoreBackorders", get("/api/v1/stores/S001/backorders?status=open&pageSize=2", "blake")},
		{"GetMyHome_associate", get("/api/v1/me/home", "avery")},
		{"GetMyHome_head_office", get("/api/v1/me/home", "devon")},
		{"GetMyHome_manager", get("/api/v1/me/home", "blake")},
		{"ListNews", get("/api/v1/news?pageSize=2", "avery")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, c.req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
			}
			golden(t, c.name, w, nil)
		})
	}
}

func testBindingErrors(t *testing.T, e *env) {
	cases := []struct {
		name      string
		req       req
		status    int
		param     string
		inMessage string
	}{
		{"page size not a number", get("/api/v1/stores?pageSize=ten", "devon"), 400, "pageSize", "expected a whole number"},
		{"page size fractional", get("/api/v1/stores?pageSize=2.5", "devon"), 400, "pageSize", "expected a whole number"},
		{"page size out of range", get("/api/v1/stores?pageSize=1000", "devon"), 400, "pageSize", "from 1 to 100"},
		{"page size zero", get("/api/v1/products?pageSize=0", "devon"), 400, "pageSize", "from 1 to 100"},
		{"repeated parameter", get("/api/v1/stores?pageSize=2&pageSize=3", "devon"), 400, "pageSize", "more than once"},
		{"required query missing", get("/api/v1/customers", "avery"), 400, "search", "is required"},
		{"required query blank", get("/api/v1/customers?search=", "avery"), 400, "search", "is required"},
		{"bad enum", get("/api/v1/stores/S001/backorders?status=LOST", "blake"), 400, "status", "one of OPEN, NOTIFIED, FULFILLED, CANCELLED"},
		{"nearby limit not a number", get("/api/v1/stores/S001/products/SKU-00001/availability?nearbyLimit=True", "avery"), 400, "nearbyLimit", "whole number"},
		{"body not JSON", post("/api/v1/backorders", "avery", `{"storeId":`), 400, "body", "JSON"},
		{"body not an object", post("/api/v1/backorders", "avery", `[1,2]`), 400, "body", "JSON object"},
		{"body field missing", post("/api/v1/backorders", "avery", `{"storeId":"S001","contactPreference":"EMAIL","customerId":"C1"}`), 400, "sku", "is required"},
		{"body unknown property", post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00001","contactPreference":"EMAIL","customerId":"C1","colour":"red"}`), 400, "colour", "not a property"},
		{"body quantity fractional", post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00001","quantity":1.5,"contactPreference":"EMAIL","customerId":"C1"}`), 400, "quantity", "whole number"},
		{"body enum wrong", post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00001","contactPreference":"PIGEON","customerId":"C1"}`), 400, "contactPreference", "one of EMAIL, PHONE, SMS"},
		{"body nested required", post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00001","contactPreference":"EMAIL","newCustomer":{"email":"a@b.c"}}`), 400, "newCustomer.name", "is required"},
		{"clientRequestId not a string", post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00001","contactPreference":"EMAIL","customerId":"C1","clientRequestId":5}`), 400, "clientRequestId", "string"},
		{"path enum in body", post("/api/v1/backorders/B1/status", "blake", `{"status":"LOST"}`), 400, "status", "one of"},
		{"wrong content type", req{method: "POST", target: "/api/v1/backorders", user: "avery", body: "x", header: map[string]string{"Content-Type": "text/plain"}}, 415, "body", "application/json"},
		{"keys disagree", req{method: "POST", target: "/api/v1/events/EV004/rsvp", user: "casey", body: `{"response":"GOING","clientRequestId":"a"}`, header: map[string]string{"Idempotency-Key": "b"}}, 400, "Idempotency-Key", "differs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, c.req)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			b := decodeBody[errorBody](t, w)
			if c.param != "" && (len(b.Error.Details) == 0 || b.Error.Details[0]["parameter"] != c.param) {
				t.Errorf("details %v do not name parameter %s", b.Error.Details, c.param)
			}
			if !strings.Contains(b.Error.Message, c.inMessage) {
				t.Errorf("message %q does not say %q", b.Error.Message, c.inMessage)
			}
			if b.Error.RequestID == "" || b.Error.Code == "" {
				t.Errorf("error body lacks code or requestId: %s", w.Body)
			}
			if w.Body.Len() > 1024 {
				t.Errorf("error body is %d bytes, want at most 1024", w.Body.Len())
			}
		})
	}
}

// testBindingAccepts checks that what the connector runtime sends is taken.
func testBindingAccepts(t *testing.T, e *env) {
	cases := []struct {
		name string
		req  req
	}{
		{"float for Int", get("/api/v1/stores?pageSize=5.0", "devon")},
		{"blank optional", get("/api/v1/stores?pageSize=&pageToken=", "devon")},
		{"lower-case enum", get("/api/v1/stores/S001/backorders?status=open", "blake")},
		{"exponent Int", get("/api/v1/stores?pageSize=1e1", "devon")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if w := e.do(t, c.req); w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
			}
		})
	}
}

func testErrorMapping(t *testing.T, e *env) {
	cases := []struct {
		name   string
		req    req
		status int
		code   string
	}{
		{"unknown product is 404", get("/api/v1/stores/S001/products/SKU-NOPE/availability", "avery"), 404, "NOT_FOUND"},
		{"unknown store is 404", get("/api/v1/stores/S999/products/SKU-00001/availability", "devon"), 404, "NOT_FOUND"},
		{"short search is 400", get("/api/v1/customers?search=a", "avery"), 400, "BAD_USER_INPUT"},
		{"bad page token is 400", get("/api/v1/stores?pageToken=garbage", "devon"), 400, "BAD_USER_INPUT"},
		{"no route is 404", get("/api/v1/nothing", "avery"), 404, "NOT_FOUND"},
		{"wrong method is 405", post("/api/v1/stores", "avery", `{}`), 405, "METHOD_NOT_ALLOWED"},
		{"unknown backorder is 404", post("/api/v1/backorders/00000000-0000-0000-0000-000000000000/status", "blake", `{"status":"CANCELLED"}`), 404, "NOT_FOUND"},
		{"unknown event is 404", post("/api/v1/events/EV999/rsvp", "avery", `{"response":"GOING"}`), 404, "NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, c.req)
			b := decodeBody[errorBody](t, w)
			if w.Code != c.status || b.Error.Code != c.code {
				t.Fatalf("got %d %s, want %d %s: %s", w.Code, b.Error.Code, c.status, c.code, w.Body)
			}
			if strings.Contains(w.Body.String(), "null") {
				t.Errorf("error body carries null: %s", w.Body)
			}
		})
	}
}

// testPaging follows nextLink from the first page to the last, as a flow
// with x-ms-pageable does, and checks it keeps every other query parameter.
func testPaging(t *testing.T, e *env) {
	next := "/api/v1/stores/S001/backorders?status=OPEN&pageSize=7"
	seen := map[string]bool{}
	pages := 0
	for next != "" {
		w := e.do(t, get(next, "blake"))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", next, w.Code, w.Body)
		}
		p := decodeBody[page](t, w)
		pages++
		for _, b := range p.Value {
			id := b["id"].(string)
			if seen[id] {
				t.Fatalf("backorder %s on two pages", id)
			}
			seen[id] = true
			if b["status"] != "OPEN" {
				t.Fatalf("page %d lost the status filter: %v", pages, b["status"])
			}
		}
		if p.NextLink == "" {
			if p.NextCursor != "" {
				t.Fatalf("last page has nextCursor %q but no nextLink", p.NextCursor)
			}
			break
		}
		if len(p.Value) != 7 {
			t.Fatalf("page %d has %d items, want 7", pages, len(p.Value))
		}
		u, err := url.Parse(p.NextLink)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Scheme + "://" + u.Host; got != publicURL || u.Path != "/api/v1/stores/S001/backorders" {
			t.Fatalf("nextLink %s: want %s/api/v1/stores/S001/backorders", p.NextLink, publicURL)
		}
		q := u.Query()
		if q.Get("pageToken") != p.NextCursor || q.Get("status") != "OPEN" || q.Get("pageSize") != "7" {
			t.Fatalf("nextLink %s does not carry the query and the cursor %s", p.NextLink, p.NextCursor)
		}
		next = u.RequestURI()
	}
	var open int
	if err := e.db.SQLX().Get(&open, e.db.SQLX().Rebind(`SELECT COUNT(*) FROM backorders WHERE store_id = 'S001' AND status = 'OPEN'`)); err != nil {
		t.Fatal(err)
	}
	if len(seen) != open || pages < 2 {
		t.Fatalf("paged through %d backorders in %d pages, the store has %d open", len(seen), pages, open)
	}
}

func testETag(t *testing.T, e *env) {
	target := "/api/v1/stores/S002/products/SKU-00007/availability"
	w := e.do(t, get(target, "devon"))
	etag := w.Header().Get("ETag")
	if w.Code != 200 || !strings.HasPrefix(etag, `"`) || w.Header().Get("Cache-Control") != "private" {
		t.Fatalf("first GET: %d, ETag %q, Cache-Control %q", w.Code, etag, w.Header().Get("Cache-Control"))
	}
	cases := []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"same tag", etag, http.StatusNotModified},
		{"in a list", `"other", ` + etag, http.StatusNotModified},
		{"weak form", "W/" + etag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"other tag", `"other"`, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rq := get(target, "devon")
			rq.header = map[string]string{"If-None-Match": c.ifNoneMatch}
			w := e.do(t, rq)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d", w.Code, c.want)
			}
			if w.Header().Get("ETag") != etag {
				t.Errorf("ETag %q, want %q", w.Header().Get("ETag"), etag)
			}
			if c.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Errorf("304 with a body: %s", w.Body)
			}
		})
	}
	// Another answer, another tag.
	if w2 := e.do(t, get(target+"?nearbyLimit=1", "devon")); w2.Header().Get("ETag") == etag {
		t.Fatal("different answers share an ETag")
	}
}

// testNoNulls: the backorder list selects nullable data (empty notes are
// "", but recordedBy-style fields may be null); no answer may carry null.
func testNoNulls(t *testing.T, e *env) {
	for _, target := range []string{
		"/api/v1/stores?pageSize=100",
		"/api/v1/stores/S003/backorders?pageSize=100",
		"/api/v1/stores?pageSize=100&pageToken=",
	} {
		w := e.do(t, get(target, "devon"))
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "null") {
			t.Errorf("%s: body carries null", target)
		}
	}
}

// testWrites runs each write end to end.
func testWrites(t *testing.T, e *env) {
	w := e.do(t, post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00042","quantity":2.0,"contactPreference":"email","newCustomer":{"name":"Robin Test","email":"robin@example.com","phone":null},"note":""}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("RecordBackorder: %d %s", w.Code, w.Body)
	}
	golden(t, "RecordBackorder", w, []string{"createdAt", "updatedAt"})
	rec := decodeBody[map[string]any](t, w)
	id := rec["id"].(string)

	w = e.do(t, post("/api/v1/backorders/"+id+"/status", "blake", `{"status":"FULFILLED","note":"Collected"}`))
	if w.Code != 200 {
		t.Fatalf("UpdateBackorderStatus: %d %s", w.Code, w.Body)
	}
	golden(t, "UpdateBackorderStatus", w, []string{"updatedAt", "changedAt"})

	// A finished backorder cannot be cancelled: 409.
	w = e.do(t, post("/api/v1/backorders/"+id+"/status", "blake", `{"status":"CANCELLED"}`))
	if b := decodeBody[errorBody](t, w); w.Code != http.StatusConflict || b.Error.Code != "CONFLICT" {
		t.Fatalf("cancel a fulfilled backorder: %d %s", w.Code, w.Body)
	}

	w = e.do(t, post("/api/v1/events/EV004/rsvp", "casey", `{"response":"maybe"}`))
	if w.Code != 200 {
		t.Fatalf("RsvpEvent: %d %s", w.Code, w.Body)
	}
	golden(t, "RsvpEvent", w, []string{"respondedAt"})

	// Without a principal the write is refused as the resolver says.
	w = e.do(t, post("/api/v1/events/EV004/rsvp", "", `{"response":"GOING"}`))
	if b := decodeBody[errorBody](t, w); w.Code != http.StatusUnauthorized || b.Error.Code != "UNAUTHENTICATED" {
		t.Fatalf("anonymous RSVP: %d %s", w.Code, w.Body)
	}
}

func recordBody(note, key string) string {
	b := map[string]any{
		"storeId": "S001", "sku": "SKU-00100", "quantity": 1, "contactPreference": "EMAIL",
		"newCustomer": map[string]any{"name": "Idem Potent", "email": "idem@example.com"},
		"note":        note,
	}
	if key != "" {
		b["clientRequestId"] = key
	}
	out, _ := json.Marshal(b)
	return string(out)
}

func countNotes(t testing.TB, db *store.DB, note string) int {
	t.Helper()
	var n int
	if err := db.SQLX().Get(&n, db.SQLX().Rebind(`SELECT COUNT(*) FROM backorders WHERE note = ?`), note); err != nil {
		t.Fatal(err)
	}
	return n
}

func testIdempotency(t *testing.T, e *env) {
	t.Run("header key replays", func(t *testing.T) {
		rq := post("/api/v1/backorders", "avery", recordBody("idem header", ""))
		rq.header = map[string]string{"Idempotency-Key": "key-header-1"}
		first := e.do(t, rq)
		again := e.do(t, rq)
		if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() {
			t.Fatalf("replay differs: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
		}
		if again.Header().Get("Idempotent-Replayed") != "true" {
			t.Error("replay not marked Idempotent-Replayed")
		}
		if n := countNotes(t, e.db, "idem header"); n != 1 {
			t.Fatalf("%d backorders written, want 1", n)
		}
	})
	t.Run("body key replays, laid out differently", func(t *testing.T) {
		first := e.do(t, post("/api/v1/backorders", "avery", recordBody("idem body", "key-body-1")))
		// Same request, other property order and spacing, key in the header.
		rq := post("/api/v1/backorders", "avery", ` {"note":"idem body","sku":"SKU-00100","storeId":"S001","quantity":1.0,"contactPreference":"EMAIL","newCustomer":{"email":"idem@example.com","name":"Idem Potent"}}`)
		rq.header = map[string]string{"Idempotency-Key": "key-body-1"}
		again := e.do(t, rq)
		if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() {
			t.Fatalf("replay differs: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
		}
		if n := countNotes(t, e.db, "idem body"); n != 1 {
			t.Fatalf("%d backorders written, want 1", n)
		}
	})
	t.Run("same key, other request is 422", func(t *testing.T) {
		if w := e.do(t, post("/api/v1/backorders", "avery", recordBody("idem mismatch", "key-mm"))); w.Code != http.StatusCreated {
			t.Fatalf("first: %d %s", w.Code, w.Body)
		}
		w := e.do(t, post("/api/v1/backorders", "avery", recordBody("idem mismatch, changed", "key-mm")))
		if b := decodeBody[errorBody](t, w); w.Code != http.StatusUnprocessableEntity || b.Error.Code != facade.CodeIdempotencyMismatch {
			t.Fatalf("got %d %s, want 422", w.Code, w.Body)
		}
		if n := countNotes(t, e.db, "idem mismatch, changed"); n != 0 {
			t.Fatalf("the mismatched request wrote %d backorders", n)
		}
	})
	t.Run("keys are per user", func(t *testing.T) {
		a := e.do(t, post("/api/v1/backorders", "avery", recordBody("idem per user", "key-shared")))
		b := e.do(t, post("/api/v1/backorders", "blake", recordBody("idem per user", "key-shared")))
		if a.Code != http.StatusCreated || b.Code != http.StatusCreated || a.Body.String() == b.Body.String() {
			t.Fatalf("two users' requests with one key: %d %s / %d %s", a.Code, a.Body, b.Code, b.Body)
		}
		if n := countNotes(t, e.db, "idem per user"); n != 2 {
			t.Fatalf("%d backorders written, want 2", n)
		}
	})
	t.Run("failed request is not kept", func(t *testing.T) {
		bad := `{"storeId":"S001","sku":"SKU-NOPE","contactPreference":"EMAIL","newCustomer":{"name":"X","email":"x@example.com"},"note":"idem retry","clientRequestId":"key-fail"}`
		if w := e.do(t, post("/api/v1/backorders", "avery", bad)); w.Code != 404 {
			t.Fatalf("unknown sku: %d %s", w.Code, w.Body)
		}
		// Nothing was written, so the key is free for the corrected request.
		good := strings.Replace(bad, "SKU-NOPE", "SKU-00001", 1)
		if w := e.do(t, post("/api/v1/backorders", "avery", good)); w.Code != http.StatusCreated {
			t.Fatalf("corrected request with the same key: %d %s", w.Code, w.Body)
		}
	})
	t.Run("every write takes a key", func(t *testing.T) {
		first := e.do(t, post("/api/v1/events/EV006/rsvp", "avery", `{"response":"GOING","clientRequestId":"rsvp-1"}`))
		again := e.do(t, post("/api/v1/events/EV006/rsvp", "avery", `{"response":"GOING","clientRequestId":"rsvp-1"}`))
		if first.Code != 200 || first.Body.String() != again.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
			t.Fatalf("RSVP replay: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
		}
	})
}

// testConcurrentRetries: 50 identical requests with one key at once write
// exactly one backorder, and every one of them gets the same answer.
func testConcurrentRetries(t *testing.T, e *env) {
	const n = 50
	body := recordBody("idem concurrent", "key-concurrent")
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
		seen  = map[string]bool{}
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			w := e.do(t, post("/api/v1/backorders", "avery", body))
			mu.Lock()
			defer mu.Unlock()
			codes[w.Code]++
			if w.Code == http.StatusCreated {
				seen[w.Body.String()] = true
			}
		})
	}
	close(start)
	wg.Wait()
	if got := countNotes(t, e.db, "idem concurrent"); got != 1 {
		t.Fatalf("%d concurrent requests with one key wrote %d backorders, want 1", n, got)
	}
	if codes[http.StatusCreated] != n || len(seen) != 1 {
		t.Fatalf("statuses %v and %d distinct bodies; want %d times 201 with one body", codes, len(seen), n)
	}
}

// probeOps are operations that exist only in tests: one field that works and
// one that fails (availability at a store that does not exist), as a
// multi-source operation meets a source that is down.
func probeOps(t *testing.T, e *env) []facade.Operation {
	t.Helper()
	doc := `query %s {
  stores(first: 1) {
    nodes {
      id
    }
  }
  product(sku: "SKU-00001") {
    sku
    availability(storeId: "S999") {
      inStock
    }
  }
}
`
	fsys := fstest.MapFS{
		"PartialProbe.graphql": {Data: []byte("# method: GET\n# path: /partial\n# summary: Probe\n# description: Probe.\n# result: \"\"\n# partial: true\n" + fmt.Sprintf(doc, "PartialProbe"))},
		"StrictProbe.graphql":  {Data: []byte("# method: GET\n# path: /strict\n# summary: Probe\n# description: Probe.\n# result: \"\"\n" + fmt.Sprintf(doc, "StrictProbe"))},
	}
	ops, err := facade.Load(fsys, e.fac.Schema())
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// testPartial: a multi-source operation answers 200 with what it has and a
// warnings array; any other operation fails with the error's status.
func testPartial(t *testing.T, e *env) {
	p := newEnv(t, e.db, probeOps(t, e)...)
	w := p.do(t, get("/api/v1/partial", "devon"))
	if w.Code != http.StatusOK {
		t.Fatalf("partial: %d %s", w.Code, w.Body)
	}
	golden(t, "partial_warnings", w, nil)
	w = p.do(t, get("/api/v1/strict", "devon"))
	if b := decodeBody[errorBody](t, w); w.Code != http.StatusNotFound || b.Error.Code != "NOT_FOUND" {
		t.Fatalf("strict: %d %s, want 404 NOT_FOUND", w.Code, w.Body)
	}

	// The home view with the news service down: 200, every other source
	// answers, news is null and one warning says why.
	down := newEnvWith(t, e.db, cachedtest.Start(t, cachedtest.Options{NewsURL: upstreamtest.RefusedURL(t)}))
	w = down.do(t, get("/api/v1/me/home", "blake"))
	if w.Code != http.StatusOK {
		t.Fatalf("home with news down: %d %s, want 200", w.Code, w.Body)
	}
	type home struct {
		Profile struct {
			Login        string
			LeaveBalance *struct{ AnnualDays float64 }
		}
		News     json.RawMessage
		Warnings []struct {
			Code string
			Path string
		}
	}
	b := decodeBody[home](t, w)
	if b.Profile.Login != "blake" || b.Profile.LeaveBalance == nil {
		t.Errorf("home with news down lost other sources: %s", w.Body)
	}
	// The facade leaves nulls out of bodies (Power Fx reads a missing
	// field as blank), so news is absent.
	if (len(b.News) != 0 && string(b.News) != "null") || len(b.Warnings) != 1 || b.Warnings[0].Code != "UPSTREAM_UNAVAILABLE" || b.Warnings[0].Path != "news" {
		t.Errorf("home with news down: news %s, warnings %+v; want null and one UPSTREAM_UNAVAILABLE", b.News, b.Warnings)
	}
	// A connector operation that reads only news fails as a whole.
	w = down.do(t, get("/api/v1/news", "blake"))
	if bb := decodeBody[errorBody](t, w); bb.Error.Code != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("ListNews with news down: %d %s, want UPSTREAM_UNAVAILABLE", w.Code, w.Body)
	}
}

// testRuntimeInputs sends bodies and queries shaped the way the connector
// runtime and flows send them (CONNECTOR.md §10): an empty optional field as
// null or "", integers as 1.0, booleans as True/False.
func testRuntimeInputs(t *testing.T, e *env) {
	record := func(extra string) string {
		return `{"storeId":"S001","sku":"SKU-00042","contactPreference":"EMAIL","newCustomer":{"name":"Flow Input","email":"flow@example.com","phone":""}` + extra + `}`
	}
	cases := []struct {
		name     string
		body     string
		quantity float64
		note     string
	}{
		{"null quantity takes the default", record(`,"quantity":null`), 1, ""},
		{"blank quantity takes the default", record(`,"quantity":""`), 1, ""},
		{"spaces quantity takes the default", record(`,"quantity":"  "`), 1, ""},
		{"quantity as 1.0", record(`,"quantity":3.0`), 3, ""},
		{"quantity as text 2.0", record(`,"quantity":"2.0"`), 2, ""},
		{"null optional text", record(`,"note":null`), 1, ""},
		{"blank optional text", record(`,"note":""`), 1, ""},
		{"blank optional id", record(`,"customerId":"","note":"kept"`), 1, "kept"},
		{"null optional id", record(`,"customerId":null`), 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, post("/api/v1/backorders", "avery", c.body))
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", w.Code, w.Body)
			}
			b := decodeBody[map[string]any](t, w)
			if b["quantity"] != c.quantity {
				t.Errorf("quantity %v, want %v", b["quantity"], c.quantity)
			}
			if got, _ := b["note"].(string); got != c.note {
				t.Errorf("note %q, want %q", got, c.note)
			}
		})
	}

	refused := []struct {
		name, body, param string
	}{
		{"null required field", `{"storeId":"S001","sku":null,"contactPreference":"EMAIL","newCustomer":{"name":"X","email":"x@example.com"}}`, "sku"},
		{"blank required enum", `{"storeId":"S001","sku":"SKU-00042","contactPreference":"","newCustomer":{"name":"X","email":"x@example.com"}}`, "contactPreference"},
		{"null nested required", `{"storeId":"S001","sku":"SKU-00042","contactPreference":"EMAIL","newCustomer":{"name":null,"email":"a@b.c"}}`, "newCustomer.name"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, post("/api/v1/backorders", "avery", c.body))
			b := decodeBody[errorBody](t, w)
			if w.Code != http.StatusBadRequest || len(b.Error.Details) == 0 || b.Error.Details[0]["parameter"] != c.param {
				t.Fatalf("got %d %s, want 400 naming %s", w.Code, w.Body, c.param)
			}
		})
	}

	// No shipped operation takes a boolean parameter yet; a probe operation
	// binds events(includePast:) the way a future one would.
	fsys := fstest.MapFS{"EventsProbe.graphql": {Data: []byte(`# method: GET
# path: /probe/events
# summary: Probe
# description: Probe.
# result: events
# paged: {pageSize: first, cursor: after}
# params:
#   includePast: {in: query, summary: Include Past}
#   first: {in: query, name: pageSize, summary: Page Size}
#   after: {in: query, name: pageToken, summary: Page Token}
query EventsProbe($includePast: Boolean = false, $first: Int = 20, $after: String) {
  events(includePast: $includePast, first: $first, after: $after) {
    nodes {
      id
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`)}}
	ops, err := facade.Load(fsys, e.fac.Schema())
	if err != nil {
		t.Fatal(err)
	}
	p := newEnv(t, e.db, ops...)
	want := map[string]string{}
	for _, v := range []string{"true", "false"} {
		w := p.do(t, get("/api/v1/probe/events?pageSize=100&includePast="+v, "avery"))
		if w.Code != http.StatusOK {
			t.Fatalf("includePast=%s: %d %s", v, w.Code, w.Body)
		}
		want[v] = w.Body.String()
	}
	bools := []struct{ name, query, same string }{
		{"True", "includePast=True&pageSize=100.0", "true"},
		{"False", "includePast=False&pageSize=1e2", "false"},
		{"upper case", "includePast=TRUE&pageSize=100", "true"},
		{"blank is the default", "includePast=&pageSize=100", "false"},
	}
	for _, c := range bools {
		t.Run(c.name, func(t *testing.T) {
			w := p.do(t, get("/api/v1/probe/events?"+c.query, "avery"))
			if w.Code != http.StatusOK || w.Body.String() != want[c.same] {
				t.Fatalf("got %d %s, want the includePast=%s answer %s", w.Code, w.Body, c.same, want[c.same])
			}
		})
	}
	w := p.do(t, get("/api/v1/probe/events?includePast=yes", "avery"))
	if b := decodeBody[errorBody](t, w); w.Code != http.StatusBadRequest || len(b.Error.Details) == 0 || b.Error.Details[0]["parameter"] != "includePast" {
		t.Fatalf("includePast=yes: %d %s, want 400 naming includePast", w.Code, w.Body)
	}
}

// testPathValues: the runtime escapes a path value once, so the operation
// must see it decoded exactly once: %2534 is a literal %34, never a "4".
func testPathValues(t *testing.T, e *env) {
	cases := []struct {
		name   string
		req    req
		status int
		// inMessage is the value the operation saw, as its error names it.
		inMessage string
	}{
		{"escaped percent in event id", post("/api/v1/events/EV00%2534/rsvp", "casey", `{"response":"GOING"}`), 404, "EV00%34"},
		{"escaped percent in store id", get("/api/v1/stores/S00%2531/products/SKU-00001/availability", "devon"), 404, "S00%31"},
		{"escaped percent, other store", get("/api/v1/stores/S00%2531/products/SKU-00001/availability", "avery"), 403, ""},
		{"escaped slash in event id", post("/api/v1/events/EV%2F004/rsvp", "casey", `{"response":"GOING"}`), 404, "EV/004"},
		{"escaped letter", get("/api/v1/stores/S00%31/products/SKU-00001/availability", "devon"), 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, c.req)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.inMessage != "" {
				if b := decodeBody[errorBody](t, w); !strings.Contains(b.Error.Message, c.inMessage) {
					t.Errorf("message %q does not name %q", b.Error.Message, c.inMessage)
				}
			}
		})
	}
}

// checkErrorContract asserts the error body every /api/v1 answer shares
// (CONNECTOR.md §10): message first in the bytes, at most 200 characters,
// no long echo of client input, a code and a request id, under 1 KB, and
// Retry-After on 429 and 503.
func checkErrorContract(t *testing.T, w *httptest.ResponseRecorder) errorBody {
	t.Helper()
	if !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"error":{"message":`)) {
		t.Errorf("body does not start with the message: %.200s", w.Body)
	}
	if w.Body.Len() > 1024 {
		t.Errorf("error body is %d bytes, want at most 1024", w.Body.Len())
	}
	b := decodeBody[errorBody](t, w)
	if len(b.Error.Message) > 200 {
		t.Errorf("message is %d bytes, want at most 200: %.300s", len(b.Error.Message), b.Error.Message)
	}
	if strings.Contains(w.Body.String(), strings.Repeat("x", 41)) {
		t.Errorf("body echoes more than 40 characters of input: %.300s", w.Body)
	}
	if b.Error.Code == "" || b.Error.RequestID == "" {
		t.Errorf("error body lacks code or requestId: %s", w.Body)
	}
	if (w.Code == http.StatusTooManyRequests || w.Code == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		t.Errorf("%d without Retry-After", w.Code)
	}
	return b
}

// testErrorContract sends 5,000-character values everywhere a message may
// echo them; every layer (binding, resolvers, the facade's and the server's
// routers) must answer with the same short body.
func testErrorContract(t *testing.T, e *env) {
	long := strings.Repeat("x", 5000)
	cases := []struct {
		name   string
		req    req
		status int
		code   string
	}{
		// Ids are at most 64 characters (@maxLength in the schema): refused
		// before any lookup.
		{"long store id", get("/api/v1/stores/"+long+"/products/SKU-00001/availability", "devon"), 400, "BAD_USER_INPUT"},
		{"long event id", post("/api/v1/events/"+long+"/rsvp", "casey", `{"response":"GOING"}`), 400, "BAD_USER_INPUT"},
		{"long query value", get("/api/v1/stores/S001/backorders?status="+long, "blake"), 400, "BAD_USER_INPUT"},
		{"long body property", post("/api/v1/backorders", "avery", `{"`+long+`":1}`), 400, "BAD_USER_INPUT"},
		{"long body value", post("/api/v1/backorders", "avery", `{"storeId":"S001","sku":"SKU-00001","contactPreference":"`+long+`"}`), 400, "BAD_USER_INPUT"},
		{"long page token", get("/api/v1/stores?pageToken="+long, "devon"), 400, "BAD_USER_INPUT"},
		{"no operation at a long path", get("/api/v1/"+long, "avery"), 404, "NOT_FOUND"},
		{"no route at a long path", get("/"+long, "avery"), 404, "NOT_FOUND"},
		{"wrong method", req{method: http.MethodDelete, target: "/api/v1/stores", user: "devon"}, 405, "METHOD_NOT_ALLOWED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, c.req)
			b := checkErrorContract(t, w)
			if w.Code != c.status || b.Error.Code != c.code {
				t.Fatalf("got %d %s, want %d %s: %.300s", w.Code, b.Error.Code, c.status, c.code, w.Body)
			}
		})
	}
}

// testPageTokens: a page token the client made up is its own mistake
// whichever source refuses it (the store's cursors, the news service's):
// 400 BAD_USER_INPUT naming pageToken, never a 5xx that flows retry.
func testPageTokens(t *testing.T, e *env) {
	cases := []struct {
		name, target, user string
	}{
		{"ListStores", "/api/v1/stores?pageToken=garbage", "devon"},
		{"SearchProducts", "/api/v1/products?search=lamp&pageToken=garbage", "avery"},
		{"FindCustomers", "/api/v1/customers?search=an&pageToken=garbage", "avery"},
		{"ListStoreBackorders", "/api/v1/stores/S001/backorders?pageToken=garbage", "blake"},
		{"ListNews", "/api/v1/news?pageToken=garbage", "avery"},
		{"ListNews, cursor-shaped", "/api/v1/news?pageToken=Y3Vyc29yLTk5OTk", "avery"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(t, get(c.target, c.user))
			b := checkErrorContract(t, w)
			if w.Code != http.StatusBadRequest || b.Error.Code != "BAD_USER_INPUT" {
				t.Fatalf("got %d %s, want 400 BAD_USER_INPUT: %s", w.Code, b.Error.Code, w.Body)
			}
			if len(b.Error.Details) == 0 || b.Error.Details[0]["parameter"] != "pageToken" || !strings.HasPrefix(b.Error.Message, "pageToken") {
				t.Errorf("error does not name pageToken: %s", w.Body)
			}
		})
	}
}

// testDegrade: with one upstream down, every operation that reads it only
// for part of its answer answers 200 with the rest and a warning naming the
// missing part; an operation whose answer IS that upstream's answers 503
// with Retry-After.
func testDegrade(t *testing.T, e *env) {
	down := map[string]*env{
		"supply": newEnvWith(t, e.db, cachedtest.Start(t, cachedtest.Options{SupplyURL: upstreamtest.RefusedURL(t)})),
		"hr":     newEnvWith(t, e.db, cachedtest.Start(t, cachedtest.Options{HRURL: upstreamtest.RefusedURL(t)})),
		"news":   newEnvWith(t, e.db, cachedtest.Start(t, cachedtest.Options{NewsURL: upstreamtest.RefusedURL(t)})),
	}
	type warning struct{ Code, Message, Path string }
	type body struct {
		Value    []map[string]any
		OnHand   *int
		Profile  map[string]any
		Warnings []warning
	}
	cases := []struct {
		name, down string
		req        req
		// rest says the main data is there.
		rest func(body) bool
		// warnPath is the one warning's path.
		warnPath string
	}{
		{"ListStoreBackorders, supply down", "supply", get("/api/v1/stores/S001/backorders?status=OPEN&pageSize=5", "blake"),
			func(b body) bool { return len(b.Value) == 5 && b.Value[0]["customer"] != nil }, "value.nextRestock"},
		{"GetProductAvailability, supply down", "supply", get("/api/v1/stores/S001/products/SKU-00042/availability", "avery"),
			func(b body) bool { return b.OnHand != nil }, "nextRestock"},
		{"GetMyHome, HR down", "hr", get("/api/v1/me/home", "avery"),
			func(b body) bool { return b.Profile["login"] == "avery" && b.Profile["leaveBalance"] == nil }, "profile.leaveBalance"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := down[c.down].do(t, c.req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: %.500s", w.Code, w.Body)
			}
			b := decodeBody[body](t, w)
			if !c.rest(b) {
				t.Errorf("the rest of the answer is missing: %.500s", w.Body)
			}
			if len(b.Warnings) != 1 || b.Warnings[0].Code != "UPSTREAM_UNAVAILABLE" || b.Warnings[0].Path != c.warnPath || b.Warnings[0].Message == "" {
				t.Errorf("warnings %+v, want one UPSTREAM_UNAVAILABLE at %s", b.Warnings, c.warnPath)
			}
		})
	}
	t.Run("GetMyHome, supply down", func(t *testing.T) {
		w := down["supply"].do(t, get("/api/v1/me/home", "blake"))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"path":"profile.store.openBackorders.nodes.nextRestock"`) {
			t.Fatalf("got %d %.500s, want 200 with a nextRestock warning", w.Code, w.Body)
		}
	})
	t.Run("ListNews, news down", func(t *testing.T) {
		w := down["news"].do(t, get("/api/v1/news", "avery"))
		b := checkErrorContract(t, w)
		if w.Code != http.StatusServiceUnavailable || b.Error.Code != "UPSTREAM_UNAVAILABLE" || w.Header().Get("Retry-After") == "" {
			t.Fatalf("got %d %s Retry-After %q, want 503 UPSTREAM_UNAVAILABLE with Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"))
		}
	})
	t.Run("nothing down, no warnings", func(t *testing.T) {
		w := e.do(t, get("/api/v1/stores/S001/backorders?pageSize=5", "blake"))
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "warnings") {
			t.Fatalf("got %d %.300s, want 200 without warnings", w.Code, w.Body)
		}
	})
}
