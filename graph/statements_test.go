package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

// backorderPage asks for a page of a store's backorders with every
// single-valued relation a row has. Each relation is read once per page.
const backorderPage = `query($n: Int) { backorders(storeId: "S001", first: $n) { nodes {
	id quantity store { name } customer { name } product { name } recordedBy { login }
	history { status } nextRestock { quantity } } } }`

// concurrentRequests is how many requests run at once while statements are
// counted: the counts must hold under load, not only at rest.
const concurrentRequests = 16

// TestStatementsDoNotGrowWithThePage counts the SQL statements a page of 5
// and a page of 100 backorders cost, each under 16 concurrent requests, with
// the production batch settings, on every engine.
func TestStatementsDoNotGrowWithThePage(t *testing.T) {
	for _, e := range storetest.SeededEngines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := countingServer(t, e.DB)
			s.Token = s.TokenFor(t, "devon")
			perRequest := map[int]int64{}
			for _, n := range []int{5, 100} {
				before := e.DB.Statements()
				if err := postConcurrently(s, backorderPage, "backorders", n, concurrentRequests); err != nil {
					t.Fatalf("page of %d: %v", n, err)
				}
				total := e.DB.Statements() - before
				if total%concurrentRequests != 0 {
					t.Errorf("page of %d: %d statements for %d requests: requests did not cost the same", n, total, concurrentRequests)
				}
				perRequest[n] = total / concurrentRequests
			}
			// The caller's employee record (authentication), the list
			// (its customers and products come with it), then one statement
			// each for stores, employees (recordedBy) and histories.
			const want = 5
			t.Logf("statements per request: page of 5 %d, page of 100 %d", perRequest[5], perRequest[100])
			if perRequest[5] != perRequest[100] || perRequest[100] > want {
				t.Errorf("statements per request: page of 5 %d, page of 100 %d; want the same, at most %d", perRequest[5], perRequest[100], want)
			}
		})
	}
}

// nestedPages asks for lists nested in lists: each of $n stores' backorder
// page with its rows' relations, and their histories' relations below that.
// Each kind of row is asked for at one level only: employees asked for at
// two levels (recordedBy and changedBy) share the loader's memo, so whether
// they cost one statement or two depends on which level asks first.
const nestedPages = `query($n: Int) { stores(first: $n) { nodes { id
	backorders(first: 5) { nodes { customer { name } product { sku } history { status changedBy { login } } } } } } }`

// TestNestedLevelsReadAtOnce counts the statements of lists nested in
// lists (stores → backorders → customer, → history → changedBy) with the
// production batch settings under 16 concurrent requests: each level is read
// in one statement, for 2 stores as for 20, because the level is known when
// its first list asks, not gathered by the batch window.
func TestNestedLevelsReadAtOnce(t *testing.T) {
	for _, e := range storetest.SeededEngines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := countingServer(t, e.DB)
			s.Token = s.TokenFor(t, "devon")
			perRequest := map[int]int64{}
			for _, n := range []int{2, 20} {
				before := e.DB.Statements()
				if err := postConcurrently(s, nestedPages, "stores", n, concurrentRequests); err != nil {
					t.Fatalf("%d stores: %v", n, err)
				}
				total := e.DB.Statements() - before
				if total%concurrentRequests != 0 {
					t.Errorf("%d stores: %d statements for %d requests: requests did not cost the same", n, total, concurrentRequests)
				}
				perRequest[n] = total / concurrentRequests
			}
			// The caller's employee record, stores, backorder pages (with
			// their customers and products), histories and employees
			// (changedBy, a level further down).
			const want = 5
			t.Logf("statements per request: 2 stores %d, 20 stores %d", perRequest[2], perRequest[20])
			if perRequest[2] != perRequest[20] || perRequest[20] > want {
				t.Errorf("statements per request: 2 stores %d, 20 stores %d; want the same, at most %d", perRequest[2], perRequest[20], want)
			}
		})
	}
}

// postConcurrently sends query with $n = n from `requests` goroutines at
// once and checks every answer has no errors and n nodes in its root field
// root (a page of n backorders, n stores).
func postConcurrently(s *testServer, query, root string, n, requests int) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"n": n}})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for range requests {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+s.Token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			var out struct {
				Errors []struct{ Message string }
				Data   map[string]struct{ Nodes []json.RawMessage }
			}
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				errs <- fmt.Errorf("decode: %w", err)
				return
			}
			if got := len(out.Data[root].Nodes); len(out.Errors) > 0 || got != n {
				errs <- fmt.Errorf("status %d, %d %s, errors %+v; want %d %s", res.StatusCode, got, root, out.Errors, n, root)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestPostgresPageTransactions holds PostgreSQL to one prepared statement
// per query shape and a few transactions per page, whatever the page size:
// a page of 100 prepares no statement a page of 5 did not, and a warm page
// costs the same transactions (pg_stat_database.xact_commit, in a database
// of the test's own) for 5 rows as for 100, at most 8.
func TestPostgresPageTransactions(t *testing.T) {
	dsn := os.Getenv(storetest.PostgresEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: %s is not set", storetest.PostgresEnv)
	}
	ctx := t.Context()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "mt_xact_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	// One connection: every statement goes to the same session, so what it
	// prepared is in its pg_prepared_statements and "warm" means warm.
	open := func() *store.DB {
		t.Helper()
		db, err := store.Open(ctx, store.Options{DatabaseURL: u.String(), MaxOpenConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Seed(ctx, 1); err != nil {
		t.Fatal(err)
	}

	t.Run("prepared statements", func(t *testing.T) {
		s := countingServer(t, db)
		s.Token = s.TokenFor(t, "devon")
		prepared := func(n int) int {
			t.Helper()
			if err := postConcurrently(s, backorderPage, "backorders", n, 1); err != nil {
				t.Fatalf("page of %d: %v", n, err)
			}
			var c int
			if err := db.SQLX().GetContext(ctx, &c, `SELECT count(*) FROM pg_prepared_statements`); err != nil {
				t.Fatal(err)
			}
			return c
		}
		p5, p100 := prepared(5), prepared(100)
		t.Logf("prepared statements: %d after a page of 5, %d after a page of 100", p5, p100)
		if p100 != p5 {
			t.Errorf("prepared statements: %d after a page of 5, %d after a page of 100; want no new ones", p5, p100)
		}
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// transactions runs `pages` warm pages of n rows on a fresh pool and
	// returns the transactions the database committed for all of it. A
	// backend reports its counts when it ends, so the pool is closed and
	// its session awaited before the count is read.
	transactions := func(n, pages int) int64 {
		t.Helper()
		before := settledXacts(t, admin, name)
		db := open()
		s := countingServer(t, db)
		s.Token = s.TokenFor(t, "devon")
		for _, size := range []int{5, 100} { // warm: every statement prepared
			if err := postConcurrently(s, backorderPage, "backorders", size, 1); err != nil {
				t.Fatal(err)
			}
		}
		for range pages {
			if err := postConcurrently(s, backorderPage, "backorders", n, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return settledXacts(t, admin, name) - before
	}
	const more = 5
	perPage := map[int]int64{}
	for _, n := range []int{5, 100} {
		// Everything but the pages (pool, token, warm-up) cancels out.
		diff := transactions(n, 1+more) - transactions(n, 1)
		if diff%more != 0 {
			t.Errorf("page of %d: %d transactions for %d pages: pages did not cost the same", n, diff, more)
		}
		perPage[n] = diff / more
	}
	t.Logf("transactions per warm page: %d for 5 rows, %d for 100", perPage[5], perPage[100])
	if perPage[5] != perPage[100] || perPage[100] > 8 {
		t.Errorf("transactions per warm page: %d for 5 rows, %d for 100; want the same, at most 8", perPage[5], perPage[100])
	}
}

// settledXacts waits until no session is connected to database name (an
// ending backend flushes its statistics first) and returns its xact_commit.
func settledXacts(t *testing.T, admin *sql.DB, name string) int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(t.Context(), d.Add(-5*time.Second))
	}
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var sessions int
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, name).Scan(&sessions); err != nil {
			t.Fatalf("sessions of %s: %v", name, err)
		}
		if sessions == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("sessions of %s still open: %v", name, ctx.Err())
		case <-tick.C:
		}
	}
	var n int64
	if err := admin.QueryRowContext(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatalf("xact_commit of %s: %v", name, err)
	}
	return n
}
