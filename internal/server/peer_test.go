package server_test

import (
	"log/slog"
	"net/http"
	"net/netip"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
)

// TestForwardedHeadersDoNotRewriteThePeer: a client cannot change the
// address handlers see by sending X-Forwarded-For or X-Real-IP; the
// client's address (middleware.GetClientIP) believes X-Forwarded-For only
// from a trusted proxy.
func TestForwardedHeadersDoNotRewriteThePeer(t *testing.T) {
	var remote, client string
	page := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		remote, client = r.RemoteAddr, middleware.GetClientIP(r.Context())
	})
	spoof := map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.8"}

	h := server.NewHandler(config.Defaults(), server.Deps{Log: slog.New(slog.DiscardHandler), Ready: alwaysReady{}, Frontend: page})
	serve(h, "/", "203.0.113.9:1234", spoof)
	if remote != "203.0.113.9:1234" || client != "203.0.113.9" {
		t.Errorf("untrusted peer with forwarded headers: RemoteAddr %q, client %q; want the peer's", remote, client)
	}

	proxied := config.Defaults()
	proxied.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	h = server.NewHandler(proxied, server.Deps{Log: slog.New(slog.DiscardHandler), Ready: alwaysReady{}, Frontend: page})
	serve(h, "/", "10.1.2.3:5555", spoof)
	if remote != "10.1.2.3:5555" || client != "198.51.100.7" {
		t.Errorf("trusted proxy: RemoteAddr %q, client %q; want the proxy as peer and the forwarded client", remote, client)
	}
}
