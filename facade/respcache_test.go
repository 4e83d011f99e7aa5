package facade_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/cache"
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

// cacheCounts records what the facade reports to its CacheMetrics.
type cacheCounts struct {
	mu                  sync.Mutex
	hits, misses, inval map[string]int
}

func newCacheCounts() *cacheCounts {
	return &cacheCounts{hits: map[string]int{}, misses: map[string]int{}, inval: map[string]int{}}
}

func (c *cacheCounts) ResponseCacheHit(op string)  { c.mu.Lock(); c.hits[op]++; c.mu.Unlock() }
func (c *cacheCounts) ResponseCacheMiss(op string) { c.mu.Lock(); c.misses[op]++; c.mu.Unlock() }
func (c *cacheCounts) ResponseCacheInvalidated(f string) {
	c.mu.Lock()
	c.inval[f]++
	c.mu.Unlock()
}

func (c *cacheCounts) get(m map[string]int, op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m[op]
}

// cacheEnv is the whole router with the response cache on, behind the real
// bearer-token verification (dev issuer), so that scopes and personas are
// exactly what production sees.
type cacheEnv struct {
	h      http.Handler
	db     *store.DB
	fac    *facade.Facade
	counts *cacheCounts
	dev    *auth.DevIssuer
}

func newCacheEnv(t *testing.T, db *store.DB, up *cachedtest.Upstreams, bus cache.Bus, dev *auth.DevIssuer, authn *auth.Authenticator) *cacheEnv {
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
	counts := newCacheCounts()
	fac, err := facade.New(exec, db, facade.Options{
		Origin: pub.Origin, Log: log,
		ResponseCacheBytes: 8 << 20, InvalidationBus: bus, CacheMetrics: counts,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fac.Close)
	exec.Use(fac.Invalidation())
	h := server.NewHandler(cfg, server.Deps{
		Log: log, GraphQL: exec.Handler(), Loaders: loaders.Middleware(db, up.Sources, cfg.GraphQL.BatchWait), Ready: db,
		Authenticate: authn.Middleware(server.WriteError),
		Facade:       fac,
	})
	return &cacheEnv{h: h, db: db, fac: fac, counts: counts, dev: dev}
}

func (e *cacheEnv) token(t *testing.T, login string, scopes ...string) string {
	t.Helper()
	emp, err := e.db.EmployeeByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{config.ScopeReadWrite}
	}
	tok, err := e.dev.Mint(auth.DevToken{OID: emp.OID, Audience: auth.DevAudience, Scopes: scopes, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *cacheEnv) call(t *testing.T, method, target, token, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// cached GETs target until the answer comes from the cache, and returns
// that answer: ristretto may refuse a write, so a hit is waited for (a
// bounded number of tries), never assumed.
func (e *cacheEnv) cached(t *testing.T, op, target, token string) *httptest.ResponseRecorder {
	t.Helper()
	for range 20 {
		before := e.counts.get(e.counts.hits, op)
		w := e.call(t, http.MethodGet, target, token, "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
		}
		if e.counts.get(e.counts.hits, op) > before {
			return w
		}
		facade.WaitResponseCache(e.fac)
	}
	t.Fatalf("GET %s never came from the cache", target)
	return nil
}

// fresh GETs target and requires that it ran (a miss, not a hit).
func (e *cacheEnv) fresh(t *testing.T, op, target, token string) *httptest.ResponseRecorder {
	t.Helper()
	hits := e.counts.get(e.counts.hits, op)
	w := e.call(t, http.MethodGet, target, token, "")
	if got := e.counts.get(e.counts.hits, op); got != hits {
		t.Fatalf("GET %s was served from the cache (%d hits, want %d)", target, got, hits)
	}
	return w
}

func storeIDs(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	p := decodeBody[page](t, w)
	var ids []string
	for _, s := range p.Value {
		ids = append(ids, s["id"].(string))
	}
	return ids
}

// TestResponseCache proves on each engine that cached answers are never
// shared between callers who may see different rows, that the same
// request spelled differently shares one answer, that ETags revalidate from
// the cache, and that facade writes invalidate at once.
func TestResponseCache(t *testing.T) {
	for _, eng := range storetest.SeededEngines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			dev, authn := graphtest.DevAuth(t, eng.DB)
			e := newCacheEnv(t, eng.DB, cachedtest.Start(t, cachedtest.Options{}), nil, dev, authn)
			avery, blake, casey, devon := e.token(t, "avery"), e.token(t, "blake"), e.token(t, "casey"), e.token(t, "devon")

			t.Run("scope", func(t *testing.T) {
				// avery and blake both act for S001: one answer serves both.
				a := e.cached(t, "ListStores", "/api/v1/stores", avery)
				if got := storeIDs(t, a); len(got) != 1 || got[0] != "S001" {
					t.Fatalf("avery's stores = %v, want [S001]", got)
				}
				b := e.cached(t, "ListStores", "/api/v1/stores", blake)
				if b.Body.String() != a.Body.String() {
					t.Errorf("blake's cached stores differ from avery's:\n%s\n%s", b.Body, a.Body)
				}
				// casey (S002) and devon (every store) may see other rows:
				// each runs the operation and gets their own.
				if got := storeIDs(t, e.fresh(t, "ListStores", "/api/v1/stores", casey)); len(got) != 1 || got[0] != "S002" {
					t.Errorf("casey's stores = %v, want [S002]", got)
				}
				if got := storeIDs(t, e.fresh(t, "ListStores", "/api/v1/stores", devon)); len(got) != 20 || got[0] != "S001" || got[1] != "S002" {
					t.Errorf("devon's stores = %v, want the first 20 stores", got)
				}

				// A store's backorders: cached for avery, refused to casey,
				// run afresh for devon.
				e.cached(t, "ListStoreBackorders", "/api/v1/stores/S001/backorders", avery)
				if w := e.fresh(t, "ListStoreBackorders", "/api/v1/stores/S001/backorders", casey); w.Code != http.StatusForbidden {
					t.Errorf("casey reading S001's backorders: %d %s, want 403", w.Code, w.Body)
				}
				if w := e.fresh(t, "ListStoreBackorders", "/api/v1/stores/S001/backorders", devon); w.Code != http.StatusOK {
					t.Errorf("devon reading S001's backorders: %d %s", w.Code, w.Body)
				}

				// The home view is personal: blake never gets avery's.
				e.cached(t, "GetMyHome", "/api/v1/me/home", avery)
				home := decodeBody[struct {
					Profile struct{ Login string } `json:"profile"`
				}](t, e.fresh(t, "GetMyHome", "/api/v1/me/home", blake))
				if home.Profile.Login != "blake" {
					t.Errorf("blake's home view belongs to %q", home.Profile.Login)
				}

				// A token without a read scope is refused before any cache.
				hits := e.counts.get(e.counts.hits, "ListStores")
				noRead := e.token(t, "avery", "Other.Scope")
				w := e.call(t, http.MethodGet, "/api/v1/stores", noRead, "")
				if w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), `"value"`) {
					t.Errorf("token without read scope: %d %s, want 403 without data", w.Code, w.Body)
				}
				if got := e.counts.get(e.counts.hits, "ListStores"); got != hits {
					t.Errorf("token without read scope was served from the cache")
				}
			})

			t.Run("same request spelled differently", func(t *testing.T) {
				first := e.cached(t, "ListStoreBackorders", "/api/v1/stores/S001/backorders?status=OPEN&pageSize=3", blake)
				next := decodeBody[page](t, first).NextCursor
				if next == "" {
					t.Fatal("no next page")
				}
				for _, target := range []string{
					"/api/v1/stores/S001/backorders?pageSize=3&status=OPEN",
					"/api/v1/stores/S001/backorders?pageSize=3&status=open&pageToken=",
				} {
					hits := e.counts.get(e.counts.hits, "ListStoreBackorders")
					w := e.call(t, http.MethodGet, target, blake, "")
					if got := e.counts.get(e.counts.hits, "ListStoreBackorders"); got != hits+1 {
						t.Errorf("%s: not served from the cache", target)
					}
					p := decodeBody[page](t, w)
					if p.NextCursor != next || len(p.Value) != 3 {
						t.Errorf("%s: %d rows, cursor %q; want 3, %q", target, len(p.Value), p.NextCursor, next)
					}
					// nextLink keeps this request's own spelling.
					u, err := url.Parse(p.NextLink)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := url.Parse(target)
					q := want.Query()
					q.Set("pageToken", next)
					if u.Query().Encode() != q.Encode() || !strings.HasPrefix(p.NextLink, publicURL+"/api/v1/stores/S001/backorders?") {
						t.Errorf("%s: nextLink %s, want this request's query with pageToken", target, p.NextLink)
					}
				}
				// The default page size written out is the same request.
				e.cached(t, "ListStores", "/api/v1/stores", devon)
				hits := e.counts.get(e.counts.hits, "ListStores")
				dflt := e.call(t, http.MethodGet, "/api/v1/stores?pageSize=20", devon, "")
				if got := e.counts.get(e.counts.hits, "ListStores"); got != hits+1 {
					t.Error("pageSize=20 (the default) was not served the cached default page")
				}
				if got := storeIDs(t, dflt); len(got) != 20 {
					t.Errorf("devon's stores with pageSize=20: %d", len(got))
				}
				// nextLink pages are cached like any other parameters.
				e.cached(t, "ListStoreBackorders", decodeBody[page](t, first).NextLink, blake)
			})

			t.Run("etag", func(t *testing.T) {
				w := e.cached(t, "ListStores", "/api/v1/stores", avery)
				etag := w.Header().Get("ETag")
				cc := w.Header().Get("Cache-Control")
				age, err := strconv.Atoi(strings.TrimPrefix(cc, "private, max-age="))
				if err != nil || age < 0 || age > 300 {
					t.Errorf("Cache-Control %q, want private, max-age up to the declared 300", cc)
				}
				if got := w.Header().Get("Vary"); got != "Authorization" {
					t.Errorf("Vary %q, want Authorization", got)
				}
				hits := e.counts.get(e.counts.hits, "ListStores")
				misses := e.counts.get(e.counts.misses, "ListStores")
				nm := e.call(t, http.MethodGet, "/api/v1/stores", blake, "", "If-None-Match", etag)
				if nm.Code != http.StatusNotModified || nm.Body.Len() != 0 || nm.Header().Get("ETag") != etag {
					t.Errorf("revalidation: %d %q etag %q, want 304 with %s", nm.Code, nm.Body, nm.Header().Get("ETag"), etag)
				}
				if e.counts.get(e.counts.hits, "ListStores") != hits+1 || e.counts.get(e.counts.misses, "ListStores") != misses {
					t.Error("the 304 did not come from the cache")
				}
			})

			t.Run("errors are not cached", func(t *testing.T) {
				for range 3 {
					w := e.fresh(t, "GetProductAvailability", "/api/v1/stores/S001/products/SKU-NOPE/availability", avery)
					if w.Code != http.StatusNotFound || w.Header().Get("Cache-Control") != "no-store" {
						t.Fatalf("unknown SKU: %d %q", w.Code, w.Header().Get("Cache-Control"))
					}
					facade.WaitResponseCache(e.fac)
				}
			})

			t.Run("writes invalidate at once", func(t *testing.T) {
				list := "/api/v1/stores/S001/backorders?status=OPEN"
				before := decodeBody[page](t, e.cached(t, "ListStoreBackorders", list, avery))
				e.cached(t, "FindCustomers", "/api/v1/customers?search=Cache+Test", avery)
				e.cached(t, "GetMyHome", "/api/v1/me/home", avery)
				e.cached(t, "ListStoreBackorders", "/api/v1/stores/S002/backorders?status=OPEN", casey)

				// A refused write changes nothing and drops nothing.
				if w := e.call(t, http.MethodPost, "/api/v1/backorders", casey, `{"storeId":"S001","sku":"SKU-00042","contactPreference":"EMAIL","newCustomer":{"name":"Cache Test","email":"cache@example.com"}}`); w.Code != http.StatusForbidden {
					t.Fatalf("casey recording at S001: %d %s", w.Code, w.Body)
				}
				e.cached(t, "ListStoreBackorders", list, avery)

				w := e.call(t, http.MethodPost, "/api/v1/backorders", avery, `{"storeId":"S001","sku":"SKU-00042","contactPreference":"EMAIL","newCustomer":{"name":"Cache Test","email":"cache@example.com"}}`)
				if w.Code != http.StatusCreated {
					t.Fatalf("record: %d %s", w.Code, w.Body)
				}
				id := decodeBody[map[string]any](t, w)["id"].(string)

				after := decodeBody[page](t, e.fresh(t, "ListStoreBackorders", list, avery))
				if len(after.Value) == 0 || after.Value[0]["id"] != id {
					t.Fatalf("S001's open backorders right after recording %s: %v", id, after.Value)
				}
				if len(before.Value) > 0 && after.Value[0]["id"] == before.Value[0]["id"] {
					t.Fatal("the list did not change")
				}
				custs := decodeBody[page](t, e.fresh(t, "FindCustomers", "/api/v1/customers?search=Cache+Test", avery))
				if len(custs.Value) != 1 {
					t.Errorf("the new customer is not found at once: %v", custs.Value)
				}
				home := e.fresh(t, "GetMyHome", "/api/v1/me/home", avery)
				if !strings.Contains(home.Body.String(), id) {
					t.Errorf("avery's home view lacks the new backorder %s", id)
				}
				// Another store's lists keep their answers.
				e.cached(t, "ListStoreBackorders", "/api/v1/stores/S002/backorders?status=OPEN", casey)

				// The manager fulfils it: gone from the open list at once.
				e.cached(t, "ListStoreBackorders", list, avery)
				if w := e.call(t, http.MethodPost, "/api/v1/backorders/"+id+"/status", blake, `{"status":"FULFILLED"}`); w.Code != http.StatusOK {
					t.Fatalf("fulfil: %d %s", w.Code, w.Body)
				}
				again := decodeBody[page](t, e.fresh(t, "ListStoreBackorders", list, avery))
				if len(again.Value) > 0 && again.Value[0]["id"] == id {
					t.Errorf("fulfilled backorder %s is still listed as open", id)
				}
				if got := e.counts.get(e.counts.inval, "backorders"); got < 2 {
					t.Errorf("backorders invalidations counted: %d, want at least 2", got)
				}
			})

			t.Run("a mutation through /graphql invalidates as the facade's write does", func(t *testing.T) {
				list := "/api/v1/stores/S001/backorders?status=OPEN&pageSize=1"
				e.cached(t, "ListStoreBackorders", list, avery)
				e.cached(t, "FindCustomers", "/api/v1/customers?search=GraphQL+Writer", avery)
				inval := e.counts.get(e.counts.inval, "backorders")
				mutation := `{"query":"mutation($in: RecordBackorderInput!) { recordBackorder(input: $in) { backorder { id } } }","variables":{"in":{"storeId":"S001","sku":"SKU-00044","contactPreference":"EMAIL","newCustomer":{"name":"GraphQL Writer","email":"gql@example.com"}}}}`
				w := e.call(t, http.MethodPost, "/graphql", avery, mutation)
				var rec struct {
					Data struct {
						RecordBackorder struct{ Backorder struct{ ID string } }
					}
				}
				if err := json.Unmarshal(w.Body.Bytes(), &rec); err != nil || w.Code != http.StatusOK || rec.Data.RecordBackorder.Backorder.ID == "" {
					t.Fatalf("recordBackorder through /graphql: %d %s", w.Code, w.Body)
				}
				id := rec.Data.RecordBackorder.Backorder.ID
				if got := decodeBody[page](t, e.fresh(t, "ListStoreBackorders", list, avery)); len(got.Value) != 1 || got.Value[0]["id"] != id {
					t.Errorf("S001's open backorders after the mutation start with %v, want %s", got.Value, id)
				}
				if got := decodeBody[page](t, e.fresh(t, "FindCustomers", "/api/v1/customers?search=GraphQL+Writer", avery)); len(got.Value) != 1 {
					t.Errorf("the customer the mutation created is not found at once: %v", got.Value)
				}
				// updateBackorderStatus names no store: every store's lists go.
				e.cached(t, "ListStoreBackorders", list, avery)
				w = e.call(t, http.MethodPost, "/graphql", blake, `{"query":"mutation { updateBackorderStatus(input: {backorderId: \"`+id+`\", status: CANCELLED}) { backorder { status } } }"}`)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"CANCELLED"`) {
					t.Fatalf("updateBackorderStatus through /graphql: %d %s", w.Code, w.Body)
				}
				if got := decodeBody[page](t, e.fresh(t, "ListStoreBackorders", list, avery)); len(got.Value) == 1 && got.Value[0]["id"] == id {
					t.Errorf("cancelled backorder %s is still listed as open", id)
				}
				if got := e.counts.get(e.counts.inval, "backorders"); got != inval+2 {
					t.Errorf("backorders invalidations counted: %d, want %d", got, inval+2)
				}
				// A mutation that fails invalidates nothing.
				e.cached(t, "ListStoreBackorders", list, avery)
				w = e.call(t, http.MethodPost, "/graphql", casey, strings.Replace(mutation, "GraphQL Writer", "Refused Writer", 1))
				if !strings.Contains(w.Body.String(), `"FORBIDDEN"`) {
					t.Fatalf("casey recording at S001 through /graphql: %d %s", w.Code, w.Body)
				}
				hits := e.counts.get(e.counts.hits, "ListStoreBackorders")
				e.call(t, http.MethodGet, list, avery, "")
				if got := e.counts.get(e.counts.hits, "ListStoreBackorders"); got != hits+1 {
					t.Error("a refused mutation dropped the cached list")
				}
			})

			t.Run("another replica", func(t *testing.T) {
				// Two facades on one bus stand for two replicas: a write on
				// one is seen at once on the other.
				bus := cache.NewLocalBus()
				up := cachedtest.Start(t, cachedtest.Options{})
				r1 := newCacheEnv(t, eng.DB, up, bus, dev, authn)
				r2 := newCacheEnv(t, eng.DB, up, bus, dev, authn)
				list := "/api/v1/stores/S001/backorders?status=OPEN&pageSize=1"
				r2.cached(t, "ListStoreBackorders", list, avery)
				w := r1.call(t, http.MethodPost, "/api/v1/backorders", avery, `{"storeId":"S001","sku":"SKU-00043","contactPreference":"EMAIL","newCustomer":{"name":"Replica Test","email":"replica@example.com"}}`)
				if w.Code != http.StatusCreated {
					t.Fatalf("record: %d %s", w.Code, w.Body)
				}
				id := decodeBody[map[string]any](t, w)["id"]
				if got := decodeBody[page](t, r2.fresh(t, "ListStoreBackorders", list, avery)); len(got.Value) != 1 || got.Value[0]["id"] != id {
					t.Errorf("replica 2 lists %v first, want %s", got.Value, id)
				}
			})
		})
	}
}

// TestResponseCacheKeepsNoWarnings: an answer with warnings (a source was
// down) or an outage error is never cached.
func TestResponseCacheKeepsNoWarnings(t *testing.T) {
	db, _ := storetest.SeededSQLite(t)
	dev, authn := graphtest.DevAuth(t, db)
	e := newCacheEnv(t, db, cachedtest.Start(t, cachedtest.Options{NewsURL: upstreamtest.RefusedURL(t)}), nil, dev, authn)
	avery := e.token(t, "avery")
	for range 3 {
		w := e.fresh(t, "GetMyHome", "/api/v1/me/home", avery)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"warnings"`) {
			t.Fatalf("home with news down: %d %s, want 200 with warnings", w.Code, w.Body)
		}
		if w := e.fresh(t, "ListNews", "/api/v1/news", avery); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("news down: %d %s, want 503", w.Code, w.Body)
		}
		facade.WaitResponseCache(e.fac)
	}
}

// BenchmarkResponseCache compares facade reads with the response cache off
// and on (warm), through the whole router in process, as the same user.
func BenchmarkResponseCache(b *testing.B) {
	db := storetest.SQLite(b)
	if err := db.Seed(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	up := cachedtest.Start(b, cachedtest.Options{})
	envs := map[string]*env{
		"off": newEnvOpts(b, db, up, facade.Options{}),
		"on":  newEnvOpts(b, db, up, facade.Options{ResponseCacheBytes: 8 << 20}),
	}
	b.Cleanup(envs["on"].fac.Close)
	for _, c := range []struct{ op, target string }{
		{"ListStores", "/api/v1/stores"},
		{"ListStoreBackorders20", "/api/v1/stores/S001/backorders?status=OPEN&pageSize=20"},
	} {
		target := c.target
		for _, mode := range []string{"off", "on"} {
			e := envs[mode]
			b.Run(c.op+"/cache="+mode, func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				for b.Loop() {
					r := httptest.NewRequest(http.MethodGet, target, nil)
					r.Header.Set(userHeader, "blake")
					w := httptest.NewRecorder()
					e.h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
