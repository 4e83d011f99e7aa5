// Package publicurl answers "at which address did this caller reach us?":
// the origin (scheme://host[/prefix]) that absolute links, the connector
// definition's host and the dev issuer's discovery URLs are written with.
//
// A configured public URL always wins. Without one the origin follows the
// request: its scheme and Host, and, only when the immediate peer is a proxy
// the operator trusts, the standard forwarded headers (RFC 7239 Forwarded,
// X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Prefix). Forwarded values
// are validated so that a header can never smuggle a path, user info or
// spaces into a link.
package publicurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Default is the public URL of the no-flags run (config's Addr ":8080" on
// this machine). It names the service wherever no request can be followed
// and none is configured: an exported connector definition and the dev
// issuer's identifier. Defined here, the lowest package about public
// addresses, so that both say the same address.
const Default = "http://localhost:8080"

// Resolver works out a request's public origin. The zero value follows the
// request and trusts no proxy.
type Resolver struct {
	fixed   string
	trusted []netip.Prefix
}

// New is a Resolver that answers publicURL for every request when it is not
// empty, and otherwise follows the request, honouring forwarded headers only
// from peers inside trusted.
func New(publicURL string, trusted []netip.Prefix) (*Resolver, error) {
	publicURL = strings.TrimSuffix(publicURL, "/")
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("public URL %q must be an absolute http(s) URL without user info, query or fragment", publicURL)
		}
	}
	return &Resolver{fixed: publicURL, trusted: trusted}, nil
}

// Fixed is the configured public URL, or "" when origins follow the request.
func (r *Resolver) Fixed() string { return r.fixed }

// Origin is the public origin of req: scheme://host[:port][/prefix], without
// a trailing slash.
func (r *Resolver) Origin(req *http.Request) string {
	if r.fixed != "" {
		return r.fixed
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	host, ok := validHost(req.Host)
	if !ok {
		// net/http already refuses most malformed Host headers; anything
		// that still fails our stricter check must not reach a link.
		host = "localhost"
	}
	prefix := ""
	if r.trustedPeer(req) {
		proto, fhost := r.forwarded(req)
		if proto == "" {
			proto = lastValue(req.Header, "X-Forwarded-Proto")
		}
		if fhost == "" {
			fhost = lastValue(req.Header, "X-Forwarded-Host")
		}
		if p, ok := validProto(proto); ok {
			scheme = p
		}
		if h, ok := validHost(fhost); ok {
			host = h
		}
		if p, ok := validPrefix(lastValue(req.Header, "X-Forwarded-Prefix")); ok {
			prefix = p
		}
	}
	return scheme + "://" + host + prefix
}

// peerKey is the context key of the connection's own remote address.
type peerKey struct{}

// KeepPeer records the address of the connection's immediate peer before
// any middleware rewrites r.RemoteAddr: chi's middleware.RealIP replaces it
// with X-Forwarded-For or X-Real-IP, which any client can send. Install it
// ahead of such middleware; without it Origin reads r.RemoteAddr.
func KeepPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), peerKey{}, r.RemoteAddr)))
	})
}

// peer is the immediate peer's address as KeepPeer saw it.
func peer(r *http.Request) string {
	if a, ok := r.Context().Value(peerKey{}).(string); ok {
		return a
	}
	return r.RemoteAddr
}

func (r *Resolver) trustedPeer(req *http.Request) bool {
	if len(r.trusted) == 0 {
		return false
	}
	return r.trustedAddr(peer(req))
}

// trustedAddr reports whether addr (host:port or a bare IP) lies in a
// trusted prefix.
func (r *Resolver) trustedAddr(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwarded reads proto= and host= from the Forwarded header (RFC 7239).
// Each proxy appends its element, so the rightmost one is our trusted
// peer's; we step left past elements whose for= is itself a trusted proxy,
// and stop at the first hop we do not trust: values left of it could come
// from the client.
func (r *Resolver) forwarded(req *http.Request) (proto, host string) {
	elems := parseForwarded(strings.Join(req.Header.Values("Forwarded"), ","))
	if len(elems) == 0 {
		return "", ""
	}
	i := len(elems) - 1
	for i > 0 && r.trustedAddr(elems[i]["for"]) {
		i--
	}
	return elems[i]["proto"], elems[i]["host"]
}

// parseForwarded splits a Forwarded value into elements of lower-cased
// parameter names and unquoted values. A malformed element is dropped, never
// half-read.
func parseForwarded(v string) []map[string]string {
	var out []map[string]string
	elem := map[string]string{}
	bad := false
	flush := func() {
		if !bad && len(elem) > 0 {
			out = append(out, elem)
		}
		elem, bad = map[string]string{}, false
	}
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == ' ' || c == '\t' || c == ';':
			i++
			continue
		case c == ',':
			flush()
			i++
			continue
		}
		eq := strings.IndexByte(v[i:], '=')
		if eq < 0 {
			bad = true
			break
		}
		name := strings.ToLower(strings.TrimSpace(v[i : i+eq]))
		i += eq + 1
		var val string
		if i < len(v) && v[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(v) {
				c := v[i]
				i++
				if c == '\\' && i < len(v) {
					b.WriteByte(v[i])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				bad = true
			}
			val = b.String()
		} else {
			end := strings.IndexAny(v[i:], ";,")
			if end < 0 {
				end = len(v) - i
			}
			val = strings.TrimSpace(v[i : i+end])
			i += end
		}
		if !tokenRE.MatchString(name) {
			bad = true
		}
		if _, dup := elem[name]; dup {
			bad = true // RFC 7239 §4: a parameter must not occur twice
		}
		elem[name] = val
	}
	flush()
	return out
}

// tokenRE is a Forwarded parameter name (an RFC 7230 token).
var tokenRE = regexp.MustCompile("^[a-z0-9!#$%&'*+.^_`|~-]+$")

// lastValue is the rightmost comma-separated value of a header that may be
// sent more than once: the one our trusted peer wrote.
func lastValue(h http.Header, name string) string {
	vals := h.Values(name)
	if len(vals) == 0 {
		return ""
	}
	all := vals[len(vals)-1]
	if i := strings.LastIndexByte(all, ','); i >= 0 {
		all = all[i+1:]
	}
	return strings.TrimSpace(all)
}

func validProto(s string) (string, bool) {
	switch p := strings.ToLower(s); p {
	case "http", "https":
		return p, true
	}
	return "", false
}

// hostnameRE is a DNS name (underscores allowed: container and compose
// service names use them) or an IPv4 address, with an optional port; no
// slash, at sign, space, backslash, query or fragment can pass.
var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?(?::([0-9]{1,5}))?$`)

// validHost accepts host[:port] or [ipv6][:port].
func validHost(s string) (string, bool) {
	if s == "" || len(s) > 260 {
		return "", false
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", false
		}
		ip, err := netip.ParseAddr(s[1:end])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", false
		}
		rest := s[end+1:]
		if rest != "" && (!strings.HasPrefix(rest, ":") || !validPort(rest[1:])) {
			return "", false
		}
		return s, true
	}
	m := hostnameRE.FindStringSubmatch(s)
	if m == nil || (m[1] != "" && !validPort(m[1])) {
		return "", false
	}
	return s, true
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n <= 65535 && len(s) <= 5
}

// prefixSegmentRE is one path segment of a forwarded prefix: unreserved
// characters only, so a prefix can add path but never a query, an
// authority or an escape.
var prefixSegmentRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// validPrefix accepts "/a/b" (a trailing slash is dropped); "" and "/" are
// the empty prefix.
func validPrefix(s string) (string, bool) {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return "", false
	}
	if !strings.HasPrefix(s, "/") {
		return "", false
	}
	for seg := range strings.SplitSeq(s[1:], "/") {
		if seg == "." || seg == ".." || !prefixSegmentRE.MatchString(seg) {
			return "", false
		}
	}
	return s, true
}

// ParseTrusted reads a comma-separated list of CIDRs and bare IP addresses
// (a bare address trusts only itself).
func ParseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				errs = append(errs, fmt.Errorf("%q is not a CIDR (like 10.0.0.0/8 or fd00::/8)", item))
				continue
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(item)
		if err != nil || ip.Zone() != "" {
			errs = append(errs, fmt.Errorf("%q is not an IP address or CIDR", item))
			continue
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, errors.Join(errs...)
}
