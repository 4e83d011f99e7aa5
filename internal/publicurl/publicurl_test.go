package publicurl_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/internal/publicurl"
)

func mustResolver(t *testing.T, publicURL, trusted string) *publicurl.Resolver {
	t.Helper()
	p, err := publicurl.ParseTrusted(trusted)
	if err != nil {
		t.Fatal(err)
	}
	r, err := publicurl.New(publicURL, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOrigin(t *testing.T) {
	const proxy, stranger = "10.1.2.3:5555", "203.0.113.9:4444"
	tests := []struct {
		name      string
		publicURL string
		trusted   string
		peer      string
		host      string
		tls       bool
		header    http.Header
		want      string
	}{
		{"follows Host", "", "", stranger, "a.example:8080", false, nil, "http://a.example:8080"},
		{"another Host", "", "", stranger, "127.0.0.1:9000", false, nil, "http://127.0.0.1:9000"},
		{"TLS means https", "", "", stranger, "a.example", true, nil, "https://a.example"},
		{"ipv6 Host", "", "", stranger, "[::1]:8080", false, nil, "http://[::1]:8080"},
		{"public URL wins over Host and headers", "https://mt.contoso.com/mt", "10.0.0.0/8", proxy, "a.example",
			false, http.Header{"X-Forwarded-Host": {"b.example"}}, "https://mt.contoso.com/mt"},
		{"X-Forwarded-* from trusted peer", "", "10.0.0.0/8", proxy, "internal:8080", false, http.Header{
			"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"mt.contoso.com"}, "X-Forwarded-Prefix": {"/mt/"},
		}, "https://mt.contoso.com/mt"},
		{"X-Forwarded-* from untrusted peer ignored", "", "10.0.0.0/8", stranger, "internal:8080", false, http.Header{
			"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Prefix": {"/x"},
		}, "http://internal:8080"},
		{"no trusted proxies configured: ignored", "", "", proxy, "internal:8080", false, http.Header{
			"X-Forwarded-Host": {"evil.example"},
		}, "http://internal:8080"},
		{"bare IP trusts that address", "", "10.1.2.3", proxy, "internal", false, http.Header{
			"X-Forwarded-Host": {"mt.contoso.com"},
		}, "http://mt.contoso.com"},
		{"rightmost X-Forwarded-Host is the trusted peer's", "", "10.0.0.0/8", proxy, "internal", false, http.Header{
			"X-Forwarded-Host": {"spoofed.example, mt.contoso.com"},
		}, "http://mt.contoso.com"},
		{"Forwarded proto and host", "", "10.0.0.0/8", proxy, "internal", false, http.Header{
			"Forwarded": {`for=198.51.100.7;proto=https;host="mt.contoso.com:8443"`},
		}, "https://mt.contoso.com:8443"},
		{"Forwarded wins over X-Forwarded", "", "10.0.0.0/8", proxy, "internal", false, http.Header{
			"Forwarded": {"proto=https;host=mt.contoso.com"}, "X-Forwarded-Host": {"other.example"},
		}, "https://mt.contoso.com"},
		{"Forwarded: step left past trusted hops only", "", "10.0.0.0/8", proxy, "internal", false, http.Header{
			"Forwarded": {"for=1.2.3.4;host=spoofed.example, for=198.51.100.7;host=edge.contoso.com;proto=https", "for=10.9.9.9;host=inner.local"},
		}, "https://edge.contoso.com"},
		{"Forwarded from untrusted peer ignored", "", "10.0.0.0/8", stranger, "internal", false, http.Header{
			"Forwarded": {"proto=https;host=evil.example"},
		}, "http://internal"},
		{"malformed Forwarded element ignored", "", "10.0.0.0/8", proxy, "internal", false, http.Header{
			"Forwarded": {`host="unterminated`},
		}, "http://internal"},
		{"ipv6 peer in trusted range", "", "fd00::/8", "[fd00::1]:443", "internal", false, http.Header{
			"X-Forwarded-Proto": {"https"},
		}, "https://internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustResolver(t, tt.publicURL, tt.trusted)
			r := httptest.NewRequest(http.MethodGet, "/api/v1/products", nil)
			r.RemoteAddr, r.Host = tt.peer, tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.header {
				r.Header[k] = v
			}
			if got := res.Origin(r); got != tt.want {
				t.Fatalf("Origin = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOriginRefusesMaliciousValues: a trusted proxy passing on a client's
// header must still not put a path, user info or spaces into links.
func TestOriginRefusesMaliciousValues(t *testing.T) {
	res := mustResolver(t, "", "10.0.0.0/8")
	tests := []struct{ name, header, value string }{
		{"path in host", "X-Forwarded-Host", "evil.example/phish"},
		{"user info", "X-Forwarded-Host", "mt.contoso.com@evil.example"},
		{"space", "X-Forwarded-Host", "mt.contoso.com evil"},
		{"query", "X-Forwarded-Host", "evil.example?x=1"},
		{"backslash", "X-Forwarded-Host", `evil.example\foo`},
		{"bad port", "X-Forwarded-Host", "evil.example:99999"},
		{"ipv6 zone", "X-Forwarded-Host", "[fe80::1%eth0]"},
		{"scheme in host", "X-Forwarded-Host", "https://evil.example"},
		{"forwarded host with path", "Forwarded", `host="evil.example/x"`},
		{"forwarded proto javascript", "Forwarded", "proto=javascript"},
		{"proto", "X-Forwarded-Proto", "ftp"},
		{"prefix traversal", "X-Forwarded-Prefix", "/../admin"},
		{"prefix authority", "X-Forwarded-Prefix", "//evil.example"},
		{"prefix query", "X-Forwarded-Prefix", "/mt?x=1"},
		{"prefix relative", "X-Forwarded-Prefix", "mt"},
		{"prefix escape", "X-Forwarded-Prefix", "/%2e%2e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr, r.Host = "10.0.0.1:1000", "internal:8080"
			r.Header.Set(tt.header, tt.value)
			if got := res.Origin(r); got != "http://internal:8080" {
				t.Fatalf("Origin = %q, want the request's own http://internal:8080", got)
			}
		})
	}
}

// TestKeepPeerBeforeRealIP: chi's RealIP rewrites RemoteAddr from a header
// any client can send; the trust decision must use the real peer.
func TestKeepPeerBeforeRealIP(t *testing.T) {
	res := mustResolver(t, "", "10.0.0.0/8")
	var got string
	h := publicurl.KeepPeer(middleware.RealIP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = res.Origin(r)
	})))
	srv := httptest.NewServer(h) // the peer is 127.0.0.1: not trusted
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("X-Real-IP", "10.0.0.1")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if want := srv.URL; got != want {
		t.Fatalf("Origin = %q, want %q (a spoofed X-Forwarded-For must not make the peer trusted)", got, want)
	}
}

func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in      string
		want    []netip.Prefix
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8, 192.168.1.1", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")}, false},
		{"::1", []netip.Prefix{netip.MustParsePrefix("::1/128")}, false},
		{"10.0.0.1/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false},
		{"10.0.0.0/33", nil, true},
		{"proxy.local", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := publicurl.ParseTrusted(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
