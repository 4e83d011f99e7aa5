package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// IdempotencyKey names one retry-safe request: the same user, operation and
// client-chosen key always mean the same request.
type IdempotencyKey struct {
	UserID    string // principal employee id, or "anonymous" when auth is off
	Operation string // operationId
	Key       string // Idempotency-Key header or clientRequestId body field
}

// IdempotencyRecord is what the database knows about a key.
type IdempotencyRecord struct {
	RequestHash string // hash of the request the key was first used with
	Done        bool   // false while the first request is still running
	Status      int    // HTTP status of the first answer (Done only)
	Body        []byte // body of the first answer (Done only)
	ExpiresAt   time.Time
}

// Idempotency record states.
const (
	idemRunning = "running"
	idemDone    = "done"
)

type idemRow struct {
	RequestHash string `db:"request_hash"`
	State       string `db:"state"`
	Status      int    `db:"status"`
	Body        string `db:"body"`
	ExpiresAt   int64  `db:"expires_at"`
}

func (r idemRow) record() IdempotencyRecord {
	return IdempotencyRecord{
		RequestHash: r.RequestHash,
		Done:        r.State == idemDone,
		Status:      r.Status,
		Body:        []byte(r.Body),
		ExpiresAt:   FromMillis(r.ExpiresAt),
	}
}

// ClaimIdempotency makes u the owner of k for the request identified by
// requestHash, or returns what is known about k. claimed=true means the
// caller runs the request inside u and stores its answer with
// CompleteIdempotency before committing u; rolling u back (a failed request,
// a crash: the database rolls back a dead connection's transaction) forgets
// the claim with everything else u did, so a retry runs the request afresh.
// When claimed is false, rec is the committed record: its answer to replay,
// or another request's (rec.RequestHash differs).
//
// The claim is one INSERT ... ON CONFLICT inside u. A concurrent claim of
// the same key waits on it until u ends (PostgreSQL waits on the
// uncommitted row; SQLite lets one write transaction run at a time), then
// sees the committed answer or, if u rolled back, claims the key itself:
// exactly one of any number of concurrent retries writes. ctx bounds that
// wait; when it ends first the error wraps ErrConflict. A record past its
// expiry, or left "running" by an older version that claimed keys outside
// the write's transaction, is claimed afresh.
func (u *Unit) ClaimIdempotency(ctx context.Context, k IdempotencyKey, requestHash string, ttl time.Duration) (rec IdempotencyRecord, claimed bool, err error) {
	now := time.Now()
	nowMS, expires := Millis(now), Millis(now.Add(ttl))
	res, err := u.s.execContext(u.Context(ctx), `INSERT INTO idempotency_keys
		(user_id, operation, idem_key, request_hash, state, status, body, created_at, locked_until, expires_at)
		VALUES (?, ?, ?, ?, ?, 0, '', ?, ?, ?)
		ON CONFLICT (user_id, operation, idem_key) DO UPDATE SET
			request_hash = excluded.request_hash, state = excluded.state, status = 0, body = '',
			created_at = excluded.created_at, locked_until = excluded.locked_until, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= ? OR idempotency_keys.state = ?`,
		k.UserID, k.Operation, k.Key, requestHash, idemRunning, nowMS, nowMS, expires,
		nowMS, idemRunning)
	if err != nil {
		if ctx.Err() != nil || isBusy(err) {
			return IdempotencyRecord{}, false, fmt.Errorf("idempotency key %q: another request with it is still running: %w", k.Key, ErrConflict)
		}
		return IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
	} else if n == 1 {
		return IdempotencyRecord{RequestHash: requestHash, ExpiresAt: FromMillis(expires)}, true, nil
	}
	rec, err = u.s.IdempotencyRecordFor(u.Context(ctx), k)
	if err != nil {
		return IdempotencyRecord{}, false, err
	}
	return rec, false, nil
}

// IdempotencyRecordFor reads the record of k; ErrNotFound when there is none.
func (s *DB) IdempotencyRecordFor(ctx context.Context, k IdempotencyKey) (IdempotencyRecord, error) {
	var row idemRow
	err := s.getContext(ctx, &row, `SELECT request_hash, state, status, body, expires_at FROM idempotency_keys
		WHERE user_id = ? AND operation = ? AND idem_key = ?`, k.UserID, k.Operation, k.Key)
	if errors.Is(err, ErrNotFound) {
		return IdempotencyRecord{}, err
	}
	if err != nil {
		return IdempotencyRecord{}, fmt.Errorf("read idempotency key: %w", err)
	}
	return row.record(), nil
}

// CompleteIdempotency stores the answer of a key claimed in u; it becomes
// visible, with the write it answers, when u commits, and is replayed on
// every retry until the key expires.
func (u *Unit) CompleteIdempotency(ctx context.Context, k IdempotencyKey, status int, body []byte) error {
	res, err := u.s.execContext(u.Context(ctx), `UPDATE idempotency_keys SET state = ?, status = ?, body = ?
		WHERE user_id = ? AND operation = ? AND idem_key = ? AND state = ?`,
		idemDone, status, string(body), k.UserID, k.Operation, k.Key, idemRunning)
	if err != nil {
		return fmt.Errorf("store idempotent result: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store idempotent result: %w", err)
	} else if n == 0 {
		return fmt.Errorf("idempotency key %q is not claimed in this transaction: %w", k.Key, ErrConflict)
	}
	return nil
}

// DeleteExpiredIdempotency removes records that expired before now and
// reports how many.
func (s *DB) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.execContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, Millis(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return n, nil
}
