package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/middletier/middletier/facade"
)

// TestMain lets the test binary play the baseline server when the
// benchmark re-executes it (options.Self), as the command re-executes itself.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "baseline" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchRunsEveryScenario runs the whole command, briefly, on each
// engine: the real binary, seeded at the smallest scale, every scenario
// under load. It checks that every scenario was answered without errors
// and that its counts were taken; it asserts nothing about speed.
func TestBenchRunsEveryScenario(t *testing.T) {
	// It drives real load for a minute or more, which would be most of
	// `go test ./...`'s time: it runs when asked for (CI asks, in a step
	// of its own), and says how otherwise.
	if testing.Short() || os.Getenv("MIDDLETIER_TEST_BENCH") == "" {
		t.Skip("runs the service under load for a minute or more: set MIDDLETIER_TEST_BENCH=1 to run it (CI does)")
	}
	engines := []struct{ name, dsn string }{{"sqlite", ""}}
	if dsn := os.Getenv("MIDDLETIER_TEST_POSTGRES_DSN"); dsn != "" {
		engines = append(engines, struct{ name, dsn string }{"postgres", dsn})
	} else {
		t.Log("PostgreSQL run skipped: MIDDLETIER_TEST_POSTGRES_DSN is not set")
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			o := options{
				PostgresDSN: eng.dsn, Scale: 1,
				Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 2,
				ProfileDir: t.TempDir(), ProfileOf: "facade ListStoreBackorders 100",
				PGSettle: 11 * time.Second, Self: self,
			}
			ctx := t.Context()
			if d, ok := t.Deadline(); ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, d.Add(-10*time.Second))
				defer cancel()
			}
			var log bytes.Buffer
			rep, err := bench(ctx, o, &log)
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, log.String())
			}
			checkReport(t, rep, eng.name == "postgres")
		})
	}
}

func checkReport(t *testing.T, rep *report, postgres bool) {
	t.Helper()
	all := scenarios()
	if len(rep.Results) != len(all) {
		t.Fatalf("got %d results, want one per scenario (%d)", len(rep.Results), len(all))
	}
	var cpu float64
	for _, r := range rep.Results {
		if r.Requests == 0 || r.Failed > 0 {
			t.Errorf("%s: %d requests, %d failed (%s)", r.Name, r.Requests, r.Failed, r.FirstError)
		}
		if math.IsNaN(r.CPUms) || r.CPUms < 0 || math.IsNaN(r.Stmts) || r.Stmts < 0 || math.IsNaN(r.Upstream) || r.Upstream < 0 {
			t.Errorf("%s: counts missing or negative: CPU %v ms, SQL %v, upstream %v", r.Name, r.CPUms, r.Stmts, r.Upstream)
		}
		if postgres == math.IsNaN(r.DBCPUms) {
			t.Errorf("%s: database CPU %v on postgres=%v", r.Name, r.DBCPUms, postgres)
		}
		cpu += r.CPUms
	}
	if cpu <= 0 {
		t.Error("no scenario used any CPU: /proc was not read")
	}
	// The hand-written handlers' statements are known exactly, which
	// checks the counting itself.
	for _, n := range []int{20, 100} {
		if r := rep.find(basePerRow(n)); r == nil || r.Stmts != float64(1+2*n) {
			t.Errorf("%s: %+v, want %d statements per request", basePerRow(n), r, 1+2*n)
		}
		if r := rep.find(baseJoin(n)); r == nil || r.Stmts != 1 {
			t.Errorf("%s: %+v, want 1 statement per request", baseJoin(n), r)
		}
	}
	for _, n := range []int{5, 20, 100} {
		if r := rep.find(fmt.Sprintf("facade ListStoreBackorders %d", n)); r == nil || r.Stmts <= 0 {
			t.Errorf("facade page of %d: %+v, want its SQL statements counted", n, r)
		} else if postgres && n != 20 && !(r.Xacts > 0) {
			t.Errorf("facade page of %d: %v PostgreSQL transactions per request, want them counted", n, r.Xacts)
		}
	}
	if r := rep.find("facade GetMyHome cold (upstreams 50 ms)"); r == nil || r.Upstream <= 0 {
		t.Errorf("cold GetMyHome: %+v, want upstream calls counted (every cache misses)", r)
	}
	// The response cache rows must reach the service that has it on (and
	// the engine rows the one that has it off): after the warm-up filled
	// it, a call sends less SQL than the same call run through the engine.
	if c, e := rep.find("facade ListStores (response cache)"), rep.find("facade ListStores"); c == nil || e == nil || !(c.Stmts < e.Stmts) {
		t.Errorf("ListStores: %+v from the response cache, %+v without; want less SQL from the cache", c, e)
	}
	if r := rep.find("middletier /healthz"); r == nil || r.Upstream != 0 {
		t.Errorf("/healthz: %+v, want no upstream calls", r)
	}
	want := 7
	if postgres {
		want = 9
	}
	if got := len(rep.targets()); got != want {
		t.Errorf("%d targets reported, want %d", got, want)
	}
	if fi, err := os.Stat(rep.Profile); err != nil || fi.Size() == 0 {
		t.Errorf("CPU profile %q: %v", rep.Profile, err)
	}
	var text, md bytes.Buffer
	if err := rep.Text(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if !strings.Contains(text.String(), r.Name) || !strings.Contains(md.String(), "| "+r.Name+" |") {
			t.Errorf("%s missing from the printed tables", r.Name)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", text.String())
	}
}

// TestEveryOperationHasScenarios holds the scenario list to the operation
// files: a new connector operation is measured through the facade and
// through /graphql, or this fails.
func TestEveryOperationHasScenarios(t *testing.T) {
	names := map[string]bool{}
	for _, s := range scenarios() {
		names[strings.Fields(s.Name)[0]+" "+strings.Fields(s.Name)[1]] = true
	}
	files, err := fs.Glob(facade.Files(), "*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("operation files: %v, %v", files, err)
	}
	for _, f := range files {
		op := strings.TrimSuffix(f, ".graphql")
		for _, via := range []string{"facade", "graphql"} {
			if !names[via+" "+op] {
				t.Errorf("no %q scenario for operation %s", via, op)
			}
		}
	}
}

func TestOptionsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"--scale", "0"}, {"--duration", "0s"}, {"--concurrency", "0"}, {"--scenarios", "("}, {"extra"},
	} {
		if _, err := parseOptions(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	o, err := parseOptions(nil, func(k string) string {
		return map[string]string{"MIDDLETIER_SCALE": "2", "MIDDLETIER_CONCURRENCY": "3"}[k]
	}, io.Discard)
	if err != nil || o.Scale != 2 || o.Concurrency != 3 {
		t.Errorf("settings from the environment: %+v, %v", o, err)
	}
}
