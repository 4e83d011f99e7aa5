// Package demo runs the sources' demo services as real HTTP servers on
// loopback, so a default run (no upstream URLs configured) sends every
// upstream read through the same HTTP clients as production. It loops over
// the sources it is given and names none of them.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/middletier/middletier/internal/upstream"
)

// shutdownGrace is how long stop lets in-flight demo requests finish.
const shutdownGrace = 5 * time.Second

// URLs are the base URLs of the running demo services, by source name.
type URLs map[string]string

// Start listens on 127.0.0.1 with ephemeral ports (never a fixed port that
// could clash, never beyond loopback) and serves the demo of each source
// until stop is called or ctx ends. stop waits for the servers to finish
// and may be called more than once.
func Start(ctx context.Context, sources []upstream.Source) (urls URLs, stop func(), err error) {
	urls = make(URLs, len(sources))
	var (
		servers []*http.Server
		wg      sync.WaitGroup
	)
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		for _, s := range servers {
			if s.Shutdown(sctx) != nil {
				_ = s.Close()
			}
		}
		wg.Wait()
	}
	var lc net.ListenConfig
	for _, src := range sources {
		l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			shutdown()
			return nil, nil, fmt.Errorf("demo upstreams: listen: %w", err)
		}
		// Timeouts as on any server: a demo is still a socket a stuck
		// client could hold open.
		s := &http.Server{
			Handler:           src.Demo(),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		}
		servers = append(servers, s)
		urls[src.Name] = "http://" + l.Addr().String()
		wg.Go(func() {
			// Serve only returns early if the listener fails; the clients
			// then report the service as unavailable, which is the truth.
			if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				_ = l.Close()
			}
		})
	}
	once := sync.OnceFunc(shutdown)
	// Stop with ctx too, so a caller that forgets stop does not leak servers.
	// OnceFunc makes a second call wait for the first shutdown to finish.
	context.AfterFunc(ctx, once)
	return urls, once, nil
}
