package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	gql, err := json.Marshal(map[string]any{
		"query":         source,
		"operationName": "ListStoreBackorders",
		"variables":     map[string]any{"storeId": "S001", "status": "OPEN", "first": 20},
	})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{"facade", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/api/v1/stores/S001/backorders?status=OPEN&pageSize=20", nil)
		}},
		{"graphql", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(gql)))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
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
