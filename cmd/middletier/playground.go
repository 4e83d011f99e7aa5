package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/middletier/middletier/internal/playground"
)

// exampleQuery is what a developer sees first in the playground (and in README).
const exampleQuery = `# Welcome to middletier: press run (Ctrl-Enter).
{
  stores(first: 5) {
    nodes {
      id
      name
      city
      backorders(status: OPEN, first: 3) {
        nodes {
          quantity
          status
          product { sku name }
          customer { name }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`

// devQueryNote tells a developer who they are in dev mode and how to change it.
const devQueryNote = `# You are signed in as avery (store associate, S001) with a dev token in
# the Headers tab below. To be someone else (blake: manager S001, casey:
# associate S002, devon: head office), run
#   go run ./cmd/middletier token --user casey
# and paste the token into the Authorization header.
`

// remoteQueryNote tells a developer who opened a dev-mode playground from
// another machine why it carries no token, and how to get one.
const remoteQueryNote = `# This playground was opened from another machine (or through a proxy), so
# it carries no dev token: the dev issuer's tokens are handed out only to
# callers on the service's own machine. On that machine, run
#   go run ./cmd/middletier token --user avery
# and paste {"Authorization": "Bearer <token>"} into the Headers tab below.
`

// playgroundHandler serves GraphiQL. devToken, when not empty (dev mode),
// pre-fills the Authorization header, but only for callers on this machine:
// anyone else gets the page without it and a note on how to get one.
func playgroundHandler(devToken string, log *slog.Logger) http.Handler {
	opts := playground.Options{
		Endpoint:     "/graphql",
		Title:        "middletier playground",
		DefaultQuery: exampleQuery,
	}
	if devToken == "" {
		return playground.Handler(opts)
	}
	remote := opts
	remote.DefaultQuery = remoteQueryNote + exampleQuery
	withoutToken := playground.Handler(remote)
	opts.DefaultQuery = devQueryNote + exampleQuery
	opts.Headers = map[string]string{"Authorization": "Bearer " + devToken}
	withToken := playground.Handler(opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && !fromThisMachine(r) {
			log.InfoContext(r.Context(), "playground opened from another machine: served without the dev token")
			withoutToken.ServeHTTP(w, r)
			return
		}
		withToken.ServeHTTP(w, r)
	})
}

// forwardingHeaders are set by proxies and tunnels that pass on another
// machine's request.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip", "True-Client-Ip"}

// fromThisMachine reports whether the request reached the service on a
// loopback address (which only this machine can connect to) and names no
// other client. It reads the connection's local address, not RemoteAddr,
// which middleware rewrites from headers any client can send. A proxy or
// tunnel on this machine that forwards without any such header (an SSH
// port forward) counts as this machine.
func fromThisMachine(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	ap, err := netip.ParseAddrPort(local.String())
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return false
	}
	for _, h := range forwardingHeaders {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return true
}
