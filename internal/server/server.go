// Package server is middletier's HTTP surface: one chi router with the
// middleware chain, health, and the handlers it is given mounted at /graphql,
// /api/v1 and /. routes in NewHandler are the whole map of it. It knows HTTP,
// not GraphQL: the executor and the loaders are built by cmd/middletier and
// arrive as plain handlers and middleware.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/publicurl"
	"github.com/middletier/middletier/internal/telemetry"
)

// Readiness is what /readyz asks.
type Readiness interface {
	Ready(ctx context.Context) error
}

// Deps are the parts the HTTP surface serves.
type Deps struct {
	Log *slog.Logger
	// GraphQL serves /graphql (graph.Executor's Handler).
	GraphQL http.Handler
	// Loaders installs a request's fresh dataloaders
	// (loaders.Middleware) in front of /graphql and /api/v1 when not nil.
	Loaders func(http.Handler) http.Handler
	Ready   Readiness
	// Stopping, when not nil, is closed once the service begins to shut
	// down: from then on /readyz answers 503 so that load balancers stop
	// sending, while every other route keeps serving through the drain.
	Stopping <-chan struct{}
	Frontend http.Handler // the playground, mounted at / when not nil
	// Metrics records requests and serves GET /metrics when not nil.
	Metrics *telemetry.Metrics
	// Authenticate verifies the bearer token of /graphql and /api/v1 requests
	// and puts the principal in the context. Without it no request has a
	// principal, and the access rules refuse every read of store data.
	Authenticate func(http.Handler) http.Handler
	// Issuer serves the dev identity issuer's discovery document and keys
	// under /dev-issuer when not nil (dev mode only).
	Issuer http.Handler
	// Facade is the REST connector facade, mounted at /api/v1 behind
	// Authenticate and the loaders when not nil.
	Facade http.Handler
	// Definition serves GET /api/v1/swagger.json without a token, so that
	// makers and tools can import the connector definition.
	Definition http.Handler
	// MCP serves the connector's operations as MCP tools (streamable HTTP)
	// at /mcp and, where the connector definition's basePath puts its MCP
	// operation, /api/v1/mcp, behind the same middleware as /api/v1 when
	// not nil.
	MCP http.Handler
	// MCPAuthenticate verifies the bearer token of /mcp requests (nil:
	// Authenticate); its challenges name the resource metadata.
	MCPAuthenticate func(http.Handler) http.Handler
	// ResourceMetadata serves the OAuth protected resource metadata (RFC
	// 9728) at /.well-known/oauth-protected-resource and below it, without
	// a token, when not nil.
	ResourceMetadata http.Handler
	// RateLimit, when not nil, counts requests per caller
	// (ratelimit.Limiter's Middleware): behind Authenticate on /graphql and
	// /api/v1, by client IP on the routes that need no token. Health and
	// metrics are never limited: probes must always get through.
	RateLimit func(http.Handler) http.Handler
}

// NewHandler builds the whole HTTP surface.
func NewHandler(cfg config.Config, d Deps) http.Handler {
	budget := newBodyBudget(cfg.HTTP.BodyBudgetBytes, cfg.HTTP.BodyBudgetWait)
	pub, err := publicurl.New(cfg.PublicURL, cfg.TrustedProxies)
	if err != nil {
		// Config.Validate refuses such a URL at start; a hand-built config
		// still gets headers that follow the request.
		pub, _ = publicurl.New("", cfg.TrustedProxies)
	}
	limit := d.RateLimit
	if limit == nil {
		limit = func(next http.Handler) http.Handler { return next }
	}
	r := chi.NewRouter()
	if d.Stopping != nil {
		r.Use(closeWhenStopping(d.Stopping))
	}
	r.Use(middleware.RequestID)
	r.Use(echoRequestID)
	r.Use(securityHeaders(pub, cfg.HTTP.HSTSMaxAge))
	// r.RemoteAddr stays the connection's peer: X-Forwarded-For and
	// X-Real-IP are headers any client can send, so the client's address
	// is resolved once, believing them only from --trusted-proxies, and
	// read with middleware.GetClientIP (the rate limit does); the public
	// URL's forwarded headers are judged by the same peer (KeepPeer).
	r.Use(publicurl.KeepPeer)
	r.Use(clientIP(cfg.TrustedProxies))
	// The trace starts here, before the access log and the recoverer, so
	// that their lines carry its trace id and a panic ends inside its span.
	r.Use(telemetry.TraceHTTP)
	r.Use(accessLog(d.Log))
	r.Use(Recoverer(d.Log))
	if d.Metrics != nil {
		r.Use(d.Metrics.Middleware)
		r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())
	}

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if stopping(d.Stopping) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = jsonEncode(w, map[string]string{"status": "stopping", "reason": "shutting down: finishing the requests in flight"})
			return
		}
		if err := d.Ready.Ready(ctx); err != nil {
			d.Log.WarnContext(ctx, "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = jsonEncode(w, map[string]string{"status": "unavailable", "reason": "database unreachable or not migrated"})
			return
		}
		_ = jsonEncode(w, map[string]string{"status": "ready"})
	})

	r.Group(func(r chi.Router) {
		r.Use(middleware.Timeout(cfg.HTTP.RequestTimeout))
		if len(cfg.HTTP.CORSOrigins) > 0 {
			r.Use(cors.Handler(cors.Options{
				AllowedOrigins: cfg.HTTP.CORSOrigins,
				AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
				// Mcp-Protocol-Version (and a session id, should a client
				// send one) let a browser-based MCP client call /mcp.
				AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "Idempotency-Key", "If-None-Match", "Mcp-Protocol-Version", "Mcp-Session-Id"},
				ExposedHeaders: []string{"X-Request-Id", "ETag", "Retry-After", "WWW-Authenticate", "Mcp-Session-Id"},
				MaxAge:         600,
			}))
		}
		if d.Definition != nil {
			r.With(limit).Method(http.MethodGet, "/api/v1/swagger.json", d.Definition)
		}
		// Identity before bytes: the token is in the headers, so a request
		// without one is refused before any of its body is read, and only
		// signed-in callers draw on the body budget.
		signedIn := func(r chi.Router, authenticate func(http.Handler) http.Handler) {
			if authenticate != nil {
				r.Use(authenticate)
			}
			// Per principal, before the body is read: a caller over its
			// limit draws nothing from the body budget or the backends.
			r.Use(limit)
			r.Use(limitBody(cfg.HTTP.MaxBodyBytes, budget))
			r.Use(boundRequest(cfg.Database.RequestConns))
			if d.Loaders != nil {
				r.Use(d.Loaders)
			}
		}
		r.Group(func(r chi.Router) {
			signedIn(r, d.Authenticate)
			r.Handle("/graphql", d.GraphQL)
			if d.Facade != nil {
				r.Mount("/api/v1", d.Facade)
			}
		})
		if d.MCP != nil {
			r.Group(func(r chi.Router) {
				authenticate := d.MCPAuthenticate
				if authenticate == nil {
					authenticate = d.Authenticate
				}
				signedIn(r, authenticate)
				r.Handle("/mcp", d.MCP)
				r.Handle("/api/v1/mcp", d.MCP)
			})
		}
	})
	if d.ResourceMetadata != nil {
		r.With(limit).Method(http.MethodGet, "/.well-known/oauth-protected-resource", d.ResourceMetadata)
		r.With(limit).Method(http.MethodGet, "/.well-known/oauth-protected-resource/*", d.ResourceMetadata)
	}
	if d.Issuer != nil {
		r.With(limit).Mount("/dev-issuer", d.Issuer)
	}

	if d.Frontend != nil {
		r.With(limit).Handle("/", d.Frontend)
		r.With(limit).Handle("/playground/*", d.Frontend)
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, gqlerr.NotFound, fmt.Sprintf("no route for %s %s; GraphQL is at /graphql", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path))
	})
	return r
}

// closeWhenStopping ends each connection after its answer once the service
// is stopping, so that clients and balancers holding keep-alive connections
// open their next one to another replica during the drain. Idle connections
// are left alone until the server shuts down: closing them now would race
// with a request a client is just sending on one.
func closeWhenStopping(c <-chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if stopping(c) {
				w.Header().Set("Connection", "close")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// stopping reports whether c is closed; a nil channel never is.
func stopping(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// echoRequestID returns the request id so a maker can quote it.
func echoRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", middleware.GetReqID(r.Context()))
		next.ServeHTTP(w, r)
	})
}

// accessLog logs one line per request at info level, except an answered
// probe (a /healthz, /readyz or /metrics request with a status below 400):
// kubelets and scrapers call those every few seconds, their lines drown the
// traffic operators read, and formatting them was a measurable share of a
// probe's CPU (BENCHMARKS.md, "Engine: per row"). Those go at debug level,
// and a failing probe stays at info.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			next.ServeHTTP(ww, r)
			level := slog.LevelInfo
			if probe(r.URL.Path) && ww.Status() < http.StatusBadRequest {
				level = slog.LevelDebug
			}
			ctx := r.Context()
			if !log.Enabled(ctx, level) {
				return
			}
			log.LogAttrs(ctx, level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", ww.Status()),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", middleware.GetReqID(ctx)),
			)
		})
	}
}

// probe reports whether path is one that health checks and metric
// scrapers call on a schedule.
func probe(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// Recoverer turns a panic outside the GraphQL executor (which recovers its
// own) into a 500 that carries the request id, and logs the stack.
func Recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic", "panic", p, "request_id", middleware.GetReqID(r.Context()), "stack", string(debug.Stack()))
				writeError(w, r, http.StatusInternalServerError, gqlerr.Internal, "internal server error")
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// WriteError writes err as the service's JSON error body with status: the
// code and message gqlerr gives it, or a masked internal error. The
// authentication middleware answers through it.
func WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	code, msg, ok := gqlerr.Classify(err)
	if !ok {
		code, msg = gqlerr.Internal, "internal server error"
	}
	writeError(w, r, status, code, msg)
}

// writeError writes the service's error body for non-GraphQL failures: the
// same gqlerr.Body the facade answers with (message first, short, under
// 1 KB), so that every /api/v1 answer follows one contract whichever layer
// refused it. 429 and 503 say when to retry, as the facade's do.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body := gqlerr.EncodeBody(code, msg, gqlerr.RefFrom(r.Context()), nil)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "10")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
