package server

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/internal/publicurl"
)

// clientIP resolves the client's address for the rate limit (and anything
// else that reads middleware.GetClientIP): the connection's peer, or, when
// the peer is one of the trusted proxies, the rightmost X-Forwarded-For
// entry that is not itself a trusted proxy. Any client can send
// X-Forwarded-For, so it is believed only from the proxies the operator
// named (--trusted-proxies), as the public URL's forwarded headers are.
// Install it before anything that rewrites r.RemoteAddr.
func clientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	if len(trusted) == 0 {
		return middleware.ClientIPFromRemoteAddr
	}
	prefixes := make([]string, len(trusted))
	for i, p := range trusted {
		prefixes[i] = p.String()
	}
	return middleware.ClientIPFromXFF(prefixes...)
}

// defaultCSP is the Content-Security-Policy of every answer that does not
// set its own: JSON and text load nothing and are framed by no one. The
// playground page sets a policy of its own that lets its embedded
// GraphiQL run (internal/playground).
const defaultCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets the headers every answer carries, before the
// handler runs, so a handler can replace one (the playground's CSP):
// no MIME sniffing, no referrer leaking the URL (which may carry a page
// token) to other sites, no framing (clickjacking), and, when the caller
// reached the service over HTTPS (directly, through a trusted proxy that
// says so, or per --public-url), Strict-Transport-Security so browsers
// never fall back to plain HTTP. hstsMaxAge 0 sends no HSTS.
func securityHeaders(pub *publicurl.Resolver, hstsMaxAge time.Duration) func(http.Handler) http.Handler {
	hsts := "max-age=" + strconv.FormatInt(int64(hstsMaxAge/time.Second), 10)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// What h.Set does (the keys are already canonical), with the
			// values in one array per answer instead of a slice each: each
			// header gets its own capped element, so a handler's Add or
			// Set never touches another header's value or another answer.
			v := [...]string{"nosniff", "no-referrer", "DENY", defaultCSP, hsts}
			h := w.Header()
			h["X-Content-Type-Options"] = v[0:1:1]
			h["Referrer-Policy"] = v[1:2:2]
			h["X-Frame-Options"] = v[2:3:3]
			h["Content-Security-Policy"] = v[3:4:4]
			if hstsMaxAge > 0 && strings.HasPrefix(pub.Origin(r), "https://") {
				h["Strict-Transport-Security"] = v[4:5:5]
			}
			next.ServeHTTP(w, r)
		})
	}
}
