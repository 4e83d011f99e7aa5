package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
)

// TestCORSPreflightForMCP: a browser-based MCP client sends
// Mcp-Protocol-Version with every call after initialize, so an allowed
// origin's preflight for /mcp must allow it, and the token header.
func TestCORSPreflightForMCP(t *testing.T) {
	cfg := config.Defaults()
	cfg.HTTP.CORSOrigins = []string{"https://agent.example"}
	mcp := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") })
	h := server.NewHandler(cfg, server.Deps{Log: slog.New(slog.DiscardHandler), Ready: alwaysReady{}, MCP: mcp})

	r := httptest.NewRequest(http.MethodOptions, "/mcp", nil)
	r.Header.Set("Origin", "https://agent.example")
	r.Header.Set("Access-Control-Request-Method", http.MethodPost)
	r.Header.Set("Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)

	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://agent.example" {
		t.Fatalf("Access-Control-Allow-Origin = %q (status %d), want the origin", got, w.Code)
	}
	allowed := strings.ToLower(w.Header().Get("Access-Control-Allow-Headers"))
	for _, want := range []string{"authorization", "content-type", "mcp-protocol-version"} {
		if !strings.Contains(allowed, want) {
			t.Errorf("Access-Control-Allow-Headers = %q, missing %s", allowed, want)
		}
	}

	// Another origin gets no CORS answer.
	r2 := httptest.NewRequest(http.MethodOptions, "/mcp", nil)
	r2.Header.Set("Origin", "https://elsewhere.example")
	r2.Header.Set("Access-Control-Request-Method", http.MethodPost)
	r2.Header.Set("Access-Control-Request-Headers", "mcp-protocol-version")
	w2 := httptest.NewRecorder()
	h.ServeHTTP(w2, r2)
	if got := w2.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("an origin not configured got Access-Control-Allow-Origin %q", got)
	}
}
