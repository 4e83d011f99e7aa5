// Package playground serves GraphiQL, the in-browser GraphQL IDE, from files
// embedded in the binary. The page loads nothing from any other host.
//
// The handler answers two kinds of paths:
//
//	GET /                          the GraphiQL page
//	GET /playground/assets/{name}  its scripts and style sheets
//
// Route both to it. With chi:
//
//	playground.Mount(r, playground.Options{Endpoint: "/graphql"})
//
// which is the same as
//
//	h := playground.Handler(opts)
//	r.Handle("/", h)
//	r.Handle("/playground/*", h) // or "/playground/assets/*"
//
// With a net/http ServeMux: mux.Handle("GET /{$}", h) and
// mux.Handle("GET /playground/assets/", h).
//
// The vendored GraphiQL, React and ReactDOM builds are in assets/; see
// assets/README.md and vendor.sh for where they come from.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssetPrefix is the path under which the handler serves the page's
// scripts and style sheets.
const AssetPrefix = "/playground/assets/"

// Options configures the playground page.
type Options struct {
	// Endpoint is the URL of the GraphQL endpoint that the page queries,
	// usually a path on the same origin such as "/graphql" (the default).
	// An absolute http(s) URL of another origin is also allowed into the
	// page's connect-src.
	Endpoint string
	// Title is the page title. Default "GraphQL playground".
	Title string
	// DefaultQuery fills the query editor when the browser has no saved
	// query. Empty keeps GraphiQL's own welcome text.
	DefaultQuery string
	// Headers pre-fill the request headers editor, for example a
	// development Authorization header. Leave it empty in production.
	// GraphiQL sends the editor's headers with every request, introspection
	// included; the page never stores them in the browser.
	Headers map[string]string
}

// Router is the part of a router that Mount needs; chi.Router has it.
type Router interface {
	Handle(pattern string, h http.Handler)
}

// Mount routes the playground page ("/") and its assets
// ("/playground/assets/*") on a chi router. The patterns use chi's
// wildcard syntax; for a net/http ServeMux see the package documentation.
func Mount(r Router, opts Options) {
	h := Handler(opts)
	r.Handle("/", h)
	r.Handle(AssetPrefix+"*", h)
}

// Handler returns the handler of the playground page and its assets. It
// answers "/" with the page, AssetPrefix+name with an embedded asset, and
// every other path with 404 Not Found.
func Handler(opts Options) http.Handler {
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	if opts.Title == "" {
		opts.Title = "GraphQL playground"
	}
	h := &handler{opts: opts, connectSrc: connectSources(opts.Endpoint)}
	if _, err := h.render("check"); err != nil {
		// Only a broken embedded template gets here; tests catch it.
		panic("playground: " + err.Error())
	}
	return h
}

type handler struct {
	opts       Options
	connectSrc string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/":
		if !allowGet(w, r) {
			return
		}
		h.servePage(w, r)
	case strings.HasPrefix(p, AssetPrefix):
		if !allowGet(w, r) {
			return
		}
		serveAsset(w, r, strings.TrimPrefix(p, AssetPrefix))
	default:
		http.NotFound(w, r)
	}
}

func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return false
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	nonce, err := newNonce()
	if err != nil {
		http.Error(w, "playground: "+err.Error(), http.StatusInternalServerError)
		return
	}
	page, err := h.render(nonce)
	if err != nil {
		http.Error(w, "playground: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", contentSecurityPolicy(nonce, h.connectSrc))
	// The page may carry pre-filled credentials (Options.Headers).
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(page)
	}
}

// newNonce returns a fresh CSP nonce: 128 random bits, base64.
func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// connectSources is the page's connect-src: its own origin, plus the
// endpoint's origin when the endpoint is an absolute http(s) URL.
func connectSources(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return connect
}

// contentSecurityPolicy allows scripts, style sheets and connections from
// the page's own origin only. No inline script runs: the page's own script
// is an asset too. The one inline style element that GraphiQL creates (the
// scroll lock of its dialogs) carries the per-response nonce, which
// playground.js hands to it. The style sheets embed their fonts and a few
// images as data: URLs.
func contentSecurityPolicy(nonce, connectSrc string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'nonce-" + nonce + "'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connectSrc,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

//go:embed web/index.html
var pageSource string

var pageTemplate = template.Must(template.New("index.html").Parse(pageSource))

// pageConfig is what playground.js reads from the page's JSON block.
type pageConfig struct {
	Endpoint     string `json:"endpoint"`
	DefaultQuery string `json:"defaultQuery,omitempty"`
	// Headers is the text of GraphiQL's headers editor: a JSON object.
	Headers string `json:"headers,omitempty"`
	// StyleNonce is the CSP nonce for the style elements that GraphiQL
	// creates at run time.
	StyleNonce string `json:"styleNonce"`
}

type pageData struct {
	Title  string
	Config pageConfig
}

// Asset returns the content-hashed URL of an embedded asset.
func (pageData) Asset(name string) (string, error) {
	a, ok := assetsByName[name]
	if !ok {
		return "", fmt.Errorf("no embedded asset %q", name)
	}
	return AssetPrefix + a.hashedName, nil
}

func (h *handler) render(nonce string) ([]byte, error) {
	opts := h.opts
	cfg := pageConfig{Endpoint: opts.Endpoint, DefaultQuery: opts.DefaultQuery, StyleNonce: nonce}
	if len(opts.Headers) > 0 {
		// The editor shows this text as is, so keep <, > and & readable;
		// the template escapes them in the page. Map keys come out sorted.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(opts.Headers); err != nil {
			return nil, err
		}
		cfg.Headers = strings.TrimSuffix(b.String(), "\n")
	}
	var buf bytes.Buffer
	// html/template encodes Config as JSON inside the <script
	// type="application/json"> element, escaping <, > and & so that no
	// value can close the element.
	if err := pageTemplate.Execute(&buf, pageData{Title: opts.Title, Config: cfg}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Embedded assets.

//go:embed assets/*.js assets/*.css assets/*.txt
var vendoredFS embed.FS

//go:embed web/*.js web/*.css
var ownFS embed.FS

type asset struct {
	name        string // e.g. graphiql.min.js
	hashedName  string // e.g. graphiql.min.0123456789abcdef.js
	contentType string
	data        []byte
	etag        string

	gzipOnce sync.Once
	gzipped  []byte // nil when gzip does not make it smaller
}

var (
	assetsByName   = map[string]*asset{}
	assetsByHashed = map[string]*asset{}
)

func init() {
	load := func(fsys fs.FS, dir string) {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			panic(err)
		}
		for _, e := range entries {
			data, err := fs.ReadFile(fsys, dir+"/"+e.Name())
			if err != nil {
				panic(err)
			}
			addAsset(e.Name(), data)
		}
	}
	load(vendoredFS, "assets")
	load(ownFS, "web")
}

func addAsset(name string, data []byte) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:8])
	ext := path.Ext(name)
	a := &asset{
		name:        name,
		hashedName:  strings.TrimSuffix(name, ext) + "." + hash + ext,
		contentType: contentTypes[ext],
		data:        data,
		etag:        `"` + hash + `"`,
	}
	if a.contentType == "" {
		panic("playground: no content type for asset " + name)
	}
	if _, dup := assetsByName[name]; dup {
		panic("playground: duplicate asset " + name)
	}
	assetsByName[name] = a
	assetsByHashed[a.hashedName] = a
}

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// AssetNames returns the names of the embedded assets, sorted; each is
// served at AssetPrefix+name (revalidated with its ETag) and at a
// content-hashed name that the page uses (cached for a year).
func AssetNames() []string {
	names := make([]string, 0, len(assetsByName))
	for n := range assetsByName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	cacheControl := "public, max-age=31536000, immutable"
	a, ok := assetsByHashed[name]
	if !ok {
		a, ok = assetsByName[name]
		cacheControl = "no-cache"
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, etag := a.data, a.etag
	hd := w.Header()
	hd.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := a.gzip(); gz != nil {
			body = gz
			etag = strings.TrimSuffix(a.etag, `"`) + `-gzip"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", cacheControl)
	hd.Set("ETag", etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match with 304, and HEAD and Range
	// requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// gzip compresses the asset the first time a client asks for it.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		if len(a.data) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return
		}
		if _, err := zw.Write(a.data); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		if buf.Len() < len(a.data) {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(strings.ToLower(k)) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
