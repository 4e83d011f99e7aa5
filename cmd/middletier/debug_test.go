package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
)

func TestDebugListenerServesProfilerAndStops(t *testing.T) {
	addr := freeAddr(t)
	stop, err := startDebug(addr, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /debug/pprof/cmdline: %d, want 200", resp.StatusCode)
	}
	resp, err = http.Get("http://" + addr + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /graphql on the debug listener: %d, want 404 (it serves the profiler only)", resp.StatusCode)
	}
	stop()
	if resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline"); err == nil {
		resp.Body.Close()
		t.Error("the debug listener still answers after stop")
	}
}

func TestDebugListenerRefusesTakenAddress(t *testing.T) {
	addr := freeAddr(t)
	stop, err := startDebug(addr, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := startDebug(addr, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("a second listener on the same address started")
	}
}
