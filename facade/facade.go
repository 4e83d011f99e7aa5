package facade

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/cache"
	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/input"
	"github.com/middletier/middletier/internal/store"
)

// Executor runs GraphQL operations in process: *graph.Executor, the same
// instance /graphql serves, so limits, extensions and the error presenter
// are shared.
type Executor interface {
	CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List)
	DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context)
	DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response
	Schema() *ast.Schema
}

// WriteStore runs each write in one transaction with its idempotency record
// (*store.DB).
type WriteStore interface {
	BeginUnit(ctx context.Context) (*store.Unit, error)
	DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error)
}

// Options tune the facade; zero values take the defaults.
type Options struct {
	// Origin is the public origin (https://host[:port][/prefix]) a request
	// reached the service at, which nextLink points at: a
	// publicurl.Resolver's Origin. Nil follows the request's scheme and
	// Host and trusts no forwarded header.
	Origin func(*http.Request) string
	Log    *slog.Logger
	// IdempotencyTTL is how long a write's first answer is replayed
	// (default 24 h: flows retry for up to about 30 minutes by default, and
	// makers can stretch retries over a day).
	IdempotencyTTL time.Duration
	// IdempotencyWait is how long a retry waits for the first request with
	// its key to finish before it gets 409 (default 20 s).
	IdempotencyWait time.Duration
	// WriteTimeout bounds a write from start to commit (default 1 min). A
	// write runs on even when its caller goes away, so that a retry finds
	// its answer; this is what stops it.
	WriteTimeout time.Duration
	// onWriteStep, when set, is called at each step of every write: the
	// fault-injection tests stop the process or drop the connection there
	// (set through export_test.go; production code cannot).
	onWriteStep func(r *http.Request, step WriteStep)
	// Operations replaces the embedded operation files (tests).
	Operations []Operation
	// ResponseCacheBytes sizes the cache of GET answers (respcache.go);
	// 0 turns it off.
	ResponseCacheBytes int64
	// InvalidationBus carries the cache's invalidations to and from other
	// replicas; nil keeps them in this process.
	InvalidationBus cache.Bus
	// SharedCache, when set, is the response cache's second level shared
	// by the replicas (Redis): an answer one replica ran is served by the
	// others while its tags' shared generations are unchanged.
	SharedCache SharedCache
	// CacheMetrics counts cache hits, misses and invalidations; nil counts
	// nothing.
	CacheMetrics CacheMetrics
}

// SharedCache is a second-level cache with tag generations shared by the
// replicas (internal/replicas.Redis).
type SharedCache interface {
	cache.Remote
	cache.SharedGens
}

// BasePath is where the facade is mounted, below the public URL's own path.
const BasePath = "/api/v1"

// Facade is the REST connector facade, mounted at BasePath.
type Facade struct {
	ops  []Operation
	exec Executor
	// contract is the input contract read from exec's schema: the executor
	// checks it too, the binder checks it first to name REST parameters.
	contract *input.Contract
	store    WriteStore
	opts     Options
	log      *slog.Logger
	router   chi.Router
	keys     keyLocks
	rc       *respCache // nil when the response cache is off
	// lastCleanup (unix ms) spaces out expired-key cleanup, which rides on
	// writes instead of needing a goroutine with a lifecycle of its own.
	lastCleanup atomic.Int64
}

// cleanupEvery spaces out the deletion of expired idempotency records.
const cleanupEvery = time.Hour

// New loads and validates the operations against exec's schema and builds
// their routes. An invalid operation file is an error: the service must not
// start with it.
func New(exec Executor, ws WriteStore, opts Options) (*Facade, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = 24 * time.Hour
	}
	if opts.IdempotencyWait <= 0 {
		opts.IdempotencyWait = 20 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = time.Minute
	}
	ops := opts.Operations
	if ops == nil {
		var err error
		if ops, err = LoadEmbedded(exec.Schema()); err != nil {
			return nil, fmt.Errorf("connector operations: %w", err)
		}
	}
	contract, err := input.New(exec.Schema())
	if err != nil {
		return nil, fmt.Errorf("input limits: %w", err)
	}
	f := &Facade{ops: ops, exec: exec, contract: contract, store: ws, opts: opts, log: opts.Log}
	if opts.ResponseCacheBytes > 0 {
		if f.rc, err = newRespCache(opts.ResponseCacheBytes, opts.InvalidationBus, opts.SharedCache, opts.CacheMetrics); err != nil {
			return nil, fmt.Errorf("response cache: %w", err)
		}
	}
	r := chi.NewRouter()
	for i := range f.ops {
		op := &f.ops[i]
		op.defaults, op.defaultsOK = op.canonVars(nil)
		r.Method(op.Method, op.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, op) }))
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeAnswer(w, errorAnswer(http.StatusNotFound, gqlerr.NotFound, fmt.Sprintf("no operation at %s %s", r.Method, r.URL.Path), gqlerr.RefFrom(r.Context()), nil))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeAnswer(w, errorAnswer(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), gqlerr.RefFrom(r.Context()), nil))
	})
	f.router = r
	return f, nil
}

// Operations returns the loaded operations, for the connector publisher
// (facade/connector).
func (f *Facade) Operations() []Operation { return slices.Clone(f.ops) }

// Schema is the schema the operations were validated against.
func (f *Facade) Schema() *ast.Schema { return f.exec.Schema() }

// Close releases the response cache; the facade must not serve afterwards.
func (f *Facade) Close() {
	if f.rc != nil {
		f.rc.c.Close()
	}
}

// ServeHTTP routes a request under /api/v1 to its operation.
func (f *Facade) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.router.ServeHTTP(w, r) }

func (f *Facade) serve(w http.ResponseWriter, r *http.Request, op *Operation) {
	o := f.handle(r, op, f.opts.origin(r))
	h := w.Header()
	if o.vary {
		// The answer depends on who asks: a client or proxy cache must not
		// hand it to another token.
		h.Set("Vary", "Authorization")
	}
	if op.Write {
		h.Set("Cache-Control", "no-store")
		if o.replayed {
			h.Set("Idempotent-Replayed", "true")
		}
		writeAnswer(w, o.answer)
		return
	}
	if o.status != http.StatusOK {
		h.Set("Cache-Control", "no-store")
		writeAnswer(w, o.answer)
		return
	}
	f.writeRead(w, r, o.body, o.etag, o.cacheControl)
}

// outcome is an operation's answer and what its REST route sends with it.
type outcome struct {
	answer
	replayed bool // a write's first answer, replayed for its key
	// etag and cacheControl go with a read's 200; vary says the answer
	// came through the response cache, keyed by the caller.
	etag, cacheControl string
	vary               bool
}

// handle is the one way an operation runs, whoever calls it: its REST
// route (serve) and Call (the MCP tools) both come here. It binds r to the
// operation's variables, then runs a write exactly once per idempotency
// key (and drops the cached answers it makes wrong) or a read through the
// response cache, through the shared executor, and shapes the answer;
// origin is the public origin the next page's link points at.
func (f *Facade) handle(r *http.Request, op *Operation, origin string) outcome {
	b, berr := op.bind(r, f.exec.Schema(), f.contract)
	if berr != nil {
		return outcome{answer: bindErrorAnswer(berr, gqlerr.RefFrom(r.Context()))}
	}
	if op.Write {
		a, replayed := f.write(r, op, b, origin)
		// A 4xx wrote nothing; a 5xx may have committed (the connection
		// broke during COMMIT), and dropping answers costs only a miss.
		if a.status < 300 || a.status >= 500 {
			f.invalidate(r, op, b)
		}
		return outcome{answer: a, replayed: replayed}
	}
	if op.Cache != nil && f.rc != nil {
		return f.cachedRead(r, op, b, origin)
	}
	return readOutcome(f.run(r.Context(), r, op, b.vars, origin))
}

// readOutcome is an uncached read's answer: errors uncached, a success
// with a strong ETag over its exact bytes, so that an unchanged answer
// costs a phone a 304 instead of the body.
func readOutcome(a answer) outcome {
	if a.status != http.StatusOK {
		return outcome{answer: a}
	}
	return outcome{answer: a, etag: etagOf(a.body), cacheControl: "private"}
}

// writeRead writes a 200 body with its ETag and Cache-Control, or 304 when
// the client already holds it.
func (f *Facade) writeRead(w http.ResponseWriter, r *http.Request, body []byte, etag, cacheControl string) {
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", cacheControl)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeAnswer(w, answer{status: http.StatusOK, body: body})
}

// etagMatches implements If-None-Match for GET: any listed tag equal to
// etag (weak comparison, as RFC 9110 asks for If-None-Match), or "*".
func etagMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// run executes op in process through the shared executor, exactly as the
// /graphql transports do, and shapes the answer. ctx is r's context or, for
// a write, one that outlives the caller's connection and carries its
// transaction.
func (f *Facade) run(ctx context.Context, r *http.Request, op *Operation, vars map[string]any, origin string) answer {
	ref := gqlerr.RefFrom(ctx)
	start := graphql.Now()
	ctx = graphql.StartOperationTrace(ctx)
	params := &graphql.RawParams{
		Query:         op.Source,
		OperationName: op.ID,
		Variables:     vars,
		ReadTime:      graphql.TraceTiming{Start: start, End: graphql.Now()},
	}
	rc, errs := f.exec.CreateOperationContext(ctx, params)
	var resp *graphql.Response
	if errs != nil {
		resp = f.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
	} else {
		h, octx := f.exec.DispatchOperation(ctx, rc)
		resp = h(octx)
	}
	if resp == nil {
		// The executor gives no response only when the request's context
		// ended (deadline or client gone).
		return errorAnswer(http.StatusGatewayTimeout, CodeTimeout, "the request took too long", ref, nil)
	}
	a := op.shape(resp, r, origin, ref)
	// Errors in a 200 are warnings: a source was down for part of it.
	a.partial = len(resp.Errors) > 0
	return a
}
