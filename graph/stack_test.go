package graph_test

import "github.com/middletier/middletier/graph/graphtest"

// The GraphQL tests run through the whole HTTP surface (graphtest), under
// the short names they were written with.
type (
	testServer    = graphtest.Server
	gqlResponse   = graphtest.Response
	fakeEmployees = graphtest.Employees
)

var (
	newServer      = graphtest.NewServer
	newServerWith  = graphtest.NewServerWith
	newServerUp    = graphtest.NewServerUp
	countingServer = graphtest.NewCountingServer
	emptyServer    = graphtest.Empty
	engines        = graphtest.Engines
)
