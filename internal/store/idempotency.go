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

// maxClaimAttempts bounds the claim loop: a row can vanish (expiry cleanup,
// a failed first request releasing it) between the insert and the read.
const maxClaimAttempts = 4

// ClaimIdempotency makes the caller the owner of k, or returns what is known
// about it. claimed=true means the caller must run the request and then call
// CompleteIdempotency or ReleaseIdempotency. When claimed is false, rec is the
// existing record: done (replay it), running (wait), or for another request
// (rec.RequestHash differs).
//
// A claim is a single INSERT ... ON CONFLICT DO NOTHING, so of any number of
// concurrent callers exactly one wins on both engines. A running claim older
// than lease (its replica died mid-request) may be taken over by a retry of
// the same request; a record past its expiry by any request.
func (s *DB) ClaimIdempotency(ctx context.Context, k IdempotencyKey, requestHash string, lease, ttl time.Duration) (rec IdempotencyRecord, claimed bool, err error) {
	for range maxClaimAttempts {
		now := time.Now()
		nowMS, lockedUntil, expires := Millis(now), Millis(now.Add(lease)), Millis(now.Add(ttl))
		res, err := s.execContext(ctx, `INSERT INTO idempotency_keys
			(user_id, operation, idem_key, request_hash, state, status, body, created_at, locked_until, expires_at)
			VALUES (?, ?, ?, ?, ?, 0, '', ?, ?, ?)
			ON CONFLICT (user_id, operation, idem_key) DO NOTHING`,
			k.UserID, k.Operation, k.Key, requestHash, idemRunning, nowMS, lockedUntil, expires)
		if err != nil {
			return IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		} else if n == 1 {
			return IdempotencyRecord{RequestHash: requestHash, ExpiresAt: FromMillis(expires)}, true, nil
		}

		// Conditional takeover: only one of several concurrent retries can
		// match the old row, because the first update changes locked_until.
		res, err = s.execContext(ctx, `UPDATE idempotency_keys
			SET request_hash = ?, state = ?, status = 0, body = '', created_at = ?, locked_until = ?, expires_at = ?
			WHERE user_id = ? AND operation = ? AND idem_key = ?
			  AND (expires_at <= ? OR (state = ? AND locked_until <= ? AND request_hash = ?))`,
			requestHash, idemRunning, nowMS, lockedUntil, expires,
			k.UserID, k.Operation, k.Key,
			nowMS, idemRunning, nowMS, requestHash)
		if err != nil {
			return IdempotencyRecord{}, false, fmt.Errorf("take over idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return IdempotencyRecord{}, false, fmt.Errorf("take over idempotency key: %w", err)
		} else if n == 1 {
			return IdempotencyRecord{RequestHash: requestHash, ExpiresAt: FromMillis(expires)}, true, nil
		}

		rec, err := s.IdempotencyRecordFor(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue // released or cleaned up in between: try to claim again
		}
		if err != nil {
			return IdempotencyRecord{}, false, err
		}
		return rec, false, nil
	}
	return IdempotencyRecord{}, false, fmt.Errorf("idempotency key %q keeps changing; try again: %w", k.Key, ErrConflict)
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

// CompleteIdempotency stores the first answer of a claimed key, to be
// replayed on every retry until the key expires.
func (s *DB) CompleteIdempotency(ctx context.Context, k IdempotencyKey, status int, body []byte) error {
	res, err := s.execContext(ctx, `UPDATE idempotency_keys SET state = ?, status = ?, body = ?
		WHERE user_id = ? AND operation = ? AND idem_key = ? AND state = ?`,
		idemDone, status, string(body), k.UserID, k.Operation, k.Key, idemRunning)
	if err != nil {
		return fmt.Errorf("store idempotent result: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store idempotent result: %w", err)
	} else if n == 0 {
		return fmt.Errorf("idempotency key %q is no longer claimed: %w", k.Key, ErrConflict)
	}
	return nil
}

// ReleaseIdempotency forgets a claimed key whose request failed in a way a
// retry may fix (an internal or upstream error), so that the retry runs it.
func (s *DB) ReleaseIdempotency(ctx context.Context, k IdempotencyKey) error {
	if _, err := s.execContext(ctx, `DELETE FROM idempotency_keys
		WHERE user_id = ? AND operation = ? AND idem_key = ? AND state = ?`,
		k.UserID, k.Operation, k.Key, idemRunning); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
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
