// Package resolvers holds middletier's GraphQL resolvers: reads go through the
// request's loaders, writes through the store. Helpers live in other files so
// that *.resolvers.go stay a few lines per field.
package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/store"
)

// DB is what the resolvers need beyond the loaders: lists and writes.
type DB interface {
	ListStores(ctx context.Context, f store.StoreFilter, page store.Page) (store.Paged[store.Store], error)
	SearchProducts(ctx context.Context, f store.ProductFilter, page store.Page) (store.Paged[store.Product], error)
	SearchCustomers(ctx context.Context, text string, page store.Page) (store.Paged[store.Customer], error)
	ListBackorders(ctx context.Context, f store.BackorderFilter, page store.Page) (store.Paged[store.Backorder], error)
	ListEvents(ctx context.Context, f store.EventFilter, page store.Page) (store.Paged[store.Event], error)
	RecordBackorder(ctx context.Context, p store.RecordBackorderParams) (store.Backorder, error)
	UpdateBackorderStatus(ctx context.Context, id string, status store.BackorderStatus, note string, changedBy *string) (store.Backorder, error)
	RSVP(ctx context.Context, eventID, employeeID string, response store.RSVPResponse) (store.RSVP, error)
}

// Resolver is the root resolver; gqlgen builds the per-type resolvers from it.
type Resolver struct {
	DB DB
}

// NewSchema is the executable schema with these resolvers and the field
// costs over db: what graph.NewExecutor serves. It lives here because graph
// cannot import resolvers (resolvers implement graph's interfaces).
//
// It panics when the schema lacks an argument default the costs read: the
// schema is compiled in, so that is a build mistake every test catches, not
// a condition a running service meets.
func NewSchema(db DB) graphql.ExecutableSchema {
	costs, err := Complexity(graph.NewExecutableSchema(graph.Config{}).Schema())
	if err != nil {
		panic(err)
	}
	return graph.NewExecutableSchema(graph.Config{
		Resolvers:  &Resolver{DB: db},
		Complexity: costs,
	})
}
