// Package ratelimit bounds how many requests one caller sends per window,
// so that one app in a loop, or a script with a leaked token, cannot take
// the backends from everyone else. A caller is the signed-in principal
// (counted after authentication, whatever address it comes from: a Power
// Platform connector calls from Microsoft's shared gateway addresses) or,
// for requests that carry no valid token, the client IP (resolved by the
// server from X-Forwarded-For only when the peer is a trusted proxy).
//
// The counting is go-chi/httprate's sliding window; with Redis it is
// httprate-redis, so every replica counts into the same window and the
// limit holds however many replicas there are. When Redis does not answer
// in time the replicas count locally until it is back, rather than
// refusing or stalling requests.
package ratelimit

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
	httprateredis "github.com/go-chi/httprate-redis"
	"github.com/redis/go-redis/v9"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/gqlerr"
)

// Code is the error code of a refused request; the facade's code table
// uses the same name.
const Code = "RATE_LIMITED"

// Recorder counts refusals (/metrics); by is "user" or "ip".
type Recorder interface {
	RateLimited(by string)
}

// Options configure a Limiter.
type Options struct {
	// Requests is how many requests one caller may send per Window.
	Requests int
	Window   time.Duration
	// Redis, when not nil, holds the counters every replica shares; nil
	// counts in this process. The Limiter closes it.
	Redis *redis.Client
	// KeyPrefix starts the Redis keys ("middletier:ratelimit").
	KeyPrefix string
	// Metrics, when not nil, counts refusals.
	Metrics Recorder
	Log     *slog.Logger
}

// redisTimeout bounds one Redis round trip of the counter: past it this
// request, and the next ones until Redis answers a ping, count locally.
const redisTimeout = 500 * time.Millisecond

// Limiter is one rate limit shared by every route it is installed on.
type Limiter struct {
	rl    *httprate.RateLimiter
	opts  Options
	close func() error
}

// New builds the limiter; o.Requests must be positive.
func New(o Options) *Limiter {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{opts: o, close: func() error { return nil }}
	opts := []httprate.Option{
		httprate.WithLimitHandler(l.refuse),
		httprate.WithErrorHandler(l.failed),
	}
	if o.Redis != nil {
		counter := httprateredis.NewCounter(&httprateredis.Config{
			Client:          o.Redis,
			PrefixKey:       o.KeyPrefix,
			WindowLength:    o.Window,
			FallbackTimeout: redisTimeout,
			OnError: func(err error) {
				o.Log.Warn("rate limit: Redis failed", "err", err)
			},
			OnFallbackChange: func(local bool) {
				if local {
					o.Log.Warn("rate limit: Redis unavailable, counting on this replica until it answers again")
				} else {
					o.Log.Info("rate limit: Redis is back, counting across replicas again")
				}
			},
		})
		opts = append(opts, httprate.WithLimitCounter(counter))
		l.close = counter.Close
	}
	l.rl = httprate.NewRateLimiter(o.Requests, o.Window, opts...)
	return l
}

// Close releases the Redis client.
func (l *Limiter) Close() error { return l.close() }

// Middleware counts each request against its caller and answers 429 once
// the caller is over the limit. Install it after authentication, so that
// signed-in requests count against their principal.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.rl.RespondOnLimit(w, r, key(r)) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Refusals wraps the authentication middleware's error writer: a request
// whose token is missing or refused counts against its client IP, and once
// that IP is over the limit it gets 429 instead of 401, so guessing tokens
// is throttled like anything else.
func (l *Limiter) Refusals(write auth.ErrorWriter) auth.ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, status int, err error) {
		if status == http.StatusUnauthorized && l.rl.RespondOnLimit(w, r, ipKey(r)) {
			return
		}
		write(w, r, status, err)
	}
}

// key is the caller a request counts against.
func key(r *http.Request) string {
	if p, ok := auth.PrincipalFrom(r.Context()); ok && p.EmployeeID != "" {
		return "user:" + p.EmployeeID
	}
	return ipKey(r)
}

// ipKey is the client IP's key; IPv6 clients count by their /64, which
// one client usually holds whole. An address that could not be resolved
// (a malformed forwarded header from a trusted proxy) shares one key.
func ipKey(r *http.Request) string {
	ip := httprate.CanonicalizeIP(middleware.GetClientIP(r.Context()))
	if ip == "" {
		ip = "unknown"
	}
	return "ip:" + ip
}

// refuse answers a caller over the limit; httprate has set Retry-After.
func (l *Limiter) refuse(w http.ResponseWriter, r *http.Request) {
	by := "ip"
	if _, ok := auth.PrincipalFrom(r.Context()); ok {
		by = "user"
	}
	if l.opts.Metrics != nil {
		l.opts.Metrics.RateLimited(by)
	}
	l.opts.Log.InfoContext(r.Context(), "rate limited", "key", key(r), "request_id", middleware.GetReqID(r.Context()))
	who := "user"
	if by == "ip" {
		who = "client address"
	}
	msg := fmt.Sprintf("too many requests: at most %d per %s for each %s; wait the seconds in Retry-After, then try again", l.opts.Requests, per(l.opts.Window), who)
	write(w, r, http.StatusTooManyRequests, Code, msg)
}

// failed answers when the counter itself failed (Redis down with no local
// fallback): the request is not served blind, and may be retried.
func (l *Limiter) failed(w http.ResponseWriter, r *http.Request, err error) {
	l.opts.Log.ErrorContext(r.Context(), "rate limit counter failed", "err", err)
	w.Header().Set("Retry-After", "5")
	write(w, r, http.StatusServiceUnavailable, gqlerr.Internal, "the service could not check its rate limit; try again shortly")
}

// per names a window for people: "minute", "10s".
func per(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	}
	return d.String()
}

func write(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body := gqlerr.EncodeBody(code, msg, gqlerr.RefFrom(r.Context()), nil)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
