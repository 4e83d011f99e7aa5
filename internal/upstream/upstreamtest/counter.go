package upstreamtest

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// Counter is an HTTP client for an upstream client under test (hr.New(url,
// counter.HTTP)) that counts the requests it sends, failed ones included,
// so tests assert what a read costs upstream from the client's side without
// the clients exporting a counter of their own.
type Counter struct {
	// HTTP is the client to hand to the upstream client.
	HTTP  *http.Client
	calls atomic.Int64
}

// NewCounter returns a counting client over a transport of its own (idle
// connections closed when the test ends).
func NewCounter(t testing.TB) *Counter {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// As the production client: concurrent calls to one upstream reuse
	// connections instead of handshaking again.
	tr.MaxIdleConnsPerHost = 32
	t.Cleanup(tr.CloseIdleConnections)
	c := &Counter{}
	c.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.calls.Add(1)
		return tr.RoundTrip(r)
	})}
	return c
}

// Calls reports how many requests the client has sent (or tried to).
func (c *Counter) Calls() int64 { return c.calls.Load() }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
