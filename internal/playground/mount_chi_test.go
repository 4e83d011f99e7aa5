package playground_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/middletier/middletier/internal/playground"
)

// Mount works on a real chi router, next to other routes.
func TestMountOnChi(t *testing.T) {
	r := chi.NewRouter()
	playground.Mount(r, playground.Options{Endpoint: "/graphql"})
	r.Post("/graphql", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(r)
	defer srv.Close()

	for path, want := range map[string]int{
		"/":                                      http.StatusOK,
		playground.AssetPrefix + "playground.js": http.StatusOK,
		playground.AssetPrefix + "nope.js":       http.StatusNotFound,
		"/playground/other":                      http.StatusNotFound,
		"/elsewhere":                             http.StatusNotFound,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Post(srv.URL+"/graphql", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("POST /graphql = %d, want the GraphQL route", resp.StatusCode)
	}
}
