package playground_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/middletier/middletier/internal/playground"
	"github.com/middletier/middletier/internal/playground/playgroundtest"
)

// fakeGraphQL answers GraphiQL's introspection query with a canned schema,
// `type Query { hello: String }`, and every other query with
// {"data":{"hello":"world"}}. It records the Authorization header of the
// last non-introspection request.
type fakeGraphQL struct {
	schema []byte

	mu      sync.Mutex
	queries []string
	auth    string
}

func (f *fakeGraphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(req.Query, "IntrospectionQuery") || strings.Contains(req.Query, "__schema") {
		_, _ = w.Write(f.schema)
		return
	}
	f.mu.Lock()
	f.queries = append(f.queries, req.Query)
	f.auth = r.Header.Get("Authorization")
	f.mu.Unlock()
	_, _ = io.WriteString(w, `{"data":{"hello":"world"}}`)
}

func TestBrowserRunsQuery(t *testing.T) {
	playgroundtest.ChromiumPath(t) // skip early, before starting servers

	schema, err := os.ReadFile("testdata/introspection.json")
	if err != nil {
		t.Fatal(err)
	}
	gql := &fakeGraphQL{schema: schema}

	mux := http.NewServeMux()
	mux.Handle("/", playground.Handler(playground.Options{
		Endpoint:     "/graphql",
		Title:        "Playground browser test",
		DefaultQuery: "{ __typename }",
		Headers:      map[string]string{"Authorization": "Bearer dev-token </script>"},
	}))
	mux.Handle("/graphql", gql)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	got := playgroundtest.Run(t, srv.URL, "query Hello { hello }")
	if !strings.Contains(got, "world") {
		t.Fatalf("result pane = %q, want it to contain %q", got, "world")
	}
	var resp struct {
		Data struct {
			Hello string `json:"hello"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(got), &resp); err != nil || resp.Data.Hello != "world" {
		t.Errorf("result pane %q is not the response JSON (err %v)", got, err)
	}

	gql.mu.Lock()
	defer gql.mu.Unlock()
	if len(gql.queries) != 1 || gql.queries[0] != "query Hello { hello }" {
		t.Errorf("endpoint got queries %q, want exactly the one typed in", gql.queries)
	}
	// The pre-filled headers editor content is sent with the query.
	if gql.auth != "Bearer dev-token </script>" {
		t.Errorf("Authorization header = %q, want the pre-filled one", gql.auth)
	}
}
