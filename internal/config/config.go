// Package config is middletier's one Config struct. Every setting is both a
// flag (--data-dir) and an environment variable (MIDDLETIER_DATA_DIR); a flag
// given on the command line wins over the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/redact"
	"github.com/middletier/middletier/internal/store"
)

// EnvPrefix starts every environment variable name.
const EnvPrefix = "MIDDLETIER_"

// MinRatePerMinute is the smallest rate limit accepted: the calls a minute
// one Power Platform connection may make (CONNECTOR.md §10), so that the
// service never refuses a connector what the platform allows it.
const MinRatePerMinute = 500

// Config holds every setting of the service.
type Config struct {
	// Addr is where the service listens, host:port.
	Addr string
	// AddrGiven reports whether Addr came from --addr or MIDDLETIER_ADDR
	// rather than the default; in dev mode only a given address is bound
	// beyond loopback (LoopbackOnly).
	AddrGiven bool
	// PublicURL is where clients reach the service (scheme, host, optional
	// path, no trailing slash). Empty follows each request: links and the
	// connector definition's host name the address the caller used.
	PublicURL string
	// TrustedProxies are the peers whose Forwarded / X-Forwarded-* headers
	// may say what the public address is; empty trusts none.
	TrustedProxies []netip.Prefix
	Database       Database
	HTTP           HTTP
	GraphQL        GraphQL
	Log            Log
	Auth           Auth
	Connector      Connector
	Facade         Facade
	Upstream       Upstream
	Redis          Redis

	// DebugAddr is where the Go profiler (net/http/pprof) listens, on a
	// listener of its own and never on the public router; empty (the
	// default) serves no profiler at all.
	DebugAddr string
}

// Database says where the data lives.
type Database struct {
	DataDir  string
	URL      string
	AutoSeed bool
	MaxConns int
	// RequestConns caps the pool connections one request holds at once, so
	// a heavy request cannot starve light ones (store.WithConnLimit).
	RequestConns int
}

// HTTP bounds what one request may cost.
type HTTP struct {
	MaxBodyBytes int64
	// BodyBudgetBytes bounds the bytes all request bodies in flight may
	// hold together; a body that cannot get its share within BodyBudgetWait
	// is refused with 503 and Retry-After.
	BodyBudgetBytes int64
	BodyBudgetWait  time.Duration
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	RequestTimeout  time.Duration
	// DrainDelay is how long the service keeps serving after SIGTERM or
	// SIGINT with /readyz already failing, so that load balancers notice
	// and stop sending before the listener closes. ShutdownTimeout starts
	// after it.
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	CORSOrigins     []string
	// RateLimit is how many requests one caller (a signed-in user, or
	// the client IP of a request without a valid token) may send per
	// RateLimitWindow; 0 turns the limit off.
	RateLimit       int
	RateLimitWindow time.Duration
	// HSTSMaxAge is the Strict-Transport-Security max-age sent on answers
	// to callers who came over HTTPS; 0 sends none.
	HSTSMaxAge time.Duration
}

// GraphQL tunes the GraphQL endpoint.
type GraphQL struct {
	ComplexityLimit int
	// MaxDepth, MaxRootFields and MaxFields bound an operation's shape
	// before it runs, fragments expanded and introspection included.
	MaxDepth      int
	MaxRootFields int
	MaxFields     int
	// Introspection and Playground default to on in dev mode and off in
	// production (ApplyMode) unless given; *Given record that they were.
	Introspection      bool
	Playground         bool
	IntrospectionGiven bool
	PlaygroundGiven    bool
	// TrustedDocuments, when set, is a directory of .graphql files or a
	// JSON file of sha256 -> document: /graphql then runs only those and
	// the facade's operations (graph/trusted.go).
	TrustedDocuments string
	QueryCacheBytes  int64
	BatchWait        time.Duration
}

// Log tunes logging.
type Log struct {
	Level  slog.Level
	Format string
}

// Defaults are the embedded defaults: SQLite under ./data, everything local.
func Defaults() Config {
	return Config{
		Addr: ":8080",
		Database: Database{
			DataDir:  store.DefaultDataDir,
			AutoSeed: true,
			// Two: a write's transaction holds one while the reads that
			// build its answer need another, and four heavy requests then
			// leave most of the smallest default pool (8) to everyone else.
			RequestConns: 2,
		},
		HTTP: HTTP{
			// The Power Platform gateway forwards bodies up to 3,182,218 bytes;
			// the service must accept at least that.
			MaxBodyBytes: 4 << 20,
			// Eight bodies of the largest size at once: connector bodies are
			// small, so only a burst of large uploads ever waits, and the
			// memory they hold stays a fixed, known amount.
			BodyBudgetBytes: 32 << 20,
			BodyBudgetWait:  5 * time.Second,
			ReadTimeout:     30 * time.Second,
			WriteTimeout:    90 * time.Second,
			IdleTimeout:     120 * time.Second,
			RequestTimeout:  60 * time.Second,
			// One period of the readiness probe in deploy/ (5 s, failure
			// threshold 1): by then the probe has seen the 503. Together
			// with ShutdownTimeout it fits the pod's 30 s grace period.
			DrainDelay:      5 * time.Second,
			ShutdownTimeout: 20 * time.Second,
			// A Power Platform connection may send 500 calls a minute
			// (CONNECTOR.md §10), and one user may run a canvas app and a
			// few flows at once: 1,200 lets two connections run flat out
			// while one client in a loop is still stopped within a minute.
			RateLimit:       1200,
			RateLimitWindow: time.Minute,
			// One year, the usual HSTS preload minimum.
			HSTSMaxAge: 365 * 24 * time.Hour,
		},
		GraphQL: GraphQL{
			ComplexityLimit: 5000,
			// GraphiQL's introspection query nests 14 levels (TypeRef's
			// eight ofType levels under __schema.types.fields.args.type);
			// the deepest connector operation nests 6.
			MaxDepth: 15,
			// A screen asks for a handful of root fields (GetMyHome: 3);
			// 30 leaves room for a dashboard while 1,000 aliases are refused
			// before any resolver runs.
			MaxRootFields: 30,
			// GraphiQL's introspection query selects about 220 fields with
			// its fragments expanded; the largest connector operation 45.
			// The count also stops a fragment bomb before the complexity
			// walk, which expands fragments too.
			MaxFields:       500,
			Introspection:   true,
			Playground:      true,
			QueryCacheBytes: 32 << 20,
			BatchWait:       2 * time.Millisecond,
		},
		Log:       Log{Level: slog.LevelInfo, Format: "text"},
		Auth:      defaultAuth(),
		Connector: defaultConnector(),
		Facade:    defaultFacade(),
		Upstream:  defaultUpstream(),
		Redis:     defaultRedis(),
	}
}

// Flags registers every setting on fs, writing into c.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.Var(addrValue{c}, "addr", "address to listen on, host:port (in dev mode, unless given: loopback only, at this port)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "URL clients use to reach the service (behind a proxy, the proxy's): links, the connector definition's host and the dev issuer use it (empty: follow each request)")
	fs.Func("trusted-proxies", "comma-separated CIDRs or IPs of proxies whose Forwarded / X-Forwarded-Proto, -Host and -Prefix headers are believed when --public-url is empty (empty: none)", func(s string) error {
		p, err := publicurl.ParseTrusted(s)
		if err != nil {
			return err
		}
		c.TrustedProxies = p
		return nil
	})
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "address (host:port, e.g. 127.0.0.1:6060) of a separate listener serving the Go profiler at /debug/pprof/; empty serves none. Never expose it: profiles show internals")
	fs.StringVar(&c.Database.DataDir, "data-dir", c.Database.DataDir, "directory for the SQLite database and local state")
	fs.StringVar(&c.Database.URL, "database-url", c.Database.URL, "PostgreSQL URL (postgres://user:pass@host:5432/db); empty uses SQLite in --data-dir")
	fs.BoolVar(&c.Database.AutoSeed, "auto-seed", c.Database.AutoSeed, "seed demo data (scale 1) when the database is empty at start")
	fs.IntVar(&c.Database.MaxConns, "db-max-conns", c.Database.MaxConns, "maximum open database connections (0 = engine default)")
	fs.IntVar(&c.Database.RequestConns, "db-request-conns", c.Database.RequestConns, "most database connections one request holds at once, so heavy requests cannot starve light ones")
	fs.Int64Var(&c.HTTP.MaxBodyBytes, "max-body-bytes", c.HTTP.MaxBodyBytes, "largest request body accepted, in bytes (larger gets 413)")
	fs.Int64Var(&c.HTTP.BodyBudgetBytes, "body-budget-bytes", c.HTTP.BodyBudgetBytes, "memory all request bodies in flight may hold together, in bytes (at least max-body-bytes); a body that cannot get its share in time gets 503")
	fs.DurationVar(&c.HTTP.BodyBudgetWait, "body-budget-wait", c.HTTP.BodyBudgetWait, "how long a request body waits for its share of body-budget-bytes before 503")
	fs.DurationVar(&c.HTTP.ReadTimeout, "read-timeout", c.HTTP.ReadTimeout, "time allowed to read a whole request")
	fs.DurationVar(&c.HTTP.WriteTimeout, "write-timeout", c.HTTP.WriteTimeout, "time allowed to write a response")
	fs.DurationVar(&c.HTTP.IdleTimeout, "idle-timeout", c.HTTP.IdleTimeout, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&c.HTTP.RequestTimeout, "request-timeout", c.HTTP.RequestTimeout, "deadline for handling one request")
	fs.DurationVar(&c.HTTP.DrainDelay, "drain-delay", c.HTTP.DrainDelay, "on SIGINT or SIGTERM, how long to keep serving with /readyz failing so load balancers stop sending first (a second signal ends it; 0 = none)")
	fs.DurationVar(&c.HTTP.ShutdownTimeout, "shutdown-timeout", c.HTTP.ShutdownTimeout, "time allowed for requests in flight to finish after the drain delay")
	fs.Func("cors-origins", "comma-separated origins allowed to call /graphql from a browser (empty = no cross-origin access)", func(s string) error {
		c.HTTP.CORSOrigins = splitList(s)
		return nil
	})
	fs.IntVar(&c.HTTP.RateLimit, "rate-limit", c.HTTP.RateLimit, "requests one caller may send per rate-limit-window: each signed-in user, and each client IP for requests without a valid token; over it answers 429 with Retry-After (0 = no limit; at least 500 a minute, a Power Platform connection's own limit)")
	fs.DurationVar(&c.HTTP.RateLimitWindow, "rate-limit-window", c.HTTP.RateLimitWindow, "window of the rate limit (sliding)")
	fs.DurationVar(&c.HTTP.HSTSMaxAge, "hsts-max-age", c.HTTP.HSTSMaxAge, "Strict-Transport-Security max-age sent to callers who came over HTTPS (directly, per --public-url, or through a trusted proxy saying so); 0 sends none")
	fs.IntVar(&c.GraphQL.ComplexityLimit, "complexity-limit", c.GraphQL.ComplexityLimit, "largest GraphQL query complexity accepted (each field costs 1, lists multiply by their page size, a search costs 100, an upstream list 50, introspection its size)")
	fs.IntVar(&c.GraphQL.MaxDepth, "max-depth", c.GraphQL.MaxDepth, "deepest GraphQL field nesting accepted (fragments expanded, introspection included)")
	fs.IntVar(&c.GraphQL.MaxRootFields, "max-root-fields", c.GraphQL.MaxRootFields, "most root fields (aliases included) in one GraphQL operation")
	fs.IntVar(&c.GraphQL.MaxFields, "max-fields", c.GraphQL.MaxFields, "most fields (aliases included, fragments expanded) in one GraphQL operation")
	fs.Var(modeBool{&c.GraphQL.Introspection, &c.GraphQL.IntrospectionGiven}, "introspection", "allow GraphQL introspection, which the playground needs (default: on in dev mode, off in production, i.e. with --auth-tenant-id or --auth-issuers)")
	fs.Var(modeBool{&c.GraphQL.Playground, &c.GraphQL.PlaygroundGiven}, "playground", "serve the GraphiQL playground at / (default: on in dev mode, off in production)")
	fs.StringVar(&c.GraphQL.TrustedDocuments, "trusted-documents", c.GraphQL.TrustedDocuments, "directory of .graphql files, or JSON file of sha256 hash to document text: /graphql then runs only these documents and the connector operations' (empty: any document)")
	fs.Int64Var(&c.GraphQL.QueryCacheBytes, "query-cache-bytes", c.GraphQL.QueryCacheBytes, "memory for parsed queries and persisted queries, in bytes")
	fs.DurationVar(&c.GraphQL.BatchWait, "batch-wait", c.GraphQL.BatchWait, "how long a dataloader waits to gather keys into one batch; each nested level of a query waits once")
	fs.TextVar(&c.Log.Level, "log-level", c.Log.Level, "log level: debug, info, warn or error")
	fs.StringVar(&c.Log.Format, "log-format", c.Log.Format, "log format: text or json")
	c.Auth.flags(fs)
	c.Connector.flags(fs)
	c.Facade.flags(fs)
	c.Upstream.flags(fs)
	c.Redis.flags(fs)
}

// modeBool is a boolean flag whose default depends on the mode (ApplyMode)
// and that records whether it was given, on the command line or in the
// environment.
type modeBool struct{ v, given *bool }

func (b modeBool) String() string {
	if b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b modeBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*b.v, *b.given = v, true
	return nil
}

func (modeBool) IsBoolFlag() bool { return true }

// ApplyMode settles the defaults that depend on the mode, once the flags
// and environment are read: in production (an issuer or tenant configured)
// introspection and the playground are off unless given explicitly, since
// they map the whole schema for anyone holding a token; dev mode keeps
// both on.
func (c *Config) ApplyMode() {
	if c.Auth.DevMode() {
		return
	}
	if !c.GraphQL.IntrospectionGiven {
		c.GraphQL.Introspection = false
	}
	if !c.GraphQL.PlaygroundGiven {
		c.GraphQL.Playground = false
	}
}

// addrValue is the --addr flag: it records that an address was given, on
// the command line or in MIDDLETIER_ADDR, as opposed to the default.
type addrValue struct{ c *Config }

func (a addrValue) String() string {
	if a.c == nil {
		return ""
	}
	return a.c.Addr
}

func (a addrValue) Set(s string) error {
	a.c.Addr, a.c.AddrGiven = s, true
	return nil
}

// LoopbackOnly reports whether the service must listen on loopback only:
// in dev mode its issuer hands out tokens and its playground carries one,
// so it stays on this machine unless an address was given explicitly.
func (c Config) LoopbackOnly() bool { return c.Auth.DevMode() && !c.AddrGiven }

// EnvName is the environment variable for a flag: data-dir -> MIDDLETIER_DATA_DIR.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse reads args into fs, then fills every flag not given on the command
// line from its environment variable.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Usage writes help for fs that names each flag's environment variable.
func Usage(w io.Writer, fs *flag.FlagSet, synopsis string) func() {
	return func() {
		fmt.Fprintf(w, "%s\n\nSettings (flag, or the environment variable after it):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s, %s\n      %s%s\n", f.Name, EnvName(f.Name), f.Usage, def)
		})
	}
}

// Validate checks the settings once, at start.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("addr must be host:port or :port, got %q", c.Addr))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(c.PublicURL, "/") {
			errs = append(errs, fmt.Errorf("public-url must be an http(s) URL without a trailing slash, query or user info, got %q", c.PublicURL))
		}
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil || c.DebugAddr == c.Addr {
			errs = append(errs, fmt.Errorf("debug-addr must be host:port and differ from addr, got %q", c.DebugAddr))
		}
	}
	errs = append(errs, c.Auth.validate()...)
	errs = append(errs, c.Connector.validate()...)
	errs = append(errs, c.Facade.validate()...)
	errs = append(errs, c.Upstream.validate()...)
	errs = append(errs, c.Redis.validate()...)
	if u := c.Database.URL; u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") {
			errs = append(errs, errors.New("database-url must be a postgres:// URL, or empty for SQLite"))
		}
	} else if c.Database.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty when database-url is not set"))
	}
	if c.HTTP.MaxBodyBytes < 3_182_218 {
		errs = append(errs, fmt.Errorf("max-body-bytes must be at least 3182218 (the Power Platform gateway's limit), got %d", c.HTTP.MaxBodyBytes))
	}
	if c.HTTP.BodyBudgetBytes < c.HTTP.MaxBodyBytes {
		errs = append(errs, fmt.Errorf("body-budget-bytes must be at least max-body-bytes (%d), got %d", c.HTTP.MaxBodyBytes, c.HTTP.BodyBudgetBytes))
	}
	for name, d := range map[string]time.Duration{"body-budget-wait": c.HTTP.BodyBudgetWait, "read-timeout": c.HTTP.ReadTimeout, "write-timeout": c.HTTP.WriteTimeout, "idle-timeout": c.HTTP.IdleTimeout, "request-timeout": c.HTTP.RequestTimeout, "shutdown-timeout": c.HTTP.ShutdownTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	if c.HTTP.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate-limit must not be negative (0 turns it off), got %d", c.HTTP.RateLimit))
	}
	if c.HTTP.RateLimit > 0 {
		if c.HTTP.RateLimitWindow < time.Second {
			errs = append(errs, fmt.Errorf("rate-limit-window must be at least 1s, got %s", c.HTTP.RateLimitWindow))
		} else if float64(c.HTTP.RateLimit)*float64(time.Minute)/float64(c.HTTP.RateLimitWindow) < MinRatePerMinute {
			errs = append(errs, fmt.Errorf("rate-limit %d per %s is below %d a minute, which one Power Platform connection may send; raise it or set 0 for no limit", c.HTTP.RateLimit, c.HTTP.RateLimitWindow, MinRatePerMinute))
		}
	}
	if c.HTTP.HSTSMaxAge < 0 {
		errs = append(errs, fmt.Errorf("hsts-max-age must not be negative, got %s", c.HTTP.HSTSMaxAge))
	}
	if c.HTTP.DrainDelay < 0 || c.HTTP.DrainDelay > 5*time.Minute {
		errs = append(errs, fmt.Errorf("drain-delay must be between 0 and 5m, got %s", c.HTTP.DrainDelay))
	}
	if c.GraphQL.ComplexityLimit < 10 {
		errs = append(errs, fmt.Errorf("complexity-limit must be at least 10, got %d", c.GraphQL.ComplexityLimit))
	}
	for name, v := range map[string]int{"max-depth": c.GraphQL.MaxDepth, "max-root-fields": c.GraphQL.MaxRootFields, "max-fields": c.GraphQL.MaxFields} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", name, v))
		}
	}
	if c.GraphQL.MaxFields < c.GraphQL.MaxRootFields {
		errs = append(errs, fmt.Errorf("max-fields (%d) must not be below max-root-fields (%d)", c.GraphQL.MaxFields, c.GraphQL.MaxRootFields))
	}
	if c.Database.RequestConns < 2 {
		// One: a write's transaction would wait forever for the second
		// connection its own reads need.
		errs = append(errs, fmt.Errorf("db-request-conns must be at least 2, got %d", c.Database.RequestConns))
	}
	if c.Database.MaxConns > 0 && c.Database.RequestConns > c.Database.MaxConns {
		errs = append(errs, fmt.Errorf("db-request-conns (%d) must not exceed db-max-conns (%d)", c.Database.RequestConns, c.Database.MaxConns))
	}
	if c.GraphQL.QueryCacheBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("query-cache-bytes must be at least 1048576, got %d", c.GraphQL.QueryCacheBytes))
	}
	if c.GraphQL.BatchWait <= 0 || c.GraphQL.BatchWait > time.Second {
		errs = append(errs, fmt.Errorf("batch-wait must be between 0 and 1s, got %s", c.GraphQL.BatchWait))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log-format must be text or json, got %q", c.Log.Format))
	}
	return errors.Join(errs...)
}

// LogValue prints the settings with every URL's password masked (the
// database's and each upstream's) by redact.URL.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("addr", c.Addr),
		slog.Bool("loopback_only", c.LoopbackOnly()),
		slog.Duration("drain_delay", c.HTTP.DrainDelay),
		slog.Duration("shutdown_timeout", c.HTTP.ShutdownTimeout),
		slog.String("public_url", c.PublicURL),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("debug_addr", c.DebugAddr),
		slog.String("data_dir", c.Database.DataDir),
		slog.String("database_url", redact.URL(c.Database.URL)),
		slog.Bool("auto_seed", c.Database.AutoSeed),
		slog.String("redis_url", redact.URL(c.Redis.URL)),
		slog.String("redis_key_prefix", c.Redis.KeyPrefix),
		slog.Int64("max_body_bytes", c.HTTP.MaxBodyBytes),
		slog.Int64("body_budget_bytes", c.HTTP.BodyBudgetBytes),
		slog.Duration("request_timeout", c.HTTP.RequestTimeout),
		slog.Any("cors_origins", c.HTTP.CORSOrigins),
		slog.Int("rate_limit", c.HTTP.RateLimit),
		slog.Duration("rate_limit_window", c.HTTP.RateLimitWindow),
		slog.Int("complexity_limit", c.GraphQL.ComplexityLimit),
		slog.Int("max_depth", c.GraphQL.MaxDepth),
		slog.Int("max_root_fields", c.GraphQL.MaxRootFields),
		slog.Int("max_fields", c.GraphQL.MaxFields),
		slog.Int("db_request_conns", c.Database.RequestConns),
		slog.Int64("response_cache_bytes", c.Facade.ResponseCacheBytes),
		slog.Bool("introspection", c.GraphQL.Introspection),
		slog.Bool("playground", c.GraphQL.Playground),
		slog.String("trusted_documents", c.GraphQL.TrustedDocuments),
		slog.Bool("auth_dev_mode", c.Auth.DevMode()),
		slog.Any("auth_issuers", c.Auth.AcceptedIssuers()),
		slog.Any("auth_audiences", c.Auth.Audiences),
		slog.String("auth_tenant_id", c.Auth.TenantID),
	}
	for _, s := range c.Upstream.Sources {
		attrs = append(attrs, slog.String(s.Name+"_url", redact.URL(s.Settings.URL())))
	}
	attrs = append(attrs, slog.Duration("upstream_timeout", c.Upstream.Timeout))
	return slog.GroupValue(attrs...)
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
