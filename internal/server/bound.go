package server

import (
	"net/http"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream"
)

// boundRequest gives each request its own share of the backends: at most
// conns database connections at once (store.WithConnLimit) and one time
// budget per upstream service (upstream.WithBudget). The request deadline
// (the chi Timeout before it) bounds both, statements and calls included.
func boundRequest(conns int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := store.WithConnLimit(r.Context(), conns)
			ctx = upstream.WithBudget(ctx)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
