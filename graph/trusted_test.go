package graph_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/resolvers"
)

const (
	registered   = "query Stores { stores(first: 1) { nodes { id } } }\n"
	unregistered = "{ stores(first: 2) { nodes { id } } }"
	facadeDoc    = "query ListStores { stores(first: 3) { nodes { id name } } }"
)

// trustedServer serves /graphql in trusted-documents mode with the
// allow-list at docs, signed in as a head-office employee.
func trustedServer(t *testing.T, docs string) *testServer {
	t.Helper()
	cfg := config.Defaults()
	cfg.GraphQL.TrustedDocuments = docs
	db := storetest.SQLite(t)
	dev, authn := graphtest.DevAuth(t, fakeEmployees{"oid-hq": {ID: "E-HQ", OID: "oid-hq", Login: "hq", Role: store.RoleHeadOffice}})
	h, exec := graphtest.Handler(t, cfg, db, nil, server.Deps{Ready: db, Authenticate: authn.Middleware(server.WriteError)})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s := &testServer{URL: ts.URL, DB: db, Exec: exec, Dev: dev}
	s.Token = s.Mint(t, "oid-hq")
	return s
}

func persisted(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

func TestTrustedDocuments(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "me.graphql"), []byte(registered), 0o600); err != nil {
		t.Fatal(err)
	}
	s := trustedServer(t, dir)
	s.Exec.Trust(facadeDoc)

	tests := []struct {
		name     string
		body     map[string]any
		wantCode string // "" means the document runs
	}{
		{"registered, by hash", map[string]any{"extensions": persisted(graph.DocumentHash(registered))}, ""},
		{"registered, as its exact text", map[string]any{"query": registered}, ""},
		{"registered, hash and text", map[string]any{"query": registered, "extensions": persisted(graph.DocumentHash(registered))}, ""},
		{"a facade operation, by hash", map[string]any{"extensions": persisted(graph.DocumentHash(facadeDoc))}, ""},
		{"any other text", map[string]any{"query": unregistered}, graph.CodeTrustedDocumentRequired},
		{"registered text, changed by one space", map[string]any{"query": strings.TrimSpace(registered)}, graph.CodeTrustedDocumentRequired},
		{"unknown hash", map[string]any{"extensions": persisted(graph.DocumentHash(unregistered))}, graph.CodePersistedQueryNotFound},
		{"APQ registration is refused", map[string]any{"query": unregistered, "extensions": persisted(graph.DocumentHash(unregistered))}, graph.CodePersistedQueryNotFound},
		{"and registers nothing", map[string]any{"extensions": persisted(graph.DocumentHash(unregistered))}, graph.CodePersistedQueryNotFound},
		{"a hash with another text", map[string]any{"query": unregistered, "extensions": persisted(graph.DocumentHash(registered))}, graph.CodeTrustedDocumentRequired},
		{"introspection is a document too", map[string]any{"query": "{ __schema { queryType { name } } }"}, graph.CodeTrustedDocumentRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := s.PostBody(t, s.Token, tt.body)
			if tt.wantCode == "" {
				if len(res.Errors) > 0 || !strings.Contains(string(res.Data["stores"]), `"nodes":[]`) {
					t.Fatalf("got %+v, want the document to run", res)
				}
				return
			}
			if res.Code(0) != tt.wantCode || res.Data["stores"] != nil || len(res.Errors[0].Message) > 200 {
				t.Fatalf("got %+v, want only a %s error with a short message", res, tt.wantCode)
			}
		})
	}

	t.Run("GET by hash", func(t *testing.T) {
		ext, _ := json.Marshal(persisted(graph.DocumentHash(registered)))
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?extensions="+url.QueryEscape(string(ext)), nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `{"data":{"stores":{"nodes":[]}}}`) {
			t.Fatalf("got %d %s, want the registered document's answer", res.StatusCode, body)
		}
	})
}

func TestTrustedDocumentsManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := json.Marshal(map[string]string{graph.DocumentHash(registered): registered})
	s := trustedServer(t, write("good.json", string(good)))
	if _, res := s.PostBody(t, s.Token, map[string]any{"extensions": persisted(graph.DocumentHash(registered))}); len(res.Errors) > 0 {
		t.Fatalf("manifest document by hash: %+v", res.Errors)
	}

	// A broken allow-list stops the start with a reason naming it.
	wrongHash, _ := json.Marshal(map[string]string{graph.DocumentHash(unregistered): registered})
	badDir := filepath.Join(dir, "bad")
	if err := os.Mkdir(badDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badDir, "typo.graphql"), []byte("{ me { logn } }"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ path, want string }{
		"hash that is not the text's": {write("wrong.json", string(wrongHash)), "is not the sha256 of its document"},
		"not JSON":                    {write("notjson.json", "query { me }"), "JSON object of sha256 hash"},
		"a document the schema lacks": {badDir, "typo.graphql"},
		"no documents":                {write("empty.json", "{}"), "holds no document"},
		"missing":                     {filepath.Join(dir, "nowhere"), "no such file"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.GraphQL.TrustedDocuments = c.path
			db := storetest.SQLite(t)
			exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), slog.New(slog.DiscardHandler))
			if err == nil {
				exec.Close()
				t.Fatal("the executor started")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
