package httpjson_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpjson.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}

// breakerSettings open after 4 calls of which half failed; Retries 0 so
// that each Get is one call and the counts are the breaker's alone.
func breakerSettings(obs upstream.Observer, openFor time.Duration) upstream.Resilience {
	return upstream.Resilience{BreakerMinCalls: 4, BreakerFailureRatio: 0.5, BreakerWindow: time.Hour, BreakerOpenFor: openFor, Observer: obs}
}

// TestBreakerOpensOnFlappingService: a service failing 3 of every 4 calls
// opens the breaker once 4 calls were seen; from then on no call reaches
// it, and every call fails at once with the source's typed error.
func TestBreakerOpensOnFlappingService(t *testing.T) {
	srv := upstreamtest.Serve(t, upstreamtest.NewFlapping(3, 4, okHandler()))
	obs := upstreamtest.NewObserver()
	sourceErrs := upstream.NewErrors("flappy", "the flappy service is not answering")
	c := httpjson.New("flappy", srv.URL, nil, sourceErrs, httpjson.WithResilience(breakerSettings(obs, time.Hour)))
	ctx := context.Background()
	var v any

	// Calls 0..2 fail, but the breaker judges only from 4 calls on; call
	// 3 is answered (a success is never judged), call 4 fails again and
	// makes 4 failures of 5. Until then every call reaches the service.
	for i := range 6 {
		if obs.State("flappy") == upstream.BreakerOpen {
			break
		}
		_ = c.Get(ctx, "/x", nil, &v)
		if got := srv.Requests(); got != int64(i+1) {
			t.Fatalf("call %d: %d requests reached the service, want %d (the breaker is still closed)", i, got, i+1)
		}
	}
	if got := obs.States("flappy"); !slices.Equal(got, []string{upstream.BreakerClosed, upstream.BreakerOpen}) {
		t.Fatalf("breaker states %v, want closed then open", got)
	}
	reached := srv.Requests()
	if reached != 5 {
		t.Fatalf("breaker opened after %d calls, want 5", reached)
	}

	for range 20 {
		err := c.Get(ctx, "/x", nil, &v)
		var ue *upstream.Error
		if !errors.As(err, &ue) || ue != sourceErrs.Unavailable || !errors.Is(err, upstream.ErrUnavailable) {
			t.Fatalf("open breaker: err %v, want the source's ErrUnavailable", err)
		}
	}
	if got := srv.Requests(); got != reached {
		t.Errorf("open breaker: %d calls reached the service, want none", got-reached)
	}
	if got := obs.Rejections("flappy"); got != 20 {
		t.Errorf("rejections = %d, want 20", got)
	}
}

// TestBreakerHalfOpenProbe: after the open period exactly one call probes
// the service; when it answers, the breaker closes and calls flow again.
func TestBreakerHalfOpenProbe(t *testing.T) {
	var healthy atomic.Bool
	srv := upstreamtest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			httpjson.WriteError(w, http.StatusServiceUnavailable, "down", "down")
			return
		}
		okHandler().ServeHTTP(w, r)
	}))
	obs := upstreamtest.NewObserver()
	const openFor = 20 * time.Millisecond
	c := httpjson.New("probe", srv.URL, nil, httpjson.Errors{}, httpjson.WithResilience(breakerSettings(obs, openFor)))
	ctx := context.Background()
	var v any
	for range 4 {
		_ = c.Get(ctx, "/x", nil, &v)
	}
	if obs.State("probe") != upstream.BreakerOpen || srv.Requests() != 4 {
		t.Fatalf("after 4 failures: state %q, %d requests; want open after 4", obs.State("probe"), srv.Requests())
	}
	healthy.Store(true)

	// Call until one gets through: each wait is the open period, and the
	// test's own deadline bounds the loop.
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	for c.Get(ctx, "/x", nil, &v) != nil {
		if srv.Requests() != 4 {
			t.Fatalf("a call reached the service (%d requests) and still failed", srv.Requests())
		}
		if time.Now().After(deadline.Add(-time.Second)) {
			t.Fatal("the breaker never let a probe through")
		}
		<-time.After(openFor)
	}
	if srv.Requests() != 5 {
		t.Errorf("%d requests reached the service while it recovered, want exactly one probe", srv.Requests()-4)
	}
	want := []string{upstream.BreakerClosed, upstream.BreakerOpen, upstream.BreakerHalfOpen, upstream.BreakerClosed}
	if got := obs.States("probe"); !slices.Equal(got, want) {
		t.Errorf("breaker states %v, want %v", got, want)
	}
	if err := c.Get(ctx, "/x", nil, &v); err != nil || srv.Requests() != 6 {
		t.Errorf("closed again: err %v, %d requests; want calls to flow", err, srv.Requests())
	}
}

// TestRetries: idempotent GETs are retried after a failure a retry may fix,
// up to the limit; POSTs, 404s and 500s are not; a Retry-After longer than
// the call's remaining time ends the call instead of waiting past it.
func TestRetries(t *testing.T) {
	res := func(obs upstream.Observer) httpjson.Option {
		return httpjson.WithResilience(upstream.Resilience{Retries: 2, RetryBackoff: time.Millisecond, Observer: obs})
	}
	status := func(code int, retryAfter string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			httpjson.WriteError(w, code, "x", "x")
		})
	}
	tests := []struct {
		name      string
		handler   http.Handler
		post      bool
		wantCalls int64
		wantErr   bool
	}{
		{"503 twice then an answer", upstreamtest.NewFlapping(2, 10, okHandler()), false, 3, false},
		{"503 always: two retries", status(http.StatusServiceUnavailable, ""), false, 3, true},

		{"408 always", status(http.StatusRequestTimeout, ""), false, 3, true},
		{"429 always", status(http.StatusTooManyRequests, ""), false, 3, true},
		{"502 always", status(http.StatusBadGateway, ""), false, 3, true},
		{"504 always", status(http.StatusGatewayTimeout, ""), false, 3, true},
		{"POST is never retried", status(http.StatusServiceUnavailable, ""), true, 1, true},
		{"404 is an answer", http.NotFoundHandler(), false, 1, true},
		{"500 is not retried", status(http.StatusInternalServerError, ""), false, 1, true},
		{"Retry-After beyond the deadline", status(http.StatusTooManyRequests, "3600"), false, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := upstreamtest.Serve(t, tt.handler)
			obs := upstreamtest.NewObserver()
			c := httpjson.New("retry", srv.URL, nil, httpjson.Errors{}, res(obs))
			var v any
			var err error
			if tt.post {
				err = c.Post(context.Background(), "/x", map[string]int{}, &v)
			} else {
				err = c.Get(context.Background(), "/x", nil, &v)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := srv.Requests(); got != tt.wantCalls {
				t.Errorf("%d calls reached the service, want %d", got, tt.wantCalls)
			}
			if got := obs.Retries("retry"); int64(got) != tt.wantCalls-1 {
				t.Errorf("retries reported %d, want %d", got, tt.wantCalls-1)
			}
		})
	}
}

// TestRetriesStayInTheBudget: a service that hangs uses the request's time
// for it once; there is no retry after a timeout, and the request's later
// calls fail at once (upstream.Budget).
func TestRetriesStayInTheBudget(t *testing.T) {
	var slow upstreamtest.Fault
	for _, f := range upstreamtest.Faults() {
		if f.Name == "slow" {
			slow = f
		}
	}
	srv := upstreamtest.Serve(t, slow.Handler)
	obs := upstreamtest.NewObserver()
	c := httpjson.New("hang", srv.URL, nil, httpjson.Errors{}, httpjson.WithTimeout(100*time.Millisecond),
		httpjson.WithResilience(upstream.Resilience{Retries: 3, RetryBackoff: time.Millisecond, Observer: obs}))
	ctx := upstream.WithBudget(context.Background())
	var v any
	for range 3 {
		if err := c.Get(ctx, "/x", nil, &v); !errors.Is(err, upstream.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
	if srv.Requests() != 1 || obs.Retries("hang") != 0 {
		t.Errorf("%d calls and %d retries for a hanging service, want 1 call and no retry", srv.Requests(), obs.Retries("hang"))
	}
}
