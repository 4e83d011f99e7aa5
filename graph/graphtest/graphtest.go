// Package graphtest serves the whole HTTP surface over a test database,
// wired as cmd/middletier wires it (executor, loaders, router), for the
// tests of graph, internal/server and the facade, which cannot import cmd.
// It is a package of its own so that internal/server's tests reach the
// GraphQL stack without internal/server importing it.
package graphtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// Handler is server.NewHandler over db with the executor and the loaders
// (reading up) filled into d, as cmd/middletier builds them; the executor's
// caches close when the test ends.
func Handler(t testing.TB, cfg config.Config, db *store.DB, up loaders.Upstream, d server.Deps) (http.Handler, *graph.Executor) {
	t.Helper()
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), d.Log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	d.GraphQL = exec.Handler()
	d.Loaders = loaders.Middleware(db, up, cfg.GraphQL.BatchWait)
	return server.NewHandler(cfg, d), exec
}

type Server struct {
	URL  string
	DB   *store.DB
	Exec *graph.Executor
	// Token is sent by post: head office (devon on seeded databases), who
	// may read every store.
	Token string
	Dev   *auth.DevIssuer
	// Up are the demo upstreams (real HTTP on loopback) behind the cache.
	Up *cachedtest.Upstreams
}

// NewServer serves db behind the dev issuer's verification (the code path
// Entra ID tokens take too), with employees looked up in db.
func NewServer(t *testing.T, db *store.DB) *Server {
	t.Helper()
	return NewServerWith(t, db, db)
}

// NewServerWith looks employees up in dir: an empty database gets a fake
// directory holding one head-office employee, oid "oid-hq".
func NewServerWith(t testing.TB, db *store.DB, dir auth.Employees) *Server {
	t.Helper()
	return NewServerUp(t, db, dir, cachedtest.Start(t, cachedtest.Options{}))
}

// NewServerUp is NewServerWith over the given upstreams.
func NewServerUp(t testing.TB, db *store.DB, dir auth.Employees, up *cachedtest.Upstreams) *Server {
	t.Helper()
	return newServer(t, db, dir, up, 50*time.Millisecond)
}

// NewCountingServer serves db (employees in db) with the production batch
// settings (config.Defaults), for tests that count SQL statements per
// query: what they count is what production sends, and it must not depend
// on the machine's load (a list's relations are read per page, with no
// window to close early).
func NewCountingServer(t testing.TB, db *store.DB) *Server {
	t.Helper()
	return newServer(t, db, db, cachedtest.Start(t, cachedtest.Options{}), config.Defaults().GraphQL.BatchWait)
}

func newServer(t testing.TB, db *store.DB, dir auth.Employees, up *cachedtest.Upstreams, batchWait time.Duration) *Server {
	t.Helper()
	cfg := config.Defaults()
	// Tests use a wider batch window than production (config.Defaults), so
	// that what they count does not depend on the machine's load.
	cfg.GraphQL.BatchWait = batchWait
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dev, authn := DevAuth(t, dir)
	h, exec := Handler(t, cfg, db, up.Sources, server.Deps{Log: log, Ready: db,
		Authenticate: authn.Middleware(server.WriteError), Issuer: dev.Handler()})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, DB: db, Exec: exec, Dev: dev, Up: up}
}

// DevAuth is a dev issuer with a fresh key and the Authenticator trusting it.
func DevAuth(t testing.TB, dir auth.Employees) (*auth.DevIssuer, *auth.Authenticator) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := auth.NewDevIssuer(key, "http://middletier.test"+auth.DevIssuerPath)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Options{
		Issuers: []string{dev.Issuer()}, Audiences: []string{auth.DevAudience},
		ReadScopes:  []string{config.ScopeRead, config.ScopeReadWrite},
		WriteScopes: []string{config.ScopeReadWrite},
		ClockSkew:   time.Minute, Client: dev.Client(), Employees: dir,
		// No principal cache: the tests that count statements per request
		// count the caller's employee read on every request. The cache is
		// tested in internal/auth and, as deployed, by internal/server's
		// token tests and the facade's runtime tests.
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(authn.Close)
	return dev, authn
}

// Mint signs a dev token for oid.
func (s *Server) Mint(t testing.TB, oid string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{config.ScopeReadWrite}
	}
	tok, err := s.Dev.Mint(auth.DevToken{OID: oid, Audience: auth.DevAudience, Scopes: scopes, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TokenFor signs a dev token for a seeded employee.
func (s *Server) TokenFor(t *testing.T, login string, scopes ...string) string {
	t.Helper()
	e, err := s.DB.EmployeeByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return s.Mint(t, e.OID, scopes...)
}

// Employees is an employee directory for databases without the seed.
type Employees map[string]store.Employee

func (f Employees) EmployeeByOID(_ context.Context, oid string) (store.Employee, error) {
	if e, ok := f[oid]; ok {
		return e, nil
	}
	return store.Employee{}, fmt.Errorf("employee %s: %w", oid, store.ErrNotFound)
}

// Empty serves a migrated database without data, signed in as a
// head-office employee from a fake directory.
func Empty(t testing.TB) *Server {
	t.Helper()
	s := NewServerWith(t, storetest.SQLite(t), Employees{"oid-hq": {ID: "E-HQ", OID: "oid-hq", Login: "hq", Role: store.RoleHeadOffice}})
	s.Token = s.Mint(t, "oid-hq")
	return s
}

// Engines returns a server over a freshly seeded database per engine.
func Engines(t *testing.T) map[string]*Server {
	t.Helper()
	out := map[string]*Server{}
	for _, e := range storetest.SeededEngines(t) {
		s := NewServer(t, e.DB)
		s.Token = s.TokenFor(t, "devon")
		out[e.Name] = s
	}
	return out
}

type Response struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r Response) Code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	c, _ := r.Errors[i].Extensions["code"].(string)
	return c
}

// Post sends a GraphQL request with s.Token and decodes the answer.
func (s *Server) Post(t *testing.T, query string, vars map[string]any) (int, Response) {
	t.Helper()
	return s.PostAs(t, s.Token, query, vars)
}

// PostAs sends a GraphQL request with token and decodes the answer.
func (s *Server) PostAs(t *testing.T, token, query string, vars map[string]any) (int, Response) {
	t.Helper()
	return s.PostBody(t, token, map[string]any{"query": query, "variables": vars})
}

// PostBody sends any GraphQL request body with token and decodes the answer.
func (s *Server) PostBody(t *testing.T, token string, v any) (int, Response) {
	t.Helper()
	body, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return res.StatusCode, out
}
