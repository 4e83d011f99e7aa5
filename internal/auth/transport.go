package auth

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// refreshLimiter is the one thing go-oidc's RemoteKeySet leaves out. The key
// set already caches keys, refreshes them when a token names an unknown kid
// (or fails against a cached key) and lets concurrent refreshes share one
// download, but it refreshes on every such token: a stream of tokens with
// forged kids would make us download the JWKS once per request. This
// transport sits under the key set and answers a repeat GET of the same URL
// within min from the last good answer, so the identity provider is asked at
// most once per interval however many bad tokens arrive; a real key rotation
// is picked up by the first token after the interval.
type refreshLimiter struct {
	base http.RoundTripper
	min  time.Duration
	now  func() time.Time

	mu   sync.Mutex
	last map[string]cachedAnswer
}

type cachedAnswer struct {
	at     time.Time
	header http.Header
	body   []byte
}

// maxDocumentBytes bounds a discovery document or key set; real ones are a
// few kilobytes.
const maxDocumentBytes = 1 << 20

func (l *refreshLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return l.base.RoundTrip(req)
	}
	key := req.URL.String()
	l.mu.Lock()
	c, ok := l.last[key]
	l.mu.Unlock()
	if ok && l.now().Sub(c.at) < l.min {
		return answer(req, c), nil
	}
	res, err := l.base.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusOK {
		return res, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if len(body) > maxDocumentBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", key, maxDocumentBytes)
	}
	c = cachedAnswer{at: l.now(), header: res.Header.Clone(), body: body}
	l.mu.Lock()
	l.last[key] = c
	l.mu.Unlock()
	return answer(req, c), nil
}

func answer(req *http.Request, c cachedAnswer) *http.Response {
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        c.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       req,
	}
}

// handlerTransport answers requests for URLs under prefix from h, in
// process. The dev issuer's documents are fetched through it, so dev tokens
// go through exactly the discovery and key set code Entra ID tokens do,
// without the service calling itself over the network (its public URL may
// not even be reachable from inside).
type handlerTransport struct {
	prefix string // issuer URL, e.g. http://localhost:8080/dev-issuer
	path   string // the path h serves it under, e.g. /dev-issuer
	h      http.Handler
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	if !strings.HasPrefix(u, t.prefix+"/") {
		return nil, fmt.Errorf("dev issuer client only serves %s, not %s", t.prefix, u)
	}
	r := req.Clone(req.Context())
	rest, _, _ := strings.Cut(strings.TrimPrefix(u, t.prefix), "?")
	r.URL.Path = t.path + rest
	r.URL.RawQuery = ""
	r.RequestURI = r.URL.Path
	// The standard library's in-memory ResponseWriter: no socket, no port.
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = req
	return res, nil
}
