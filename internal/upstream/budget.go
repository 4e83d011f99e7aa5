package upstream

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBudgetSpent is why a call fails fast: an earlier call to the same
// service in the same request already ran out of the request's time for it.
// Client packages wrap it with their ErrUnavailable.
var ErrBudgetSpent = errors.New("an earlier call in this request already timed out")

// Budget is one request's time allowance for each upstream service. A GraphQL
// request can fan out to one service many times (aliases with different
// arguments defeat the loader's dedupe); without a shared budget each call
// gets a fresh timeout, and a hanging service holds the request for calls x
// timeout. With it, the first call to a service starts that service's clock
// (one per-call timeout), later calls share what remains, and once one call
// timed out the rest fail fast: a request waits on a hanging service once.
type Budget struct {
	mu      sync.Mutex
	sources map[string]*sourceBudget
}

type sourceBudget struct {
	deadline time.Time
	spent    bool
}

type budgetKey struct{}

// WithBudget returns ctx carrying a fresh Budget for one request.
func WithBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, budgetKey{}, &Budget{sources: map[string]*sourceBudget{}})
}

// BudgetFrom returns the request's Budget, or nil outside a request (start-up,
// tools, tests of a client alone): then each call has its own timeout.
func BudgetFrom(ctx context.Context) *Budget {
	b, _ := ctx.Value(budgetKey{}).(*Budget)
	return b
}

// Deadline returns when a call to service must end: the first call starts
// the service's clock at now+timeout, later ones share it. It returns
// ErrBudgetSpent once a call to service has timed out in this request.
func (b *Budget) Deadline(service string, timeout time.Duration) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sources[service]
	if s == nil {
		s = &sourceBudget{deadline: time.Now().Add(timeout)}
		b.sources[service] = s
	}
	if s.spent {
		return time.Time{}, ErrBudgetSpent
	}
	return s.deadline, nil
}

// Spend records that a call to service ran out of time: the rest of the
// request does not wait on it again.
func (b *Budget) Spend(service string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sources[service]; s != nil {
		s.spent = true
	}
}
