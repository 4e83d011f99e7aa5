package store

import (
	"context"
	"fmt"
)

// connLimit is one request's share of the connection pool: a counting
// semaphore every statement outside a Unit holds while it runs.
type connLimit chan struct{}

type connLimitKey struct{}

// WithConnLimit returns ctx allowing the store at most n connections at once
// for everything done with it (one request). gqlgen resolves root fields
// concurrently, so one request with a thousand aliased searches otherwise
// queues a thousand statements for the pool and a light request waits behind
// all of them; with a cap it competes with n statements per heavy request.
// A Unit, or a transaction of its own, holds one for its whole life. n < 1
// means no cap.
func WithConnLimit(ctx context.Context, n int) context.Context {
	if n < 1 {
		return ctx
	}
	return context.WithValue(ctx, connLimitKey{}, make(connLimit, n))
}

// acquire waits for one of the request's connections (none to wait for
// without a cap) and returns its release; it gives up when ctx ends, so the
// request's deadline bounds the wait as well as the statement.
func acquire(ctx context.Context) (release func(), err error) {
	l, _ := ctx.Value(connLimitKey{}).(connLimit)
	if l == nil {
		return func() {}, nil
	}
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a database connection: %w", ctx.Err())
	}
}
