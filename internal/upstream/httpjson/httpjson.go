// Package httpjson is the one HTTP+JSON calling convention the upstream
// clients (hr, news, supply) share, so timeouts, size limits, header
// propagation, status mapping and call counting are written and tested once.
//
// Resilience (upstream.Resilience, off in the zero value): each client has
// one circuit breaker for its service, and retries idempotent calls (GET
// only: a POST is retried only by the caller, with its idempotency key)
// that failed fast in a way a new attempt may fix: a refused or reset
// connection, 408, 429, 502, 503, 504. Retries wait with exponential
// backoff and full jitter, honour Retry-After, and stay inside the call's
// deadline, which is the request's time for the service (upstream.Budget):
// a retry never makes a request wait longer on a service than one call
// could. A timed-out call is not retried: it already used that time. The
// breaker counts every attempt; once the failure ratio in its window is
// reached it opens, and calls fail at once with the source's
// ErrUnavailable until one probe call is let through after the open
// period. So a service that is down costs the request nothing, the cache in
// front serves its last good value (stale-if-error), and the service is not
// hammered while it recovers. net/http's Transport also replays an
// idempotent request once on a dead keep-alive connection, before any of
// this.
package httpjson

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/middletier/middletier/internal/redact"
	"github.com/middletier/middletier/internal/upstream"
)

// Defaults for every client.
const (
	// DefaultTimeout bounds one call when the caller's context allows more.
	// A home view gathers several sources for a phone; one slow source must
	// not hold the whole screen longer than this.
	DefaultTimeout = 3 * time.Second
	// DefaultMaxBodyBytes bounds a response body read into memory. The
	// largest legitimate answer (a batch of restocks) is tens of KiB, so
	// 4 MiB only stops a broken or hostile upstream from exhausting memory.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultUserAgent names middletier in the upstreams' access logs.
	DefaultUserAgent = "middletier (+https://github.com/middletier/middletier)"

	// errorBodyBytes bounds what is read of a non-2xx body to find the
	// upstream's message, and what is drained so the connection can be reused.
	errorBodyBytes = 64 << 10
	// maxMessageRunes keeps an upstream's message short enough for an error
	// string and a log line.
	maxMessageRunes = 200
)

// Errors are the typed errors a client package wants its errors to wrap, so
// that callers can test for hr.ErrUnavailable rather than an httpjson type,
// and the error presenter finds the source's public message on them.
type Errors = upstream.Errors

// Option changes a client's defaults.
type Option func(*settings)

type settings struct {
	timeout   time.Duration
	maxBody   int64
	userAgent string
	res       upstream.Resilience
}

// WithTimeout sets the per-call timeout; the caller's context deadline still
// applies when it is earlier. Zero or less keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithResilience sets the client's circuit breaker and retries; the zero
// value (the default) has neither.
func WithResilience(r upstream.Resilience) Option {
	return func(s *settings) { s.res = r }
}

// FromEnv applies the settings every source shares: the per-call timeout
// and the resilience. Each source's Open passes it.
func FromEnv(env upstream.Env) Option {
	return func(s *settings) {
		WithTimeout(env.Timeout)(s)
		WithResilience(env.Resilience)(s)
	}
}

// WithMaxBodyBytes sets the largest response body accepted; zero or less
// keeps the default.
func WithMaxBodyBytes(n int64) Option {
	return func(s *settings) {
		if n > 0 {
			s.maxBody = n
		}
	}
}

// WithUserAgent sets the User-Agent header; empty keeps the default.
func WithUserAgent(ua string) Option {
	return func(s *settings) {
		if ua != "" {
			s.userAgent = ua
		}
	}
}

// Client calls one upstream service. It is safe for concurrent use.
type Client struct {
	service string
	base    *url.URL
	baseErr error
	hc      *http.Client
	errs    Errors
	s       settings
	// cb is the service's circuit breaker; nil when turned off.
	cb *gobreaker.CircuitBreaker[struct{}]
}

// New builds a client for the service at baseURL (scheme, host and an
// optional path prefix). hc nil gets a client of its own with a pooled
// transport. An invalid baseURL is reported by every call rather than here,
// so constructors stay infallible; config validation catches it first.
func New(service, baseURL string, hc *http.Client, errs Errors, opts ...Option) *Client {
	c := &Client{
		service: service,
		hc:      hc,
		errs:    errs,
		s:       settings{timeout: DefaultTimeout, maxBody: DefaultMaxBodyBytes, userAgent: DefaultUserAgent},
	}
	for _, o := range opts {
		o(&c.s)
	}
	// A client package that does not name a class still gets the shared one,
	// never a nil to wrap.
	c.errs.Unavailable = cmp.Or(c.errs.Unavailable, upstream.ErrUnavailable)
	c.errs.NotFound = cmp.Or(c.errs.NotFound, upstream.ErrNotFound)
	c.errs.BadRequest = cmp.Or(c.errs.BadRequest, upstream.ErrBadRequest)
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	c.cb = newBreaker(service, c.s.res)
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		// *url.Error repeats the whole URL, and its reason may quote part
		// of it (a bad escape): give the reason only when nothing needed
		// masking, so a password never reaches a log line.
		if masked := redact.URL(baseURL); masked != baseURL {
			c.baseErr = fmt.Errorf("%s: base URL %q is not a valid URL", service, masked)
		} else {
			c.baseErr = fmt.Errorf("%s: base URL: %w", service, err)
		}
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.baseErr = fmt.Errorf("%s: base URL %q: want http(s)://host[/prefix]", service, redact.URL(baseURL))
	default:
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = ""
		c.base = u
	}
	return c
}

// defaultHTTPClient clones the default transport rather than sharing it, and
// raises the idle connections kept per host: the stdlib default of 2 forces
// a new TCP (and TLS) handshake for most concurrent calls to one upstream.
// No http.Client.Timeout: every call carries a context deadline instead.
// otelhttp makes every call a client span of the request's trace and sends
// the W3C traceparent along, so the upstream's own traces join ours; with
// tracing off (the global no-op provider and propagator) it adds no header.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: otelhttp.NewTransport(t)}
}

// Get sends GET path?query and decodes a JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, query, nil, out)
}

// Post sends in as a JSON body to path and decodes the JSON answer into out.
// Use it for queries too large for a URL (batch lookups): the call is still
// a read, and the caller decides whether that matters.
func (c *Client) Post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: POST %s: encode request: %w", c.service, path, err)
	}
	return c.do(ctx, http.MethodPost, path, nil, body, out)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	op := method + " " + path
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()

	// The earlier of the caller's deadline and the client's timeout wins;
	// within a request, every call to this service shares one timeout
	// (upstream.Budget), so a fan-out waits on a hanging service once, and
	// retries fit inside the same time.
	deadline := time.Now().Add(c.s.timeout)
	budget := upstream.BudgetFrom(ctx)
	if budget != nil {
		var err error
		if deadline, err = budget.Deadline(c.service, c.s.timeout); err != nil {
			return fmt.Errorf("%w: %s: %w", c.errs.Unavailable, op, err)
		}
	}
	callCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if budget != nil {
		defer func() {
			// Our deadline, not the caller's going away: the service did not
			// answer in the request's time for it.
			if errors.Is(callCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
				budget.Spend(c.service)
			}
		}()
	}

	retries := 0
	if method == http.MethodGet {
		retries = c.s.res.Retries
	}
	for attempt := 0; ; attempt++ {
		again, err := c.attempt(ctx, callCtx, method, u.String(), op, body, out)
		if err == nil || attempt >= retries || !again.retry {
			return err
		}
		wait := backoff(c.s.res.RetryBackoff, attempt, again.after)
		// A retry that could not finish before the deadline only spends the
		// service's time; the caller gets this answer now instead.
		if dl, _ := callCtx.Deadline(); time.Until(dl) <= wait {
			return err
		}
		if o := c.s.res.Observer; o != nil {
			o.Retried(c.service)
		}
		t := time.NewTimer(wait)
		select {
		case <-callCtx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// errBreakerOpen is why a call failed without being sent.
var errBreakerOpen = errors.New("circuit breaker open: the service failed too often recently")

// retryHint says whether a failed attempt is worth repeating, and after
// how long at least (the service's Retry-After).
type retryHint struct {
	retry bool
	after time.Duration
}

// attempt sends one request through the breaker.
func (c *Client) attempt(ctx, callCtx context.Context, method, target, op string, body []byte, out any) (retryHint, error) {
	var hint retryHint
	send := func() (struct{}, error) {
		var err error
		hint, err = c.send(ctx, callCtx, method, target, op, body, out)
		return struct{}{}, err
	}
	if c.cb == nil {
		_, err := send()
		return hint, err
	}
	_, err := c.cb.Execute(send)
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		if o := c.s.res.Observer; o != nil {
			o.Rejected(c.service)
		}
		return retryHint{}, fmt.Errorf("%w: %s: %w", c.errs.Unavailable, op, errBreakerOpen)
	}
	return hint, err
}

// send sends one request and decodes its answer into out.
func (c *Client) send(ctx, callCtx context.Context, method, target, op string, body []byte, out any) (retryHint, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(callCtx, method, target, rd)
	if err != nil {
		return retryHint{}, fmt.Errorf("%s: %s: %w", c.service, op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.s.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// The same id in our logs and the upstream's ties one screen's calls together.
	if id := middleware.GetReqID(ctx); id != "" {
		req.Header.Set(middleware.RequestIDHeader, id)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		// A connection refused or reset is worth another attempt; a
		// deadline or a caller gone is not.
		return retryHint{retry: callCtx.Err() == nil}, c.transportError(ctx, op, err)
	}
	defer func() {
		// Drain a little so the keep-alive connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, errorBodyBytes)
		_ = resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return retryHint{retry: retryStatus(resp.StatusCode), after: retryAfter(resp.Header.Get("Retry-After"))}, c.statusError(op, resp)
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return retryHint{}, fmt.Errorf("%w: %s: response Content-Type %q, want JSON", c.errs.Unavailable, op, resp.Header.Get("Content-Type"))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.s.maxBody+1))
	if err != nil {
		return retryHint{}, c.transportError(ctx, op, err)
	}
	if int64(len(data)) > c.s.maxBody {
		return retryHint{}, fmt.Errorf("%w: %s: response larger than %d bytes", c.errs.Unavailable, op, c.s.maxBody)
	}
	// Unmarshal, not a streaming Decoder: it rejects trailing data after the
	// document, and wrong types fail instead of being skipped. Unknown fields
	// are allowed: an upstream adding a field is a compatible change, and
	// each client checks the fields it needs once decoded.
	if err := json.Unmarshal(data, out); err != nil {
		return retryHint{}, fmt.Errorf("%w: %s: malformed JSON: %w", c.errs.Unavailable, op, err)
	}
	return retryHint{}, nil
}

// retryStatus reports the statuses that say "not now" rather than "never":
// the service or a proxy in front of it is overloaded, restarting or timed
// out. A 500 is left alone: it is usually the same bug on every attempt.
func retryStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter reads a Retry-After header given in seconds (the HTTP-date
// form is rare from APIs and ignored).
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// backoff is the wait before retry number attempt+1: random up to base
// doubled per attempt (full jitter), at least what the service asked for.
func backoff(base time.Duration, attempt int, after time.Duration) time.Duration {
	ceiling := base << min(attempt, 16)
	wait := time.Duration(0)
	if ceiling > 0 {
		wait = rand.N(ceiling) + 1
	}
	return max(wait, after)
}

// newBreaker is the circuit breaker of service, or nil when r turns it off.
// Only failures of the service count: answers such as 404 or 400 are the
// service working, and a caller that went away says nothing about it.
func newBreaker(service string, r upstream.Resilience) *gobreaker.CircuitBreaker[struct{}] {
	if r.BreakerMinCalls <= 0 {
		return nil
	}
	window := cmp.Or(r.BreakerWindow, time.Minute)
	st := gobreaker.Settings{
		Name: service,
		// One probe at a time while half-open: a recovering service gets
		// one call, not the whole backlog.
		MaxRequests: 1,
		Interval:    window,
		// Ten buckets: the window rolls, so old failures fade out instead
		// of all at once.
		BucketPeriod: window / 10,
		Timeout:      r.BreakerOpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			return n.Requests >= uint32(r.BreakerMinCalls) &&
				float64(n.TotalFailures) >= r.BreakerFailureRatio*float64(n.Requests)
		},
		IsSuccessful: func(err error) bool { return !errors.Is(err, upstream.ErrUnavailable) },
		IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
	}
	if o := r.Observer; o != nil {
		st.OnStateChange = func(name string, _, to gobreaker.State) { o.BreakerState(name, stateName(to)) }
		o.BreakerState(service, upstream.BreakerClosed)
	}
	return gobreaker.NewCircuitBreaker[struct{}](st)
}

func stateName(s gobreaker.State) string {
	switch s {
	case gobreaker.StateOpen:
		return upstream.BreakerOpen
	case gobreaker.StateHalfOpen:
		return upstream.BreakerHalfOpen
	default:
		return upstream.BreakerClosed
	}
}

// transportError classifies a failure to get a response. The caller going
// away (its context cancelled) says nothing about the upstream, so it is not
// ErrUnavailable; a deadline, ours or the caller's, is: the upstream did not
// answer in the time it was given.
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s: %s: %w", c.service, op, ctx.Err())
	}
	return fmt.Errorf("%w: %s: %w", c.errs.Unavailable, op, err)
}

func (c *Client) statusError(op string, resp *http.Response) error {
	msg := upstreamMessage(resp)
	status := resp.Status
	if msg != "" && msg != http.StatusText(resp.StatusCode) {
		status += ": " + msg
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s: %s", c.errs.NotFound, op, status)
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode >= 500:
		return fmt.Errorf("%w: %s: %s", c.errs.Unavailable, op, status)
	case resp.StatusCode == http.StatusBadRequest,
		resp.StatusCode == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %s: %s", c.errs.BadRequest, op, status)
	default:
		// 401, 403, 405, 3xx left after redirects...: our configuration or
		// code is wrong, not the user's input and not a passing outage, so it
		// wraps no sentinel and surfaces as an internal error.
		return fmt.Errorf("%s: %s: unexpected %s", c.service, op, status)
	}
}

// upstreamMessage finds a human message in an error body: the common JSON
// shapes {"error":{"message":..}}, {"error":".."}, {"message":".."}, or
// else the start of a plain-text body. It is cut short and made one line
// because it ends up in logs and, for 400s, in the error text.
func upstreamMessage(resp *http.Response) string {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
	var msg string
	if isJSON(resp.Header.Get("Content-Type")) {
		var b struct {
			Message string          `json:"message"`
			Error   json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &b) == nil {
			msg = b.Message
			var nested struct {
				Message string `json:"message"`
			}
			var s string
			switch {
			case json.Unmarshal(b.Error, &nested) == nil && nested.Message != "":
				msg = nested.Message
			case json.Unmarshal(b.Error, &s) == nil && s != "":
				msg = s
			}
		}
	} else if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		msg = string(data)
	}
	return oneLine(msg)
}

func oneLine(s string) string {
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > maxMessageRunes {
		s = string(r[:maxMessageRunes]) + "…"
	}
	return s
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// WriteJSON writes v as a JSON response with status; the demo servers use it
// so they answer with the same framing the clients expect.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes the error shape the demo servers use:
// {"error":{"code":..,"message":..}}.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
