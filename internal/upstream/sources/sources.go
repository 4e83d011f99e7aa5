// Package sources is the list of backend REST sources. Config, the demo
// starter and cmd loop over it and name none of them: adding a source is
// its folder under internal/upstream and one line here.
package sources

import (
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/hours"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
)

// All returns every source, in the order they start and are logged.
func All() []upstream.Source {
	return []upstream.Source{
		hr.Source,
		news.Source,
		supply.Source,
		hours.Source,
	}
}
