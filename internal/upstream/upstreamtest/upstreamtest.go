// Package upstreamtest holds the misbehaving upstreams every client package
// is tested against, so the three clients face the same faults without three
// copies of them. Test code only.
package upstreamtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// Server is an httptest server that counts the requests it receives and
// keeps the last one's headers, so tests can check batching from the
// server's side, not only from the client's counter.
type Server struct {
	URL string

	requests atomic.Int64
	mu       sync.Mutex
	last     http.Header
}

// Serve starts h on loopback until the test ends.
func Serve(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := &Server{}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		s.last = r.Header.Clone()
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	// Every request's context derives from base, so cancelling it at the end
	// of the test releases a handler still blocked on its context: a server
	// only notices a client hanging up once the request body has been read,
	// and httptest's Close waits for active requests.
	base, cancel := context.WithCancel(context.Background())
	ts.Config.BaseContext = func(net.Listener) context.Context { return base }
	ts.Start()
	t.Cleanup(func() {
		cancel()
		ts.Close()
	})
	s.URL = ts.URL
	return s
}

// Requests reports how many requests reached the server.
func (s *Server) Requests() int64 { return s.requests.Load() }

// LastHeader returns the headers of the last request received.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Clone()
}

// Fault is one way an upstream misbehaves, and the error class a client
// must turn it into.
type Fault struct {
	Name    string
	Handler http.Handler
	// Want is upstream.ErrUnavailable, ErrNotFound or ErrBadRequest.
	Want error
	// Blocks means the handler never answers: run the call with a short
	// deadline. The handler returns when the client gives up.
	Blocks bool
	// Message, when set, must appear in the error text.
	Message string
}

// Faults returns the standard set of misbehaving upstreams.
func Faults() []Fault {
	status := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			httpjson.WriteError(w, code, "fault", http.StatusText(code))
		})
	}
	rawStatus := func(code int, contentType, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		})
	}
	raw := func(contentType, body string) http.Handler { return rawStatus(http.StatusOK, contentType, body) }
	return []Fault{
		{Name: "500", Handler: status(http.StatusInternalServerError), Want: upstream.ErrUnavailable},
		{Name: "502 plain text", Handler: rawStatus(http.StatusBadGateway, "text/plain", "no healthy backend"), Want: upstream.ErrUnavailable, Message: "no healthy backend"},
		{Name: "503", Handler: status(http.StatusServiceUnavailable), Want: upstream.ErrUnavailable},
		{Name: "429", Handler: status(http.StatusTooManyRequests), Want: upstream.ErrUnavailable},
		{Name: "404", Handler: http.NotFoundHandler(), Want: upstream.ErrNotFound},
		{
			Name: "400 with message",
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				httpjson.WriteError(w, 400, "bad_request", "first must be at most 50")
			}),
			Want:    upstream.ErrBadRequest,
			Message: "first must be at most 50",
		},
		{Name: "malformed JSON", Handler: raw("application/json", `{"broken": `), Want: upstream.ErrUnavailable},
		{Name: "trailing data", Handler: raw("application/json", `{} {}`), Want: upstream.ErrUnavailable},
		{Name: "wrong types", Handler: raw("application/json", `[1, 2, 3]`), Want: upstream.ErrUnavailable},
		{Name: "HTML instead of JSON", Handler: raw("text/html", `<html>login</html>`), Want: upstream.ErrUnavailable},
		{
			Name:    "oversized body",
			Handler: raw("application/json", `{"pad":"`+strings.Repeat("x", httpjson.DefaultMaxBodyBytes)+`"}`),
			Want:    upstream.ErrUnavailable,
		},
		{
			Name: "slow",
			Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				// Reading the body first lets the server notice when the
				// client gives up and hangs up.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			}),
			Want:   upstream.ErrUnavailable,
			Blocks: true,
		},
	}
}

// RefusedURL returns a loopback URL that refuses connections for as long as
// the test runs. A port merely freed could be taken by the next server a
// parallel test starts (it happened: a "down" news service answered), so
// the port stays bound by a socket that never listens: the kernel refuses
// every connection to it, and no one else can bind it.
func RefusedURL(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("bound address %T is not IPv4", sa)
	}
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port))
}
