package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/mcp"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// mcpCmd serves the MCP tools over stdio as one demo employee, for desktop
// MCP clients that start the server themselves. Each call runs as if that
// employee had called /mcp: a dev token is minted and verified per call,
// through the same Authenticator, then the same facade.
func mcpCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var login string
	cfg, err := parseConfig("mcp", "middletier mcp --user LOGIN: serve the connector's operations as MCP tools over stdio, as a demo employee (dev mode)", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&login, "user", "", "login of the employee the tools act as: avery, blake, casey or devon in the demo data")
	})
	if err != nil {
		return err
	}
	if !cfg.Auth.DevMode() {
		return errors.New("mcp: stdio serves a dev identity and the dev issuer is off because an issuer or tenant is configured (production mode); agents call POST /mcp with their own token instead")
	}
	if login == "" {
		return errors.New("mcp: --user is required, e.g. --user avery")
	}
	// stdout carries the protocol: logs go to stderr.
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	// A stdio server writes to the same database as the running service:
	// its writes invalidate the service's caches through the shared bus.
	b, err := openBackends(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()
	db, sh, up := b.db, b.shared, b.up
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), log)
	if err != nil {
		return err
	}
	defer exec.Close()
	id, err := newIdentity(cfg, db, log)
	if err != nil {
		return err
	}
	defer id.authn.Close()
	fac, err := facade.New(exec, db, facade.Options{
		Log: log, WriteTimeout: cfg.HTTP.RequestTimeout, ResponseCacheBytes: cfg.Facade.ResponseCacheBytes,
		InvalidationBus: sh.bus, SharedCache: sh.answers,
	})
	if err != nil {
		return err
	}
	defer fac.Close()
	exec.Use(fac.Invalidation())
	origin := cfg.PublicURL
	if origin == "" {
		origin = publicurl.Default
	}
	tools, err := mcp.NewServer(fac, mcp.Options{Origin: origin, Log: log})
	if err != nil {
		return err
	}
	as := employeeCalls{cfg: cfg, id: id, db: db, up: up, login: login}
	// A wrong --user fails now, not at the first call.
	if _, err := as.principal(ctx); err != nil {
		return fmt.Errorf("mcp: %w", err)
	}
	tools.AddReceivingMiddleware(as.middleware)
	log.Info("serving MCP tools over stdio", "user", login)
	err = tools.Run(ctx, &sdk.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil // the client went away or the process was stopped
	}
	return err
}

// employeeCalls gives each tool call what the HTTP middleware gives a
// request to /mcp: the verified principal, a request id, its share of the
// database connections and upstream time, fresh loaders and the deadline.
type employeeCalls struct {
	cfg   config.Config
	id    identity
	db    *store.DB
	up    loaders.Upstream
	login string
}

// devCallTokenTTL covers one call: a token is minted for each.
const devCallTokenTTL = 5 * time.Minute

func (e employeeCalls) principal(ctx context.Context) (auth.Principal, error) {
	tok, err := mintDevToken(ctx, e.cfg, e.id.dev, e.db, e.login, []string{config.ScopeReadWrite}, devCallTokenTTL)
	if err != nil {
		return auth.Principal{}, err
	}
	return e.id.authn.Authenticate(ctx, tok)
}

func (e employeeCalls) middleware(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		ctx, cancel := context.WithTimeout(ctx, e.cfg.HTTP.RequestTimeout)
		defer cancel()
		p, err := e.principal(ctx)
		if err != nil {
			return nil, fmt.Errorf("sign in as %s: %w", e.login, err)
		}
		ctx = auth.WithPrincipal(ctx, p)
		ctx = context.WithValue(ctx, middleware.RequestIDKey, fmt.Sprintf("stdio-%06d", middleware.NextRequestID()))
		ctx = store.WithConnLimit(ctx, e.cfg.Database.RequestConns)
		ctx = upstream.WithBudget(ctx)
		ctx = loaders.With(ctx, loaders.New(e.db, e.up, e.cfg.GraphQL.BatchWait))
		return next(ctx, method, req)
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// authorizationServers are the issuers a client gets tokens for /mcp from,
// for the protected resource metadata: the tenant's Entra ID (v2) issuer,
// the configured issuers, or the dev issuer.
func authorizationServers(cfg config.Config, id identity) []string {
	switch {
	case id.dev != nil:
		return []string{id.dev.Issuer()}
	case len(cfg.Auth.Issuers) > 0:
		return cfg.Auth.Issuers
	default:
		return cfg.Auth.AcceptedIssuers()[:1] // login.microsoftonline.com/{tenant}/v2.0
	}
}

// resourceScopes are the scopes a client asks for: Entra ID names a
// delegated scope by the API's application ID URI (api://middletier/Data.Read).
func resourceScopes(cfg config.Config) []string {
	var prefix string
	if !cfg.Auth.DevMode() {
		for _, a := range cfg.Auth.Audiences {
			if strings.Contains(a, "://") {
				prefix = strings.TrimSuffix(a, "/") + "/"
				break
			}
		}
	}
	var out []string
	for _, s := range slices.Concat(cfg.Auth.ReadScopes, cfg.Auth.WriteScopes) {
		if !slices.Contains(out, prefix+s) {
			out = append(out, prefix+s)
		}
	}
	return out
}
