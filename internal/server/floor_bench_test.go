package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/auth/authtest"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/telemetry"
)

// BenchmarkFloor is the per-request floor: /healthz against an authenticated
// { __typename } through the whole router as cmd/middletier builds it
// (metrics, loaders, body limit, RS256 token of a seeded employee read from
// SQLite), served over loopback HTTP with keep-alive connections. The ratio
// of the two ns/op is what BENCHMARKS.md tracks ("Engine: per-request floor").
// The handler-only cases call the router directly, without net/http.
func BenchmarkFloor(b *testing.B) {
	db, _ := storetest.SeededSQLite(b)
	key := authtest.NewKey(b, "k1")
	p := authtest.NewProvider(b, key)
	iss := p.URL + "/" + tenant + "/v2.0"
	cfg := config.Defaults()
	authn, err := auth.New(auth.Options{
		Issuers: []string{iss}, Audiences: []string{apiClientID}, TenantID: tenant,
		ReadScopes: cfg.Auth.ReadScopes, WriteScopes: cfg.Auth.WriteScopes,
		ClockSkew: cfg.Auth.ClockSkew, MinRefresh: cfg.Auth.JWKSMinRefresh,
		CacheTTL: cfg.Auth.CacheTTL, CacheBytes: cfg.Auth.CacheBytes,
		Employees: db,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(authn.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, _ := graphtest.Handler(b, cfg, db, nil, server.Deps{Log: log, Ready: db, Metrics: telemetry.New(db),
		Authenticate: authn.Middleware(server.WriteError)})
	ts := httptest.NewServer(h)
	b.Cleanup(ts.Close)

	e, err := db.EmployeeByLogin(context.Background(), "avery")
	if err != nil {
		b.Fatal(err)
	}
	n := time.Now()
	tok := "Bearer " + authtest.Sign(b, key, authtest.Claims{Issuer: iss, Audience: apiClientID, TenantID: tenant, OID: e.OID,
		Scope: config.ScopeReadWrite, IssuedAt: n.Add(-time.Minute), NotBefore: n.Add(-time.Minute), Expiry: n.Add(time.Hour)}.Map())
	const query = `{"query":"{ __typename }"}`
	healthz := func(base string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		return r
	}
	typename := func(base string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(query))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", tok)
		return r
	}
	check := func(b *testing.B, status int, body string) {
		if status != http.StatusOK || strings.Contains(body, `"errors"`) {
			b.Fatalf("%d %s", status, body)
		}
	}

	for _, c := range []struct {
		name string
		req  func(base string) *http.Request
	}{{"healthz", healthz}, {"typename", typename}} {
		b.Run("loopback/"+c.name, func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr}
			b.ReportAllocs()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Do(c.req(ts.URL))
					if err != nil {
						b.Error(err)
						return
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					check(b, res.StatusCode, string(body))
				}
			})
		})
		b.Run("handler/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				w := httptest.NewRecorder()
				r := c.req("")
				r.RemoteAddr = "127.0.0.1:1234"
				h.ServeHTTP(w, r)
				check(b, w.Code, w.Body.String())
			}
		})
	}
}

// reportCPU reports the process's CPU time (user and system, every
// goroutine, the loopback client's included) per operation as cpu-ns/op:
// on a machine shared with other work, wall time per operation measures the
// neighbours too, CPU time much less so.
func reportCPU(b *testing.B) func() {
	before := cpuTime(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
