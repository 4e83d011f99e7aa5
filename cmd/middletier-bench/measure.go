package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// counters are what is read before and after a measured window; their
// difference over the window's requests is the per-request figure.
type counters struct {
	CPU      float64 // seconds of CPU of the server process
	DBCPU    float64 // seconds of CPU of the PostgreSQL backends of the database
	Stmts    float64 // SQL statements sent by the server
	Xacts    int64   // PostgreSQL transactions committed in the database
	Upstream int64   // calls the upstream demos received
}

// meter reads the counters from /proc, the servers and PostgreSQL.
type meter struct {
	proc procfs.FS
	db   *database
	up   *upstreams
}

func (m *meter) read(ctx context.Context, p *process, baseline bool) (counters, error) {
	var c counters
	pr, err := m.proc.Proc(p.Pid())
	if err != nil {
		return c, fmt.Errorf("read /proc of %s: %w", p.Name, err)
	}
	st, err := pr.Stat()
	if err != nil {
		return c, fmt.Errorf("read /proc of %s: %w", p.Name, err)
	}
	c.CPU = st.CPUTime()
	if c.DBCPU, err = m.backendCPU(); err != nil {
		return c, err
	}
	if c.Xacts, err = m.db.xactCommits(ctx); err != nil {
		return c, fmt.Errorf("read pg_stat_database: %w", err)
	}
	c.Upstream = m.up.Calls()
	if baseline {
		var s struct{ Statements float64 }
		err = getJSON(ctx, p.Base+"/stats", &s)
		c.Stmts = s.Statements
	} else {
		c.Stmts, err = metric(ctx, p.Base+"/metrics", "middletier_db_statements_total")
	}
	return c, err
}

// backendCPU sums the CPU of the PostgreSQL server processes serving the
// benchmark's database (their process title names it). The server's shared
// background processes are left out: on a machine others use, they work
// for every database.
func (m *meter) backendCPU() (float64, error) {
	if m.db.admin == nil {
		return 0, nil
	}
	procs, err := m.proc.AllProcs()
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	var sum float64
	for _, p := range procs {
		cl, err := p.CmdLine()
		if err != nil || len(cl) == 0 {
			continue // gone, or not ours to read
		}
		title := " " + strings.Join(cl, " ") + " "
		if !strings.Contains(title, " postgres: ") || !strings.Contains(title, " "+m.db.Name+" ") {
			continue
		}
		if st, err := p.Stat(); err == nil {
			sum += st.CPUTime()
		}
	}
	return sum, nil
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// metric reads one unlabelled sample from a Prometheus text page.
func metric(ctx context.Context, url, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s has no %s", url, name)
}

// load is one run of vegeta at a fixed number of requests in flight.
type load struct {
	Metrics    vegeta.Metrics
	Failed     int    // transport errors, non-2xx answers and bodies with errors
	FirstError string // one of them, to show
}

// attack keeps concurrency requests in flight for d (rate 0 with a fixed
// worker count is vegeta's closed-loop mode) and waits for the last answer.
func attack(ctx context.Context, s scenario, tr vegeta.Targeter, concurrency int, d time.Duration) load {
	a := vegeta.NewAttacker(
		vegeta.Workers(uint64(concurrency)), vegeta.MaxWorkers(uint64(concurrency)),
		vegeta.Connections(concurrency), vegeta.KeepAlive(true), vegeta.Timeout(time.Minute),
	)
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var l load
	for res := range a.Attack(tr, vegeta.Rate{Freq: 0}, d, s.Name) {
		problem := res.Error
		if problem == "" && (res.Code < 200 || res.Code > 299) {
			problem = fmt.Sprintf("%d %s", res.Code, trim(res.Body, 300))
		}
		if problem == "" {
			problem = s.bodyProblem(res.Body)
		}
		if problem != "" {
			l.Failed++
			if l.FirstError == "" {
				l.FirstError = problem
			}
		}
		res.Body = nil // metrics keep none of it
		l.Metrics.Add(res)
	}
	l.Metrics.Close()
	return l
}

// fetch GETs url with a bearer token and returns the body and its type.
func fetch(ctx context.Context, url, token string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s %s", url, resp.Status, trim(b, 300))
	}
	return b, resp.Header.Get("Content-Type"), err
}
