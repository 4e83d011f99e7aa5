package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// report is one run: every scenario's result, the targets, the machine.
type report struct {
	Engine         string
	Scale          int
	Window, Warmup time.Duration
	Machine        machineInfo
	// LoadBefore, LoadMax and LoadAfter are the 1-minute load average
	// before, at its highest after a scenario, and after the run: the
	// machine may be shared.
	LoadBefore, LoadMax, LoadAfter float64
	Results                        []result
	Profile                        string // the CPU profile written, if any
}

func nan() float64 { return math.NaN() }

func (rep *report) find(name string) *result {
	for i := range rep.Results {
		if rep.Results[i].Name == name {
			return &rep.Results[i]
		}
	}
	return nil
}

// ratio is a scenario's figure over its baseline's: CPU per request, or
// throughput.
func (rep *report) ratio(r result, c comparison) float64 {
	b := rep.find(c.Baseline)
	if b == nil {
		return nan()
	}
	if c.Metric == "rps" {
		return r.Throughput / b.Throughput
	}
	return r.CPUms / b.CPUms
}

// target is one of issue 9's targets with what this run measured.
type target struct {
	What     string
	Measured float64
	Goal     string
	Met      bool
	Unit     string
}

func (rep *report) targets() []target {
	var out []target
	cpu := func(name string) float64 {
		if r := rep.find(name); r != nil {
			return r.CPUms
		}
		return nan()
	}
	rps := func(name string) float64 {
		if r := rep.find(name); r != nil {
			return r.Throughput
		}
		return nan()
	}
	p50 := func(name string) float64 {
		if r := rep.find(name); r != nil {
			return float64(r.P50) / float64(time.Millisecond)
		}
		return nan()
	}
	add := func(what, goal string, v float64, met func(float64) bool, unit string) {
		if math.IsNaN(v) {
			return // a scenario it needs did not run
		}
		out = append(out, target{What: what, Measured: v, Goal: goal, Met: met(v), Unit: unit})
	}
	atLeast := func(g float64) func(float64) bool { return func(v float64) bool { return v >= g } }
	atMost := func(g float64) func(float64) bool { return func(v float64) bool { return v <= g } }
	f100 := "facade ListStoreBackorders 100"
	add("backorder page of 100, facade: per-row handler's CPU / facade's", "≥ 3", cpu(basePerRow(100))/cpu(f100), atLeast(3), "x")
	add("backorder page of 100, facade: facade's CPU / JOIN handler's", "≤ 2", cpu(f100)/cpu(baseJoin(100)), atMost(2), "x")
	add("facade ListStores from the response cache: its throughput / bare net/http handler's", "≥ 0.5", rps("facade ListStores (response cache)")/rps(baseBytes), atLeast(0.5), "x")
	add("authenticated {__typename}: its throughput / /healthz's", "≥ 0.5", rps("graphql {__typename}")/rps(baseHealthz), atLeast(0.5), "x")
	add("backorder page of 100: /graphql's CPU / facade's (same document)", "≥ 1.0", cpu("graphql ListStoreBackorders 100")/cpu(f100), atLeast(1), "x")
	if r5, r100 := rep.find("facade ListStoreBackorders 5"), rep.find(f100); r5 != nil && r100 != nil && !math.IsNaN(r5.Xacts) && !math.IsNaN(r100.Xacts) {
		add("PostgreSQL transactions, warm facade page of 5", "≤ 8, same as 100", r5.Xacts, atMost(8), "")
		add("PostgreSQL transactions, warm facade page of 100", "≤ 8, same as 5", r100.Xacts, func(v float64) bool { return v <= 8 && math.Abs(v-r5.Xacts) < 0.5 }, "")
	}
	add("GetMyHome cold (3 upstreams at 50 ms), facade: median latency", "≤ 70", p50("facade GetMyHome cold (upstreams 50 ms)"), atMost(70), "ms")
	add("GetMyHome warm, facade: median latency", "≤ 5", p50("facade GetMyHome warm (upstreams 50 ms)"), atMost(5), "ms")
	return out
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func (rep *report) row(r result) []string {
	var vs []string
	for _, c := range r.Compare {
		what := "CPU"
		if c.Metric == "rps" {
			what = "rps"
		}
		vs = append(vs, fmt.Sprintf("%s %s× %s", what, num(rep.ratio(r, c), 2), c.Baseline))
	}
	failed := fmt.Sprint(r.Failed)
	return []string{
		r.Name, fmt.Sprint(r.Concurrency), fmt.Sprint(r.Requests), failed,
		num(r.Throughput, 0), ms(r.P50), ms(r.P99),
		num(r.CPUms, 3), num(r.DBCPUms, 3), num(r.Stmts, 2), num(r.Xacts, 2), num(r.Upstream, 2),
		strings.Join(vs, "; "),
	}
}

var header = []string{"scenario", "in flight", "requests", "failed", "req/s", "p50 ms", "p99 ms",
	"CPU ms/req", "DB CPU ms/req", "SQL/req", "PG xact/req", "upstream/req", "vs baseline"}

func (rep *report) intro() string {
	m := rep.Machine
	return fmt.Sprintf("engine %s, seed scale %d, each scenario measured for %s after %s of warm-up; %s, %d CPUs (%s), %s; 1-min load average %.2f before, %.2f at most, %.2f after",
		rep.Engine, rep.Scale, rep.Window, rep.Warmup, m.OS, m.CPUs, m.CPUModel, m.GoVersion, rep.LoadBefore, rep.LoadMax, rep.LoadAfter)
}

// Text writes the tables for a terminal.
func (rep *report) Text(w io.Writer) error {
	fmt.Fprintln(w, rep.intro())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rep.Results {
		fmt.Fprintln(tw, strings.Join(rep.row(r), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ntargets (issue 9):")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, t := range rep.targets() {
		fmt.Fprintf(tw, "%s\t%s%s\tgoal %s\t%s\n", t.What, num(t.Measured, 2), t.Unit, t.Goal, metText(t.Met))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rep.failures(w)
	return nil
}

// Markdown writes the tables for BENCHMARKS.md.
func (rep *report) Markdown(w io.Writer) error {
	fmt.Fprintf(w, "%s.\n\n", rep.intro())
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rep.Results {
		fmt.Fprintf(w, "| %s |\n", strings.Join(rep.row(r), " | "))
	}
	fmt.Fprintf(w, "\n| target (issue 9) | measured | goal | |\n|---|---:|---|---|\n")
	for _, t := range rep.targets() {
		fmt.Fprintf(w, "| %s | %s%s | %s | %s |\n", t.What, num(t.Measured, 2), t.Unit, t.Goal, metText(t.Met))
	}
	rep.failures(w)
	return nil
}

func (rep *report) failures(w io.Writer) {
	for _, r := range rep.Results {
		if r.Failed > 0 {
			fmt.Fprintf(w, "\n%s: %d of %d requests failed, e.g. %s\n", r.Name, r.Failed, r.Requests, r.FirstError)
		}
	}
	if rep.Profile != "" {
		fmt.Fprintf(w, "\nCPU profile: %s (go tool pprof -top -nodecount=10 FILE)\n", rep.Profile)
	}
}

func metText(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}
