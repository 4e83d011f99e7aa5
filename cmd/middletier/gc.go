package main

import (
	"log/slog"
	"runtime/debug"
)

// defaultGCPercent is the service's GOGC when the environment sets none.
// A request allocates much and keeps little (a page of 100 backorders: about
// 2 MB, nearly all garbage when it is answered), so with Go's default of 100
// the collector ran every twenty or so such pages and took 6 to 8% of their
// CPU; at 400 it runs a quarter as often and takes about 1% (BENCHMARKS.md,
// "Engine: per-request floor"). The price is heap headroom: up to five times
// the live heap instead of twice. Where memory is tight, set GOMEMLIMIT (the
// collector then works harder only near the limit) or GOGC itself.
const defaultGCPercent = 400

// applyGCDefault sets defaultGCPercent unless GOGC is set.
func applyGCDefault(getenv func(string) string, log *slog.Logger) {
	if getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
	log.Info("garbage collector target set", "GOGC", defaultGCPercent, "GOMEMLIMIT", getenv("GOMEMLIMIT"))
}
