package main

import (
	"log/slog"
	"runtime/debug"
	"testing"
)

// TestGCDefault: the service's GOGC applies only when the environment sets none.
func TestGCDefault(t *testing.T) {
	const unusual = 123
	orig := debug.SetGCPercent(unusual)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	log := slog.New(slog.DiscardHandler)

	applyGCDefault(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	}, log)
	if got := debug.SetGCPercent(unusual); got != unusual {
		t.Errorf("with GOGC set: GC percent %d, want it left at %d", got, unusual)
	}

	applyGCDefault(func(string) string { return "" }, log)
	if got := debug.SetGCPercent(unusual); got != defaultGCPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, defaultGCPercent)
	}
}
