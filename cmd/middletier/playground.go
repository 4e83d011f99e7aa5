package main

import (
	"net/http"

	"github.com/middletier/middletier/internal/playground"
)

// exampleQuery is what a developer sees first in the playground (and in README).
const exampleQuery = `# Welcome to middletier: press run (Ctrl-Enter).
{
  stores(first: 5) {
    nodes {
      id
      name
      city
      backorders(status: OPEN, first: 3) {
        nodes {
          quantity
          status
          product { sku name }
          customer { name }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`

// devQueryNote tells a developer who they are in dev mode and how to change it.
const devQueryNote = `# You are signed in as avery (store associate, S001) with a dev token in
# the Headers tab below. To be someone else (blake: manager S001, casey:
# associate S002, devon: head office), run
#   go run ./cmd/middletier token --user casey
# and paste the token into the Authorization header.
`

// playgroundHandler serves GraphiQL; devToken, when not empty, pre-fills the
// Authorization header (dev mode only).
func playgroundHandler(devToken string) http.Handler {
	opts := playground.Options{
		Endpoint:     "/graphql",
		Title:        "middletier playground",
		DefaultQuery: exampleQuery,
	}
	if devToken != "" {
		opts.DefaultQuery = devQueryNote + exampleQuery
		opts.Headers = map[string]string{"Authorization": "Bearer " + devToken}
	}
	return playground.Handler(opts)
}
