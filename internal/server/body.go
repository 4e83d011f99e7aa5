package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// budgetChunk is the share of the body budget a body of unknown length
// (chunked) takes at a time: small enough that a slow sender holds only what
// it has sent, large enough that the semaphore is not asked for every read.
const budgetChunk = 64 << 10

// bodyBudget bounds the bytes that all request bodies in flight may hold
// together, so that many concurrent uploads cost a known amount of memory
// instead of their sum. A body that cannot get its share within wait is
// refused with 503 and Retry-After.
type bodyBudget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
}

// newBodyBudget is nil (no budget) when size is not positive.
func newBodyBudget(size int64, wait time.Duration) *bodyBudget {
	if size <= 0 {
		return nil
	}
	return &bodyBudget{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

var (
	errBodyTooLarge = errors.New("request body too large")
	errBodyBusy     = errors.New("too many request bodies in flight")
)

// limitBody bounds request bodies lazily: nothing is read here, so it must
// sit after authentication, and a request refused before its handler reads
// costs no body at all. A declared Content-Length over max is refused at
// once with 413; otherwise the body is wrapped so that reading past max, or
// not getting a share of the budget in time, ends the read, and the answer
// the handler then writes is replaced by a clear 413 or 503.
func limitBody(max int64, budget *bodyBudget) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > max {
				refuseBody(w, r, errBodyTooLarge, max, budget)
				return
			}
			b := &guardedBody{rc: http.MaxBytesReader(w, r.Body, max), ctx: r.Context(), budget: budget, declared: r.ContentLength}
			defer b.release()
			g := &bodyGuard{ResponseWriter: w, r: r, body: b, max: max}
			r.Body = b
			next.ServeHTTP(g, r)
			if err := b.refusal(); err != nil && !g.wrote {
				refuseBody(w, r, err, max, budget)
			}
		})
	}
}

// refuseBody answers a body refused for err. The rest of the body stays
// unread, so the connection is not reused.
func refuseBody(w http.ResponseWriter, r *http.Request, err error, max int64, budget *bodyBudget) {
	w.Header().Set("Connection", "close")
	if errors.Is(err, errBodyBusy) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max1s(budget.wait).Seconds()))))
		writeError(w, r, http.StatusServiceUnavailable, "SERVER_BUSY", "too many large requests at once; retry later")
		return
	}
	writeError(w, r, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", fmt.Sprintf("request body is larger than %d bytes", max))
}

func max1s(d time.Duration) time.Duration { return max(d, time.Second) }

// guardedBody is a request body read under the size limit and the budget.
// Its share of the budget is taken as it is read (all of a declared
// Content-Length at the first read, so that a body is either wholly
// admitted or waits; 64 KiB at a time for a chunked body) and given back
// when the handler returns, since the handler holds the bytes until then.
type guardedBody struct {
	rc       io.ReadCloser
	ctx      context.Context
	budget   *bodyBudget
	declared int64 // Content-Length, -1 when unknown

	mu   sync.Mutex
	held int64 // budget taken
	read int64 // bytes read
	err  error // errBodyTooLarge or errBodyBusy once refused
}

func (b *guardedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if b.budget != nil && (b.declared < 0 || b.read < b.declared) {
		if b.held == b.read {
			n := int64(budgetChunk)
			if b.declared >= 0 {
				n = b.declared - b.read
			}
			if err := b.acquire(n); err != nil {
				return 0, err
			}
		}
		p = p[:min(int64(len(p)), b.held-b.read)]
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		b.err = errBodyTooLarge
		return n, b.err
	}
	return n, err
}

// acquire takes n more bytes of the budget, waiting at most budget.wait.
func (b *guardedBody) acquire(n int64) error {
	// Most bodies find room at once: no timer for them. TryAcquire never
	// jumps the queue, so a waiting large body keeps its turn.
	if b.budget.sem.TryAcquire(n) {
		b.held += n
		return nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.budget.wait)
	defer cancel()
	if err := b.budget.sem.Acquire(ctx, n); err != nil {
		if b.ctx.Err() != nil {
			// The caller went away or the request's deadline passed: not
			// a busy server.
			return b.ctx.Err()
		}
		b.err = errBodyBusy
		return b.err
	}
	b.held += n
	return nil
}

func (b *guardedBody) Close() error { return b.rc.Close() }

func (b *guardedBody) refusal() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *guardedBody) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held > 0 {
		b.budget.sem.Release(b.held)
		b.held = 0
	}
}

// bodyGuard replaces the answer of a handler whose body read was refused
// (the handler sees only a read error: gqlgen would call it a bad JSON body,
// the facade an unreadable one) with the 413 or 503 that says why.
type bodyGuard struct {
	http.ResponseWriter
	r       *http.Request
	body    *guardedBody
	max     int64
	wrote   bool // a status went out (the handler's or the refusal)
	refused bool // the refusal went out: the handler's bytes are dropped
}

func (g *bodyGuard) WriteHeader(code int) {
	if g.wrote {
		return
	}
	g.wrote = true
	if err := g.body.refusal(); err != nil {
		g.refused = true
		refuseBody(g.ResponseWriter, g.r, err, g.max, g.body.budget)
		return
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *bodyGuard) Write(p []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	if g.refused {
		return len(p), nil
	}
	return g.ResponseWriter.Write(p)
}

func (g *bodyGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }
