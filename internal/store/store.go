// Package store is middletier's relational data access: sqlx over SQLite
// (embedded default, pure Go) or PostgreSQL (pgx), with embedded goose
// migrations and a deterministic demo seed. The same SQL runs on both engines.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/middletier/middletier/internal/redact"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect names the database engine.
type Dialect string

// Supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the database handle. It is safe for concurrent use.
type DB struct {
	db      *sqlx.DB
	dialect Dialect
	// statements counts every SQL statement sent, so tests can prove that
	// loaders batch (N+1 stays dead) by counting rather than timing.
	statements atomic.Int64
	// tracer starts a span per statement (trace.go).
	tracer trace.Tracer
}

// DefaultDataDir is where the SQLite file lives when no directory is given,
// relative to the working directory. Config's --data-dir default is this
// value, so the flag's help and a zero Options open the same file.
const DefaultDataDir = "data"

// Options say where the database is.
type Options struct {
	// DatabaseURL selects PostgreSQL when it starts with postgres:// or postgresql://.
	DatabaseURL string
	// DataDir holds the SQLite file (middletier.db) when DatabaseURL is
	// empty; "" means DefaultDataDir.
	DataDir string
	// MaxOpenConns caps the pool (0 = engine default: 1 writer-friendly pool for SQLite, 20 for PostgreSQL).
	MaxOpenConns int
}

// Open connects to the database named by opts. It does not migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	var (
		db      *sqlx.DB
		dialect Dialect
		err     error
	)
	switch u := opts.DatabaseURL; {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		dialect = Postgres
		// A statement whose request ended is cancelled on the server too,
		// not only abandoned: pgx (5.12) closes the connection and sends
		// a cancel request; TestStatementEndsWithRequest holds it to that.
		db, err = sqlx.Open("pgx", u)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(cmp(opts.MaxOpenConns, 20))
		db.SetMaxIdleConns(cmp(opts.MaxOpenConns, 20))
	case u == "":
		dialect = SQLite
		dir := opts.DataDir
		if dir == "" {
			dir = DefaultDataDir
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path := filepath.Join(dir, "middletier.db")
		// WAL lets readers run beside the writer; busy_timeout makes writers
		// queue instead of failing with SQLITE_BUSY; foreign keys are off by
		// default in SQLite and on in PostgreSQL, so turn them on.
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err = sqlx.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(cmp(opts.MaxOpenConns, 8))
		db.SetMaxIdleConns(cmp(opts.MaxOpenConns, 8))
	default:
		return nil, fmt.Errorf("database url %q: want postgres://... or empty for SQLite: %w", redact.URL(u), ErrInvalidInput)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", dialect, err)
	}
	return &DB{db: db, dialect: dialect, tracer: newTracer()}, nil
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Dialect reports the engine in use.
func (s *DB) Dialect() Dialect { return s.dialect }

// SQLX exposes the handle for tests and tools in this module.
func (s *DB) SQLX() *sqlx.DB { return s.db }

// Close releases the pool.
func (s *DB) Close() error { return s.db.Close() }

// Statements returns how many SQL statements this store has sent so far.
func (s *DB) Statements() int64 { return s.statements.Load() }

func (s *DB) gooseProvider() (*goose.Provider, error) {
	sub, err := fsSub()
	if err != nil {
		return nil, err
	}
	d := goose.DialectSQLite3
	if s.dialect == Postgres {
		d = goose.DialectPostgres
	}
	return goose.NewProvider(d, s.db.DB, sub)
}

// Migrate applies every pending migration.
func (s *DB) Migrate(ctx context.Context) error {
	p, err := s.gooseProvider()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// ErrNotMigrated means the database lacks migrations this binary ships.
var ErrNotMigrated = errors.New("database not migrated")

// Ready checks that the database answers and every migration is applied.
func (s *DB) Ready(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	p, err := s.gooseProvider()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	if pending {
		return ErrNotMigrated
	}
	return nil
}

// count records one statement sent; every query helper calls it.
func (s *DB) count() { s.statements.Add(1) }

// q rebinds a query written with ? placeholders for the engine in use.
func (s *DB) q(query string) string { return s.db.Rebind(query) }

// getContext, selectContext and execContext are the only ways queries leave
// the store, so the statement counter is always right. Inside a Unit (the
// context carries one) they run in its transaction.
func (s *DB) getContext(ctx context.Context, dest any, query string, args ...any) error {
	if u := s.unitFrom(ctx); u != nil {
		u.mu.Lock()
		defer u.mu.Unlock()
		return (&txn{tx: u.tx, s: s}).getContext(ctx, dest, query, args...)
	}
	release, err := acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.count()
	ctx, span := s.statement(ctx, query)
	err = s.db.GetContext(ctx, dest, s.q(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	endStatement(span, err)
	return err
}

func (s *DB) selectContext(ctx context.Context, dest any, query string, args ...any) error {
	if u := s.unitFrom(ctx); u != nil {
		u.mu.Lock()
		defer u.mu.Unlock()
		return (&txn{tx: u.tx, s: s}).selectContext(ctx, dest, query, args...)
	}
	release, err := acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.count()
	ctx, span := s.statement(ctx, query)
	err = s.db.SelectContext(ctx, dest, s.q(query), args...)
	endStatement(span, err)
	return err
}

func (s *DB) execContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if u := s.unitFrom(ctx); u != nil {
		u.mu.Lock()
		defer u.mu.Unlock()
		return (&txn{tx: u.tx, s: s}).execContext(ctx, query, args...)
	}
	release, err := acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	s.count()
	ctx, span := s.statement(ctx, query)
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	endStatement(span, err)
	return res, err
}

// inTx runs fn in one transaction: everything or nothing is written. Inside
// a Unit, fn runs in a savepoint of the unit's transaction, so that a failed
// fn undoes only its own statements (and PostgreSQL's transaction stays
// usable) while a successful one commits with the unit. fn must use tx only.
func (s *DB) inTx(ctx context.Context, fn func(tx *txn) error) error {
	if u := s.unitFrom(ctx); u != nil {
		u.mu.Lock()
		defer u.mu.Unlock()
		t := &txn{tx: u.tx, s: s}
		if _, err := t.execContext(ctx, `SAVEPOINT store_write`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if err := fn(t); err != nil {
			if _, rerr := t.execContext(ctx, `ROLLBACK TO SAVEPOINT store_write`); rerr != nil {
				return errors.Join(err, fmt.Errorf("roll back to savepoint: %w", rerr))
			}
			return err
		}
		if _, err := t.execContext(ctx, `RELEASE SAVEPOINT store_write`); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
		return nil
	}
	release, err := acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.count()
	_, span := s.statement(ctx, "BEGIN")
	sqlTx, err := s.db.BeginTxx(ctx, nil)
	endStatement(span, err)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &txn{tx: sqlTx, s: s}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	s.count()
	_, span = s.statement(ctx, "COMMIT")
	err = sqlTx.Commit()
	endStatement(span, err)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// txn mirrors the counted helpers inside a transaction.
type txn struct {
	tx *sqlx.Tx
	s  *DB
}

func (t *txn) getContext(ctx context.Context, dest any, query string, args ...any) error {
	t.s.count()
	ctx, span := t.s.statement(ctx, query)
	err := t.tx.GetContext(ctx, dest, t.tx.Rebind(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	endStatement(span, err)
	return err
}

func (t *txn) selectContext(ctx context.Context, dest any, query string, args ...any) error {
	t.s.count()
	ctx, span := t.s.statement(ctx, query)
	err := t.tx.SelectContext(ctx, dest, t.tx.Rebind(query), args...)
	endStatement(span, err)
	return err
}

func (t *txn) execContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.s.count()
	ctx, span := t.s.statement(ctx, query)
	res, err := t.tx.ExecContext(ctx, t.tx.Rebind(query), args...)
	endStatement(span, err)
	return res, err
}
