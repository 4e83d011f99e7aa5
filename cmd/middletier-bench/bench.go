package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"
)

// result is one scenario's measured window.
type result struct {
	Name        string
	Engine      string
	Concurrency int
	Requests    uint64
	Failed      int
	FirstError  string
	Throughput  float64       // answered requests per second
	P50, P99    time.Duration // latency
	CPUms       float64       // server process CPU per request, ms
	DBCPUms     float64       // PostgreSQL backends' CPU per request, ms (NaN: in-process SQLite)
	Stmts       float64       // SQL statements per request
	Xacts       float64       // PostgreSQL transactions per request (NaN: not counted)
	Upstream    float64       // upstream calls per request
	Compare     []comparison
}

// run is one benchmark in progress.
type benchRun struct {
	opts   options
	log    io.Writer
	tmp    string
	bin    string
	db     *database
	up     *upstreams
	meter  *meter
	e      *env
	procs  map[string]*process
	stores []byte // the facade ListStores answer the bare handler repeats
	// debugAddr is middletier's profiler listener, when profiling.
	debugAddr string
}

func bench(ctx context.Context, o options, logw io.Writer) (rep *report, err error) {
	r := &benchRun{opts: o, log: logw, procs: map[string]*process{}}
	if r.tmp, err = os.MkdirTemp("", "middletier-bench-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.tmp)
	rep = &report{Machine: machine(), Window: o.Duration, Warmup: o.Warmup}
	if r.bin = o.Binary; r.bin == "" {
		r.logf("building middletier")
		if r.bin, err = buildMiddletier(ctx, r.tmp); err != nil {
			return nil, err
		}
	}
	if r.db, err = openDatabase(ctx, o.PostgresDSN, filepath.Join(r.tmp, "data")); err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, r.db.Close()) }()
	rep.Engine, rep.Scale = r.db.Engine, o.Scale
	r.logf("seeding %s at scale %d", r.db.Engine, o.Scale)
	if _, err = runCommand(ctx, r.bin, append([]string{"seed", "--scale", strconv.Itoa(o.Scale)}, r.db.args()...)...); err != nil {
		return nil, err
	}
	if r.up, err = startUpstreams(ctx); err != nil {
		return nil, err
	}
	defer r.up.stop()
	// The servers stop first (defers run last in, first out): before their
	// upstreams and before their database is dropped.
	defer func() {
		for _, p := range r.procs {
			if serr := p.Stop(); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}()
	r.meter = &meter{db: r.db, up: r.up}
	if r.meter.proc, err = procfs.NewDefaultFS(); err != nil {
		return nil, err
	}
	if err = r.prepare(ctx); err != nil {
		return nil, err
	}
	rep.LoadBefore = loadAvg(r.meter.proc)
	for _, s := range selected(scenarios(), o.Scenarios) {
		res, err := r.scenario(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		rep.Results = append(rep.Results, res)
		if l := loadAvg(r.meter.proc); l > rep.LoadMax {
			rep.LoadMax = l
		}
	}
	rep.LoadAfter = loadAvg(r.meter.proc)
	if o.ProfileDir != "" {
		if rep.Profile, err = r.profile(ctx); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (r *benchRun) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "middletier-bench: "+format+"\n", args...)
}

// prepare starts the service and the baseline server and gathers what the
// requests need: tokens, ids, and the ListStores bytes.
func (r *benchRun) prepare(ctx context.Context) error {
	p, err := pickParams(ctx, r.db)
	if err != nil {
		return err
	}
	r.e = &env{P: p, Bases: map[string]string{}}
	for login, dst := range map[string]*string{"avery": &r.e.Avery, "blake": &r.e.Blake} {
		out, err := runCommand(ctx, r.bin, append([]string{"token", "--user", login, "--ttl", "24h"}, r.db.args()...)...)
		if err != nil {
			return err
		}
		*dst = strings.TrimSpace(out)
	}
	if r.opts.ProfileDir != "" {
		if r.debugAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	svc, err := r.startService(ctx, onService)
	if err != nil {
		return err
	}
	body, ctype, err := fetch(ctx, svc.Base+"/api/v1/stores", r.e.Avery)
	if err != nil {
		return fmt.Errorf("facade ListStores for the bare handler's bytes: %w", err)
	}
	r.stores = body
	file := filepath.Join(r.tmp, "stores.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"--addr", addr, "--bytes-file", file, "--bytes-content-type", ctype}
	if r.db.URL != "" {
		args = append(args, "--database-url", r.db.URL)
	} else {
		args = append(args, "--sqlite", r.db.sqliteFile())
	}
	r.logf("starting the baseline server")
	base, err := startProcess(ctx, onBaseline, r.opts.Self, args, childEnv(roleEnv+"=baseline"), addr, "/healthz", filepath.Join(r.tmp, "baseline.log"))
	if err != nil {
		return err
	}
	r.procs[onBaseline] = base
	r.e.Baseline = base.Base
	return nil
}

// startService runs `middletier serve` on the benchmark's database and
// demos, set up as name says (onService, onCached, onCold).
func (r *benchRun) startService(ctx context.Context, name string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	upArgs, err := r.up.ServeArgs(name == onCold)
	if err != nil {
		return nil, err
	}
	// The load generator is one user sending far more than a connection's
	// 500 calls a minute: the per-user rate limit would answer 429 and
	// measure nothing, so it is off (--serve-arg can turn it back on).
	args := append([]string{"serve", "--addr", addr, "--auto-seed=false", "--rate-limit=0"}, r.db.args()...)
	args = append(args, upArgs...)
	if name != onCached {
		args = append(args, "--response-cache-bytes=0")
	}
	if r.debugAddr != "" && name == onService {
		args = append(args, "--debug-addr", r.debugAddr)
	}
	args = append(args, r.opts.ServeArgs...)
	r.logf("starting %s", name)
	p, err := startProcess(ctx, name, r.bin, args, childEnv(), addr, "/readyz", filepath.Join(r.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	r.procs[name] = p
	r.e.Bases[name] = p.Base
	return p, nil
}

// scenario warms s up, then measures one window of it.
func (r *benchRun) scenario(ctx context.Context, s scenario) (result, error) {
	p := r.procs[s.On]
	if p == nil && s.On != onBaseline {
		var err error
		if p, err = r.startService(ctx, s.On); err != nil {
			return result{}, err
		}
	}
	conc := s.Concurrency
	if conc == 0 {
		conc = r.opts.Concurrency
	}
	r.up.SetLatency(s.Latency)
	defer r.up.SetLatency(0)
	r.logf("%s: warm-up %s, then %s at %d in flight", s.Name, r.opts.Warmup, r.opts.Duration, conc)
	tr := s.Targets(r.e)
	if r.opts.Warmup > 0 {
		if l := attack(ctx, s, tr, conc, r.opts.Warmup); l.Failed > 0 {
			return result{}, fmt.Errorf("%d of %d warm-up requests failed, e.g. %s", l.Failed, l.Metrics.Requests, l.FirstError)
		}
	}
	countXacts := s.Xacts && r.db.admin != nil
	if countXacts {
		sleep(ctx, r.opts.PGSettle)
	}
	before, err := r.meter.read(ctx, p, s.On == onBaseline)
	if err != nil {
		return result{}, err
	}
	l := attack(ctx, s, tr, conc, r.opts.Duration)
	if countXacts {
		sleep(ctx, r.opts.PGSettle)
	}
	after, err := r.meter.read(ctx, p, s.On == onBaseline)
	if err != nil {
		return result{}, err
	}
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	m := l.Metrics
	n := float64(m.Requests)
	res := result{
		Name: s.Name, Engine: r.db.Engine, Concurrency: conc, Requests: m.Requests,
		Failed: l.Failed, FirstError: l.FirstError, Compare: s.Compare,
		Throughput: m.Throughput,
		P50:        m.Latencies.P50, P99: m.Latencies.P99,
		CPUms:    1000 * (after.CPU - before.CPU) / n,
		DBCPUms:  nan(),
		Stmts:    (after.Stmts - before.Stmts) / n,
		Xacts:    nan(),
		Upstream: float64(after.Upstream-before.Upstream) / n,
	}
	if r.db.admin != nil {
		res.DBCPUms = 1000 * (after.DBCPU - before.DBCPU) / n
	}
	if countXacts {
		res.Xacts = float64(after.Xacts-before.Xacts) / n
	}
	return res, nil
}

// profile runs the chosen scenario once more while middletier's profiler
// records it, and writes the profile into --cpuprofile.
func (r *benchRun) profile(ctx context.Context) (string, error) {
	var s *scenario
	for _, c := range scenarios() {
		if c.Name == r.opts.ProfileOf {
			s = &c
		}
	}
	if s == nil || s.On != onService {
		return "", fmt.Errorf("profile-scenario %q is not a scenario on the service (see the names in the table)", r.opts.ProfileOf)
	}
	if err := os.MkdirAll(r.opts.ProfileDir, 0o750); err != nil {
		return "", err
	}
	conc := s.Concurrency
	if conc == 0 {
		conc = r.opts.Concurrency
	}
	secs := max(1, int(r.opts.Duration.Seconds()))
	r.logf("profiling %s for %ds", s.Name, secs)
	r.up.SetLatency(s.Latency)
	defer r.up.SetLatency(0)
	type got struct {
		b   []byte
		err error
	}
	done := make(chan got, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", r.debugAddr, secs), nil)
		if err != nil {
			done <- got{err: err}
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- got{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("profile: %s %s", resp.Status, trim(b, 300))
		}
		done <- got{b, err}
	}()
	// Load for a little longer than the profile runs, so it sees load throughout.
	l := attack(ctx, *s, s.Targets(r.e), conc, time.Duration(secs)*time.Second+time.Second)
	g := <-done
	if g.err != nil {
		return "", g.err
	}
	if l.Failed > 0 {
		return "", fmt.Errorf("%d requests failed while profiling, e.g. %s", l.Failed, l.FirstError)
	}
	name := strings.NewReplacer(" ", "-", "(", "", ")", "", "{", "", "}", "").Replace(s.Name)
	file := filepath.Join(r.opts.ProfileDir, r.db.Engine+"-"+name+".pprof")
	if err := os.WriteFile(file, g.b, 0o600); err != nil {
		return "", err
	}
	r.logf("CPU profile written: go tool pprof -top -nodecount=10 %s", file)
	return file, nil
}

// selected are the scenarios whose name matches re, with the baselines
// they compare with, in the order of all.
func selected(all []scenario, re *regexp.Regexp) []scenario {
	if re == nil {
		return all
	}
	want := map[string]bool{}
	for _, s := range all {
		if re.MatchString(s.Name) {
			want[s.Name] = true
			for _, c := range s.Compare {
				want[c.Baseline] = true
			}
		}
	}
	var out []scenario
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// pickParams finds ids and search words in the seeded data.
func pickParams(ctx context.Context, d *database) (params, error) {
	driver, dsn := "sqlite", "file:"+d.sqliteFile()+"?mode=ro"
	if d.URL != "" {
		driver, dsn = "pgx", d.URL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return params{}, err
	}
	defer db.Close()
	var p params
	var product, customer string
	for _, q := range []struct {
		sql string
		dst *string
	}{
		{`SELECT name FROM products ORDER BY sku LIMIT 1`, &product},
		{`SELECT name FROM customers ORDER BY id LIMIT 1`, &customer},
		{`SELECT id FROM customers ORDER BY id LIMIT 1`, &p.CustomerID},
		{`SELECT id FROM events ORDER BY starts_at DESC, id LIMIT 1`, &p.EventID},
		{`SELECT id FROM backorders WHERE store_id = 'S001' AND status = 'NOTIFIED' ORDER BY id LIMIT 1`, &p.NotifiedBackorder},
	} {
		if err := db.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return p, fmt.Errorf("pick benchmark data (%s): %w", q.sql, err)
		}
	}
	p.ProductWord = strings.ToLower(strings.Fields(product)[0])
	p.CustomerWord = strings.Fields(customer)[0]
	return p, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// machineInfo is what BENCHMARKS.md records about where a run ran.
type machineInfo struct {
	CPUs      int
	CPUModel  string
	GoVersion string
	OS        string
}

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if fs, err := procfs.NewDefaultFS(); err == nil {
		if info, err := fs.CPUInfo(); err == nil && len(info) > 0 {
			m.CPUModel = info[0].ModelName
		}
	}
	return m
}

func loadAvg(fs procfs.FS) float64 {
	l, err := fs.LoadAvg()
	if err != nil {
		return nan()
	}
	return l.Load1
}
