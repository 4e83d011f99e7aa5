package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/demo"
	"github.com/middletier/middletier/internal/upstream/sources"
)

// upstreams are the sources' demo services, served by the benchmark rather
// than by middletier: every call is counted where it arrives, latency can be
// injected per scenario, and the demos' own CPU stays out of middletier's.
// Like the service's starter it loops over the sources and names none.
type upstreams struct {
	urls    demo.URLs
	stop    func()
	calls   atomic.Int64
	latency atomic.Int64 // time.Duration added before each answer
}

func startUpstreams(ctx context.Context) (*upstreams, error) {
	u := &upstreams{}
	var wrapped []upstream.Source
	for _, s := range sources.All() {
		inner := s.Demo
		s.Demo = func() http.Handler {
			h := inner()
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u.calls.Add(1)
				if d := time.Duration(u.latency.Load()); d > 0 {
					t := time.NewTimer(d)
					select {
					case <-t.C:
					case <-r.Context().Done():
						t.Stop()
						return
					}
				}
				h.ServeHTTP(w, r)
			})
		}
		wrapped = append(wrapped, s)
	}
	urls, stop, err := demo.Start(ctx, wrapped)
	if err != nil {
		return nil, err
	}
	u.urls, u.stop = urls, stop
	return u, nil
}

// SetLatency makes every later answer wait d first.
func (u *upstreams) SetLatency(d time.Duration) { u.latency.Store(int64(d)) }

// Calls is how many calls the demos have received so far.
func (u *upstreams) Calls() int64 { return u.calls.Load() }

// sourceFlags lists each source's flags by kind: its base URL flag (named
// "...-url" by convention) and its cache lifetimes (the duration flags).
func sourceFlags() (urlFlags map[string]string, ttlFlags []string, err error) {
	urlFlags = map[string]string{}
	for _, s := range sources.All() {
		fs := flag.NewFlagSet(s.Name, flag.ContinueOnError)
		s.Settings().Flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if strings.HasSuffix(f.Name, "-url") {
				urlFlags[s.Name] = f.Name
			}
			if g, ok := f.Value.(flag.Getter); ok {
				if _, ok := g.Get().(time.Duration); ok {
					ttlFlags = append(ttlFlags, f.Name)
				}
			}
		})
		if urlFlags[s.Name] == "" {
			return nil, nil, fmt.Errorf("upstream source %s has no -url flag to point it at the benchmark's demo", s.Name)
		}
	}
	return urlFlags, ttlFlags, nil
}

// ServeArgs point middletier at the benchmark's demos; cold also sets every
// source's cache lifetime to 1ns and turns stale answers off, so that each
// request misses the upstream caches.
func (u *upstreams) ServeArgs(cold bool) ([]string, error) {
	urlFlags, ttlFlags, err := sourceFlags()
	if err != nil {
		return nil, err
	}
	var args []string
	for name, f := range urlFlags {
		args = append(args, "--"+f+"="+u.urls[name])
	}
	if cold {
		for _, f := range ttlFlags {
			args = append(args, "--"+f+"=1ns")
		}
		args = append(args, "--upstream-stale-for=0s")
	}
	return args, nil
}
