package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/middletier/middletier/internal/playground/playgroundtest"
)

// freeAddr finds a loopback port for a service under test.
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

// startService runs the real command on an empty data directory, as
// `go run ./cmd/middletier` does, and stops it when the test ends. It
// returns the base URL and the data directory.
func startService(t *testing.T, env map[string]string) (string, string) {
	t.Helper()
	addr := freeAddr(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
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
		done <- run(ctx, []string{"middletier", "--addr", addr, "--data-dir", dir}, getenv, nil, &logs, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("service stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("service did not shut down within 30s")
		}
	})
	base := "http://" + addr
	// First start seeds the demo data, which takes most of a minute under
	// -race on a loaded machine: wait as long as the test may run, leaving
	// room for the shutdown above.
	deadline := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-45 * time.Second)
	}
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, dir
			}
		}
		select {
		case err := <-done:
			t.Fatalf("service exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not ready by the test's deadline:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFirstStart is the README's promise: an empty data directory is
// migrated and seeded, /graphql wants a token, `middletier token` prints one,
// and with it a stores query answers with the seeded stores head office sees.
func TestFirstStart(t *testing.T) {
	base, dir := startService(t, nil)
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
	base, _ := startService(t, nil)
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

func TestCommands(t *testing.T) {
	dir := t.TempDir()
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
