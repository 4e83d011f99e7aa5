package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/connector"
	"github.com/middletier/middletier/facade/mcp"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/telemetry"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// parseConfig reads a command's settings from args and the environment.
func parseConfig(name, synopsis string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (config.Config, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = config.Usage(stderr, fs, synopsis)
	if err := config.Parse(fs, args, getenv); err != nil {
		return cfg, err
	}
	cfg.ApplyMode()
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}

// openStore opens and migrates the database.
// backends is what the service and the stdio MCP server both open before
// they serve, in this order: the store (seeded on a first start when asked),
// the metrics the upstreams' breakers and retries report to, the caches and
// bus shared with other replicas, and the upstream sources.
type backends struct {
	db      *store.DB
	metrics *telemetry.Metrics
	shared  shared
	up      upstream.Set
	closers []func()
}

func openBackends(ctx context.Context, cfg config.Config, log *slog.Logger) (b *backends, err error) {
	b = &backends{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if b.db, err = openStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, func() { _ = b.db.Close() })
	if err := autoSeed(ctx, cfg, b.db, log); err != nil {
		return nil, err
	}
	// Before the upstreams: their circuit breakers and retries report to it.
	b.metrics = telemetry.New(b.db)
	cfg.Upstream.Resilience.Observer = b.metrics
	if b.shared, err = openShared(ctx, cfg, b.db, log); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, b.shared.close)
	up, closeUp, err := openUpstreams(ctx, cfg.Upstream, b.shared.remote, log)
	if err != nil {
		return nil, err
	}
	b.up = up
	b.closers = append(b.closers, closeUp)
	return b, nil
}

// close closes what openBackends opened, last first.
func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, store.Options{DatabaseURL: cfg.Database.URL, DataDir: cfg.Database.DataDir, MaxOpenConns: cfg.Database.MaxConns})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	log.InfoContext(ctx, "database ready", "engine", db.Dialect())
	return db, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", "middletier serve: run the service", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.Log.Level, cfg.Log.Format)
	log.Info("starting middletier", "config", cfg)
	applyGCDefault(getenv, log)

	// Before anything that starts spans is built: each takes its tracer
	// from the provider installed here (or the no-op one).
	tracing, err := telemetry.StartTracing(ctx, getenv, buildVersion())
	if err != nil {
		return err
	}
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), traceFlushTimeout)
		defer cancel()
		if err := tracing.Shutdown(fctx); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()
	log.Info("tracing", "enabled", tracing.Enabled(), "settings", "OTEL_* environment variables")

	b, err := openBackends(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()
	db, sh, up, metrics := b.db, b.shared, b.up, b.metrics

	// Closed on the first signal: /readyz fails from then on while every
	// other route keeps serving through the drain.
	stopping := make(chan struct{})
	h, closeFn, err := buildHandler(cfg, db, up, sh, stopping, metrics, log)
	if err != nil {
		return err
	}
	defer closeFn()

	if cfg.DebugAddr != "" {
		stopDebug, err := startDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests never see the signal: what is in flight, idempotent
		// writes included, runs to its end within the shutdown timeout.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, len(lns))
	addrs := make([]string, len(lns))
	for i, ln := range lns {
		addrs[i] = ln.Addr().String()
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("listening", "addr", addrs, "playground", "http://"+displayAddr(lns[0].Addr())+"/")
	if cfg.LoopbackOnly() {
		log.Info("dev mode: listening on loopback only; give --addr (or MIDDLETIER_ADDR), e.g. --addr :8080, to accept other machines")
	}

	select {
	case err := <-errc:
		_ = srv.Close()
		return err
	case <-ctx.Done():
	}
	close(stopping)
	if d := cfg.HTTP.DrainDelay; d > 0 {
		log.Info("stopping: /readyz fails, still serving while load balancers notice (a second signal ends this)", "drain_delay", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-hurry(ctx):
			log.Info("second signal: drain cut short")
		}
		t.Stop()
	}
	log.Info("shutting down: no new connections, finishing requests in flight", "timeout", cfg.HTTP.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: requests still in flight after %s: %w", cfg.HTTP.ShutdownTimeout, err)
	}
	for range lns {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	log.Info("stopped")
	return nil
}

// listen opens the service's listeners: cfg.Addr as given, or, in dev mode
// with no address given (cfg.LoopbackOnly), the loopback interfaces only at
// its port: IPv4 and, when this host has it, IPv6, so that
// http://localhost:8080 answers whichever of the two a browser tries first.
func listen(cfg config.Config) ([]net.Listener, error) {
	if !cfg.LoopbackOnly() {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		return []net.Listener{ln}, nil
	}
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("addr %q: %w", cfg.Addr, err)
	}
	v4, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1:%s: %w", port, err)
	}
	// The port IPv4 got, in case the address asked for any (":0").
	_, port, _ = net.SplitHostPort(v4.Addr().String())
	v6, err := net.Listen("tcp", net.JoinHostPort("::1", port))
	if err != nil {
		// No IPv6 loopback on this host: localhost is 127.0.0.1.
		return []net.Listener{v4}, nil
	}
	return []net.Listener{v4, v6}, nil
}

// autoSeed seeds the demo data into an empty database when --auto-seed is on.
func autoSeed(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger) error {
	if !cfg.Database.AutoSeed {
		return nil
	}
	empty, err := db.IsEmpty(ctx)
	if err != nil || !empty {
		return err
	}
	start := time.Now()
	log.Info("empty database: seeding demo data (scale 1)")
	if err := db.Seed(ctx, 1); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	log.Info("demo data seeded", "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// traceFlushTimeout bounds sending the last spans at exit, so that an
// unreachable collector cannot hold a stopping replica.
const traceFlushTimeout = 5 * time.Second

// buildVersion is the module version the binary was built from, for
// service.version ("(devel)" from a work tree).
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return ""
}

// buildHandler assembles the HTTP surface over db; closeFn releases its
// caches. sh is what it shares with the other replicas (zero: nothing);
// stopping is closed when the service begins to shut down; metrics is the
// registry /metrics serves (telemetry.New(db)).
func buildHandler(cfg config.Config, db *store.DB, up loaders.Upstream, sh shared, stopping <-chan struct{}, metrics *telemetry.Metrics, log *slog.Logger) (http.Handler, func(), error) {
	// One executor: /graphql serves it and the facade runs its stored
	// documents through it, so both share limits, caches and errors.
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), log)
	if err != nil {
		return nil, nil, err
	}
	deps := server.Deps{
		Log: log, GraphQL: exec.Handler(), Ready: db, Stopping: stopping, Metrics: metrics,
		Loaders: loaders.Middleware(db, up, cfg.GraphQL.BatchWait),
	}
	id, err := newIdentity(cfg, db, log)
	if err != nil {
		exec.Close()
		return nil, nil, err
	}
	closeAll := func() {
		exec.Close()
		id.authn.Close()
	}
	lim, err := newRateLimiter(cfg, metrics, log)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	writeErr := server.WriteError
	if lim != nil {
		deps.RateLimit = lim.Middleware
		// A refused token counts against the client's address.
		writeErr = lim.Refusals(writeErr)
		closeLimited := closeAll
		closeAll = func() { closeLimited(); _ = lim.Close() }
	}
	deps.Authenticate = id.authn.Middleware(writeErr)
	// Links, the connector definition's host and the dev issuer's discovery
	// URLs all name the address the caller used, or --public-url.
	pub, err := publicurl.New(cfg.PublicURL, cfg.TrustedProxies)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	var devToken string
	if id.dev != nil {
		deps.Issuer = id.dev.HandlerAt(pub.Origin)
		devToken = playgroundToken(cfg, id, db, log)
	}
	if cfg.GraphQL.Playground {
		deps.Frontend = playgroundHandler(devToken, log)
	}
	// The connector operations are checked against the schema here: a
	// broken operation file stops the service with its file, line and reason.
	fac, err := facade.New(exec, db, facade.Options{
		Origin: pub.Origin, Log: log, WriteTimeout: cfg.HTTP.RequestTimeout,
		ResponseCacheBytes: cfg.Facade.ResponseCacheBytes, CacheMetrics: metrics,
		InvalidationBus: sh.bus, SharedCache: sh.answers,
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	// Mutations sent to /graphql drop the cached answers they change, as
	// the facade's own writes do.
	exec.Use(fac.Invalidation())
	closeBase := closeAll
	closeAll = func() { fac.Close(); closeBase() }
	deps.Facade = fac
	// In trusted-documents mode /graphql runs the connector's documents too.
	for _, op := range fac.Operations() {
		exec.Trust(op.Source)
	}
	if exec.TrustedDocuments() {
		log.Info("trusted documents: /graphql runs only registered documents and the connector operations", "from", cfg.GraphQL.TrustedDocuments)
	}
	if deps.Definition, err = definitionHandler(cfg, pub, fac.Operations(), fac.Schema()); err != nil {
		closeAll()
		return nil, nil, err
	}
	// The same operations as MCP tools, behind the same token; a 401 there
	// names the resource metadata, which names who issues the tokens.
	tools, err := mcp.NewServer(fac, mcp.Options{Log: log})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	res := mcp.Resource{
		AuthorizationServers: authorizationServers(cfg, id),
		Scopes:               resourceScopes(cfg),
		Paths:                []string{"/mcp", facade.BasePath + connector.MCPPath},
		Origin:               pub.Origin,
	}
	deps.MCP = mcp.Handler(tools, mcp.HandlerOptions{Origin: pub.Origin, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Log: log})
	deps.MCPAuthenticate = id.authn.MiddlewareWith(writeErr, res.Challenge)
	deps.ResourceMetadata = res.Metadata()
	return server.NewHandler(cfg, deps), closeAll, nil
}

// playgroundTokenTTL is long because the token is minted once at start and
// the playground page keeps it; it only ever works against this dev key.
const playgroundTokenTTL = 30 * 24 * time.Hour

// playgroundToken mints avery's token for the playground's headers, or ""
// when the demo data has no avery (a database seeded otherwise).
func playgroundToken(cfg config.Config, id identity, db *store.DB, log *slog.Logger) string {
	tok, err := mintDevToken(context.Background(), cfg, id.dev, db, "avery", []string{config.ScopeReadWrite}, playgroundTokenTTL)
	if err != nil {
		log.Warn("playground opens without a dev token", "err", err)
		return ""
	}
	log.Info("dev identity issuer on: the playground is signed in as avery; `middletier token --user LOGIN` prints other tokens", "issuer", id.dev.Issuer())
	return tok
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
	}
	return a.String()
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", "middletier migrate: apply database migrations and exit", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.Log.Level, cfg.Log.Format)
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("migrations applied")
	return nil
}

func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	scale := 1
	cfg, err := parseConfig("seed", "middletier seed: load deterministic demo data into an empty database", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&scale, "scale", scale, "size of the demo data: 1 is about 20 stores, 5,000 products, 2,000 customers, 10,000 backorders (1 to 50)")
	})
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.Log.Level, cfg.Log.Format)
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Seed(ctx, scale); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	log.Info("demo data seeded", "scale", scale, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}
