package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store/storetest"
)

// BenchmarkFacadeVsGraphQL compares one facade call with POSTing the same
// document and variables to /graphql, both through the whole router in
// process, over the same seeded SQLite database and as the same user.
func BenchmarkFacadeVsGraphQL(b *testing.B) {
	db := storetest.SQLite(b)
	if err := db.Seed(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, db)
	var source string
	for _, op := range e.fac.Operations() {
		if op.ID == "ListStoreBackorders" {
			source = op.Source
		}
	}
	gqlBody := func(vars map[string]any) string {
		body, err := json.Marshal(map[string]any{"query": source, "operationName": "ListStoreBackorders", "variables": vars})
		if err != nil {
			b.Fatal(err)
		}
		return string(body)
	}
	gql := gqlBody(map[string]any{"storeId": "S001", "status": "OPEN", "first": 20})
	gql100 := gqlBody(map[string]any{"storeId": "S001", "first": 100})
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{"facade", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/api/v1/stores/S001/backorders?status=OPEN&pageSize=20", nil)
		}},
		{"facade100", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/api/v1/stores/S001/backorders?pageSize=100", nil)
		}},
		{"graphql", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(gql))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{"graphql100", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(gql100))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				r := c.req()
				r.Header.Set(userHeader, "blake")
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
					b.Fatalf("%s: %d %s", c.name, w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkBackorderPage serves ListStoreBackorders (customer, product and
// next restock per row) through the whole router for pages of 5, 20 and 100
// rows, on SQLite and, when MIDDLETIER_TEST_POSTGRES_DSN is set, on
// PostgreSQL, both seeded at scale 1. Besides time it reports the SQL
// statements one page costs (stmts/op), which must not grow with the page.
func BenchmarkBackorderPage(b *testing.B) {
	for _, eng := range storetest.SeededEngines(b) {
		e := newEnv(b, eng.DB)
		for _, n := range []int{5, 20, 100} {
			b.Run(fmt.Sprintf("%s/%d", eng.Name, n), func(b *testing.B) {
				target := fmt.Sprintf("/api/v1/stores/S001/backorders?pageSize=%d", n)
				b.ReportAllocs()
				before := eng.DB.Statements()
				for b.Loop() {
					r := httptest.NewRequest(http.MethodGet, target, nil)
					r.Header.Set(userHeader, "blake")
					w := httptest.NewRecorder()
					e.h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
				b.ReportMetric(float64(eng.DB.Statements()-before)/float64(b.N), "stmts/op")
			})
		}
	}
}

// reportCPU reports the process's CPU time (user and system, every
// goroutine) per operation as cpu-ns/op: on a shared machine wall time per
// operation measures the neighbours too, CPU time much less so. gc-cpu-ns/op
// is the garbage collector's part of it, as the runtime accounts it (the
// README's GOGC default rests on it).
func reportCPU(b *testing.B) func() {
	before, gcBefore := cpuTime(b), gcCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric((gcCPU()-gcBefore)*1e9/float64(b.N), "gc-cpu-ns/op")
		}
	}
}

// gcCPU is the CPU seconds the garbage collector has used so far.
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64()
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPageFields serves one page of 100 backorders through /graphql
// with more of the row asked for at each step: the seven columns, then the
// customer and product that come with the row, then the next restock (the
// one relation with a resolver). What each step adds is gqlgen's execution
// of those fields, which BENCHMARKS.md ("Benchmark command: third session")
// weighs against the hand-written JOIN handler.
func BenchmarkPageFields(b *testing.B) {
	db := storetest.SQLite(b)
	if err := db.Seed(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, db)
	const columns = `id status quantity contactPreference note createdAt updatedAt`
	for _, c := range []struct{ name, fields string }{
		{"columns", columns},
		{"with-customer-product", columns + ` customer { id name phone email } product { sku name }`},
		{"with-next-restock", columns + ` customer { id name phone email } product { sku name } nextRestock { expectedAt quantity }`},
	} {
		body, err := json.Marshal(map[string]any{"query": `{ backorders(storeId: "S001", first: 100) { nodes { ` + c.fields + ` } } }`})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set(userHeader, "blake")
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
