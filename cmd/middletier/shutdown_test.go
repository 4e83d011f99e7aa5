package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store"
)

// runMainEnv makes the test binary run main() itself, so that a test can
// start the real command as a process and send it real signals.
const runMainEnv = "MIDDLETIER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// heldUpstream is an upstream that holds every call until released: the
// news API and the supply API in one server, counting the calls it holds.
type heldUpstream struct {
	*httptest.Server
	arrived chan string   // one value per call that reached it
	release chan struct{} // closed: every held call answers
}

func newHeldUpstream(t *testing.T) *heldUpstream {
	u := &heldUpstream{arrived: make(chan string, 100), release: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.arrived <- r.URL.Path
		<-u.release
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/articles":
			n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			var arts []string
			for i := range n {
				arts = append(arts, fmt.Sprintf(`{"id":"A%d","title":"Held %d","summary":"","url":"https://news.example/%d","author":"x","category":"General","publishedAt":"2026-01-0%dT09:00:00Z"}`, i+1, i+1, i+1, i+1))
			}
			fmt.Fprintf(w, `{"articles":[%s]}`, strings.Join(arts, ","))
		case "/v1/restocks:query":
			io.WriteString(w, `{"restocks":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		select {
		case <-u.release:
		default:
			close(u.release)
		}
		u.Close()
	})
	return u
}

// TestGracefulShutdown starts the real binary, holds requests in flight
// (reads and a write whose answers wait on upstreams), and sends SIGTERM:
// /readyz must turn 503 while the service still serves, the requests in
// flight must all complete with 200 after the listener has closed, the
// write must be stored once, and the process must exit 0. It counts
// requests and answers; it never times anything.
func TestGracefulShutdown(t *testing.T) {
	deadline := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	up := newHeldUpstream(t)
	addr := freeAddr(t)
	dir := t.TempDir()
	base := "http://" + addr
	long := time.Until(deadline).Round(time.Second).String()

	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--addr", addr, "--data-dir", dir)
	cmd.Env = append(withoutSettings(os.Environ()),
		runMainEnv+"=1",
		"MIDDLETIER_NEWS_URL="+up.URL,
		"MIDDLETIER_SUPPLY_URL="+up.URL,
		// Nothing may give up on the held calls before the test releases
		// them; the drain lasts until the test's second SIGTERM.
		"MIDDLETIER_UPSTREAM_TIMEOUT="+long,
		"MIDDLETIER_REQUEST_TIMEOUT="+long,
		"MIDDLETIER_WRITE_TIMEOUT="+long,
		"MIDDLETIER_SHUTDOWN_TIMEOUT="+long,
		"MIDDLETIER_DRAIN_DELAY=5m",
	)
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("service output:\n%s", logs.String())
		}
	}()

	// Ready: the first start migrates and seeds.
	for readyz(ctx, base) != http.StatusOK {
		select {
		case err := <-exited:
			t.Fatalf("service exited before it was ready: %v", err)
		case <-ctx.Done():
			t.Fatal("service not ready by the test's deadline")
		case <-time.After(50 * time.Millisecond):
		}
	}
	var tok bytes.Buffer
	if err := run(ctx, []string{"middletier", "token", "--data-dir", dir, "--user", "avery"}, func(string) string { return "" }, nil, &tok, &tok); err != nil {
		t.Fatalf("token: %v\n%s", err, tok.String())
	}
	token := strings.TrimSpace(tok.String())

	// Requests in flight: three facade reads and a GraphQL read of news
	// (each page size its own cache key, so each reaches the upstream), and
	// a write whose answer asks the supply system for the next restock.
	type result struct {
		name   string
		status int
		body   string
		err    error
	}
	requests := map[string]func() (*http.Request, error){}
	for _, n := range []int{1, 2, 3} {
		requests[fmt.Sprintf("facade news pageSize=%d", n)] = func() (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/news?pageSize=%d", base, n), nil)
		}
	}
	gql := func(q string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			b, _ := json.Marshal(map[string]string{"query": q})
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(b))
			if r != nil {
				r.Header.Set("Content-Type", "application/json")
			}
			return r, err
		}
	}
	requests["graphql news"] = gql(`{ news(first: 4) { nodes { id title } } }`)
	requests["graphql write"] = gql(`mutation { recordBackorder(input: {storeId: "S001", sku: "SKU-00001", contactPreference: EMAIL, newCustomer: {name: "Drain Test", email: "drain@example.com"}}) { backorder { id nextRestock { expectedAt } } } }`)
	const wantNews, wantSupply = 4, 1

	results := make(chan result, len(requests))
	for name, mk := range requests {
		go func() {
			req, err := mk()
			if err != nil {
				results <- result{name: name, err: err}
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{name: name, err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			results <- result{name: name, status: res.StatusCode, body: string(b), err: err}
		}()
	}
	arrived := map[string]int{}
	for arrived["/v1/articles"] < wantNews || arrived["/v1/restocks:query"] < wantSupply {
		select {
		case p := <-up.arrived:
			arrived[p]++
		case r := <-results:
			t.Fatalf("%s answered before the upstream released it: %d %v %.300s", r.name, r.status, r.err, r.body)
		case <-ctx.Done():
			t.Fatalf("upstream calls by the deadline: %v, want %d news and %d supply", arrived, wantNews, wantSupply)
		}
	}

	// SIGTERM: readiness fails first, while the service still serves.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !poll(ctx, func() bool { return readyz(ctx, base) == http.StatusServiceUnavailable }) {
		t.Fatal("/readyz did not turn 503 after SIGTERM by the test's deadline")
	}
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("during the drain /healthz = %v %v, want 200: the service must still serve", res, err)
	} else {
		res.Body.Close()
	}
	if n := len(results); n != 0 {
		t.Fatalf("%d requests in flight answered before they were released", n)
	}

	// A second SIGTERM ends the drain: the listener closes while the held
	// requests are still in flight.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !poll(ctx, func() bool { return readyz(ctx, base) == 0 }) {
		t.Fatal("the listener still accepts connections after the drain by the test's deadline")
	}
	if n := len(results); n != 0 {
		t.Fatalf("%d requests in flight answered before they were released", n)
	}

	close(up.release)
	backorderID := ""
	for range requests {
		var r result
		select {
		case r = <-results:
		case <-ctx.Done():
			t.Fatal("requests in flight did not complete by the test's deadline")
		}
		if r.err != nil || r.status != http.StatusOK || strings.Contains(r.body, `"errors"`) {
			t.Errorf("%s: %d %v %.300s; want 200 without errors", r.name, r.status, r.err, r.body)
			continue
		}
		if r.name == "graphql write" {
			var out struct {
				Data struct {
					RecordBackorder struct{ Backorder struct{ ID string } }
				}
			}
			if err := json.Unmarshal([]byte(r.body), &out); err != nil {
				t.Errorf("write: %v: %s", err, r.body)
			}
			backorderID = out.Data.RecordBackorder.Backorder.ID
		}
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("service exited with %v, want 0", err)
		}
	case <-ctx.Done():
		t.Fatal("service did not exit by the test's deadline")
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("service did not log a clean stop")
	}

	// The write answered in flight is stored.
	db, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.BackordersByID(context.Background(), []string{backorderID})
	if err != nil || len(got) != 1 {
		t.Fatalf("backorder %q after shutdown: %d found, %v; want 1", backorderID, len(got), err)
	}
}

// poll asks cond until it holds (true) or ctx ends (false), pausing a
// little between two asks so as not to spin on a loaded machine.
func poll(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// readyz is /readyz's status, or 0 when the service cannot be reached.
func readyz(ctx context.Context, base string) int {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// withoutSettings drops the caller's MIDDLETIER_* variables, so that the
// service under test runs on its defaults and what the test gives it.
func withoutSettings(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MIDDLETIER_") {
			out = append(out, kv)
		}
	}
	return out
}
