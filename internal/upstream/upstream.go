// Package upstream holds what every upstream REST client shares at the
// boundary: the typed error the rest of middletier reacts to, the description
// of a source the cross-cutting code loops over, and the fixed clock the demo
// servers compute their data from.
//
// Each source package (internal/upstream/<name>) makes its own errors with
// NewErrors, and each of them matches the class here, so callers can be
// specific (errors.Is(err, hr.ErrUnavailable)) or general (errors.Is(err,
// upstream.ErrUnavailable)): the error presenter maps a *Error by its Kind
// and shows its Message, and the cache serves stale data on ErrUnavailable
// whichever service failed.
package upstream

import (
	"time"
)

// Kind is the class of an upstream failure, what callers react to.
type Kind int

// Kinds of upstream failure.
const (
	// Unavailable means the service could not give a usable answer in
	// time: connection failure, timeout, 429, 5xx, or a malformed or
	// oversized body. It is worth retrying later and worth serving stale
	// data for.
	Unavailable Kind = iota + 1
	// NotFound means the service answered that the thing does not exist.
	NotFound
	// BadRequest means the service refused the request as invalid; the
	// error text carries the service's own message.
	BadRequest
)

// kindText keeps the error strings the classes had as plain sentinels, so
// logs read as before ("hr: upstream unavailable").
var kindText = map[Kind]string{
	Unavailable: "upstream unavailable",
	NotFound:    "not found upstream",
	BadRequest:  "rejected by upstream",
}

// Error is an upstream failure with its public face: which source, what
// kind, and the short message an app user may see. The message is set where
// the source is defined, so no one downstream trims err.Error() (which names
// internal hosts and paths) to make one.
type Error struct {
	// Source is the source's name ("hr"); empty for the shared classes.
	Source string
	Kind   Kind
	// Message is safe to show to a client; empty means the failure is ours
	// to log, not the client's to read (a 400 to a request we built).
	Message string
}

func (e *Error) Error() string {
	if e.Source == "" {
		return kindText[e.Kind]
	}
	return e.Source + ": " + kindText[e.Kind]
}

// Is makes every source's error match its shared class, so
// errors.Is(err, upstream.ErrUnavailable) holds whichever service failed.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Source == "" && t.Kind == e.Kind
}

// Error classes. Source packages make their own with NewErrors; only
// code that serves no one source (no upstream configured) returns these.
var (
	ErrUnavailable = &Error{Kind: Unavailable, Message: "a backend service is not answering; try again shortly"}
	ErrNotFound    = &Error{Kind: NotFound, Message: notFoundMessage}
	// ErrBadRequest has no message: an upstream refusing a request we
	// built is our bug, masked as internal, unless a resolver knows the
	// client's own value was refused (see gqlerr.ErrInvalidCursor).
	ErrBadRequest = &Error{Kind: BadRequest}
)

// notFoundMessage does not name the source: which system holds what is not
// the app user's business, and the field's path says what was missing.
const notFoundMessage = "not found in a backend service"

// Errors are one source's errors, one per Kind; its client wraps them.
type Errors struct {
	Unavailable, NotFound, BadRequest *Error
}

// NewErrors makes the errors of the source called name; unavailable is what
// an app user reads when it is down ("the HR system is not answering; try
// again shortly").
func NewErrors(name, unavailable string) Errors {
	return Errors{
		Unavailable: &Error{Source: name, Kind: Unavailable, Message: unavailable},
		NotFound:    &Error{Source: name, Kind: NotFound, Message: notFoundMessage},
		BadRequest:  &Error{Source: name, Kind: BadRequest},
	}
}

// DemoReference is the instant the demo servers pretend it is. Their data is
// computed relative to it, not to the wall clock, so every run, test and
// screenshot shows the same dates.
func DemoReference() time.Time { return time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC) }
