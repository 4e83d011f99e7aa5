package facade_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/connector"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// originServer is the whole router behind a real listener, with links and
// the definition following the request through res.
func originServer(t *testing.T, e *env, res *publicurl.Resolver) *httptest.Server {
	t.Helper()
	cfg := config.Defaults()
	log := slog.New(slog.DiscardHandler)
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(e.db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	fac, err := facade.New(exec, e.db, facade.Options{Origin: res.Origin, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	def := connector.DefinitionsByOrigin(res.Origin, func(origin string) ([]byte, error) {
		return connector.Swagger(fac.Operations(), fac.Schema(), connector.Options{PublicURL: origin})
	})
	srv := httptest.NewServer(server.NewHandler(cfg, server.Deps{
		Log: log, GraphQL: exec.Handler(), Loaders: loaders.Middleware(e.db, e.up.Sources, cfg.GraphQL.BatchWait), Ready: e.db,
		Authenticate: testAuth(e.db), Facade: fac, Definition: def,
	}))
	t.Cleanup(srv.Close)
	return srv
}

func resolver(t *testing.T, publicURL, trusted string) *publicurl.Resolver {
	t.Helper()
	p, err := publicurl.ParseTrusted(trusted)
	if err != nil {
		t.Fatal(err)
	}
	r, err := publicurl.New(publicURL, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fetch GETs path from srv as if the caller had used host, with headers.
func fetch(t *testing.T, srv *httptest.Server, path, host string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set(userHeader, "avery")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestLinksFollowTheRequest: without a public URL, nextLink and the
// definition's host name the address the caller used; forwarded headers
// count only from a trusted peer (the test client is 127.0.0.1); a
// configured public URL wins.
func TestLinksFollowTheRequest(t *testing.T) {
	proxied := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mt.contoso.com", "X-Forwarded-Prefix": "/mt"}
	spoofed := map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-For": "10.0.0.1", "X-Real-IP": "10.0.0.1", "Forwarded": "host=evil.example;proto=https"}
	tests := []struct {
		name       string
		publicURL  string
		trusted    string
		host       string
		header     map[string]string
		wantOrigin string // scheme://host[/prefix] of nextLink
	}{
		{"host A", "", "", "a.example:8080", nil, "http://a.example:8080"},
		{"host B", "", "", "b.example", nil, "http://b.example"},
		{"trusted proxy", "", "127.0.0.1", "internal:8080", proxied, "https://mt.contoso.com/mt"},
		{"untrusted peer: headers ignored", "", "10.0.0.0/8", "internal:8080", proxied, "http://internal:8080"},
		{"spoofed X-Forwarded-For does not make the peer trusted", "", "10.0.0.0/8", "internal:8080", spoofed, "http://internal:8080"},
		{"malicious forwarded host from a trusted peer", "", "127.0.0.1", "internal:8080", map[string]string{"X-Forwarded-Host": "evil.example/x?y=@z"}, "http://internal:8080"},
		{"public URL wins", "https://api.contoso.com/edge", "127.0.0.1", "a.example", proxied, "https://api.contoso.com/edge"},
	}
	for _, eng := range storetest.SeededEngines(t) {
		e := &env{db: eng.DB, up: cachedtest.Start(t, cachedtest.Options{})}
		// One server per resolver, living as long as the test function.
		servers := map[string]*httptest.Server{}
		for _, tt := range tests {
			if key := tt.publicURL + "|" + tt.trusted; servers[key] == nil {
				servers[key] = originServer(t, e, resolver(t, tt.publicURL, tt.trusted))
			}
		}
		for _, tt := range tests {
			t.Run(eng.Name+"/"+tt.name, func(t *testing.T) {
				srv := servers[tt.publicURL+"|"+tt.trusted]

				resp, b := fetch(t, srv, "/api/v1/products?search=a&pageSize=2", tt.host, tt.header)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("list: %d %s", resp.StatusCode, b)
				}
				var p page
				if err := json.Unmarshal(b, &p); err != nil {
					t.Fatal(err)
				}
				if p.NextLink == "" {
					t.Fatalf("no nextLink: %s", b)
				}
				next, err := url.Parse(p.NextLink)
				if err != nil {
					t.Fatal(err)
				}
				wantPrefix := tt.wantOrigin + "/api/v1/products?"
				if !strings.HasPrefix(p.NextLink, wantPrefix) {
					t.Fatalf("nextLink %s, want it under %s", p.NextLink, wantPrefix)
				}
				if q := next.Query(); q.Get("search") != "a" || q.Get("pageSize") != "2" || q.Get("pageToken") != p.NextCursor {
					t.Fatalf("nextLink %s lost paging state (cursor %s)", p.NextLink, p.NextCursor)
				}

				resp, b = fetch(t, srv, "/api/v1/swagger.json", tt.host, tt.header)
				var def struct {
					Host     string   `json:"host"`
					BasePath string   `json:"basePath"`
					Schemes  []string `json:"schemes"`
				}
				if err := json.Unmarshal(b, &def); err != nil {
					t.Fatalf("definition: %d %v", resp.StatusCode, err)
				}
				want, _ := url.Parse(tt.wantOrigin)
				if def.Host != want.Host || def.BasePath != want.Path+"/api/v1" || len(def.Schemes) != 1 || def.Schemes[0] != want.Scheme {
					t.Fatalf("definition host %q basePath %q schemes %v, want %s", def.Host, def.BasePath, def.Schemes, tt.wantOrigin)
				}
				// Each body keeps its own ETag: revalidating it is a 304.
				etag := resp.Header.Get("ETag")
				h := map[string]string{"If-None-Match": etag}
				for k, v := range tt.header {
					h[k] = v
				}
				if resp, _ := fetch(t, srv, "/api/v1/swagger.json", tt.host, h); resp.StatusCode != http.StatusNotModified {
					t.Fatalf("revalidation with %s = %d, want 304", etag, resp.StatusCode)
				}
			})
		}
	}
}

// TestDefinitionETagPerOrigin: two origins, two bodies, two ETags; an ETag
// of one host does not validate the other's body.
func TestDefinitionETagPerOrigin(t *testing.T) {
	var res publicurl.Resolver
	h := connector.DefinitionsByOrigin(res.Origin, func(origin string) ([]byte, error) {
		return []byte(`{"host":"` + origin + `"}`), nil
	})
	get := func(host, etag string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/swagger.json", nil)
		r.Host = host
		if etag != "" {
			r.Header.Set("If-None-Match", etag)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	a, b := get("a.example", ""), get("b.example", "")
	if a.Header().Get("ETag") == b.Header().Get("ETag") || !strings.Contains(a.Body.String(), "a.example") || !strings.Contains(b.Body.String(), "b.example") {
		t.Fatalf("a: %s %s; b: %s %s", a.Header().Get("ETag"), a.Body, b.Header().Get("ETag"), b.Body)
	}
	if w := get("b.example", a.Header().Get("ETag")); w.Code != http.StatusOK {
		t.Fatalf("b with a's ETag = %d, want 200", w.Code)
	}
	if !strings.Contains(a.Header().Get("Vary"), "Host") {
		t.Errorf("Vary = %q, want Host in it", a.Header().Get("Vary"))
	}
}
