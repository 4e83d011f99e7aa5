package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/middletier/middletier/internal/playground/playgroundtest"
	"github.com/middletier/middletier/internal/store/storetest"
)

// freeAddr finds a loopback port for a listener under test. The port is
// free when it returns, not reserved: prefer port 0 where the code under
// test can report what it bound (startService does).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serviceLog collects a service's log output (its writes come from the
// service's goroutines) and hands over the address it listens on, read from
// its "listening" line, so a test neither guesses a free port nor polls.
type serviceLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
	addr chan string // buffered: receives the address once
}

// listeningLine takes the first address of the line ("addr=[127.0.0.1:41234]"
// when several listeners are logged as a list).
var listeningLine = regexp.MustCompile(`msg=listening addr=\[?([^\]\s]+)`)

func (l *serviceLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.sent {
		if m := listeningLine.FindSubmatch(l.buf.Bytes()); m != nil {
			l.sent = true
			l.addr <- string(m[1])
		}
	}
	return len(p), nil
}

func (l *serviceLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// timeLeft is how long the test may still wait for something, keeping a
// margin to report and clean up before go test's own deadline.
func timeLeft(t *testing.T) time.Duration {
	d, ok := t.Deadline()
	if !ok {
		return 10 * time.Minute
	}
	return max(time.Until(d)-30*time.Second, time.Second)
}

// startService runs the real command on a loopback port of its choosing
// over dir ("" = an empty data directory, as `go run ./cmd/middletier` on a
// fresh machine: migrated and seeded at scale 1 on start), and stops it
// when the test ends. It returns the base URL and the data directory.
func startService(t *testing.T, env map[string]string, dir string) (string, string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &serviceLog{addr: make(chan string, 1)}
	done := make(chan error, 1)
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		// Nothing balances load in front of a test's service: stop at
		// once instead of draining for a load balancer.
		if k == "MIDDLETIER_DRAIN_DELAY" {
			return "0s"
		}
		return ""
	}
	go func() {
		done <- run(ctx, []string{"middletier", "--addr", "127.0.0.1:0", "--data-dir", dir}, getenv, nil, logs, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("service stopped with %v", err)
			}
		case <-time.After(timeLeft(t)):
			t.Error("service did not shut down by the test's deadline")
		}
	})
	// The service listens once it is migrated (and seeded, on a first
	// start: minutes under -race on a loaded machine), so wait for that as
	// long as the test may run.
	var base string
	select {
	case addr := <-logs.addr:
		base = "http://" + addr
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("service exited before it listened: %v\n%s", err, logs)
	case <-time.After(timeLeft(t)):
		t.Fatalf("service not listening by the test's deadline:\n%s", logs)
	}
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("listening, but /readyz = %d:\n%s", res.StatusCode, logs)
	}
	return base, dir
}

// TestFirstStart is the README's promise: an empty data directory is
// migrated and seeded, /graphql wants a token, `middletier token` prints one,
// and with it a stores query answers with the seeded stores head office sees.
func TestFirstStart(t *testing.T) {
	t.Parallel()
	skipScaleOneUnderRace(t)
	base, dir := startService(t, nil, "")
	body := `{"query":"{ stores(first: 3) { nodes { id name } } }"}`
	res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("without a token: status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}

	var tok bytes.Buffer
	if err := run(context.Background(), []string{"middletier", "token", "--data-dir", dir, "--user", "devon"}, func(string) string { return "" }, nil, &tok, &tok); err != nil {
		t.Fatalf("token: %v\n%s", err, tok.String())
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok.String()))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			Stores struct {
				Nodes []struct{ ID, Name string }
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if n := out.Data.Stores.Nodes; len(n) != 3 || n[0].ID != "S001" || n[0].Name == "" {
		t.Fatalf("stores = %+v, want S001, S002, S003 with names", n)
	}

	// The same token opens /mcp to the SDK's client: the ten tools answer.
	c := sdk.NewClient(&sdk.Implementation{Name: "first-start", Version: "1"}, nil)
	cs, err := c.Connect(req.Context(), &sdk.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearerTransport(strings.TrimSpace(tok.String()))}}, nil)
	if err != nil {
		t.Fatalf("connect to /mcp: %v", err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(req.Context(), nil)
	if err != nil || len(tools.Tools) != 10 {
		t.Fatalf("tools/list: %v, %d tools; want 10", err, len(tools.Tools))
	}
	res2, err := cs.CallTool(req.Context(), &sdk.CallToolParams{Name: "ListStores", Arguments: map[string]any{"pageSize": 3}})
	if err != nil || res2.IsError || !strings.Contains(res2.Content[0].(*sdk.TextContent).Text, `"S003"`) {
		t.Fatalf("ListStores tool: %v %+v", err, res2)
	}
}

// bearerTransport sends every request with the token.
type bearerTransport string

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestPlaygroundRunsQuery loads the playground from the running binary in
// headless Chromium and runs a query in it, signed in as avery by the dev
// token the page comes with.
func TestPlaygroundRunsQuery(t *testing.T) {
	playgroundtest.ChromiumPath(t) // skips (or fails in CI) without a browser
	t.Parallel()
	base, _ := startService(t, nil, storetest.SeededDir(t))
	got := playgroundtest.Run(t, base, "{ me { login } stores(first: 2) { nodes { id name } } }")
	for _, want := range []string{`"avery"`, `"S001"`, `"name"`} {
		if !strings.Contains(got, want) {
			t.Errorf("playground result does not contain %s:\n%s", want, got)
		}
	}
	// Every request the page made, the schema introspection included, must
	// have carried the dev token: the service's own metrics count refusals.
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	metrics, _ := io.ReadAll(res.Body)
	for line := range strings.SplitSeq(string(metrics), "\n") {
		if strings.HasPrefix(line, "middletier_http_requests_total{") && strings.Contains(line, `route="/graphql"`) && !strings.Contains(line, `code="200"`) {
			t.Errorf("the playground made a /graphql request that failed: %s", line)
		}
	}
}

// raceDetector is set by race_test.go when the race detector is on.
var raceDetector bool

// skipScaleOneUnderRace skips a test that seeds scale 1: under the race
// detector the pure-Go SQLite driver takes minutes for it on a loaded
// machine (five measured), and the seed is one single-threaded
// transaction, so the race detector has nothing to find there that the
// run without it would miss. CI runs these tests in its run without -race.
func skipScaleOneUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("seeds scale 1, which takes minutes under the race detector; covered by the run without -race")
	}
}

// TestCommands runs the commands in order on one data directory; "seed"
// is the seed command's own test, at its default scale 1. Under the race
// detector the directory starts with the test fixture instead and "seed"
// is skipped (skipScaleOneUnderRace); the commands after it run over the
// fixture.
func TestCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if raceDetector {
		dir = storetest.SeededDir(t)
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		wantOut string
	}{
		{"help lists env vars", []string{"serve", "--help"}, nil, "help requested", "MIDDLETIER_DATABASE_URL"},
		{"unknown command", []string{"serve-me"}, nil, `unknown command "serve-me"`, ""},
		{"bad env value", []string{"migrate"}, map[string]string{"MIDDLETIER_REQUEST_TIMEOUT": "soon"}, "MIDDLETIER_REQUEST_TIMEOUT", ""},
		{"bad database url", []string{"migrate", "--database-url", "mysql://x"}, nil, "postgres://", ""},
		{"migrate", []string{"migrate", "--data-dir", dir}, nil, "", "migrations applied"},
		{"seed scale out of range", []string{"seed", "--data-dir", dir, "--scale", "0"}, nil, "scale", ""},
		{"seed", []string{"seed", "--data-dir", dir}, nil, "", "demo data seeded"},
		{"seed again", []string{"seed", "--data-dir", dir}, nil, "already has data", ""},
		{"token needs a user", []string{"token", "--data-dir", dir}, nil, "--user", ""},
		{"token for an unknown user", []string{"token", "--data-dir", dir, "--user", "nobody"}, nil, "no employee", ""},
		{"no token in production", []string{"token", "--data-dir", dir, "--user", "avery"}, map[string]string{"MIDDLETIER_AUTH_TENANT_ID": "t1", "MIDDLETIER_AUTH_AUDIENCES": "api://x"}, "production", ""},
		{"token", []string{"token", "--data-dir", dir, "--user", "avery", "--scope", "Data.Read", "--ttl", "5m"}, nil, "", "eyJ"},
		{"mcp needs a user", []string{"mcp", "--data-dir", dir}, nil, "--user", ""},
		{"no stdio mcp in production", []string{"mcp", "--data-dir", dir, "--user", "avery"}, map[string]string{"MIDDLETIER_AUTH_TENANT_ID": "t1", "MIDDLETIER_AUTH_AUDIENCES": "api://x"}, "production", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "seed" {
				skipScaleOneUnderRace(t)
			}
			var out bytes.Buffer
			err := run(ctx, append([]string{"middletier"}, tt.args...), func(k string) string { return tt.env[k] }, nil, &out, &out)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v\n%s", err, out.String())
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output does not contain %q:\n%s", tt.wantOut, out.String())
			}
		})
	}
}
