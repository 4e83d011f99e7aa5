// Command middletier-replicas-bench measures a scaled-out deployment: 1 to
// N processes of the real middletier binary on one PostgreSQL database and
// one Redis, behind one loopback load generator (vegeta). It reports
// throughput per replica count, a read-after-write probe across replicas
// (stale reads, which must be zero) and duplicate writes of idempotent
// POSTs retried across replicas (which must be zero).
//
//	go run ./cmd/middletier-replicas-bench --postgres-dsn postgres://... --redis-url redis://...
//
// It works in a schema and under a Redis key prefix of its own and drops
// both at the end. Every flag is also a MIDDLETIER_* variable.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/redis/go-redis/v9"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/middletier/middletier/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "middletier-replicas-bench:", err)
		os.Exit(1)
	}
}

type settings struct {
	postgresDSN, redisURL, bin string
	replicas, workers          int
	duration                   time.Duration
	probes, keys               int
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s := settings{replicas: 3, workers: 32, duration: 10 * time.Second, probes: 100, keys: 50}
	fs := flag.NewFlagSet("middletier-replicas-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.postgresDSN, "postgres-dsn", "", "PostgreSQL database to work in (a schema of its own is created and dropped)")
	fs.StringVar(&s.redisURL, "redis-url", "", "Redis the replicas share (keys under a prefix of their own, deleted at the end)")
	fs.StringVar(&s.bin, "bin", "", "middletier binary to run (empty: go build ./cmd/middletier)")
	fs.IntVar(&s.replicas, "replicas", s.replicas, "most replicas to run; throughput is measured for 1 to this many")
	fs.IntVar(&s.workers, "workers", s.workers, "concurrent requests the load generator keeps in flight")
	fs.DurationVar(&s.duration, "duration", s.duration, "how long each throughput step runs")
	fs.IntVar(&s.probes, "probes", s.probes, "write-then-read probes across replicas")
	fs.IntVar(&s.keys, "keys", s.keys, "idempotency keys each sent to every replica at once, then retried")
	fs.Usage = config.Usage(stderr, fs, "middletier-replicas-bench: throughput and consistency of 1 to N replicas")
	if err := config.Parse(fs, args[1:], getenv); err != nil {
		return err
	}
	if s.postgresDSN == "" || s.redisURL == "" {
		return errors.New("--postgres-dsn and --redis-url are required (MIDDLETIER_POSTGRES_DSN, MIDDLETIER_REDIS_URL)")
	}
	if s.replicas < 1 || s.workers < 1 || s.duration <= 0 {
		return errors.New("--replicas, --workers and --duration must be positive")
	}
	work, err := os.MkdirTemp("", "middletier-replicas-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if s.bin == "" {
		s.bin = filepath.Join(work, "middletier")
		fmt.Fprintln(stderr, "building ./cmd/middletier")
		build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/middletier")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	dbURL, dropSchema, err := freshSchema(ctx, s.postgresDSN)
	if err != nil {
		return err
	}
	defer dropSchema()
	prefix := "mt-bench-" + randomHex() + ":"
	defer deleteKeys(s.redisURL, prefix)

	dir := filepath.Join(work, "data") // the dev issuer's key, shared by every replica
	common := []string{"--database-url", dbURL, "--data-dir", dir}
	fmt.Fprintln(stderr, "migrating and seeding the demo data (scale 1)")
	if _, err := output(ctx, s.bin, append([]string{"seed"}, common...)...); err != nil {
		return err
	}
	avery, err := output(ctx, s.bin, append([]string{"token", "--user", "avery"}, common...)...)
	if err != nil {
		return err
	}
	avery = strings.TrimSpace(avery)

	var reps []*replica
	defer func() {
		for _, r := range reps {
			r.stop()
		}
	}()
	for i := range s.replicas {
		r, err := startReplica(ctx, s.bin, append(common, "--redis-url", s.redisURL, "--redis-key-prefix", prefix, "--auto-seed=false", "--log-level", "warn"), stderr)
		if err != nil {
			return fmt.Errorf("replica %d: %w", i+1, err)
		}
		reps = append(reps, r)
	}

	fmt.Fprintf(stdout, "replicas of %s on PostgreSQL and Redis; %d CPUs; load generator: vegeta, %d requests in flight, %s per step\n\n", filepath.Base(s.bin), runtime.NumCPU(), s.workers, s.duration)
	fmt.Fprintln(stdout, "| scenario | replicas | requests/s | p50 | p99 | success |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|")
	gql := `{"query":"{ backorders(storeId: \"S001\", status: OPEN, first: 20) { nodes { id status customer { name } product { name } } } }"}`
	for _, sc := range []struct {
		name, method, path, body string
	}{
		{"facade ListStoreBackorders (response cache)", http.MethodGet, "/api/v1/stores/S001/backorders?status=OPEN&pageSize=20", ""},
		{"/graphql backorders (uncached, SQL)", http.MethodPost, "/graphql", gql},
	} {
		for n := 1; n <= len(reps); n++ {
			m := attack(reps[:n], sc.method, sc.path, sc.body, avery, s.workers, s.duration)
			fmt.Fprintf(stdout, "| %s | %d | %.0f | %s | %s | %.2f%% |\n", sc.name, n, m.Throughput, m.Latencies.P50.Round(100*time.Microsecond), m.Latencies.P99.Round(100*time.Microsecond), m.Success*100)
		}
	}

	stale, cachedBefore, err := probe(ctx, reps, avery, s.probes)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nread-after-write across replicas: %d probes (writer and reader always different replicas, half the writes through the facade, half through /graphql); the reader's list came from its response cache before the write in %d; stale reads after the write: %d\n", s.probes, cachedBefore, stale)

	dupIDs, rows, err := duplicates(ctx, reps, avery, s.keys, dbURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "idempotent POSTs: %d keys, each sent to all %d replicas at once and retried once more; answers naming another backorder than the key's first: %d; backorders written: %d (duplicates: %d)\n", s.keys, len(reps), dupIDs, rows, rows-s.keys)
	if stale != 0 || dupIDs != 0 || rows != s.keys {
		return errors.New("consistency check failed")
	}
	return nil
}

// replica is one middletier serve process.
type replica struct {
	base string
	cmd  *exec.Cmd
	done chan error
}

func startReplica(ctx context.Context, bin string, args []string, stderr io.Writer) (*replica, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &replica{base: "http://" + addr, cmd: cmd, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if res, err := http.Get(r.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return r, nil
			}
		}
		select {
		case err := <-r.done:
			return nil, fmt.Errorf("exited before it was ready: %v", err)
		case <-ctx.Done():
			r.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.stop()
	return nil, errors.New("not ready within 2 minutes")
}

func (r *replica) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// attack sends requests round-robin over reps as fast as workers allow.
func attack(reps []*replica, method, path, body, token string, workers int, d time.Duration) vegeta.Metrics {
	var next atomic.Uint64
	hdr := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	targeter := func(t *vegeta.Target) error {
		r := reps[next.Add(1)%uint64(len(reps))]
		*t = vegeta.Target{Method: method, URL: r.base + path, Body: []byte(body), Header: hdr}
		return nil
	}
	a := vegeta.NewAttacker(vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)), vegeta.KeepAlive(true), vegeta.Connections(workers))
	var m vegeta.Metrics
	for res := range a.Attack(targeter, vegeta.Rate{Freq: 0}, d, path) {
		m.Add(res)
	}
	m.Close()
	return m
}

// call sends one request and decodes a JSON answer into out (if not nil).
func call(ctx context.Context, method, target, token, body string, out any, header ...string) (int, http.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, res.Header, fmt.Errorf("%s %s: %d %s", method, target, res.StatusCode, b)
		}
	}
	return res.StatusCode, res.Header, nil
}

const probeList = "/api/v1/stores/S001/backorders?status=OPEN&pageSize=1"

// firstOpen is the id of S001's newest open backorder as r's facade lists it.
func firstOpen(ctx context.Context, r *replica, token string) (string, error) {
	var p struct{ Value []struct{ ID string } }
	code, _, err := call(ctx, http.MethodGet, r.base+probeList, token, "", &p)
	if err != nil || code != http.StatusOK || len(p.Value) == 0 {
		return "", fmt.Errorf("list on %s: %d %v", r.base, code, err)
	}
	return p.Value[0].ID, nil
}

// cacheHits reads r's response cache hits for ListStoreBackorders.
func cacheHits(ctx context.Context, r *replica) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `middletier_response_cache_hits_total{operation="ListStoreBackorders"} `); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err
		}
	}
	return 0, nil
}

// probe writes through one replica and reads the list through another
// right after the write's answer, counting reads that miss the write.
func probe(ctx context.Context, reps []*replica, token string, probes int) (stale, cachedBefore int, err error) {
	if len(reps) < 2 {
		return 0, 0, errors.New("the probe needs at least 2 replicas")
	}
	for i := range probes {
		writer, reader := reps[i%len(reps)], reps[(i+1)%len(reps)]
		// Two reads: the second comes from the reader's cache when the
		// first was admitted, which is the case the probe is about.
		if _, err := firstOpen(ctx, reader, token); err != nil {
			return 0, 0, err
		}
		before, err := cacheHits(ctx, reader)
		if err != nil {
			return 0, 0, err
		}
		if _, err := firstOpen(ctx, reader, token); err != nil {
			return 0, 0, err
		}
		if after, err := cacheHits(ctx, reader); err == nil && after > before {
			cachedBefore++
		}
		name := fmt.Sprintf("Probe %d %s", i, randomHex())
		var id string
		if i%2 == 0 {
			var rec struct{ ID string }
			body := fmt.Sprintf(`{"storeId":"S001","sku":"SKU-00042","contactPreference":"EMAIL","newCustomer":{"name":%q,"email":"probe%d@example.com"}}`, name, i)
			if code, _, err := call(ctx, http.MethodPost, writer.base+"/api/v1/backorders", token, body, &rec); err != nil || code != http.StatusCreated {
				return 0, 0, fmt.Errorf("probe write: %d %v", code, err)
			}
			id = rec.ID
		} else {
			var rec struct {
				Data struct {
					RecordBackorder struct{ Backorder struct{ ID string } }
				}
			}
			q := fmt.Sprintf(`mutation { recordBackorder(input: {storeId: "S001", sku: "SKU-00043", contactPreference: EMAIL, newCustomer: {name: %q, email: "probe%d@example.com"}}) { backorder { id } } }`, name, i)
			body, _ := json.Marshal(map[string]string{"query": q})
			if code, _, err := call(ctx, http.MethodPost, writer.base+"/graphql", token, string(body), &rec); err != nil || code != http.StatusOK {
				return 0, 0, fmt.Errorf("probe mutation: %d %v", code, err)
			}
			id = rec.Data.RecordBackorder.Backorder.ID
		}
		got, err := firstOpen(ctx, reader, token)
		if err != nil {
			return 0, 0, err
		}
		if got != id {
			stale++
		}
	}
	return stale, cachedBefore, nil
}

// duplicates sends each key's POST to every replica at once, then once
// more to one of them, and counts answers naming another backorder than
// the key's first, and the backorders written in the database.
func duplicates(ctx context.Context, reps []*replica, token string, keys int, dbURL string) (mismatched, rows int, err error) {
	run := randomHex()
	for k := range keys {
		key := fmt.Sprintf("bench-%s-%d", run, k)
		body := fmt.Sprintf(`{"storeId":"S001","sku":"SKU-00044","contactPreference":"EMAIL","newCustomer":{"name":"Dup %s %d","email":"dup%d@example.com"}}`, run, k, k)
		ids := make([]string, len(reps)+1)
		errs := make([]error, len(reps)+1)
		send := func(i int, r *replica) {
			var rec struct{ ID string }
			code, _, err := call(ctx, http.MethodPost, r.base+"/api/v1/backorders", token, body, &rec, "Idempotency-Key", key)
			if err == nil && code != http.StatusCreated {
				err = fmt.Errorf("status %d", code)
			}
			ids[i], errs[i] = rec.ID, err
		}
		var wg sync.WaitGroup
		for i, r := range reps {
			wg.Go(func() { send(i, r) })
		}
		wg.Wait()
		send(len(reps), reps[k%len(reps)]) // the runtime's retry, later
		for i, id := range ids {
			if errs[i] != nil {
				return 0, 0, fmt.Errorf("key %s: %w", key, errs[i])
			}
			if id != ids[0] {
				mismatched++
			}
		}
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM backorders b JOIN customers c ON c.id = b.customer_id WHERE c.name LIKE $1`, "Dup "+run+" %").Scan(&rows)
	return mismatched, rows, err
}

func output(ctx context.Context, bin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("middletier %s: %w\n%s", args[0], err, errb.String())
	}
	return out.String(), nil
}

// freshSchema creates a schema of its own in the database at dsn and
// returns a URL whose search_path is that schema, and a function that
// drops it.
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	schema := "mt_bench_" + randomHex()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintln(os.Stderr, "drop schema:", err)
		}
		admin.Close()
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

func deleteKeys(redisURL, prefix string) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
