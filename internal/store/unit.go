package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Unit is one database transaction that the store's methods join through
// their context: every query made with Unit.Context's context, from any
// goroutine (gqlgen resolves fields concurrently, loaders batch on their
// own), runs inside it. A write, the reads that build its answer and the
// record of that answer then commit together or not at all, which is what
// makes a retried write exactly-once even when the process dies mid-way.
type Unit struct {
	s  *DB
	tx *sqlx.Tx
	// mu serialises statements: a transaction is one connection, and
	// drivers (pgx above all) refuse a second statement while a first one
	// still streams rows.
	mu sync.Mutex
	// release gives back the request's connection (WithConnLimit) the
	// unit holds from BeginUnit to Commit or Rollback.
	release func()
	once    sync.Once
}

type unitKey struct{}

// BeginUnit opens a read-write transaction. On SQLite it takes the write
// lock at once (BEGIN IMMEDIATE), so a unit never fails half-way on lock
// upgrade; on PostgreSQL it is READ COMMITTED. The caller must Commit or
// Rollback it; ctx bounds the whole transaction.
func (s *DB) BeginUnit(ctx context.Context) (*Unit, error) {
	release, err := acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	s.count()
	_, span := s.statement(ctx, "BEGIN")
	tx, err := s.db.BeginTxx(ctx, nil)
	endStatement(span, err)
	if err != nil {
		release()
		if isBusy(err) {
			return nil, fmt.Errorf("begin: the database is busy with another write: %w", ErrConflict)
		}
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Unit{s: s, tx: tx, release: release}, nil
}

// Context returns ctx carrying u: the store's methods called with it run
// inside u.
func (u *Unit) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, unitKey{}, u)
}

// Commit makes everything done in u durable.
func (u *Unit) Commit() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	defer u.done()
	u.s.count()
	if err := u.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rollback undoes everything done in u; after Commit it does nothing.
func (u *Unit) Rollback() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	defer u.done()
	if err := u.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// done gives the unit's connection back to the request, once.
func (u *Unit) done() { u.once.Do(u.release) }

// unitFrom returns the unit of s that ctx carries, if any.
func (s *DB) unitFrom(ctx context.Context) *Unit {
	u, _ := ctx.Value(unitKey{}).(*Unit)
	if u == nil || u.s != s {
		return nil
	}
	return u
}

// isBusy reports whether err is SQLite's "database is locked" after its busy
// timeout: another transaction held the write lock throughout.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		// SQLITE_BUSY and its extended codes (the low byte is the primary code).
		return coded.Code()&0xff == 5
	}
	return false
}
