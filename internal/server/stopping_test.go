package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
)

type readyFunc func(context.Context) error

func (f readyFunc) Ready(ctx context.Context) error { return f(ctx) }

// TestReadyzFailsWhileStopping: once the service is stopping, /readyz says
// so with 503 while /healthz and the API routes keep answering: a load
// balancer stops sending, and what it already sent is still served.
func TestReadyzFailsWhileStopping(t *testing.T) {
	stop := make(chan struct{})
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"data":{}}`) })
	h := server.NewHandler(config.Defaults(), server.Deps{
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		GraphQL:  api,
		Ready:    readyFunc(func(context.Context) error { return nil }),
		Stopping: stop,
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	type answer struct {
		status int
		closes bool // the server ends the connection after this answer
		body   map[string]string
	}
	get := func(path string) answer {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var a answer
		a.status = res.StatusCode
		a.closes = res.Close
		if path == "/readyz" {
			if err := json.NewDecoder(res.Body).Decode(&a.body); err != nil {
				t.Fatalf("readyz body: %v", err)
			}
		}
		return a
	}

	if got := get("/readyz"); got.status != http.StatusOK || got.body["status"] != "ready" || got.closes {
		t.Fatalf("before stopping: readyz = %+v, want 200 ready", got)
	}
	close(stop)
	if got := get("/readyz"); got.status != http.StatusServiceUnavailable || got.body["status"] != "stopping" {
		t.Fatalf("stopping: readyz = %+v, want 503 stopping", got)
	}
	for _, path := range []string{"/healthz", "/graphql"} {
		if got := get(path); got.status != http.StatusOK || !got.closes {
			t.Errorf("stopping: %s = %+v, want 200 (still served during the drain) on a connection that closes after it", path, got)
		}
	}
}
