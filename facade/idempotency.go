package facade

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/store"
)

// anonymousUser scopes idempotency keys when authentication is off.
const anonymousUser = "anonymous"

// pollEvery is how often a retry re-reads a key whose first request runs on
// another replica (on this one it is woken at once).
const pollEvery = 200 * time.Millisecond

// inflight wakes retries on this replica the moment the first request with
// their key finishes, instead of polling the database.
type inflight struct {
	mu sync.Mutex
	m  map[store.IdempotencyKey]chan struct{}
}

func (i *inflight) start(k store.IdempotencyKey) (done func()) {
	ch := make(chan struct{})
	i.mu.Lock()
	i.m[k] = ch
	i.mu.Unlock()
	return func() {
		i.mu.Lock()
		if i.m[k] == ch {
			delete(i.m, k)
		}
		i.mu.Unlock()
		close(ch)
	}
}

func (i *inflight) get(k store.IdempotencyKey) <-chan struct{} {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.m[k]
}

// serveIdempotent runs a write at most once per (user, operation, key): the
// first request claims the key in the database and stores its answer; every
// retry, concurrent or later, on any replica, gets that answer back. A retry
// that arrives while the first still runs waits for it (up to
// IdempotencyWait, then 409 with Retry-After), and the same key with another
// request is 422. Never a second write.
func (f *Facade) serveIdempotent(w http.ResponseWriter, r *http.Request, op *Operation, b bound) {
	ctx := r.Context()
	reqID := middleware.GetReqID(ctx)
	user := anonymousUser
	if p, ok := auth.PrincipalFrom(ctx); ok && p.EmployeeID != "" {
		user = p.EmployeeID
	}
	k := store.IdempotencyKey{UserID: user, Operation: op.ID, Key: b.key}
	f.cleanupExpired(ctx)

	deadline := time.Now().Add(f.opts.IdempotencyWait)
	for {
		rec, claimed, err := f.idem.ClaimIdempotency(ctx, k, b.hash, f.opts.IdempotencyLease, f.opts.IdempotencyTTL)
		switch {
		case errors.Is(err, store.ErrConflict):
			writeAnswer(w, errorAnswer(http.StatusConflict, CodeInProgress, "a request with this idempotency key is being handled; retry later", reqID, nil))
			return
		case err != nil:
			f.log.ErrorContext(ctx, "idempotency claim", "err", err, "request_id", reqID)
			writeAnswer(w, errorAnswer(http.StatusServiceUnavailable, gqlerr.Internal, "the request could not be recorded; retry later", reqID, nil))
			return
		case claimed:
			writeAnswer(w, f.runClaimed(r, op, b, k))
			return
		case rec.RequestHash != b.hash:
			writeAnswer(w, errorAnswer(http.StatusUnprocessableEntity, CodeIdempotencyMismatch,
				"this idempotency key was already used with a different request; use a new key for a new request", reqID,
				[]map[string]string{{"parameter": keySource(r, op), "reason": "reused with a different request"}}))
			return
		case rec.Done:
			w.Header().Set("Idempotent-Replayed", "true")
			writeAnswer(w, answer{status: rec.Status, body: rec.Body})
			return
		}
		// The first request is still running: wait for it, then look again.
		if !f.waitFor(ctx, k, deadline) {
			writeAnswer(w, errorAnswer(http.StatusConflict, CodeInProgress, "a request with this idempotency key is still running; retry later for its result", reqID, nil))
			return
		}
	}
}

// runClaimed runs the write that owns k and keeps its answer for replay.
func (f *Facade) runClaimed(r *http.Request, op *Operation, b bound, k store.IdempotencyKey) answer {
	done := f.inflight.start(k)
	defer done()
	s := f.run(r, op, b.vars)
	// The record must end whatever happens to the client's connection.
	ctx := context.WithoutCancel(r.Context())
	if s.status < 300 || s.wrote {
		// Kept: a success, or a write that happened even though a later
		// field failed (running it again would write twice).
		if err := f.idem.CompleteIdempotency(ctx, k, s.status, s.body); err != nil {
			f.log.ErrorContext(ctx, "store idempotent answer", "err", err, "request_id", middleware.GetReqID(ctx))
		}
		return s.answer
	}
	// Nothing was written, so a retry may run it afresh: after a fix on the
	// caller's side, or after an upstream came back.
	if err := f.idem.ReleaseIdempotency(ctx, k); err != nil {
		f.log.ErrorContext(ctx, "release idempotency key", "err", err, "request_id", middleware.GetReqID(ctx))
	}
	return s.answer
}

// waitFor blocks until the running request with k may have finished: at
// once when it runs on this replica, else after a poll interval. It reports
// false when deadline passed or the client went away.
func (f *Facade) waitFor(ctx context.Context, k store.IdempotencyKey, deadline time.Time) bool {
	left := time.Until(deadline)
	if left <= 0 {
		return false
	}
	t := time.NewTimer(min(left, pollEvery))
	defer t.Stop()
	select {
	case <-f.inflight.get(k): // nil (blocks forever) when not running here
	case <-t.C:
	case <-ctx.Done():
		return false
	}
	return true
}

// cleanupExpired deletes expired records at most once per cleanupEvery,
// riding on a write.
func (f *Facade) cleanupExpired(ctx context.Context) {
	now := time.Now()
	last := f.lastCleanup.Load()
	if now.UnixMilli()-last < cleanupEvery.Milliseconds() || !f.lastCleanup.CompareAndSwap(last, now.UnixMilli()) {
		return
	}
	n, err := f.idem.DeleteExpiredIdempotency(ctx, now)
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
