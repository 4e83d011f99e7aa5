package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/ratelimit"
	"github.com/middletier/middletier/internal/server"
)

type alwaysReady struct{}

func (alwaysReady) Ready(context.Context) error { return nil }

// bare is the HTTP surface with nothing but health, a page at / that sets
// its own CSP (as the playground does) and a tokenless JSON route.
func bare(cfg config.Config, limit func(http.Handler) http.Handler) http.Handler {
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		_, _ = io.WriteString(w, "<html></html>")
	})
	def := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") })
	return server.NewHandler(cfg, server.Deps{
		Log: slog.New(slog.DiscardHandler), Ready: alwaysReady{}, Frontend: page, Definition: def, RateLimit: limit,
	})
}

func serve(h http.Handler, target, peer string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = peer
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestSecurityHeaders(t *testing.T) {
	proxied := config.Defaults()
	proxied.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	public := config.Defaults()
	public.PublicURL = "https://mt.example"
	noHSTS := public
	noHSTS.HTTP.HSTSMaxAge = 0
	https := map[string]string{"X-Forwarded-Proto": "https"}
	tests := []struct {
		name     string
		cfg      config.Config
		target   string
		peer     string
		header   map[string]string
		wantCSP  string
		wantHSTS string
	}{
		{"plain HTTP: no HSTS", config.Defaults(), "/healthz", "192.0.2.1:1", nil, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", ""},
		{"an error answer too", config.Defaults(), "/nowhere", "192.0.2.1:1", nil, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", ""},
		{"the page keeps its own CSP", config.Defaults(), "/", "192.0.2.1:1", nil, "default-src 'self'", ""},
		{"trusted proxy says https", proxied, "/healthz", "10.1.2.3:1", https, "", "max-age=31536000"},
		{"untrusted peer says https", proxied, "/healthz", "192.0.2.1:1", https, "", ""},
		{"public URL is https", public, "/api/v1/swagger.json", "192.0.2.1:1", nil, "", "max-age=31536000"},
		{"HSTS turned off", noHSTS, "/healthz", "192.0.2.1:1", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(bare(tt.cfg, nil), tt.target, tt.peer, tt.header)
			h := w.Header()
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers %v: want nosniff, no-referrer, DENY", h)
			}
			if tt.wantCSP != "" && h.Get("Content-Security-Policy") != tt.wantCSP {
				t.Errorf("CSP %q, want %q", h.Get("Content-Security-Policy"), tt.wantCSP)
			}
			if got := h.Get("Strict-Transport-Security"); got != tt.wantHSTS {
				t.Errorf("HSTS %q, want %q", got, tt.wantHSTS)
			}
		})
	}
}

// TestRateLimitByClientAddress: requests without a token count against
// the client's address, read from X-Forwarded-For only when the peer is a
// trusted proxy; health checks are never limited.
func TestRateLimitByClientAddress(t *testing.T) {
	const n = 3
	limited := func(cfg config.Config) http.Handler {
		l := ratelimit.New(ratelimit.Options{Requests: n, Window: time.Hour})
		return bare(cfg, l.Middleware)
	}
	proxied := config.Defaults()
	proxied.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	xff := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

	t.Run("behind a trusted proxy", func(t *testing.T) {
		h := limited(proxied)
		for range n {
			if w := serve(h, "/api/v1/swagger.json", "10.0.0.2:1", xff("203.0.113.5")); w.Code != http.StatusOK {
				t.Fatalf("%d, want 200", w.Code)
			}
		}
		if w := serve(h, "/api/v1/swagger.json", "10.0.0.2:1", xff("203.0.113.5")); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%d, want 429 with Retry-After", w.Code)
		}
		if w := serve(h, "/", "10.0.0.2:1", xff("203.0.113.6")); w.Code != http.StatusOK {
			t.Errorf("another client behind the proxy: %d, want 200", w.Code)
		}
		for range 2 * n {
			if w := serve(h, "/healthz", "10.0.0.2:1", xff("203.0.113.5")); w.Code != http.StatusOK {
				t.Fatalf("health check: %d, want 200 (never limited)", w.Code)
			}
		}
	})
	t.Run("forwarded headers from anyone else are ignored", func(t *testing.T) {
		h := limited(config.Defaults())
		for i := range n {
			// A client inventing a new address each time is still itself.
			if w := serve(h, "/api/v1/swagger.json", "192.0.2.1:1", xff("203.0.113."+string(rune('1'+i)))); w.Code != http.StatusOK {
				t.Fatalf("%d, want 200", w.Code)
			}
		}
		if w := serve(h, "/api/v1/swagger.json", "192.0.2.1:1", xff("203.0.113.9")); w.Code != http.StatusTooManyRequests {
			t.Fatalf("spoofed X-Forwarded-For: %d, want 429", w.Code)
		}
	})
}
