// Command middletier-bench measures middletier against hand-written
// baselines over loopback: it builds the real binary, seeds a database
// (SQLite, or a PostgreSQL database it creates and drops), serves the
// upstream demos itself (so it can count their calls and inject latency),
// drives every scenario with the vegeta load generator at a fixed
// concurrency (warm-up, then a measured window), and prints throughput,
// latency, CPU per request of middletier and of the database, SQL
// statements, PostgreSQL transactions and upstream calls per request, and
// each scenario's ratio to its baselines and targets.
//
//	go run ./cmd/middletier-bench [--postgres-dsn URL] [--scale N] [--markdown]
//
// The baselines (a per-row handler, a single-JOIN handler and a bare
// handler writing fixed bytes) run in a separate process, this binary
// re-executed in its baseline role, so their CPU is measured the same way.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/middletier/middletier/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "middletier-bench:", err)
		os.Exit(1)
	}
}

// roleEnv marks a re-executed child as the baseline server; it is an
// environment variable rather than an argument so that a test binary can
// play the role too (TestMain).
const roleEnv = "MIDDLETIER_BENCH_ROLE"

// run is the whole program; only it reads the environment and arguments.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if getenv(roleEnv) == "baseline" {
		return serveBaseline(ctx, args[1:], stdout)
	}
	opts, err := parseOptions(args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	rep, err := bench(ctx, opts, stderr)
	if err != nil {
		return err
	}
	if opts.Markdown {
		return rep.Markdown(stdout)
	}
	return rep.Text(stdout)
}

// options are the benchmark's settings; each is a flag and a MIDDLETIER_*
// environment variable (config.Parse), like the service's.
type options struct {
	PostgresDSN string
	Scale       int
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Scenarios   *regexp.Regexp
	Markdown    bool
	ProfileDir  string
	ProfileOf   string
	PGSettle    time.Duration
	Binary      string
	ServeArgs   []string
	// Self is the executable re-run as the baseline server (tests set it
	// to the test binary).
	Self string
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	o := options{
		Scale:       1,
		Duration:    10 * time.Second,
		Warmup:      2 * time.Second,
		Concurrency: 8,
		ProfileOf:   "facade ListStoreBackorders 100",
		// PostgreSQL 15 flushes a busy backend's counters after it has been
		// idle for 10 s (PGSTAT_IDLE_INTERVAL): wait a little longer.
		PGSettle: 11 * time.Second,
	}
	scen := ""
	fs := flag.NewFlagSet("middletier-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.PostgresDSN, "postgres-dsn", "", "PostgreSQL server to benchmark on (postgres://user@host:5432/db): the command creates a database of its own there and drops it at the end; empty uses SQLite")
	fs.IntVar(&o.Scale, "scale", o.Scale, "seed scale of the demo data (1 to 50; 1 is 20 stores, 5,000 products, 10,000 backorders)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured window of each scenario")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "unmeasured load before each scenario's window")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "requests in flight in the throughput scenarios (the latency scenarios use 4)")
	fs.StringVar(&scen, "scenarios", "", "regular expression: run only the scenarios whose name matches (their baselines still run); empty runs all")
	fs.BoolVar(&o.Markdown, "markdown", false, "print the tables as Markdown (for BENCHMARKS.md)")
	fs.StringVar(&o.ProfileDir, "cpuprofile", "", "directory to write a CPU profile of middletier to, taken in an extra pass of --profile-scenario (the measured pass stays unprofiled)")
	fs.StringVar(&o.ProfileOf, "profile-scenario", o.ProfileOf, "the scenario --cpuprofile profiles")
	fs.DurationVar(&o.PGSettle, "pg-settle", o.PGSettle, "on PostgreSQL, how long to let idle backends publish their counters before reading pg_stat_database around a scenario that counts transactions")
	fs.StringVar(&o.Binary, "middletier-binary", "", "a middletier binary to run instead of building ./cmd/middletier")
	fs.Func("serve-arg", "an extra argument for `middletier serve` (repeat), e.g. --serve-arg=--batch-wait=1ms", func(s string) error {
		o.ServeArgs = append(o.ServeArgs, s)
		return nil
	})
	fs.Usage = config.Usage(stderr, fs, "middletier-bench: measure middletier against hand-written baselines over loopback")
	if err := config.Parse(fs, args, getenv); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var errs []error
	if scen != "" {
		re, err := regexp.Compile(scen)
		if err != nil {
			errs = append(errs, fmt.Errorf("scenarios: %w", err))
		}
		o.Scenarios = re
	}
	if o.Scale < 1 || o.Scale > 50 {
		errs = append(errs, fmt.Errorf("scale must be 1 to 50, got %d", o.Scale))
	}
	if o.Duration <= 0 || o.Warmup < 0 {
		errs = append(errs, fmt.Errorf("duration must be positive and warmup not negative, got %s and %s", o.Duration, o.Warmup))
	}
	if o.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency must be at least 1, got %d", o.Concurrency))
	}
	if o.PGSettle < 0 {
		errs = append(errs, fmt.Errorf("pg-settle must not be negative, got %s", o.PGSettle))
	}
	self, err := os.Executable()
	if err != nil {
		errs = append(errs, fmt.Errorf("find own executable for the baseline server: %w", err))
	}
	o.Self = self
	return o, errors.Join(errs...)
}
