package graph

// This file and limits.go, requesterror.go are hand-written: the executor
// lives next to the schema it serves, so that internal/server only does
// HTTP and nothing below cmd imports back up. gqlgen regenerates
// generated.go only, and these files name none of its identifiers, so they
// still compile while it is being rewritten.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/input"
)

// Executor is the configured gqlgen executor: /graphql serves it over HTTP
// and the REST facade runs its stored documents through the same instance,
// in process, so both share limits, extensions, caches and the error presenter.
type Executor struct {
	*executor.Executor
	schema     graphql.ExecutableSchema
	transports []graphql.Transport
	queryCache *cache.Cache[*ast.QueryDocument]
	apqCache   *cache.Cache[string]
	// trusted is the allow-list in trusted-documents mode, nil otherwise.
	trusted *trustedDocuments
}

// Schema is the executable schema, for validating stored documents.
func (e *Executor) Schema() *ast.Schema { return e.schema.Schema() }

// ServeHTTP serves GraphQL over HTTP through the first transport that
// supports the request, as gqlgen's handler.Server does.
// Panics are left to the router's recoverer, which answers 500 with the request id.
func (e *Executor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(graphql.StartOperationTrace(r.Context()))
	for _, t := range e.transports {
		if t.Supports(r) {
			rw := &requestErrorWriter{ResponseWriter: w}
			t.Do(rw, r, requestErrors{Executor: e.Executor, w: rw})
			return
		}
	}
	writeGraphQLError(w, http.StatusBadRequest, "unsupported GraphQL request: use GET with a query parameter, or POST with a JSON body")
}

// NewExecutor builds the GraphQL executor over es, the executable schema
// with its resolvers (resolvers.NewSchema): every extension, cache and
// limit /graphql and the facade share is configured here and nowhere else.
func NewExecutor(cfg config.GraphQL, es graphql.ExecutableSchema, log *slog.Logger) (*Executor, error) {
	// Parsed documents are roughly ten times the size of their text.
	queryCache, err := cache.New(cache.Options[*ast.QueryDocument]{
		MaxCost: cfg.QueryCacheBytes * 3 / 4,
		Cost:    func(key string, _ *ast.QueryDocument) int64 { return int64(len(key)) * 10 },
	})
	if err != nil {
		return nil, fmt.Errorf("query cache: %w", err)
	}
	apqCache, err := cache.New(cache.Options[string]{
		MaxCost: cfg.QueryCacheBytes / 4,
		Cost:    func(key, v string) int64 { return int64(len(key) + len(v)) },
	})
	if err != nil {
		queryCache.Close()
		return nil, fmt.Errorf("persisted query cache: %w", err)
	}

	// The input contract runs before every other check and any resolver:
	// bad text or an out-of-range page size is the client's 400, never a
	// driver's 500 or a silent default.
	contract, err := input.New(es.Schema())
	if err != nil {
		queryCache.Close()
		apqCache.Close()
		return nil, fmt.Errorf("input limits in the schema: %w", err)
	}
	var trusted *trustedDocuments
	if cfg.TrustedDocuments != "" {
		if trusted, err = loadTrustedDocuments(cfg.TrustedDocuments, es.Schema()); err != nil {
			queryCache.Close()
			apqCache.Close()
			return nil, err
		}
	}
	srv := executor.New(es)
	// First, so that the operation's span holds every other extension's
	// work and the root field spans hold the write-scope check.
	srv.Use(newTracing())
	if trusted != nil {
		// Before anything parses: an untrusted document costs nothing.
		srv.Use(trusted)
	}
	srv.Use(contract)
	srv.SetQueryCache(queryCache)
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	if trusted == nil {
		// APQ registers any document a client sends; in trusted-documents
		// mode only the allow-list is addressed by hash.
		srv.Use(extension.AutomaticPersistedQuery{Cache: apqCache})
	}
	srv.Use(&operationLimits{cfg: cfg})
	srv.AroundRootFields(requireWriteScope)
	srv.SetErrorPresenter(gqlerr.Presenter(log))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "request_id", middleware.GetReqID(ctx), "stack", string(debug.Stack()))
		return &gqlerror.Error{Message: "internal server error", Extensions: map[string]any{"code": gqlerr.Internal}}
	})
	return &Executor{
		Executor:   srv,
		schema:     es,
		transports: []graphql.Transport{transport.Options{}, transport.GET{}, transport.POST{}},
		queryCache: queryCache,
		apqCache:   apqCache,
		trusted:    trusted,
	}, nil
}

// Trust adds documents to the trusted documents: the facade's operation
// documents, which /graphql then runs too (by hash or as exact text).
// Without trusted-documents mode it does nothing: every document runs.
func (e *Executor) Trust(docs ...string) {
	if e.trusted == nil {
		return
	}
	for _, d := range docs {
		e.trusted.add(d)
	}
}

// TrustedDocuments reports whether /graphql runs only trusted documents.
func (e *Executor) TrustedDocuments() bool { return e.trusted != nil }

// requireWriteScope refuses every mutation field to a token without a write
// scope, here rather than in each resolver so that a new mutation cannot
// forget it; the REST facade runs through this executor too. It runs once
// per root field of a mutation (not around every field of every query, a
// cost per field), and the error lands on the mutation field, as FORBIDDEN,
// with the path and location a resolver's error would have.
func requireWriteScope(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if graphql.GetOperationContext(ctx).Operation.Operation != ast.Mutation {
		return next(ctx)
	}
	if err := auth.CanWrite(ctx); err != nil {
		f := graphql.GetRootFieldContext(ctx).Field
		gerr := gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, err)
		if f.Position != nil && f.Position.Line > 0 {
			gerr.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
		}
		graphql.AddError(ctx, gerr)
		return graphql.Null
	}
	return next(ctx)
}

// Close stops the caches' goroutines.
func (e *Executor) Close() {
	e.queryCache.Close()
	e.apqCache.Close()
}

// Handler is the executor over HTTP, for /graphql: the GraphQL-over-HTTP
// rules below in front of ServeHTTP.
func (e *Executor) Handler() http.Handler { return graphqlHTTP(e) }

// graphqlHTTP puts the GraphQL-over-HTTP rules gqlgen leaves open in front of
// the executor: 415 for a body that is not JSON, 405 for a mutation over GET,
// and 200 (not 422) for validation errors answered as application/json.
func graphqlHTTP(exec http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodOptions:
		case http.MethodPost:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeGraphQLError(w, http.StatusUnsupportedMediaType, "POST /graphql needs Content-Type: application/json with a body like {\"query\": \"{ stores { nodes { id } } }\"}")
				return
			}
			// Checked before gqlgen decodes it: the JSON decoder would turn
			// invalid UTF-8 and lone surrogates into U+FFFD unnoticed.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				// The body limit answers for itself (413 or 503).
				writeGraphQLError(w, http.StatusBadRequest, "the request body could not be read")
				return
			}
			if reason := input.CheckJSON(body); reason != "" {
				writeGraphQLCodedError(w, http.StatusBadRequest, "the request body "+reason, input.Code)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeGraphQLError(w, http.StatusMethodNotAllowed, "use GET or POST for /graphql")
			return
		}
		exec.ServeHTTP(&statusFixer{ResponseWriter: w}, r)
	})
}

// statusFixer rewrites the two statuses where gqlgen departs from the
// GraphQL-over-HTTP spec.
type statusFixer struct {
	http.ResponseWriter
}

func (s *statusFixer) WriteHeader(code int) {
	switch {
	case code == http.StatusNotAcceptable:
		// gqlgen answers a mutation over GET with 406; the spec says 405.
		s.Header().Set("Allow", "POST")
		code = http.StatusMethodNotAllowed
	case code == http.StatusUnprocessableEntity && isPlainJSON(s.Header().Get("Content-Type")):
		// For application/json the spec wants 200 for every well-formed
		// request, errors included; application/graphql-response+json keeps 4xx.
		code = http.StatusOK
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusFixer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func isPlainJSON(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json"
}

// writeGraphQLCodedError is writeGraphQLError with extensions.code.
func writeGraphQLCodedError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeJSON(w, map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}}})
}

func writeGraphQLError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeJSON(w, map[string]any{"errors": []map[string]any{{"message": msg}}})
}

// writeJSON encodes v without HTML escaping: messages quote queries, whose
// braces and angle brackets a client should read as written.
func writeJSON(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
