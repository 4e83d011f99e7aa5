package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/spec"
	"github.com/google/uuid"
)

// Kind is who calls: a cloud flow or a canvas app.
type Kind int

const (
	// Flow is Power Automate: retries, x-ms-pageable paging.
	Flow Kind = iota
	// App is a canvas app (Power Fx): no retries, no automatic paging.
	App
)

// User agents shaped like the runtime's; the facade must not depend on them.
const (
	flowUserAgent = "azure-logic-apps/1.0 (workflow 2f0c6a1e9d3b4c7a8e5f1a2b3c4d5e6f; version 08584512345678901234)"
	appUserAgent  = "PowerApps/3.25021.9 (Web Player; AppName=7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f)"
)

// FlowTimeout is how long a flow waits for one answer (CONNECTOR.md §10).
const FlowTimeout = 120 * time.Second

// maxRetries is Power Automate's default retry policy: up to 8 retries.
const maxRetries = 8

// Blank is a query value sent as "name=": what the runtime sends for an
// optional parameter the maker cleared.
type Blank struct{}

// Call is what a maker fills in: values by parameter name. Query values may
// be string, bool, int, float64, time.Time or Blank. Body holds only the
// properties the maker supplied; a nil value is sent as JSON null, as flows
// may do for an empty optional field.
type Call struct {
	Path           map[string]string
	Query          map[string]any
	Body           map[string]any
	IdempotencyKey string
}

// Result is the runtime's view of a call: the last attempt's answer.
type Result struct {
	URL      string
	Status   int
	Header   http.Header
	Body     []byte
	Attempts int
	Err      error // the last attempt's transport error or timeout
}

// Client sends calls as the connector runtime does.
type Client struct {
	Def   *Definition
	Kind  Kind
	Token string // the connection's access token
	// Transport carries the requests (nil: http.DefaultTransport).
	Transport http.RoundTripper
	// Scale is what one second of the real retry schedule lasts here, so
	// that a test runs the real schedule in milliseconds.
	Scale time.Duration
	// Timeout is one attempt's limit (0: FlowTimeout).
	Timeout time.Duration
	// OnAttempt, when set, is told of every attempt with the function that
	// abandons it, as a runtime that gives up waiting would.
	OnAttempt func(attempt int, abandon context.CancelFunc)
}

// Do calls operation id. The error says the call cannot be built from the
// definition or ctx ended; HTTP failures are in the Result.
func (c *Client) Do(ctx context.Context, id string, call Call) (Result, error) {
	op, ok := c.Def.Operation(id)
	if !ok {
		return Result{}, fmt.Errorf("no operation %s in the definition", id)
	}
	target, err := c.url(op, call)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", id, err)
	}
	body, err := c.body(op, call)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", id, err)
	}
	h := c.headers(true)
	if call.IdempotencyKey != "" {
		if _, ok := op.param("header", "Idempotency-Key"); !ok {
			return Result{}, fmt.Errorf("%s declares no Idempotency-Key header", id)
		}
		h.Set("Idempotency-Key", call.IdempotencyKey)
	}
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	return c.send(ctx, op.Method, target, body, h)
}

// Next fetches the page a nextLink names. Without the updatenextlink policy
// a flow calls the absolute URL as is, WITHOUT the connection's token
// (PowerPlatformConnectors #2959); with it the runtime routes the call
// through the connector: the connector's host and basePath, with the token.
func (c *Client) Next(ctx context.Context, nextLink string, viaPolicy bool) (Result, error) {
	u, err := url.Parse(nextLink)
	if err != nil || !u.IsAbs() {
		return Result{}, fmt.Errorf("nextLink %q is not an absolute URL", nextLink)
	}
	if !viaPolicy {
		return c.send(ctx, http.MethodGet, nextLink, nil, c.headers(false))
	}
	rel, ok := strings.CutPrefix(u.EscapedPath(), c.Def.Swagger.BasePath)
	if !ok {
		return Result{}, fmt.Errorf("nextLink %q is not under the basePath %s", nextLink, c.Def.Swagger.BasePath)
	}
	target := c.Def.BaseURL() + rel
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return c.send(ctx, http.MethodGet, target, nil, c.headers(true))
}

// Pages calls a pageable operation and follows nextLink to the last page
// (at most limit pages), as a flow with Pagination on does.
func (c *Client) Pages(ctx context.Context, id string, call Call, viaPolicy bool, limit int) ([]Result, error) {
	op, ok := c.Def.Operation(id)
	if !ok || op.NextLinkName() == "" {
		return nil, fmt.Errorf("%s is not an x-ms-pageable operation", id)
	}
	res, err := c.Do(ctx, id, call)
	pages := []Result{res}
	for err == nil && res.Status == http.StatusOK && len(pages) < limit {
		var body map[string]any
		if json.Unmarshal(res.Body, &body) != nil {
			break
		}
		next, _ := body[op.NextLinkName()].(string)
		if next == "" {
			break
		}
		res, err = c.Next(ctx, next, viaPolicy)
		pages = append(pages, res)
	}
	return pages, err
}

// headers are the runtime's request headers: the token, request and
// correlation ids, the caller's user agent; never Origin or cookies.
func (c *Client) headers(withToken bool) http.Header {
	h := http.Header{}
	if withToken && c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	h.Set("x-ms-client-request-id", uuid.NewString())
	h.Set("x-ms-correlation-id", uuid.NewString())
	if c.Kind == App {
		h.Set("User-Agent", appUserAgent)
	} else {
		h.Set("User-Agent", flowUserAgent)
	}
	return h
}

var pathVar = regexp.MustCompile(`\{([^{}/]+)\}`)

// url builds scheme://host + basePath + the path template with each value
// escaped once (x-ms-url-encoding single) or twice (double), then the query
// in the definition's order, every parameter with a default included.
func (c *Client) url(op *Operation, call Call) (string, error) {
	var err error
	path := pathVar.ReplaceAllStringFunc(op.Path, func(m string) string {
		name := m[1 : len(m)-1]
		p, ok := op.param("path", name)
		v, given := call.Path[name]
		if !ok || !given {
			err = fmt.Errorf("path parameter %s is not declared or not given", name)
			return m
		}
		v = url.PathEscape(v)
		if enc, _ := p.Extensions.GetString("x-ms-url-encoding"); enc == "double" {
			v = url.PathEscape(v)
		}
		return v
	})
	if err != nil {
		return "", err
	}
	for name := range call.Path {
		if _, ok := op.param("path", name); !ok {
			return "", fmt.Errorf("no path parameter %s", name)
		}
	}
	for name := range call.Query {
		if _, ok := op.param("query", name); !ok {
			return "", fmt.Errorf("no query parameter %s", name)
		}
	}
	var q []string
	for _, p := range op.Parameters {
		if p.In != "query" {
			continue
		}
		v, given := call.Query[p.Name]
		if !given {
			// A default in the definition becomes a real request value.
			if p.Default == nil {
				if p.Required {
					return "", fmt.Errorf("required query parameter %s not given", p.Name)
				}
				continue
			}
			v = p.Default
		}
		s, err := formatValue(v)
		if err != nil {
			return "", fmt.Errorf("query parameter %s: %w", p.Name, err)
		}
		q = append(q, escape(p.Name)+"="+escape(s))
	}
	target := c.Def.BaseURL() + path
	if len(q) > 0 {
		target += "?" + strings.Join(q, "&")
	}
	return target, nil
}

// formatValue writes a value as .NET does: True/False, UTC date-times with
// milliseconds and Z, integers without a fraction.
func formatValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case Blank:
		return "", nil
	case bool:
		if v {
			return "True", nil
		}
		return "False", nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case time.Time:
		return v.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	return "", fmt.Errorf("cannot send %T", v)
}

// escape is Uri.EscapeDataString: spaces as %20, not +.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// body is the JSON body: only the supplied properties, each of them declared.
func (c *Client) body(op *Operation, call Call) ([]byte, error) {
	p, ok := op.param("body", "")
	if !ok {
		if call.Body != nil {
			return nil, errors.New("the operation takes no body")
		}
		return nil, nil
	}
	if call.Body == nil {
		if p.Required {
			return nil, errors.New("the body is required")
		}
		return nil, nil
	}
	if err := declared(p.Schema, call.Body, "body"); err != nil {
		return nil, err
	}
	return json.Marshal(call.Body)
}

// declared checks that a maker could have filled every property in: the
// runtime only sends what the definition declares.
func declared(s *spec.Schema, v map[string]any, at string) error {
	if s == nil {
		return fmt.Errorf("%s has no schema", at)
	}
	for k, pv := range v {
		ps, ok := s.Properties[k]
		if !ok {
			return fmt.Errorf("%s.%s is not declared", at, k)
		}
		if m, ok := pv.(map[string]any); ok {
			if err := declared(&ps, m, at+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// send runs one call with the runtime's retry policy: flows resend the
// byte-identical request (same Idempotency-Key) after 408, 429, any 5xx
// and timeouts, for every method including POST; canvas apps never retry.
func (c *Client) send(ctx context.Context, method, target string, body []byte, h http.Header) (Result, error) {
	res := Result{URL: target}
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		res.Status, res.Header, res.Body, res.Err = c.once(ctx, attempt, method, target, body, h)
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if c.Kind == App || attempt > maxRetries || !retryable(res.Status, res.Err) {
			return res, nil
		}
		t := time.NewTimer(c.wait(attempt, res.Header))
		select {
		case <-ctx.Done():
			t.Stop()
			return res, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) once(ctx context.Context, attempt int, method, target string, body []byte, h http.Header) (int, http.Header, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = FlowTimeout
	}
	actx, abandon := context.WithTimeout(ctx, timeout)
	defer abandon()
	if c.OnAttempt != nil {
		c.OnAttempt(attempt, abandon)
	}
	req, err := http.NewRequestWithContext(actx, method, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = h.Clone()
	// No cookie jar, and 3xx are answers, never followed (CONNECTOR.md §10).
	hc := &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

func retryable(status int, err error) bool {
	return err != nil || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// wait is the pause before retry n: Retry-After when the answer has one,
// else the default exponential interval (5-7 s, 7-14 s, ... 448-896 s; the
// lower bound here, to stay deterministic), scaled.
func (c *Client) wait(n int, h http.Header) time.Duration {
	secs := 5
	if n > 1 {
		secs = 7 << (n - 2)
	}
	if h != nil {
		if ra, err := strconv.Atoi(h.Get("Retry-After")); err == nil && ra >= 0 {
			secs = ra
		}
	}
	scale := c.Scale
	if scale <= 0 {
		scale = time.Millisecond
	}
	return time.Duration(secs) * scale
}
