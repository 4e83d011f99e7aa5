package resolvers

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/store"
)

// Costs of the fields that reach a source, beyond the 1 every field costs.
// They make the complexity limit bound the work a query can make the
// backends do, not just the number of fields written.
const (
	// searchCost: a text search is a scan (LIKE '%term%' over every row,
	// however long the term), the most a single statement here can cost.
	// At 100, the default limit of 5,000 admits a few dozen searches in one
	// request, never a thousand.
	searchCost = 100
	// upstreamListCost: an unbatched call to an upstream service (a news
	// page); each distinct page is an HTTP call the loader cannot merge.
	upstreamListCost = 50
	// upstreamKeyCost: one key of a batched upstream read (a leave balance,
	// a restock date): the loader merges keys into one call, but the
	// service still looks each one up.
	upstreamKeyCost = 5
)

// Complexity makes a paged list cost its page size times what each item
// costs, a search and an upstream read what they cost their source, so the
// complexity limit bounds the rows and calls a query can make the backends
// produce. Introspection (__schema, __type) is costed by the executor.
//
// gqlgen hands each function the arguments with the schema's defaults
// applied; an explicit null page size costs the schema's default, read from
// schema here, which is also what the resolver then asks for.
func Complexity(schema *ast.Schema) (graph.ComplexityRoot, error) {
	d := schemaDefaults{schema: schema}
	var (
		storesFirst          = d.int("Query", "stores", "first")
		productsFirst        = d.int("Query", "products", "first")
		customersFirst       = d.int("Query", "customers", "first")
		backordersFirst      = d.int("Query", "backorders", "first")
		eventsFirst          = d.int("Query", "events", "first")
		newsFirst            = d.int("Query", "news", "first")
		inventoryFirst       = d.int("Store", "inventory", "first")
		storeBackordersFirst = d.int("Store", "backorders", "first")
		customerBackorders   = d.int("Customer", "backorders", "first")
		nearbyLimit          = d.int("Product", "availability", "nearbyLimit")
	)
	if d.err != nil {
		return graph.ComplexityRoot{}, fmt.Errorf("complexity: %w", d.err)
	}
	var c graph.ComplexityRoot
	c.Query.Stores = func(child int, first *int, _ *string) int { return paged(child, first, storesFirst) }
	c.Query.Products = func(child int, search, _, _ *string, first *int, _ *string) int {
		if search != nil && *search != "" {
			return searchCost + paged(child, first, productsFirst)
		}
		return paged(child, first, productsFirst)
	}
	c.Query.Customers = func(child int, _ string, first *int, _ *string) int {
		return searchCost + paged(child, first, customersFirst)
	}
	c.Query.Backorders = func(child int, _ string, _ *store.BackorderStatus, first *int, _ *string) int {
		return paged(child, first, backordersFirst)
	}
	c.Query.Events = func(child int, _ *bool, first *int, _ *string) int { return paged(child, first, eventsFirst) }
	c.Query.News = func(child int, first *int, _ *string) int { return upstreamListCost + paged(child, first, newsFirst) }
	c.Store.Inventory = func(child int, _ *bool, first *int, _ *string) int { return paged(child, first, inventoryFirst) }
	c.Store.Backorders = func(child int, _ *store.BackorderStatus, first *int, _ *string) int {
		return paged(child, first, storeBackordersFirst)
	}
	c.Customer.Backorders = func(child int, _ *store.BackorderStatus, first *int, _ *string) int {
		return paged(child, first, customerBackorders)
	}
	c.Product.Availability = func(child int, _ string, nearby *int) int { return paged(child, nearby, nearbyLimit) }
	c.Employee.LeaveBalance = func(child int) int { return upstreamKeyCost + 1 + child }
	c.Backorder.NextRestock = func(child int) int { return upstreamKeyCost + 1 + child }
	c.Availability.NextRestock = func(child int) int { return upstreamKeyCost + 1 + child }
	return c, nil
}

// paged costs a list of n items (def when the client sent null), each
// costing child; an empty list still costs one item.
func paged(child int, n *int, def int) int {
	if n != nil {
		def = *n
	}
	return 1 + child*max(def, 1)
}
