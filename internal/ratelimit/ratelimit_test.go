package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/redis/go-redis/v9"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/ratelimit"
)

// window is long so that no test straddles two windows in a way that
// matters: the sliding estimate then equals the requests counted.
const window = time.Hour

// userHeader stands in for a verified token: the test "authentication"
// puts that employee in the context, as auth.Middleware does.
const userHeader = "X-Test-User"

type counts map[string]int

func (c counts) RateLimited(by string) { c[by]++ }

// stack is the order the server uses: client IP, authentication (here a
// stand-in that refuses requests without userHeader through the limiter's
// Refusals), then the limit.
func stack(l *ratelimit.Limiter) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	refuse := l.Refusals(func(w http.ResponseWriter, _ *http.Request, status int, _ error) { w.WriteHeader(status) })
	authn := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(userHeader)
			if id == "" {
				refuse(w, r, http.StatusUnauthorized, auth.ErrUnauthenticated)
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{EmployeeID: id})))
		})
	}
	return middleware.ClientIPFromRemoteAddr(authn(l.Middleware(ok)))
}

func call(h http.Handler, user, ip string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.RemoteAddr = ip + ":40000"
	if user != "" {
		r.Header.Set(userHeader, user)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func checkRefused(t *testing.T, w *httptest.ResponseRecorder, who string) {
	t.Helper()
	var b struct {
		Error struct{ Message, Code, RequestID string }
	}
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("got %d Retry-After %q, want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error.Code != ratelimit.Code || !strings.HasPrefix(w.Body.String(), `{"error":{"message":"too many requests`) || !strings.Contains(b.Error.Message, who) {
		t.Fatalf("body %s: want the house error body, code %s, a message naming the %s", w.Body, ratelimit.Code, who)
	}
}

func TestLimitPerUserAndPerAddress(t *testing.T) {
	const n = 5
	m := counts{}
	h := stack(ratelimit.New(ratelimit.Options{Requests: n, Window: window, Metrics: m}))

	for i := range n {
		if w := call(h, "E1", "192.0.2.1"); w.Code != http.StatusNoContent {
			t.Fatalf("E1 request %d: %d, want through", i, w.Code)
		}
	}
	checkRefused(t, call(h, "E1", "192.0.2.1"), "user")
	// Another user behind the same address (a gateway, an office NAT) is
	// counted on their own; so is the same user from anywhere.
	if w := call(h, "E2", "192.0.2.1"); w.Code != http.StatusNoContent {
		t.Errorf("E2 behind the same address: %d, want through", w.Code)
	}
	checkRefused(t, call(h, "E1", "198.51.100.7"), "user")

	// Without a valid token, the address counts: n refusals with 401, then 429.
	for i := range n {
		if w := call(h, "", "203.0.113.9"); w.Code != http.StatusUnauthorized {
			t.Fatalf("anonymous request %d: %d, want 401", i, w.Code)
		}
	}
	checkRefused(t, call(h, "", "203.0.113.9"), "client address")
	if w := call(h, "", "203.0.113.10"); w.Code != http.StatusUnauthorized {
		t.Errorf("another address: %d, want 401", w.Code)
	}
	// A signed-in user at that address is not held back by the anonymous count.
	if w := call(h, "E3", "203.0.113.9"); w.Code != http.StatusNoContent {
		t.Errorf("signed-in user at a limited address: %d, want through", w.Code)
	}
	if m["user"] != 2 || m["ip"] != 1 {
		t.Errorf("refusals counted %v, want 2 by user and 1 by ip", m)
	}
}

// TestConnectorRateAlwaysPasses: the default limit (1,200 a minute) lets a
// Power Platform connection's 500 calls a minute through.
func TestConnectorRateAlwaysPasses(t *testing.T) {
	h := stack(ratelimit.New(ratelimit.Options{Requests: 1200, Window: time.Minute}))
	for i := range 500 {
		if w := call(h, "E1", "192.0.2.1"); w.Code != http.StatusNoContent {
			t.Fatalf("call %d of 500: %d, want through", i, w.Code)
		}
	}
}

// redisURL is the test Redis (MIDDLETIER_TEST_REDIS_URL, as CI sets it) and
// a key prefix of this test's own, deleted when it ends.
func redisURL(t *testing.T) (string, string) {
	t.Helper()
	url := os.Getenv("MIDDLETIER_TEST_REDIS_URL")
	if url == "" {
		t.Skip("Redis tests skipped: MIDDLETIER_TEST_REDIS_URL is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "mt-test-" + hex.EncodeToString(b[:]) + ":ratelimit"
	t.Cleanup(func() {
		c := newRedis(t, url)
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
		_ = c.Close()
	})
	return url, prefix
}

func newRedis(t *testing.T, url string) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return redis.NewClient(o)
}

// TestSharedInRedis: two replicas (two limiters, each with its own Redis
// client) counting in one Redis share one limit, whichever replica a
// request reaches; the count is in Redis, under the configured prefix.
func TestSharedInRedis(t *testing.T) {
	url, prefix := redisURL(t)
	const n = 6
	// Counted apart (each replica alone, or Redis failing and each falling
	// back to its own count), the requests below split 3 and 3 and the
	// seventh would pass.
	var replicas []http.Handler
	for range 2 {
		l := ratelimit.New(ratelimit.Options{Requests: n, Window: window, Redis: newRedis(t, url), KeyPrefix: prefix})
		t.Cleanup(func() { _ = l.Close() })
		replicas = append(replicas, stack(l))
	}
	for i := range n {
		if w := call(replicas[i%2], "E1", "192.0.2.1"); w.Code != http.StatusNoContent {
			t.Fatalf("request %d on replica %d: %d, want through", i, i%2, w.Code)
		}
	}
	for r := range replicas {
		checkRefused(t, call(replicas[r], "E1", "192.0.2.1"), "user")
	}
	if w := call(replicas[1], "E2", "192.0.2.1"); w.Code != http.StatusNoContent {
		t.Errorf("another user: %d, want through", w.Code)
	}
	c := newRedis(t, url)
	defer c.Close()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Errorf("Redis keys under %s: %v %v, want the counters there", prefix, keys, err)
	}
}
