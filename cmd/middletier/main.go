// Command middletier runs the middletier service and its maintenance tasks:
//
//	middletier [serve]        run the service (the default)
//	middletier migrate        apply database migrations
//	middletier seed --scale N load the demo data into an empty database
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "middletier:", err)
		os.Exit(1)
	}
}

// run is the whole program; only it reads the environment and arguments.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
  middletier COMMAND --help            the settings of a command

`

// newLogger writes every record with its trace and span id when it was
// logged with a traced context (telemetry.LogHandler).
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
}
