// Command middletier runs the middletier service and its maintenance tasks:
//
//	middletier [serve]        run the service (the default)
//	middletier migrate        apply database migrations
//	middletier seed --scale N load the demo data into an empty database
//	middletier mcp --user L   serve the MCP tools over stdio as a demo user
//
// Every setting is a flag and a MIDDLETIER_* environment variable; see --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/middletier/middletier/internal/telemetry"
)

func main() {
	// The first SIGINT or SIGTERM stops the service gracefully (fail
	// readiness, drain, finish what is in flight); a second ends the drain
	// at once; after that the signals' default takes over.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := context.WithCancel(context.Background())
	hurried := make(chan struct{})
	go func() {
		<-sigs
		stop()
		<-sigs
		close(hurried)
		signal.Stop(sigs)
	}()
	err := run(withHurry(ctx, hurried), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "middletier:", err)
		os.Exit(1)
	}
}

// run is the whole program; only it reads the environment and arguments.
// stdin is read only by the mcp command (its protocol's input).
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "seed":
		return seed(ctx, rest, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, rest, getenv, stdout, stderr)
	case "connector":
		return connectorCmd(ctx, rest, getenv, stdout, stderr)
	case "mcp":
		return mcpCmd(ctx, rest, getenv, stdin, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, topUsage)
		return nil
	default:
		fmt.Fprint(stderr, topUsage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

const topUsage = `middletier: one GraphQL API over the organisation's backend data.

Usage:
  middletier [serve] [settings]        run the service (default)
  middletier migrate [settings]        apply database migrations and exit
  middletier seed [--scale N] [settings]  load demo data into an empty database
  middletier token --user LOGIN [--ttl D] [--scope S]  print a dev bearer token for a demo user
  middletier connector export --out DIR [settings]    write the Power Platform connector package
  middletier mcp --user LOGIN [settings]  serve the MCP tools over stdio as a demo user (dev mode)
  middletier COMMAND --help            the settings of a command

`

// hurryKey is the context key of the channel that a second signal closes.
type hurryKey struct{}

// withHurry gives ctx the channel that a second signal closes; serve ends
// its drain delay early when it is closed.
func withHurry(ctx context.Context, c <-chan struct{}) context.Context {
	return context.WithValue(ctx, hurryKey{}, c)
}

// hurry is the channel withHurry put in ctx, or nil (never closed): in tests
// that call run directly there is no second signal.
func hurry(ctx context.Context) <-chan struct{} {
	c, _ := ctx.Value(hurryKey{}).(<-chan struct{})
	return c
}

// newLogger writes every record with its trace and span id when it was
// logged with a traced context (telemetry.LogHandler).
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
}
