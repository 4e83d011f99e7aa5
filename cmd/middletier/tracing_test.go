package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/telemetry"
	"github.com/middletier/middletier/internal/upstream/demo"
	"github.com/middletier/middletier/internal/upstream/sources"
)

// Trace and span ids a test client sends in its traceparent, so the test
// knows the trace every span of its request must belong to.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

// traceEnv is the service as serve builds it (buildHandler) over a seeded
// SQLite database and the demo upstreams, real HTTP on loopback, each behind
// a proxy that records the traceparent header its requests arrived with.
type traceEnv struct {
	url   string
	token string
	logs  *lockedBuffer

	mu           sync.Mutex
	traceparents []string // one per upstream request, "" when it had none
}

func newTraceEnv(t *testing.T) *traceEnv {
	t.Helper()
	db, dir := storetest.SeededSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	urls, stop, err := demo.Start(ctx, sources.All())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	e := &traceEnv{logs: &lockedBuffer{}}
	args := []string{"--data-dir", dir}
	for _, s := range sources.All() {
		target, err := url.Parse(urls[s.Name])
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.mu.Lock()
			e.traceparents = append(e.traceparents, r.Header.Get("traceparent"))
			e.mu.Unlock()
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(ps.Close)
		args = append(args, "--"+s.Name+"-url", ps.URL)
	}
	cfg, err := parseConfig("serve", "", args, func(string) string { return "" }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := newLogger(e.logs, slog.LevelInfo, "json")
	metrics := telemetry.New(db)
	cfg.Upstream.Resilience.Observer = metrics
	up, closeUp, err := openUpstreams(ctx, cfg.Upstream, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeUp)
	h, closeFn, err := buildHandler(cfg, db, up, shared{}, nil, metrics, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	id, err := newIdentity(cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	if e.token, err = mintDevToken(ctx, cfg, id.dev, db, "avery", []string{config.ScopeReadWrite}, time.Hour); err != nil {
		t.Fatal(err)
	}
	return e
}

// do sends a request as avery, with traceparent when it is not empty.
func (e *traceEnv) do(t *testing.T, method, path, body, traceparent string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

func (e *traceEnv) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.traceparents...)
}

// logLine is the access log's line for path, decoded.
func (e *traceEnv) logLine(t *testing.T, path string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "request" && m["path"] == path {
			return m
		}
	}
	t.Fatalf("no access log line for %s in:\n%s", path, e.logs.String())
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// spanTree indexes one trace's spans.
type spanTree struct {
	byID map[trace.SpanID]tracetest.SpanStub
}

func newSpanTree(spans tracetest.SpanStubs, tid trace.TraceID) spanTree {
	st := spanTree{byID: map[trace.SpanID]tracetest.SpanStub{}}
	for _, s := range spans {
		if s.SpanContext.TraceID() == tid {
			st.byID[s.SpanContext.SpanID()] = s
		}
	}
	return st
}

func (st spanTree) find(pred func(tracetest.SpanStub) bool) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range st.byID {
		if pred(s) {
			out = append(out, s)
		}
	}
	return out
}

// under reports whether ancestor is s's parent or further up.
func (st spanTree) under(s tracetest.SpanStub, ancestor trace.SpanID) bool {
	for i := 0; i < len(st.byID); i++ {
		p := s.Parent.SpanID()
		if p == ancestor {
			return true
		}
		next, ok := st.byID[p]
		if !ok {
			return false
		}
		s = next
	}
	return false
}

func (st spanTree) names(spans []tracetest.SpanStub) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func hasAttr(s tracetest.SpanStub, key string) bool {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return true
		}
	}
	return false
}

// TestTraceOfFacadeCall follows one connector call (GetMyHome: the view
// that reads every source) through the span tree: the HTTP server span
// continues the caller's trace, the GraphQL operation is its child, the
// root fields the operation's, and the loader batches, SQL statements and
// upstream calls hang under the root fields; the upstream services receive
// the same trace in their traceparent, and the log line names it.
func TestTraceOfFacadeCall(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(telemetry.Install(tp))
	e := newTraceEnv(t)

	status, body := e.do(t, http.MethodGet, "/api/v1/me/home", "", "00-"+clientTraceID+"-"+clientSpanID+"-01")
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/me/home: %d %s", status, body)
	}
	tid, _ := trace.TraceIDFromHex(clientTraceID)
	sid, _ := trace.SpanIDFromHex(clientSpanID)
	st := newSpanTree(exp.GetSpans(), tid)

	servers := st.find(func(s tracetest.SpanStub) bool { return s.SpanKind == trace.SpanKindServer })
	if len(servers) != 1 || servers[0].Name != "GET /api/v1/me/home" || servers[0].Parent.SpanID() != sid {
		t.Fatalf("server spans %v, want one named GET /api/v1/me/home, child of the caller's span %s", st.names(servers), clientSpanID)
	}
	server := servers[0]
	ops := st.find(func(s tracetest.SpanStub) bool { return s.Name == "query GetMyHome" })
	if len(ops) != 1 || ops[0].Parent.SpanID() != server.SpanContext.SpanID() {
		t.Fatalf("operation spans %v, want one query GetMyHome under the server span", st.names(ops))
	}
	op := ops[0]
	roots := st.find(func(s tracetest.SpanStub) bool { return s.Parent.SpanID() == op.SpanContext.SpanID() })
	rootNames := map[string]bool{}
	for _, r := range roots {
		rootNames[r.Name] = true
	}
	for _, want := range []string{"Query.me", "Query.news", "Query.events"} {
		if !rootNames[want] {
			t.Errorf("root field spans %v, want %s among them", st.names(roots), want)
		}
	}
	underRoot := func(s tracetest.SpanStub) bool {
		for _, r := range roots {
			if st.under(s, r.SpanContext.SpanID()) {
				return true
			}
		}
		return false
	}

	loadersSeen := st.find(func(s tracetest.SpanStub) bool { return strings.HasPrefix(s.Name, "loader ") })
	sqls := st.find(func(s tracetest.SpanStub) bool { return hasAttr(s, "db.query.text") })
	clients := st.find(func(s tracetest.SpanStub) bool {
		return s.SpanKind == trace.SpanKindClient && hasAttr(s, "http.request.method")
	})
	if len(loadersSeen) == 0 || len(sqls) == 0 || len(clients) == 0 {
		t.Fatalf("got %d loader batch, %d SQL and %d upstream spans, want some of each; spans: %v", len(loadersSeen), len(sqls), len(clients), st.names(st.find(func(tracetest.SpanStub) bool { return true })))
	}
	// The operation's work hangs under its root fields; the rest of the
	// request (the token's employee lookup) under the server span.
	for _, group := range [][]tracetest.SpanStub{loadersSeen, sqls, clients} {
		for _, s := range group {
			if !st.under(s, server.SpanContext.SpanID()) {
				t.Errorf("span %q is not under the server span", s.Name)
			}
			if st.under(s, op.SpanContext.SpanID()) && !underRoot(s) {
				t.Errorf("span %q is under the operation but not under a root field span", s.Name)
			}
		}
	}
	for _, group := range [][]tracetest.SpanStub{loadersSeen, clients} {
		for _, s := range group {
			if !underRoot(s) {
				t.Errorf("span %q is not under a root field span", s.Name)
			}
		}
	}
	batched := func(s tracetest.SpanStub) bool {
		p, ok := st.byID[s.Parent.SpanID()]
		return ok && strings.HasPrefix(p.Name, "loader ")
	}
	if len(st.find(func(s tracetest.SpanStub) bool { return hasAttr(s, "db.query.text") && batched(s) })) == 0 {
		t.Error("no SQL statement span is the child of a loader batch span")
	}
	if len(st.find(func(s tracetest.SpanStub) bool {
		return s.SpanKind == trace.SpanKindClient && hasAttr(s, "http.request.method") && batched(s)
	})) == 0 {
		t.Error("no upstream call span is the child of a loader batch span")
	}
	// Not a span per field: below the operation only root fields, loader
	// batches, statements and upstream calls.
	for _, s := range st.find(func(s tracetest.SpanStub) bool { return st.under(s, op.SpanContext.SpanID()) }) {
		switch {
		case strings.HasPrefix(s.Name, "Query."), strings.HasPrefix(s.Name, "loader "), hasAttr(s, "db.query.text"), s.SpanKind == trace.SpanKindClient:
		default:
			t.Errorf("unexpected span %q under the operation (a span per field?)", s.Name)
		}
	}

	// Every upstream request carried this trace, each with the span id of
	// one of our client spans as its parent.
	clientIDs := map[string]bool{}
	for _, c := range clients {
		clientIDs[c.SpanContext.SpanID().String()] = true
	}
	got := e.received()
	if len(got) == 0 {
		t.Fatal("no upstream request was made")
	}
	for _, tp := range got {
		parts := strings.Split(tp, "-")
		if len(parts) != 4 || parts[1] != clientTraceID || !clientIDs[parts[2]] {
			t.Errorf("upstream received traceparent %q, want trace %s and the span id of one of our client spans", tp, clientTraceID)
		}
	}

	if line := e.logLine(t, "/api/v1/me/home"); line["trace_id"] != clientTraceID || line["span_id"] == nil {
		t.Errorf("access log line %v, want trace_id %s and a span_id", line, clientTraceID)
	}
}

// TestTraceIDInErrorBodies: a refused facade call and a GraphQL error both
// name the trace next to the request id, and the log line of the request
// names the same trace.
func TestTraceIDInErrorBodies(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	t.Cleanup(telemetry.Install(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))))
	e := newTraceEnv(t)
	parent := "00-" + clientTraceID + "-" + clientSpanID + "-01"

	// avery works at S001: S002's backorders are not theirs.
	status, body := e.do(t, http.MethodGet, "/api/v1/stores/S002/backorders", "", parent)
	var rest struct {
		Error struct{ Code, RequestID, TraceID string }
	}
	if err := json.Unmarshal(body, &rest); err != nil || status != http.StatusForbidden {
		t.Fatalf("got %d %s (%v), want a 403 error body", status, body, err)
	}
	if rest.Error.TraceID != clientTraceID || rest.Error.RequestID == "" {
		t.Errorf("facade error %+v, want traceId %s next to a requestId", rest.Error, clientTraceID)
	}

	status, body = e.do(t, http.MethodPost, "/graphql", `{"query":"{ backorders(storeId: \"S002\", first: 1) { nodes { id } } }"}`, parent)
	var gql struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &gql); err != nil || status != http.StatusOK || len(gql.Errors) == 0 {
		t.Fatalf("got %d %s (%v), want a GraphQL error", status, body, err)
	}
	if x := gql.Errors[0].Extensions; x["code"] != "FORBIDDEN" || x["traceId"] != clientTraceID || x["requestId"] == nil || x["requestId"] == "" {
		t.Errorf("GraphQL error extensions %v, want FORBIDDEN with traceId %s and a requestId", x, clientTraceID)
	}
	if line := e.logLine(t, "/graphql"); line["trace_id"] != clientTraceID {
		t.Errorf("access log line %v, want trace_id %s", line, clientTraceID)
	}
}

// otlpCollector counts the OTLP/HTTP trace exports it receives and keeps
// their bodies.
type otlpCollector struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/v1/traces" {
		c.mu.Lock()
		c.bodies = append(c.bodies, b)
		c.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (c *otlpCollector) exports() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.bodies...)
}

// TestTracingOnAndOff runs one facade call through StartTracing as serve
// does, once with the SDK disabled and once on, both pointed at an OTLP
// collector on loopback: off, nothing reaches the collector, no upstream
// receives a traceparent and error bodies carry no traceId; on, the call's
// spans are exported over OTLP. The answer is the same either way.
func TestTracingOnAndOff(t *testing.T) {
	col := &otlpCollector{}
	cs := httptest.NewServer(col)
	t.Cleanup(cs.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", cs.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

	type outcome struct {
		status       int
		body         []byte
		traceparents []string
		errTraceID   string
		exports      int
		enabled      bool
	}
	call := func(t *testing.T) outcome {
		tracing, err := telemetry.StartTracing(context.Background(), os.Getenv, "test")
		if err != nil {
			t.Fatal(err)
		}
		e := newTraceEnv(t)
		var o outcome
		o.enabled = tracing.Enabled()
		o.status, o.body = e.do(t, http.MethodGet, "/api/v1/me/home", "", "")
		_, errBody := e.do(t, http.MethodGet, "/api/v1/stores/S002/backorders", "", "")
		var rest struct{ Error struct{ TraceID string } }
		if err := json.Unmarshal(errBody, &rest); err != nil {
			t.Fatalf("error body %s: %v", errBody, err)
		}
		o.errTraceID = rest.Error.TraceID
		o.traceparents = e.received()
		before := len(col.exports())
		ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
		defer cancel()
		if err := tracing.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		o.exports = len(col.exports()) - before
		return o
	}

	t.Setenv("OTEL_SDK_DISABLED", "true")
	off := call(t)
	t.Setenv("OTEL_SDK_DISABLED", "")
	on := call(t)

	if off.enabled || off.exports != 0 || off.errTraceID != "" {
		t.Errorf("tracing off: enabled %v, %d exports, error traceId %q; want off, none, none", off.enabled, off.exports, off.errTraceID)
	}
	for _, tp := range off.traceparents {
		if tp != "" {
			t.Errorf("tracing off: an upstream received traceparent %q", tp)
		}
	}
	if len(off.traceparents) == 0 {
		t.Error("tracing off: no upstream request was made")
	}
	if !on.enabled || on.exports == 0 || len(on.errTraceID) != 32 {
		t.Errorf("tracing on: enabled %v, %d exports, error traceId %q; want on, some, a trace id", on.enabled, on.exports, on.errTraceID)
	}
	// The span names travel as plain strings in the OTLP protobuf.
	var exported []byte
	for _, b := range col.exports() {
		exported = append(exported, b...)
	}
	if !bytes.Contains(exported, []byte("GET /api/v1/me/home")) || !bytes.Contains(exported, []byte("query GetMyHome")) {
		t.Error("the collector did not receive the call's server and operation spans")
	}
	if off.status != http.StatusOK || on.status != off.status || !bytes.Equal(on.body, off.body) {
		t.Errorf("answers differ: off %d %s, on %d %s", off.status, off.body, on.status, on.body)
	}
}
