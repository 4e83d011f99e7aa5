package facade

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/store"
)

// anonymousUser scopes idempotency keys when authentication is off.
const anonymousUser = "anonymous"

// WriteStep names a point in a write's life, where fault-injection tests strike.
type WriteStep string

// The steps of a write, in order. Fault-injection tests stop the process at
// each of them and prove that a retry neither writes twice nor loses the
// first answer.
const (
	// StepBegun: the transaction is open and, with a key, the key is claimed
	// in it; nothing is written yet.
	StepBegun WriteStep = "begun"
	// StepWritten: the operation ran inside the transaction and its answer
	// is recorded with its key; nothing is committed yet.
	StepWritten WriteStep = "written"
	// StepCommitted: the write and its answer are durable; the answer has
	// not been sent yet.
	StepCommitted WriteStep = "committed"
)

// keyLocks runs the requests with one idempotency key one at a time on this
// replica, so that a retry waits for the running first attempt without
// holding a database connection; across replicas the database's own lock on
// the claimed key does the same.
type keyLocks struct {
	mu sync.Mutex
	m  map[store.IdempotencyKey]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while a request with the key runs
	refs int           // requests holding or waiting for the lock
}

// lock waits for k until deadline or until ctx ends; ok=false when it did
// not get it. unlock must be called when ok.
func (l *keyLocks) lock(ctx context.Context, k store.IdempotencyKey, deadline time.Time) (unlock func(), ok bool) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[store.IdempotencyKey]*keyLock{}
	}
	e := l.m[k]
	if e == nil {
		e = &keyLock{ch: make(chan struct{}, 1)}
		l.m[k] = e
	}
	e.refs++
	l.mu.Unlock()

	done := func() {
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.m, k)
		}
		l.mu.Unlock()
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; done() }, true
	case <-t.C:
	case <-ctx.Done():
	}
	done()
	return nil, false
}

// write runs a mutation exactly once per (user, operation, key): the key's
// claim, the write, the reads that build its answer and the stored answer
// commit in one database transaction, so no crash or cancellation can leave
// a write without its answer or an answer without its write. A retry,
// concurrent or later, on any replica, gets the first answer back; one that
// arrives while the first still runs waits for it (up to IdempotencyWait,
// then 409 with Retry-After); the same key with another request is 422.
// Only a successful answer commits: a failed write leaves nothing behind,
// so its retry runs afresh. A write without a key runs the same way, in one
// transaction, without the replay.
//
// The work does not depend on the caller's connection: the runtime abandons
// an attempt after 120 s and retries it, and the first attempt must still
// finish and record its answer for that retry to find.
func (f *Facade) write(r *http.Request, op *Operation, b bound, origin string) (a answer, replayed bool) {
	ref := gqlerr.RefFrom(r.Context())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), f.opts.WriteTimeout)
	defer cancel()

	var k *store.IdempotencyKey
	deadline := time.Now().Add(f.opts.IdempotencyWait)
	if b.key != "" {
		user := anonymousUser
		if p, ok := auth.PrincipalFrom(ctx); ok && p.EmployeeID != "" {
			user = p.EmployeeID
		}
		k = &store.IdempotencyKey{UserID: user, Operation: op.ID, Key: b.key}
		f.cleanupExpired(ctx)
		unlock, ok := f.keys.lock(r.Context(), *k, deadline)
		if !ok {
			return inProgress(ref), false
		}
		defer unlock()
	}

	unit, err := f.store.BeginUnit(ctx)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			// SQLite runs one write at a time and another one held the
			// database past its busy timeout: a retry shortly will do.
			return errorAnswer(http.StatusServiceUnavailable, CodeUnavailable, "another change is being saved; retry in a few seconds", ref, nil), false
		}
		f.log.ErrorContext(ctx, "begin write", "err", err, "request_id", ref.RequestID)
		return errorAnswer(http.StatusServiceUnavailable, CodeUnavailable, "the request could not be recorded; retry later", ref, nil), false
	}
	// Rolled back unless committed below: a failed or cut-short write
	// leaves nothing, its key included.
	defer func() {
		if err := unit.Rollback(); err != nil {
			f.log.WarnContext(ctx, "roll back write", "err", err, "request_id", ref.RequestID)
		}
	}()

	if k != nil {
		cctx, ccancel := context.WithDeadline(ctx, deadline)
		rec, claimed, err := unit.ClaimIdempotency(cctx, *k, b.hash, f.opts.IdempotencyTTL)
		ccancel()
		switch {
		case errors.Is(err, store.ErrConflict):
			return inProgress(ref), false
		case err != nil:
			f.log.ErrorContext(ctx, "idempotency claim", "err", err, "request_id", ref.RequestID)
			return errorAnswer(http.StatusServiceUnavailable, CodeUnavailable, "the request could not be recorded; retry later", ref, nil), false
		case !claimed && rec.RequestHash != b.hash:
			return errorAnswer(http.StatusUnprocessableEntity, CodeIdempotencyMismatch,
				"this idempotency key was already used with a different request; use a new key for a new request", ref,
				[]map[string]string{{"parameter": keySource(r, op), "reason": "reused with a different request"}}), false
		case !claimed:
			return answer{status: rec.Status, body: rec.Body}, true
		}
	}
	f.step(r, StepBegun)

	s := f.run(unit.Context(ctx), r, op, b.vars, origin)
	if s.status >= 300 {
		return s, false // nothing is committed
	}
	if k != nil {
		if err := unit.CompleteIdempotency(ctx, *k, s.status, s.body); err != nil {
			f.log.ErrorContext(ctx, "store idempotent answer", "err", err, "request_id", ref.RequestID)
			return errorAnswer(http.StatusServiceUnavailable, CodeUnavailable, "the request could not be recorded; retry later", ref, nil), false
		}
	}
	f.step(r, StepWritten)
	if err := unit.Commit(); err != nil {
		// Not committed (or, if the connection broke during COMMIT, perhaps
		// committed with its answer): either way a retry with the same key
		// gets the right result.
		f.log.ErrorContext(ctx, "commit write", "err", err, "request_id", ref.RequestID)
		return errorAnswer(http.StatusServiceUnavailable, CodeUnavailable, "the request could not be recorded; retry later", ref, nil), false
	}
	f.step(r, StepCommitted)
	return s, false
}

func inProgress(ref gqlerr.Ref) answer {
	return errorAnswer(http.StatusConflict, CodeInProgress, "a request with this idempotency key is still running; retry later for its result", ref, nil)
}

func (f *Facade) step(r *http.Request, s WriteStep) {
	if f.opts.onWriteStep != nil {
		f.opts.onWriteStep(r, s)
	}
}

// cleanupExpired deletes expired records at most once per cleanupEvery,
// riding on a write.
func (f *Facade) cleanupExpired(ctx context.Context) {
	now := time.Now()
	last := f.lastCleanup.Load()
	if now.UnixMilli()-last < cleanupEvery.Milliseconds() || !f.lastCleanup.CompareAndSwap(last, now.UnixMilli()) {
		return
	}
	n, err := f.store.DeleteExpiredIdempotency(ctx, now)
	if err != nil {
		f.log.WarnContext(ctx, "delete expired idempotency keys", "err", err)
		return
	}
	if n > 0 {
		f.log.InfoContext(ctx, "deleted expired idempotency keys", "count", n)
	}
}

func keySource(r *http.Request, op *Operation) string {
	if r.Header.Get("Idempotency-Key") != "" || op.Body == nil {
		return "Idempotency-Key"
	}
	return op.Body.ClientRequestID
}
