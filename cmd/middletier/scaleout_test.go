package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/replicas/replicastest"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/telemetry"
	"github.com/middletier/middletier/internal/upstream/hr"
)

// replica is one full handler stack of the service, as serve builds it,
// on a loopback server of its own, with its own in-memory caches.
type replica struct {
	url   string
	token func(t *testing.T, login string) string
}

// startReplica builds a replica from command-line settings, exactly as
// serve does after parsing them.
func startReplica(t *testing.T, args ...string) replica {
	t.Helper()
	ctx := context.Background()
	cfg, err := parseConfig("serve", "", args, func(string) string { return "" }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sh, err := openShared(ctx, cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sh.close)
	metrics := telemetry.New(db)
	cfg.Upstream.Resilience.Observer = metrics
	up, closeUp, err := openUpstreams(ctx, cfg.Upstream, sh.remote, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeUp)
	h, closeFn, err := buildHandler(cfg, db, up, sh, nil, metrics, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	id, err := newIdentity(cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	return replica{url: srv.URL, token: func(t *testing.T, login string) string {
		t.Helper()
		tok, err := mintDevToken(ctx, cfg, id.dev, db, login, []string{config.ScopeReadWrite}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}}
}

// call sends one request to the replica and returns status and body.
func (r replica) call(t *testing.T, method, path, token, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header
}

// cacheHits reads the replica's response cache hits for op from /metrics.
func (r replica) cacheHits(t *testing.T, op string) int {
	t.Helper()
	res, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	prefix := `middletier_response_cache_hits_total{operation="` + op + `"} `
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	return 0
}

// cachedList GETs path on r until the answer came from r's response
// cache (ristretto may refuse a write: a hit is waited for, never assumed)
// and returns the id of its first row.
func (r replica) cachedList(t *testing.T, path, token string) string {
	t.Helper()
	for range 20 {
		before := r.cacheHits(t, "ListStoreBackorders")
		code, body, _ := r.call(t, http.MethodGet, path, token, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if r.cacheHits(t, "ListStoreBackorders") > before {
			return firstID(t, body)
		}
	}
	t.Fatalf("GET %s never came from the response cache", path)
	return ""
}

func firstID(t *testing.T, body string) string {
	t.Helper()
	var p struct{ Value []struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("list body: %v: %s", err, body)
	}
	if len(p.Value) == 0 {
		return ""
	}
	return p.Value[0].ID
}

const openList = "/api/v1/stores/S001/backorders?status=OPEN&pageSize=1"

// checkWritesSeenAtOnce: a write through one replica, by the facade and
// by /graphql, is what the other replica's facade and GraphQL answer next,
// although that replica had the old list in its response cache.
func checkWritesSeenAtOnce(t *testing.T, a, b replica, n int) {
	avery := a.token(t, "avery")
	b.cachedList(t, openList, avery)
	code, body, _ := a.call(t, http.MethodPost, "/api/v1/backorders", avery, fmt.Sprintf(`{"storeId":"S001","sku":"SKU-00042","contactPreference":"EMAIL","newCustomer":{"name":"Replica Writer %d","email":"replica%d@example.com"}}`, n, n))
	if code != http.StatusCreated {
		t.Fatalf("record through the facade of replica A: %d %s", code, body)
	}
	var rec struct{ ID string }
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		t.Fatal(err)
	}
	if _, list, _ := b.call(t, http.MethodGet, openList, avery, ""); firstID(t, list) != rec.ID {
		t.Errorf("replica B's facade lists %s first right after A recorded %s", firstID(t, list), rec.ID)
	}
	gqlList := `{"query":"{ backorders(storeId: \"S001\", status: OPEN, first: 1) { nodes { id } } }"}`
	if _, got, _ := b.call(t, http.MethodPost, "/graphql", avery, gqlList); !strings.Contains(got, `"`+rec.ID+`"`) {
		t.Errorf("replica B's GraphQL lists %s, want %s first", got, rec.ID)
	}

	// A mutation through /graphql of B; A had cached the list meanwhile.
	a.cachedList(t, openList, avery)
	mutation := fmt.Sprintf(`{"query":"mutation { recordBackorder(input: {storeId: \"S001\", sku: \"SKU-00043\", contactPreference: EMAIL, newCustomer: {name: \"GraphQL Replica %d\", email: \"gqlreplica%d@example.com\"}}) { backorder { id } } }"}`, n, n)
	code, body, _ = b.call(t, http.MethodPost, "/graphql", avery, mutation)
	var gql struct {
		Data struct {
			RecordBackorder struct{ Backorder struct{ ID string } }
		}
	}
	if err := json.Unmarshal([]byte(body), &gql); err != nil || code != http.StatusOK || gql.Data.RecordBackorder.Backorder.ID == "" {
		t.Fatalf("recordBackorder through /graphql of replica B: %d %s", code, body)
	}
	if _, list, _ := a.call(t, http.MethodGet, openList, avery, ""); firstID(t, list) != gql.Data.RecordBackorder.Backorder.ID {
		t.Errorf("replica A's facade lists %s first right after B's /graphql recorded %s", firstID(t, list), gql.Data.RecordBackorder.Backorder.ID)
	}
}

// withoutLink is a list answer without its nextLink, which names the
// origin the caller reached.
func withoutLink(t *testing.T, body string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("list body: %v: %s", err, body)
	}
	delete(m, "nextLink")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// countingHR is the demo HR service behind a counter of the calls it gets.
func countingHR(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	demo := hr.NewDemo()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		demo.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// seededSchema is a fresh PostgreSQL schema with the demo data, and a data
// directory both replicas share (the dev issuer's key, as a mounted
// secret would be in production).
func seededSchema(t *testing.T) (url, dir string) {
	url = storetest.PostgresURL(t)
	dir = t.TempDir()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Database.URL = url
	db, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Seed(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return url, dir
}

// TestTwoReplicasOnRedis runs two replicas against one PostgreSQL and one
// Redis, as a scaled-out deployment does.
func TestTwoReplicasOnRedis(t *testing.T) {
	redisURL, prefix := replicastest.RedisURL(t)
	pgURL, dir := seededSchema(t)
	hrSrv, hrCalls := countingHR(t)
	args := []string{"--database-url", pgURL, "--data-dir", dir, "--redis-url", redisURL, "--redis-key-prefix", prefix, "--hr-url", hrSrv.URL}
	a, b := startReplica(t, args...), startReplica(t, args...)

	t.Run("writes are seen through the other replica at once", func(t *testing.T) {
		checkWritesSeenAtOnce(t, a, b, 1)
		checkWritesSeenAtOnce(t, b, a, 2)
	})

	t.Run("an answer one replica ran is served by the other from Redis, until a write", func(t *testing.T) {
		avery := a.token(t, "avery")
		list := "/api/v1/stores/S001/backorders?status=OPEN&pageSize=2"
		code, first, _ := a.call(t, http.MethodGet, list, avery, "")
		if code != http.StatusOK {
			t.Fatalf("A: %d %s", code, first)
		}
		hits := b.cacheHits(t, "ListStoreBackorders")
		// The same rows and cursor; nextLink names the replica asked.
		_, second, _ := b.call(t, http.MethodGet, list, avery, "")
		if g, w := withoutLink(t, second), withoutLink(t, first); g != w {
			t.Errorf("B answers %s, A answered %s", g, w)
		}
		if got := b.cacheHits(t, "ListStoreBackorders"); got != hits+1 {
			t.Fatalf("B's first request for A's answer was not a cache hit (%d hits, want %d)", got, hits+1)
		}
		// A write through A; C, a replica that never saw the list, must
		// not take the copy in Redis.
		code, body, _ := a.call(t, http.MethodPost, "/api/v1/backorders", avery, `{"storeId":"S001","sku":"SKU-00046","contactPreference":"EMAIL","newCustomer":{"name":"Shared Copy","email":"shared@example.com"}}`)
		if code != http.StatusCreated {
			t.Fatalf("record: %d %s", code, body)
		}
		var rec struct{ ID string }
		if err := json.Unmarshal([]byte(body), &rec); err != nil {
			t.Fatal(err)
		}
		c := startReplica(t, args...)
		if _, got, _ := c.call(t, http.MethodGet, list, avery, ""); firstID(t, got) != rec.ID {
			t.Errorf("a third replica lists %s first after %s was recorded: the stale copy in Redis was served", firstID(t, got), rec.ID)
		}
	})

	t.Run("an upstream value is fetched once for both", func(t *testing.T) {
		q := `{"query":"{ me { leaveBalance { annualDays } } }"}`
		before := hrCalls.Load()
		_, first, _ := a.call(t, http.MethodPost, "/graphql", a.token(t, "blake"), q)
		if !strings.Contains(first, "annualDays") {
			t.Fatalf("leave balance on A: %s", first)
		}
		if got := hrCalls.Load(); got != before+1 {
			t.Fatalf("HR calls for blake's balance on A: %d, want 1", got-before)
		}
		_, second, _ := b.call(t, http.MethodPost, "/graphql", b.token(t, "blake"), q)
		if second != first {
			t.Errorf("B answers %s, A answered %s", second, first)
		}
		if got := hrCalls.Load(); got != before+1 {
			t.Errorf("HR calls for blake's balance on A then B: %d, want 1 (B takes A's from Redis)", got-before)
		}
	})

	t.Run("the rate limit holds across replicas", func(t *testing.T) {
		// Two more replicas allowing a caller 500 requests a minute. 1,000
		// requests spread evenly over them: counted per replica, each
		// would see 500 and refuse none; counted together in Redis, about
		// half are refused (fewer if a minute boundary passes meanwhile,
		// as the sliding window forgets the previous minute gradually).
		limited := append(slices.Clone(args), "--rate-limit", "500", "--rate-limit-window", "1m")
		c, d := startReplica(t, limited...), startReplica(t, limited...)
		casey := c.token(t, "casey")
		refused := 0
		for i := range 1000 {
			r := []replica{c, d}[i%2]
			code, body, h := r.call(t, http.MethodGet, "/api/v1/stores", casey, "")
			switch {
			case code == http.StatusTooManyRequests && h.Get("Retry-After") != "" && i >= 500:
				refused++
			case code != http.StatusOK:
				t.Fatalf("request %d: %d %s (Retry-After %q); the first 500 are allowed, later ones refused with Retry-After", i+1, code, body, h.Get("Retry-After"))
			}
		}
		if refused < 250 {
			t.Errorf("%d of 1,000 requests refused with a limit of 500 a minute over two replicas; want about 500 (0 means each replica counted alone)", refused)
		}
	})

	t.Run("one idempotency key sent to both writes once", func(t *testing.T) {
		avery := a.token(t, "avery")
		body := `{"storeId":"S001","sku":"SKU-00045","contactPreference":"EMAIL","newCustomer":{"name":"Idempotent Twin","email":"twin@example.com"}}`
		type result struct {
			code     int
			body     string
			replayed string
		}
		var wg sync.WaitGroup
		results := make([]result, 2)
		for i, r := range []replica{a, b} {
			wg.Go(func() {
				code, body, h := r.call(t, http.MethodPost, "/api/v1/backorders", avery, body, "Idempotency-Key", "scaleout-twin-1")
				results[i] = result{code, body, h.Get("Idempotent-Replayed")}
			})
		}
		wg.Wait()
		var ids []string
		replays := 0
		for _, res := range results {
			if res.code != http.StatusCreated {
				t.Fatalf("twin write: %d %s", res.code, res.body)
			}
			var rec struct{ ID string }
			if err := json.Unmarshal([]byte(res.body), &rec); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, rec.ID)
			if res.replayed == "true" {
				replays++
			}
		}
		if ids[0] != ids[1] || replays != 1 {
			t.Errorf("twin writes answered %v with %d replays; want one id, one replay", ids, replays)
		}
		q := `{"query":"{ customers(search: \"Idempotent Twin\") { nodes { backorders { nodes { id } } } } }"}`
		if _, got, _ := b.call(t, http.MethodPost, "/graphql", avery, q); strings.Count(got, `"id"`) != 1 {
			t.Errorf("the twin customer's backorders: %s, want exactly one", got)
		}
	})
}

// TestTwoReplicasOnPostgres runs two replicas on one PostgreSQL and no
// Redis: LISTEN/NOTIFY carries the invalidations.
func TestTwoReplicasOnPostgres(t *testing.T) {
	pgURL, dir := seededSchema(t)
	args := []string{"--database-url", pgURL, "--data-dir", dir}
	a, b := startReplica(t, args...), startReplica(t, args...)
	checkWritesSeenAtOnce(t, a, b, 3)
	checkWritesSeenAtOnce(t, b, a, 4)
}
