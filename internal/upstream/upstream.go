// Package upstream holds what every upstream REST client shares at the
// boundary: the error classes the rest of middletier reacts to, and the fixed
// clock the demo servers compute their data from.
//
// Each client package (hr, news, supply) exports its own sentinels, and each
// of them wraps the matching class here, so callers can be specific
// (errors.Is(err, hr.ErrUnavailable)) or general (errors.Is(err,
// upstream.ErrUnavailable)): the error presenter maps the general classes to
// codes once, and the cache serves stale data on ErrUnavailable whichever
// service failed.
package upstream

import (
	"errors"
	"time"
)

// Error classes. Client packages wrap them; nothing returns them bare.
var (
	// ErrUnavailable means the service could not give a usable answer in
	// time: connection failure, timeout, 429, 5xx, or a malformed or
	// oversized body. It is worth retrying later and worth serving stale
	// data for.
	ErrUnavailable = errors.New("upstream unavailable")
	// ErrNotFound means the service answered that the thing does not exist.
	ErrNotFound = errors.New("not found upstream")
	// ErrBadRequest means the service refused the request as invalid; the
	// error text carries the service's own message.
	ErrBadRequest = errors.New("rejected by upstream")
)

// DemoReference is the instant the demo servers pretend it is. Their data is
// computed relative to it, not to the wall clock, so every run, test and
// screenshot shows the same dates.
func DemoReference() time.Time { return time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC) }
