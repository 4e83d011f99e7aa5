package upstream

import "time"

// Resilience is how a source's client protects the request and the source
// from each other: a circuit breaker that stops calling a failing service
// for a while, and bounded retries of idempotent calls that failed fast.
// The zero value turns both off (tests of a client alone); the service's
// defaults live in internal/config.
type Resilience struct {
	// Retries is how many times an idempotent call (GET) that failed in a
	// way a new attempt may fix is sent again, within the request's time
	// for the source (Budget). 0: never.
	Retries int
	// RetryBackoff is the longest wait before the first retry; each later
	// one may wait twice as long. The actual wait is random below it (full
	// jitter), so replicas retrying together do not arrive together.
	RetryBackoff time.Duration
	// BreakerMinCalls is how many calls the breaker must have seen in its
	// window before it judges the failure ratio; 0 turns the breaker off.
	BreakerMinCalls int
	// BreakerFailureRatio opens the breaker once this share of the calls in
	// the window failed (0 < ratio <= 1).
	BreakerFailureRatio float64
	// BreakerWindow is the rolling window the calls are counted in.
	BreakerWindow time.Duration
	// BreakerOpenFor is how long an open breaker fails calls at once before
	// it lets one probe through (half-open).
	BreakerOpenFor time.Duration
	// Observer, when set, is told every state change and retry (/metrics).
	Observer Observer
}

// Breaker states as the Observer reports them.
const (
	BreakerClosed   = "closed"
	BreakerHalfOpen = "half-open"
	BreakerOpen     = "open"
)

// Observer records what the clients' resilience does, per source; the
// telemetry package implements it for /metrics. Declared here because the
// clients of every source report to it.
type Observer interface {
	// BreakerState is the source's breaker state now (one of the Breaker*
	// constants); it is called once when the client is built and on every
	// change.
	BreakerState(source, state string)
	// Retried counts one retry of a call to source.
	Retried(source string)
	// Rejected counts one call the open breaker failed at once.
	Rejected(source string)
}
