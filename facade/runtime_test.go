package facade_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/connector"
	"github.com/middletier/middletier/facade/connectortest"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// rtOptions change the service the emulator calls.
type rtOptions struct {
	// noPublicURL runs the service as `serve` without --public-url does.
	noPublicURL          bool
	newsDown, supplyDown bool
}

// rtEnv is the whole service on a real loopback listener, assembled as
// cmd/middletier's buildHandler does (real dev-issuer tokens through the
// authentication middleware, the facade, the definition handler, demo
// upstreams over HTTP), and the connector package a maker would import.
type rtEnv struct {
	db      *store.DB
	srv     *httptest.Server
	dev     *auth.DevIssuer
	def     *connectortest.Definition
	loaders *droppingLoaders
}

func newRuntimeEnv(t *testing.T, db *store.DB, o rtOptions) *rtEnv {
	t.Helper()
	// The listener exists before the handler so that the public URL can
	// be the address the runtime really calls.
	srv := httptest.NewUnstartedServer(nil)
	cfg := config.Defaults()
	if !o.noPublicURL {
		cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	}
	log := slog.New(slog.DiscardHandler)
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	pub, err := publicurl.New(cfg.PublicURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	fac, err := facade.New(exec, db, facade.Options{Origin: pub.Origin, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuerBase := cfg.PublicURL
	if issuerBase == "" {
		issuerBase = "http://" + srv.Listener.Addr().String()
	}
	dev, err := auth.NewDevIssuer(key, strings.TrimSuffix(issuerBase, "/")+auth.DevIssuerPath)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Options{
		Issuers: []string{dev.Issuer()}, Audiences: []string{auth.DevAudience},
		ReadScopes: cfg.Auth.ReadScopes, WriteScopes: cfg.Auth.WriteScopes,
		ClockSkew: cfg.Auth.ClockSkew, MinRefresh: cfg.Auth.JWKSMinRefresh,
		CacheTTL: cfg.Auth.CacheTTL, CacheBytes: cfg.Auth.CacheBytes,
		Employees: db, Client: dev.Client(), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(authn.Close)
	opts := connector.Options{PublicURL: cfg.PublicURL, Scopes: cfg.Auth.WriteScopes}
	definition := connector.DefinitionsByOrigin(pub.Origin, func(origin string) ([]byte, error) {
		o := opts
		o.PublicURL = origin
		return connector.Swagger(fac.Operations(), fac.Schema(), o)
	})
	props, err := connector.APIProperties(fac.Operations(), opts)
	if err != nil {
		t.Fatal(err)
	}
	dropping := &droppingLoaders{DB: db, limit: waitLimit(t)}
	srv.Config.Handler = dropping.track(server.NewHandler(cfg, server.Deps{
		Log: log, GraphQL: exec.Handler(), Loaders: loaders.Middleware(dropping, runtimeUpstreams(t, o), cfg.GraphQL.BatchWait), Ready: db,
		Authenticate: authn.Middleware(server.WriteError),
		Issuer:       dev.HandlerAt(pub.Origin),
		Facade:       fac,
		Definition:   definition,
	}))
	srv.Start()
	t.Cleanup(srv.Close)

	// The maker imports the definition the service publishes.
	res, err := http.Get(srv.URL + facade.BasePath + "/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	served, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET swagger.json: %d %v", res.StatusCode, err)
	}
	d, err := connectortest.Load(served, props)
	if err != nil {
		t.Fatal(err)
	}
	return &rtEnv{db: db, srv: srv, dev: dev, def: d, loaders: dropping}
}

// runtimeUpstreams are the demo HR, news and supply services on loopback,
// each of them replaceable by a port nothing listens on.
func runtimeUpstreams(t *testing.T, o rtOptions) *cachedtest.Sources {
	t.Helper()
	var opts cachedtest.Options
	if o.newsDown {
		opts.NewsURL = upstreamtest.RefusedURL(t)
	}
	if o.supplyDown {
		opts.SupplyURL = upstreamtest.RefusedURL(t)
	}
	return cachedtest.Start(t, opts).Sources
}

// waitLimit bounds any wait of the suite by the test's own deadline, never
// by a guess of how fast the machine is.
func waitLimit(t *testing.T) time.Duration {
	limit := connectortest.FlowTimeout
	if dl, ok := t.Deadline(); ok {
		limit = min(limit, time.Until(dl)/4)
	}
	return limit
}

// token is a real access token of the connection signed in as login.
func (e *rtEnv) token(t *testing.T, login string) string {
	t.Helper()
	emp, err := e.db.EmployeeByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.dev.Mint(auth.DevToken{OID: emp.OID, Login: emp.Login, Name: emp.Name, Audience: auth.DevAudience,
		Scopes: []string{config.ScopeReadWrite}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is the runtime calling for a connection of login.
func (e *rtEnv) client(t *testing.T, kind connectortest.Kind, login string) *connectortest.Client {
	t.Helper()
	c := &connectortest.Client{Def: e.def, Kind: kind, Timeout: waitLimit(t), Scale: time.Millisecond}
	if login != "" {
		c.Token = e.token(t, login)
	}
	return c
}

// droppingLoaders are the store's loaders with one fault: once armed, the
// next store lookup (RecordBackorder reads the store while it builds its
// answer, after its write) abandons the caller's connection and waits until
// the service has noticed, as when a flow's connection drops mid-request.
type droppingLoaders struct {
	*store.DB
	limit time.Duration
	armed atomic.Pointer[context.CancelFunc]
	// request is the context of the latest request, which ends when the
	// server sees its client leave; the loader's own context is the
	// write's, which deliberately outlives the client.
	request atomic.Pointer[context.Context]
}

// track records each request's context for StoresByID to watch.
func (l *droppingLoaders) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		l.request.Store(&ctx)
		next.ServeHTTP(w, r)
	})
}

func (l *droppingLoaders) StoresByID(ctx context.Context, ids []string) (map[string]store.Store, error) {
	if abandon := l.armed.Swap(nil); abandon != nil {
		gone := (*l.request.Load()).Done()
		(*abandon)()
		select {
		case <-gone:
		case <-time.After(l.limit):
		}
	}
	return l.DB.StoresByID(ctx, ids)
}

// gatewayFailsFirst answers the first request with 502 after the service
// answered it, as a gateway that lost the answer on its way back.
type gatewayFailsFirst struct{ seen atomic.Int32 }

func (g *gatewayFailsFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || g.seen.Add(1) > 1 {
		return res, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	body := `{"error":{"message":"bad gateway","code":"BAD_GATEWAY"}}`
	return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}
