package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// database is the benchmark's own database: a SQLite file in a temporary
// data directory, or a PostgreSQL database created for the run.
type database struct {
	Engine  string // "sqlite" or "postgres"
	DataDir string // the service's --data-dir (also holds the dev issuer key)
	URL     string // the service's --database-url; "" for SQLite
	Name    string // PostgreSQL database name
	admin   *sql.DB
}

// args are the settings every middletier command gets to reach it.
func (d *database) args() []string {
	a := []string{"--data-dir", d.DataDir}
	if d.URL != "" {
		a = append(a, "--database-url", d.URL)
	}
	return a
}

// sqliteFile is the service's database file in its data directory
// (internal/store names it).
func (d *database) sqliteFile() string { return filepath.Join(d.DataDir, "middletier.db") }

// openDatabase prepares an empty database: SQLite in dir, or a new
// PostgreSQL database on the server adminDSN names.
func openDatabase(ctx context.Context, adminDSN, dir string) (*database, error) {
	d := &database{Engine: "sqlite", DataDir: dir}
	if adminDSN == "" {
		return d, nil
	}
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("postgres-dsn must be a postgres:// URL, got %q", adminDSN)
	}
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return nil, fmt.Errorf("postgres-dsn: %w", err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("connect to postgres-dsn: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	d.Engine, d.admin, d.Name = "postgres", admin, "middletier_bench_"+hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+d.Name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database %s: %w", d.Name, err)
	}
	u.Path = "/" + d.Name
	d.URL = u.String()
	return d, nil
}

// Close drops the PostgreSQL database (its connections closed by force: the
// service may have died with some open).
func (d *database) Close() error {
	if d.admin == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)")
	return errors.Join(err, d.admin.Close())
}

// xactCommits is the database's committed transactions so far, as
// pg_stat_database publishes them (0 on SQLite).
func (d *database) xactCommits(ctx context.Context) (int64, error) {
	if d.admin == nil {
		return 0, nil
	}
	var n int64
	err := d.admin.QueryRowContext(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, d.Name).Scan(&n)
	return n, err
}

// buildMiddletier compiles ./cmd/middletier into dir.
func buildMiddletier(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "middletier")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/middletier/middletier/cmd/middletier")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build middletier: %w\n%s", err, out.String())
	}
	return bin, nil
}

// childEnv is the environment of every child: this one without MIDDLETIER_*
// settings, so a measured service runs on its defaults plus the flags the
// benchmark gives it, whatever the caller's shell holds.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MIDDLETIER_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runCommand runs one middletier maintenance command and returns its output.
func runCommand(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("middletier %s: %w\n%s%s", args[0], err, errb.String(), out.String())
	}
	return out.String(), nil
}

// process is a running child server: middletier or the baseline server.
type process struct {
	Name string
	Base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// Pid is the server's process id, whose CPU time /proc reports.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// startProcess runs bin with args, its output in logPath, and waits until
// readyPath answers 200 at addr.
func startProcess(ctx context.Context, name, bin string, args, env []string, addr, readyPath, logPath string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{Name: name, Base: "http://" + addr, cmd: cmd, done: make(chan error, 1), log: logf}
	go func() { p.done <- cmd.Wait() }()
	// Start-up migrates and opens the upstream caches: seconds on a busy
	// machine, so wait for as long as the caller allows, polling.
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(wctx, http.MethodGet, p.Base+readyPath, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			logf.Close()
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", name, err, tail(out, 3000))
		case <-wctx.Done():
			p.Stop()
			return nil, fmt.Errorf("%s not ready at %s%s: %w", name, p.Base, readyPath, wctx.Err())
		case <-tick.C:
		}
	}
}

// Stop asks the server to shut down (SIGTERM) and kills it if it has not
// within 30 s.
func (p *process) Stop() error {
	defer p.log.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == -1 {
			return nil // ended by the signal itself
		}
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 30s after SIGTERM", p.Name)
	}
}

// freeAddr finds a free loopback port for a child to listen on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
