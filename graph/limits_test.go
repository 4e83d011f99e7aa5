package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

// aliases repeats field n times under aliases a0, a1, ...; %d in field is
// the alias number from 1 (wrapping after cycle, when given, to stay within
// an argument's range), so arguments can differ and no loader can dedupe.
func aliases(n int, field string, cycle ...int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: ", i)
		if strings.Contains(field, "%d") {
			k := i
			if len(cycle) > 0 {
				k = i % cycle[0] // keep the number within the argument's range
			}
			fmt.Fprintf(&b, field, k+1)
		} else {
			b.WriteString(field)
		}
	}
	b.WriteString(" }")
	return b.String()
}

// postStrict sends a GraphQL request asking for
// application/graphql-response+json, under which GraphQL over HTTP answers a
// refused operation with 4xx (application/json keeps 200).
func postStrict(t *testing.T, s *testServer, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	req.Header.Set("Authorization", "Bearer "+s.Token)
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

// depthBomb nests customer backorders n times.
func depthBomb(n int) string {
	return `{ customer(id: "C0001") { ` + strings.Repeat(`backorders(first: 1) { nodes { customer { `, n) + `id` + strings.Repeat(` } } }`, n) + ` } }`
}

// fragmentBomb spreads each fragment twice into the next: 2^n fields once
// expanded, from a few hundred bytes of text.
func fragmentBomb(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{ me { ...F%d } }\nfragment F0 on Employee { id login }\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Employee { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

// TestHostileOperations: each limit refuses its bomb with a 400 that names
// the limit, before any resolver runs: the refused operation costs exactly
// what an unparsable one does (authentication's own lookup), no SQL of its
// own and no upstream call.
func TestHostileOperations(t *testing.T) {
	long := strings.Repeat("z", 200) // the longest search the input contract lets through
	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		wantCode string
		wantMsg  string
	}{
		{"1,000 aliased product searches", aliases(1000, `products(search: "a") { nodes { sku } }`), nil, "GRAPHQL_VALIDATION_FAILED", "30 root fields"},
		{"1,000 aliased customer searches", aliases(1000, `customers(search: "an") { nodes { id } }`), nil, "GRAPHQL_VALIDATION_FAILED", "30 root fields"},
		{"1,000 aliased __schema", aliases(1000, `__schema { types { name fields { name } } }`), nil, "GRAPHQL_VALIDATION_FAILED", "30 root fields"},
		{"100 aliased news pages", aliases(100, `news(first: %d) { nodes { id } }`, 50), nil, "GRAPHQL_VALIDATION_FAILED", "30 root fields"},
		{"30 searches over the cost limit", "query($q: String) " + aliases(30, `products(search: $q, first: 50) { nodes { sku name } }`), map[string]any{"q": long}, "COMPLEXITY_LIMIT_EXCEEDED", "exceeds the limit of 5000"},
		{"20 aliased __schema over the cost limit", aliases(20, `__schema { types { name } }`), nil, "COMPLEXITY_LIMIT_EXCEEDED", "exceeds the limit of 5000"},
		{"1,000 aliased __type", aliases(1000, `__type(name: "Query") { fields { name } }`), nil, "GRAPHQL_VALIDATION_FAILED", "30 root fields"},
		{"depth bomb", depthBomb(8), nil, "GRAPHQL_VALIDATION_FAILED", "15 levels"},
		{"600 aliased scalars", `{ me { ` + strings.TrimSuffix(strings.TrimPrefix(aliases(600, `id`), "{"), "}") + ` } }`, nil, "GRAPHQL_VALIDATION_FAILED", "500 fields"},
		{"fragment bomb", fragmentBomb(30), nil, "GRAPHQL_VALIDATION_FAILED", "500 fields"},
	}
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			// The baseline: what a request costs that never reaches an
			// operation (authentication looks the caller up first).
			before := s.DB.Statements()
			if status, _ := postStrict(t, s, `{`, nil); status != http.StatusBadRequest {
				t.Fatalf("unparsable query: status %d, want 400", status)
			}
			baseline := s.DB.Statements() - before
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sqlBefore, upBefore := s.DB.Statements(), s.Up.Calls()
					status, res := postStrict(t, s, tt.query, tt.vars)
					if status != http.StatusBadRequest {
						t.Errorf("status %d, want 400", status)
					}
					if len(res.Errors) != 1 || res.Code(0) != tt.wantCode || !strings.Contains(res.Errors[0].Message, tt.wantMsg) {
						t.Fatalf("errors %+v, want one %s mentioning %q", res.Errors, tt.wantCode, tt.wantMsg)
					}
					if res.Data != nil {
						t.Errorf("data %v: a refused operation has no data", res.Data)
					}
					if got := s.DB.Statements() - sqlBefore; got > baseline {
						t.Errorf("%d SQL statements, want %d (authentication only): a refused operation runs none", got, baseline)
					}
					if got := s.Up.Calls(); got != upBefore {
						t.Errorf("upstream calls %+v -> %+v, want none", upBefore, got)
					}
				})
			}
		})
	}
}

// introspectionQuery is the query GraphiQL sends when the playground opens
// (graphql-js getIntrospectionQuery with descriptions, specifiedByURL,
// repeatable directives and input value deprecation): the limits must let
// it through.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

// TestLimitsAdmitLegitimateOperations: the defaults let the playground's
// introspection and the connector's largest screen through.
func TestLimitsAdmitLegitimateOperations(t *testing.T) {
	s := engines(t)["sqlite"]
	status, res := postStrict(t, s, introspectionQuery, nil)
	if status != http.StatusOK || len(res.Errors) > 0 || len(res.Data["__schema"]) < 1000 {
		t.Fatalf("introspection: status %d, errors %+v, %d bytes of schema", status, res.Errors, len(res.Data["__schema"]))
	}
	status, res = postStrict(t, s, homeQuery, nil)
	if status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("home view: status %d, errors %+v", status, res.Errors)
	}
}

// TestUpstreamFanOutSharesOneBudget: 25 news pages with different arguments
// (the loader cannot merge them) against a news service that never answers
// wait for it once: one call reaches it, the others fail at once when it
// timed out, and every page is null with UPSTREAM_UNAVAILABLE. Without the
// shared budget each page waits its own timeout, one after another.
func TestUpstreamFanOutSharesOneBudget(t *testing.T) {
	var blocks http.Handler
	for _, f := range upstreamtest.Faults() {
		if f.Blocks {
			blocks = f.Handler
		}
	}
	hang := upstreamtest.Serve(t, blocks)
	db, _ := storetest.SeededSQLite(t)
	// A short budget keeps the test quick; the count, not the time, is
	// what is asserted.
	up := cachedtest.Start(t, cachedtest.Options{NewsURL: hang.URL, Timeout: 200 * time.Millisecond})
	s := newServerUp(t, db, db, up)
	s.Token = s.TokenFor(t, "avery")

	const pages = 25
	status, res := postStrict(t, s, aliases(pages, `news(first: %d) { nodes { id } }`), nil)
	if status != http.StatusOK {
		t.Errorf("status %d, want 200 with every page null", status)
	}
	if got := hang.Requests(); got > 2 {
		t.Errorf("%d calls reached the hanging news service for %d pages, want 1 (2 if the loader split the batch)", got, pages)
	}
	if got := up.News.Calls(); got > 2 {
		t.Errorf("news client sent %d requests, want at most 2", got)
	}
	unavailable := 0
	for i := range res.Errors {
		if res.Code(i) == "UPSTREAM_UNAVAILABLE" {
			unavailable++
		}
	}
	if unavailable != pages {
		t.Errorf("%d UPSTREAM_UNAVAILABLE errors, want %d (one per page): %+v", unavailable, pages, res.Errors)
	}
	for i := range pages {
		if got := string(res.Data[fmt.Sprintf("a%d", i)]); got != "null" {
			t.Errorf("a%d = %s, want null", i, got)
		}
	}
}

// TestHeavyRequestsLeaveRoomForLight: four heavy requests (30 aliased
// customer searches each) hold at most --db-request-conns connections each,
// so a light request still finds the pool open. On PostgreSQL the heavy
// searches are held in place by a lock on customers, so that what is
// counted does not depend on timing: how many of their statements wait at
// once, and that the light request (which reads stores) completes while
// they all still wait. SQLite readers cannot be held that way (WAL), so
// there the pool's peak use is sampled against the same bound.
func TestHeavyRequestsLeaveRoomForLight(t *testing.T) {
	const pool, heavies, perRequest = 16, 4, 2 // perRequest: config.Defaults
	for _, e := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			url := e.url(t)
			db, err := store.Open(ctx, store.Options{DatabaseURL: url, DataDir: t.TempDir(), MaxOpenConns: pool})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// The fixture: the heavy requests' scans are held by a lock
			// (PostgreSQL) or only sampled (SQLite), so their size does not matter.
			if err := db.SeedSized(ctx, store.FixtureSize); err != nil {
				t.Fatal(err)
			}
			s := newServer(t, db)
			s.Token = s.TokenFor(t, "devon")
			heavy := "query($q: String!) " + aliases(30, `customers(search: $q, first: 20) { nodes { id name } }`)
			term := strings.Repeat("no such customer ", 11) // 187 characters: a full scan, within the contract

			var release func()
			if url != "" {
				release = lockCustomers(t, url)
			}
			var maxInUse atomic.Int64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					if n := int64(db.SQLX().Stats().InUse); n > maxInUse.Load() {
						maxInUse.Store(n)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()

			var done atomic.Int64
			var wg sync.WaitGroup
			for range heavies {
				wg.Go(func() {
					defer done.Add(1)
					if status, res := postStrict(t, s, heavy, map[string]any{"q": term}); status != http.StatusOK || len(res.Errors) > 0 {
						t.Errorf("heavy request: status %d, errors %+v", status, res.Errors)
					}
				})
			}
			if release != nil {
				// Every heavy request has its share of statements waiting on
				// the lock, and no more than its share.
				waiting := waitForLockWaiters(t, db, heavies*perRequest)
				if waiting > heavies*perRequest {
					t.Errorf("%d statements of the heavy requests hold connections at once, want at most %d (%d per request)", waiting, heavies*perRequest, perRequest)
				}
				light := make(chan gqlResponse, 1)
				go func() {
					_, res := s.Post(t, `{ stores(first: 5) { nodes { id } } }`, nil)
					light <- res
				}()
				select {
				case res := <-light:
					if len(res.Errors) > 0 || len(decode[pageOf[struct{ ID string }]](t, res.Data["stores"]).Nodes) != 5 {
						t.Errorf("light request: %+v", res)
					}
					if n := done.Load(); n != 0 {
						t.Errorf("%d heavy requests finished while their statements were held", n)
					}
				case <-time.After(waitLimit(t)):
					t.Error("the light request did not finish while the heavy ones held their connections: starved")
				}
				release()
			} else {
				_, res := s.Post(t, `{ stores(first: 5) { nodes { id } } }`, nil)
				if len(res.Errors) > 0 {
					t.Errorf("light request: %+v", res)
				}
			}
			wg.Wait()
			close(stop)
			<-sampled
			// +1: the light request's own connection.
			if got, want := maxInUse.Load(), int64(heavies*perRequest+1); got > want {
				t.Errorf("the pool had %d connections in use, want at most %d (%d per request)", got, want, perRequest)
			}
		})
	}
}

// lockCustomers takes an exclusive lock on the test schema's customers
// table in a transaction of its own; release commits it.
func lockCustomers(t *testing.T, url string) (release func()) {
	t.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, store.Options{DatabaseURL: url, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := admin.SQLX().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE customers IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Commit()
			admin.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// waitForLockWaiters waits until at least want sessions wait for a lock on
// customers (or the wait limit passes) and returns how many wait then,
// having given the others every chance to pile up: it reads the count
// again after the first reading reaches want.
func waitForLockWaiters(t *testing.T, db *store.DB, want int) int {
	t.Helper()
	count := func() int {
		var n int
		if err := db.SQLX().Get(&n, `SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = 'customers'::regclass`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(waitLimit(t))
	for time.Now().Before(deadline) {
		if n := count(); n >= want {
			return count()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d statements ever waited on the lock", want)
	return 0
}

// waitLimit is how long to wait for something that should happen at once:
// a quarter of the time the test has left.
func waitLimit(t *testing.T) time.Duration {
	if d, ok := t.Deadline(); ok {
		return time.Until(d) / 4
	}
	return time.Minute
}
