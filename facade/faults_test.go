package facade_test

// Fault injection for exactly-once writes: the client's connection dropped
// in the middle of a write, and the whole process killed (SIGKILL, no
// deferred code runs) at each step of a write, alone and under a load of
// keyed writes, on SQLite and PostgreSQL. After each fault the runtime's
// retry (the byte-identical request with the same key) must get the first
// answer or run the write afresh, and the database must hold each write
// exactly once.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/loaders"
	"github.com/middletier/middletier/resolvers"
)

// The fault child is this test binary started again with these variables:
// it serves the facade over the named database and kills itself with
// SIGKILL when the killAfter-th write reaches the step killAt.
const (
	childEnv       = "MIDDLETIER_FAULT_CHILD"
	childDBURL     = "MIDDLETIER_FAULT_DATABASE_URL"
	childDataDir   = "MIDDLETIER_FAULT_DATA_DIR"
	childKillAt    = "MIDDLETIER_FAULT_KILL_AT"
	childKillNth   = "MIDDLETIER_FAULT_KILL_NTH"
	dropTestHeader = "X-Test-Drop-Connection"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := faultChild(); err != nil {
			fmt.Fprintln(os.Stderr, "fault child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// faultChild serves the facade on a loopback port, prints the address on
// stdout and serves until it is killed.
func faultChild() error {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DatabaseURL: os.Getenv(childDBURL), DataDir: os.Getenv(childDataDir)})
	if err != nil {
		return err
	}
	cfg := config.Defaults()
	log := slog.New(slog.DiscardHandler)
	exec, err := graph.NewExecutor(cfg.GraphQL, resolvers.NewSchema(db), log)
	if err != nil {
		return err
	}
	killAt := facade.WriteStep(os.Getenv(childKillAt))
	nth, _ := strconv.Atoi(os.Getenv(childKillNth))
	var reached atomic.Int64
	fac, err := facade.New(exec, db, facade.WithWriteStepHook(facade.Options{Log: log}, func(_ *http.Request, s facade.WriteStep) {
		if s == killAt && reached.Add(1) == int64(nth) {
			// As a crash or an OOM kill would: no deferred rollback, no
			// connection closed politely.
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}))
	if err != nil {
		return err
	}
	h := server.NewHandler(cfg, server.Deps{Log: log, GraphQL: exec.Handler(), Loaders: loaders.Middleware(db, nil, cfg.GraphQL.BatchWait), Ready: db, Authenticate: testAuth(db), Facade: fac})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, h)
}

// faultDB is a seeded database that a child process can open too.
type faultDB struct {
	name     string
	db       *store.DB
	childEnv []string
}

func faultDBs(t *testing.T) []faultDB {
	t.Helper()
	ctx := context.Background()
	lite, dir := storetest.SeededSQLite(t)
	out := []faultDB{{name: "sqlite", db: lite, childEnv: []string{childDataDir + "=" + dir}}}
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Run("postgres", func(t *testing.T) {
			t.Skipf("PostgreSQL tests skipped: %s is not set", storetest.PostgresEnv)
		})
		return out
	}
	u := storetest.PostgresURL(t)
	pg, err := store.Open(ctx, store.Options{DatabaseURL: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pg.SeedSized(ctx, store.FixtureSize); err != nil {
		t.Fatal(err)
	}
	return append(out, faultDB{name: "postgres", db: pg, childEnv: []string{childDBURL + "=" + u}})
}

type child struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// startChild runs the fault child over f's database, killing itself at the
// nth write that reaches killAt ("" never).
func startChild(t *testing.T, f faultDB, killAt facade.WriteStep, nth int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childKillAt+"="+string(killAt), childKillNth+"="+strconv.Itoa(nth))
	cmd.Env = append(cmd.Env, f.childEnv...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("fault child did not start: %v", err)
	}
	go func() {
		_, _ = io.Copy(io.Discard, out)
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	c.base = "http://" + strings.TrimSpace(addr)
	return c
}

// killed waits for the child to die and reports whether SIGKILL ended it.
func (c *child) killed(t *testing.T) bool {
	t.Helper()
	err := <-c.done
	c.done <- err // for the cleanup
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// noReuse is a client that opens a new connection per request, so that no
// request goes out on a connection to a process that died.
var noReuse = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// send posts a RecordBackorder with an Idempotency-Key as the runtime
// retries it: the very same bytes every time.
func send(ctx context.Context, base, key, note string) (status int, body string, replayed bool, err error) {
	rq, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/backorders", strings.NewReader(recordBody(note, "")))
	if err != nil {
		return 0, "", false, err
	}
	rq.Header.Set("Content-Type", "application/json")
	rq.Header.Set(userHeader, "avery")
	rq.Header.Set("Idempotency-Key", key)
	resp, err := noReuse.Do(rq)
	if err != nil {
		return 0, "", false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Idempotent-Replayed") == "true", err
}

// TestWriteFaults seeds one database per engine (the slow part) and runs
// every fault on it.
func TestWriteFaults(t *testing.T) {
	for _, f := range faultDBs(t) {
		t.Run(f.name, func(t *testing.T) {
			t.Run("killed", func(t *testing.T) { testWriteSurvivesKill(t, f) })
			t.Run("killed under load", func(t *testing.T) { testWritesSurviveKillUnderLoad(t, f) })
			t.Run("connection dropped", func(t *testing.T) { testWriteOutlivesDroppedConnection(t, f) })
		})
	}
}

// testWriteSurvivesKill kills the process at each step of a keyed write and
// retries it on a restarted process: one backorder, and the retry of a
// committed write replays its answer.
func testWriteSurvivesKill(t *testing.T, f faultDB) {
	for _, step := range []facade.WriteStep{facade.StepBegun, facade.StepWritten, facade.StepCommitted} {
		t.Run(string(step), func(t *testing.T) {
			key, note := "kill-"+string(step), "killed at "+string(step)
			c := startChild(t, f, step, 1)
			if status, body, _, err := send(context.Background(), c.base, key, note); err == nil {
				t.Fatalf("the killed attempt was answered: %d %s", status, body)
			}
			if !c.killed(t) {
				t.Fatal("the child was not killed by SIGKILL")
			}

			c = startChild(t, f, "", 0)
			status, first, replayed, err := send(context.Background(), c.base, key, note)
			if err != nil || status != http.StatusCreated {
				t.Fatalf("retry after the kill: %d %s %v", status, first, err)
			}
			// Killed after the commit: the write and its answer were
			// durable together, so the retry is a replay; killed
			// before: nothing was left, so it runs afresh.
			if want := step == facade.StepCommitted; replayed != want {
				t.Errorf("retry replayed = %v, want %v", replayed, want)
			}
			status, again, replayed, err := send(context.Background(), c.base, key, note)
			if err != nil || status != http.StatusCreated || !replayed || again != first {
				t.Fatalf("second retry: %d replayed=%v %v\n%s\nwant the first answer\n%s", status, replayed, err, again, first)
			}
			if n := countNotes(t, f.db, note); n != 1 {
				t.Fatalf("%d backorders written, want 1", n)
			}
		})
	}
}

// testWritesSurviveKillUnderLoad kills the process while a batch of keyed
// writes runs concurrently, then retries every one of them.
func testWritesSurviveKillUnderLoad(t *testing.T, f faultDB) {
	const writes = 8
	for _, step := range []facade.WriteStep{facade.StepWritten, facade.StepCommitted} {
		t.Run(string(step), func(t *testing.T) {
			c := startChild(t, f, step, writes/2)
			note := func(i int) string { return fmt.Sprintf("load %s %d", step, i) }
			key := func(i int) string { return fmt.Sprintf("load-%s-%d", step, i) }
			var wg sync.WaitGroup
			for i := range writes {
				wg.Go(func() { _, _, _, _ = send(context.Background(), c.base, key(i), note(i)) })
			}
			wg.Wait()
			if !c.killed(t) {
				t.Fatal("the child was not killed by SIGKILL")
			}
			c = startChild(t, f, "", 0)
			for i := range writes {
				status, body, _, err := send(context.Background(), c.base, key(i), note(i))
				if err != nil || status != http.StatusCreated {
					t.Fatalf("retry %d: %d %s %v", i, status, body, err)
				}
				if n := countNotes(t, f.db, note(i)); n != 1 {
					t.Errorf("write %d: %d backorders, want 1", i, n)
				}
			}
		})
	}
}

// testWriteOutlivesDroppedConnection: the caller goes away while its write
// runs (the runtime abandons an attempt after 120 s); the write still
// finishes and records its answer, and the retry gets it.
func testWriteOutlivesDroppedConnection(t *testing.T, f faultDB) {
	reached := make(chan struct{}, 1)
	gone := make(chan error, 1)
	env := newEnvOpts(t, f.db, cachedtest.Start(t, cachedtest.Options{}), facade.WithWriteStepHook(facade.Options{},
		func(r *http.Request, s facade.WriteStep) {
			if s != facade.StepBegun || r.Header.Get(dropTestHeader) == "" {
				return
			}
			reached <- struct{}{}
			// Go on only once the server has seen the client leave.
			gone <- waitDone(t, r.Context())
		}))
	srv := httptest.NewServer(env.h)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		rq, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/backorders", strings.NewReader(recordBody("dropped", "")))
		rq.Header.Set("Content-Type", "application/json")
		rq.Header.Set(userHeader, "avery")
		rq.Header.Set("Idempotency-Key", "dropped-1")
		rq.Header.Set(dropTestHeader, "1")
		resp, err := noReuse.Do(rq)
		if err == nil {
			resp.Body.Close()
		}
		first <- err
	}()
	<-reached
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the first attempt was not cut short: %v", err)
	}
	if err := <-gone; err != nil {
		t.Fatal(err)
	}

	status, body, replayed, err := send(context.Background(), srv.URL, "dropped-1", "dropped")
	if err != nil || status != http.StatusCreated || !replayed {
		t.Fatalf("retry: %d replayed=%v %v %s; want 201 replaying the first attempt's answer", status, replayed, err, body)
	}
	if n := countNotes(t, f.db, "dropped"); n != 1 {
		t.Fatalf("%d backorders written, want 1", n)
	}
}

// waitDone waits for ctx to end, at most until the test's deadline.
func waitDone(t *testing.T, ctx context.Context) error {
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-timer.C:
		return errors.New("the server never saw the client leave")
	}
}
