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

func playgroundHandler() http.Handler {
	return playground.Handler(playground.Options{
		Endpoint:     "/graphql",
		Title:        "middletier playground",
		DefaultQuery: exampleQuery,
	})
}
