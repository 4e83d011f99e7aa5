package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/middletier/middletier/internal/config"
)

// TestListenLoopbackInDevMode: in dev mode the service binds loopback only
// unless an address is given; given one, or outside dev mode, it binds that.
func TestListenLoopbackInDevMode(t *testing.T) {
	given := config.Defaults()
	given.AddrGiven = true
	prod := config.Defaults()
	prod.Auth.TenantID, prod.Auth.Audiences = "t1", []string{"api://x"}
	tests := []struct {
		name         string
		cfg          config.Config
		wantLoopback bool
	}{
		{"dev mode, no address given", config.Defaults(), true},
		{"dev mode, address given", given, false},
		{"production, no address given", prod, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Addr = ":0" // any free port: 8080 may be taken on a shared machine
			lns, err := listen(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ports := map[uint16]bool{}
			for _, ln := range lns {
				defer ln.Close()
				a := ln.Addr().(*net.TCPAddr)
				ports[a.AddrPort().Port()] = true
				switch {
				case tt.wantLoopback && !a.IP.IsLoopback():
					t.Errorf("listening on %s, want loopback only", a)
				case !tt.wantLoopback && !a.IP.IsUnspecified():
					t.Errorf("listening on %s, want every interface (the address as given)", a)
				}
			}
			if len(lns) == 0 || len(ports) != 1 {
				t.Errorf("%d listeners on ports %v, want at least one, all on one port", len(lns), ports)
			}
		})
	}
}

// TestPlaygroundTokenOnlyForThisMachine: the dev playground's token goes to
// callers on the service's own machine; anyone else, or anyone through a
// proxy, gets the page without it and a note on how to get one.
func TestPlaygroundTokenOnlyForThisMachine(t *testing.T) {
	const token = "dev-token-for-avery"
	h := playgroundHandler(token, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h) // listens on 127.0.0.1
	defer srv.Close()

	fetch := func(t *testing.T, header http.Header) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET / = %d", res.StatusCode)
		}
		return string(body)
	}
	// remote serves the handler to a request that arrived on a routable
	// address: no second interface is needed to tell what it would get.
	remote := func(t *testing.T, local net.Addr) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if local != nil {
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET / = %d", rec.Code)
		}
		return rec.Body.String()
	}

	tests := []struct {
		name      string
		page      func(t *testing.T) string
		wantToken bool
	}{
		{"loopback caller", func(t *testing.T) string { return fetch(t, nil) }, true},
		{"loopback, forwarded for another machine", func(t *testing.T) string {
			return fetch(t, http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		}, false},
		{"loopback, Forwarded header", func(t *testing.T) string {
			return fetch(t, http.Header{"Forwarded": {"for=203.0.113.9"}})
		}, false},
		{"caller on the LAN address", func(t *testing.T) string {
			return remote(t, &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8080})
		}, false},
		{"caller on the IPv6 address", func(t *testing.T) string {
			return remote(t, &net.TCPAddr{IP: net.ParseIP("2001:db8::10"), Port: 8080})
		}, false},
		{"no connection address known", func(t *testing.T) string { return remote(t, nil) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := tt.page(t)
			if got := strings.Contains(page, token); got != tt.wantToken {
				t.Fatalf("page carries the token: %v, want %v", got, tt.wantToken)
			}
			if hint := strings.Contains(page, "middletier token --user avery"); !tt.wantToken && !hint {
				t.Errorf("page without the token does not say how to get one")
			}
		})
	}
}
