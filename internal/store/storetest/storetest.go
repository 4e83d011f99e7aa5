// Package storetest opens fresh, migrated databases for tests: always SQLite
// in a temporary directory, and PostgreSQL in a schema of its own when
// MIDDLETIER_TEST_POSTGRES_DSN is set. Each schema is dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/middletier/middletier/internal/store"
)

// PostgresEnv names the variable that enables the PostgreSQL tests.
const PostgresEnv = "MIDDLETIER_TEST_POSTGRES_DSN"

// Engine is one open, migrated test database.
type Engine struct {
	Name string // "sqlite" or "postgres"
	DB   *store.DB
}

// Engines returns a fresh migrated SQLite database and, when the DSN is set,
// a fresh migrated PostgreSQL schema. It says in the test log when PostgreSQL is skipped.
func Engines(t testing.TB) []Engine {
	t.Helper()
	out := []Engine{{Name: "sqlite", DB: SQLite(t)}}
	if os.Getenv(PostgresEnv) == "" {
		skipPostgres(t)
		return out
	}
	return append(out, Engine{Name: "postgres", DB: Postgres(t)})
}

// skipPostgres shows the engine left out as a skipped "postgres" subtest,
// so `go test` (and -json, and CI's report) says PostgreSQL did not run
// instead of passing quietly without it.
func skipPostgres(t testing.TB) {
	t.Helper()
	msg := "PostgreSQL tests skipped: " + PostgresEnv + " is not set"
	if tt, ok := t.(*testing.T); ok {
		tt.Run("postgres", func(t *testing.T) { t.Skip(msg) })
		return
	}
	t.Log(msg)
}

// SQLite opens a fresh migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// Postgres opens a fresh migrated schema in the database named by
// MIDDLETIER_TEST_POSTGRES_DSN and skips the test when it is not set.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DatabaseURL: PostgresURL(t), MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open postgres schema: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// PostgresURL creates an empty schema of its own in the database named by
// MIDDLETIER_TEST_POSTGRES_DSN, drops it when the test ends, and returns a
// database URL whose search_path is that schema (for a second process to
// open); it skips the test when the variable is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: %s is not set", PostgresEnv)
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "mt_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer a.Close()
		if _, err := a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// seedImage is the test fixture (store.FixtureSize) as one SQLite file,
// made once per test binary: seeding is slow under -race with the pure-Go
// driver (scale 1 took minutes on a loaded machine), while copying the file
// takes milliseconds.
var seedImage struct {
	sync.Mutex
	data []byte
}

func sqliteSeedImage(t testing.TB) []byte {
	t.Helper()
	seedImage.Lock()
	defer seedImage.Unlock()
	if seedImage.data != nil {
		return seedImage.data
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "middletier-seed-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	if err := db.SeedSized(ctx, store.FixtureSize); err != nil {
		t.Fatalf("seed sqlite: %v", err)
	}
	// VACUUM INTO writes one consistent file, WAL included.
	image := filepath.Join(dir, "image.db")
	if _, err := db.SQLX().ExecContext(ctx, `VACUUM INTO ?`, image); err != nil {
		t.Fatalf("copy seeded sqlite: %v", err)
	}
	if seedImage.data, err = os.ReadFile(image); err != nil {
		t.Fatal(err)
	}
	return seedImage.data
}

// SeededDir returns a fresh data directory holding the test fixture as a
// SQLite database, for a service or command under test to open.
func SeededDir(t testing.TB) string {
	t.Helper()
	image := sqliteSeedImage(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "middletier.db"), image, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// SeededSQLite returns a fresh SQLite database holding the test fixture
// (store.FixtureSize), and its data directory (for a second process to open).
func SeededSQLite(t testing.TB) (*store.DB, string) {
	t.Helper()
	dir := SeededDir(t)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("seeded sqlite: %v", err)
	}
	return db, dir
}

// SeededEngines is Engines with the test fixture (store.FixtureSize) in each database.
func SeededEngines(t testing.TB) []Engine {
	t.Helper()
	lite, _ := SeededSQLite(t)
	out := []Engine{{Name: "sqlite", DB: lite}}
	if os.Getenv(PostgresEnv) == "" {
		skipPostgres(t)
		return out
	}
	pg := Postgres(t)
	if err := pg.SeedSized(context.Background(), store.FixtureSize); err != nil {
		t.Fatalf("seed postgres: %v", err)
	}
	return append(out, Engine{Name: "postgres", DB: pg})
}
