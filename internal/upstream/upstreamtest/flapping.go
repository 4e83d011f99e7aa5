package upstreamtest

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// Flapping is an upstream that fails n of every m requests with 503 (the
// first n of each m) and hands the others to ok: a service restarting
// instances behind its load balancer.
type Flapping struct {
	n, m int64
	ok   http.Handler
	seen atomic.Int64
}

// NewFlapping fails requests 0..n-1 of every m and serves the rest with ok.
func NewFlapping(n, m int, ok http.Handler) *Flapping {
	return &Flapping{n: int64(n), m: int64(m), ok: ok}
}

func (f *Flapping) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (f.seen.Add(1)-1)%f.m < f.n {
		httpjson.WriteError(w, http.StatusServiceUnavailable, "unavailable", "instance restarting")
		return
	}
	f.ok.ServeHTTP(w, r)
}

// Observer records what a client's resilience reports (upstream.Observer).
type Observer struct {
	mu       sync.Mutex
	states   map[string][]string
	retries  map[string]int
	rejected map[string]int
}

// NewObserver returns an empty Observer.
func NewObserver() *Observer {
	return &Observer{states: map[string][]string{}, retries: map[string]int{}, rejected: map[string]int{}}
}

var _ upstream.Observer = (*Observer)(nil)

// BreakerState records a state of source's breaker.
func (o *Observer) BreakerState(source, state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states[source] = append(o.states[source], state)
}

// Retried counts a retry.
func (o *Observer) Retried(source string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries[source]++
}

// Rejected counts a call failed by the open breaker.
func (o *Observer) Rejected(source string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rejected[source]++
}

// States are source's breaker states in the order reported.
func (o *Observer) States(source string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.states[source]...)
}

// State is source's breaker state now ("" before any report).
func (o *Observer) State(source string) string {
	s := o.States(source)
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// Retries is how many retries of calls to source were reported.
func (o *Observer) Retries(source string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.retries[source]
}

// Rejections is how many calls to source the open breaker failed.
func (o *Observer) Rejections(source string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rejected[source]
}
