package playground

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var configRE = regexp.MustCompile(`(?s)<script id="playground-config" type="application/json">(.*?)</script>`)

// pageConfigOf decodes the JSON options block of a rendered page.
func pageConfigOf(t *testing.T, page string) pageConfig {
	t.Helper()
	m := configRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no config block in page:\n%s", page)
	}
	var cfg pageConfig
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config block %q is not JSON: %v", m[1], err)
	}
	return cfg
}

func TestPage(t *testing.T) {
	h := Handler(Options{Endpoint: "/api/graphql", Title: "Middle <tier>", DefaultQuery: "{ me { id } }"})
	rec := get(t, h, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	page := rec.Body.String()
	cfg := pageConfigOf(t, page)
	if cfg.Endpoint != "/api/graphql" || cfg.DefaultQuery != "{ me { id } }" || cfg.Headers != "" {
		t.Errorf("config = %+v", cfg)
	}
	if !strings.Contains(page, "<title>Middle &lt;tier&gt;</title>") {
		t.Errorf("title not escaped:\n%s", page)
	}
	// Only scripts that are files of our own origin: no inline code.
	if n := strings.Count(page, "<script"); n != 5 {
		t.Errorf("page has %d script elements, want 5 (4 files + the JSON block)", n)
	}
	for _, m := range regexp.MustCompile(`<script>`).FindAllString(page, -1) {
		t.Errorf("inline script %q", m)
	}

	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'none'", "script-src 'self';", "style-src 'self' 'nonce-" + cfg.StyleNonce + "';",
		"connect-src 'self';", "frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows unsafe or remote sources", csp)
	}
	if len(cfg.StyleNonce) < 20 {
		t.Errorf("style nonce %q too short", cfg.StyleNonce)
	}
	if again := pageConfigOf(t, get(t, h, "/", nil).Body.String()); again.StyleNonce == cfg.StyleNonce {
		t.Errorf("nonce %q reused across responses", cfg.StyleNonce)
	}
}

func TestPageDefaults(t *testing.T) {
	rec := get(t, Handler(Options{}), "/", nil)
	if cfg := pageConfigOf(t, rec.Body.String()); cfg.Endpoint != "/graphql" {
		t.Errorf("default endpoint = %q", cfg.Endpoint)
	}
	if !strings.Contains(rec.Body.String(), "<title>GraphQL playground</title>") {
		t.Errorf("default title missing")
	}
}

func TestAbsoluteEndpointAllowedInCSP(t *testing.T) {
	rec := get(t, Handler(Options{Endpoint: "https://api.example.test:8443/graphql"}), "/", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example.test:8443;") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestHeadersOptionEscaped(t *testing.T) {
	headers := map[string]string{
		"Authorization": `Bearer </script><script>alert(1)</script>`,
		"X-Odd":         "<!-- & \" ' \u2028 ]]>",
	}
	rec := get(t, Handler(Options{Headers: headers, DefaultQuery: "# </script>"}), "/", nil)
	page := rec.Body.String()
	if strings.Contains(page, "alert(1)</script>") || strings.Contains(page, "<!--") || strings.Contains(page, "</script><script>") {
		t.Fatalf("headers not escaped:\n%s", page)
	}
	if n := strings.Count(page, "</script>"); n != 5 {
		t.Errorf("page has %d </script>, want 5", n)
	}
	cfg := pageConfigOf(t, page)
	if cfg.DefaultQuery != "# </script>" {
		t.Errorf("defaultQuery = %q", cfg.DefaultQuery)
	}
	// The headers editor text is readable JSON that decodes to the option.
	if !strings.Contains(cfg.Headers, `"Bearer </script><script>alert(1)</script>"`) {
		t.Errorf("headers editor text %q is not plain", cfg.Headers)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(cfg.Headers), &got); err != nil {
		t.Fatalf("headers %q: %v", cfg.Headers, err)
	}
	if len(got) != len(headers) || got["Authorization"] != headers["Authorization"] || got["X-Odd"] != headers["X-Odd"] {
		t.Errorf("headers round trip = %q, want %q", got, headers)
	}
}

func TestPageAssetsServed(t *testing.T) {
	h := Handler(Options{})
	page := get(t, h, "/", nil).Body.String()
	urls := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(urls) != 6 {
		t.Fatalf("page references %d assets, want 6: %q", len(urls), urls)
	}
	for _, m := range urls {
		u := m[1]
		if !strings.HasPrefix(u, AssetPrefix) {
			t.Errorf("asset URL %q is not under %s", u, AssetPrefix)
			continue
		}
		rec := get(t, h, u, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d", u, rec.Code)
			continue
		}
		want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[u[strings.LastIndex(u, "."):]]
		if ct := rec.Header().Get("Content-Type"); ct != want {
			t.Errorf("GET %s: Content-Type %q, want %q", u, ct, want)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", u, cc)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", u)
		}
	}
}

func TestAssetContentTypes(t *testing.T) {
	h := Handler(Options{})
	want := map[string]string{
		"graphiql.min.js":             "text/javascript; charset=utf-8",
		"graphiql.min.css":            "text/css; charset=utf-8",
		"react.production.min.js":     "text/javascript; charset=utf-8",
		"react-dom.production.min.js": "text/javascript; charset=utf-8",
		"playground.js":               "text/javascript; charset=utf-8",
		"playground.css":              "text/css; charset=utf-8",
		"graphiql.LICENSE.txt":        "text/plain; charset=utf-8",
		"react.LICENSE.txt":           "text/plain; charset=utf-8",
		"react-dom.LICENSE.txt":       "text/plain; charset=utf-8",
	}
	if names := AssetNames(); len(names) != len(want) {
		t.Errorf("AssetNames() = %q, want %d assets", names, len(want))
	}
	for name, ct := range want {
		rec := get(t, h, AssetPrefix+name, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d", name, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != ct {
			t.Errorf("GET %s: Content-Type %q, want %q", name, got, ct)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache for an unhashed name", name, cc)
		}
		etag := rec.Header().Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", name)
			continue
		}
		if rec := get(t, h, AssetPrefix+name, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match = %d, want 304", name, rec.Code)
		}
	}
}

func TestAssetGzip(t *testing.T) {
	h := Handler(Options{})
	plain := get(t, h, AssetPrefix+"graphiql.min.js", nil)
	if plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("gzip without Accept-Encoding")
	}
	gz := get(t, h, AssetPrefix+"graphiql.min.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip for Accept-Encoding gzip")
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Errorf("gzip and identity share ETag %s", gz.Header().Get("ETag"))
	}
	if !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("no Vary: Accept-Encoding")
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, plain.Body.Bytes()) {
		t.Errorf("gzip body differs from identity body")
	}
	if gz.Body.Len() >= plain.Body.Len()/2 {
		t.Errorf("gzip %d bytes vs %d: not compressed much", gz.Body.Len(), plain.Body.Len())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                  false,
		"gzip":              true,
		"GZIP":              true,
		"deflate, gzip":     true,
		"gzip;q=0":          false,
		"gzip; q=0.5":       true,
		"*":                 true,
		"*;q=0":             false,
		"br":                false,
		"gzip;q=0, *;q=1":   false,
		"identity, x-gzip":  true,
		"br;q=1.0, *;q=0.1": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler(Options{})
	for _, p := range []string{
		AssetPrefix + "nope.js",
		AssetPrefix,
		AssetPrefix + "graphiql.min.0000000000000000.js",
		AssetPrefix + "../playground.go",
		AssetPrefix + "SHA256SUMS",
		AssetPrefix + "README.md",
		"/playground/",
		"/index.html",
		"/graphql",
	} {
		if rec := get(t, h, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST / = %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD / = %d, %d body bytes", rec.Code, rec.Body.Len())
	}
}

// The embedded vendored files are exactly the ones vendor.sh recorded.
func TestVendoredChecksums(t *testing.T) {
	f, err := os.Open("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		a, ok := assetsByName[name]
		if !ok {
			t.Errorf("%s is in SHA256SUMS but not embedded", name)
			continue
		}
		got := sha256.Sum256(a.data)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: embedded sha256 %x, SHA256SUMS %s", name, got, sum)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("SHA256SUMS lists %d files, want 7", n)
	}
}

type recordingRouter struct{ patterns []string }

func (r *recordingRouter) Handle(pattern string, _ http.Handler) {
	r.patterns = append(r.patterns, pattern)
}

func TestMount(t *testing.T) {
	var r recordingRouter
	Mount(&r, Options{})
	if strings.Join(r.patterns, " ") != "/ /playground/assets/*" {
		t.Errorf("Mount routed %q", r.patterns)
	}
}

// The ServeMux patterns in the package documentation work.
func TestServeMuxPatterns(t *testing.T) {
	h := Handler(Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+AssetPrefix, h)
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for p, want := range map[string]int{
		"/":                           200,
		AssetPrefix + "playground.js": 200,
		AssetPrefix + "missing.js":    404,
		"/graphql":                    http.StatusTeapot,
		"/somewhere-else":             404,
	} {
		if rec := get(t, mux, p, nil); rec.Code != want {
			t.Errorf("GET %s = %d, want %d", p, rec.Code, want)
		}
	}
}
