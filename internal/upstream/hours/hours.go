// Package hours is the client of the store hours service's REST API (when a
// store opens and closes today) and a demo implementation of it, so the
// default run goes through the same HTTP path as production. The In-Store
// app's store picker shows these hours next to each store.
package hours

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// errs carry what an app user reads when the service fails (the error
// presenter shows Message by Kind); each matches the shared upstream class,
// so errors.Is works with either.
var errs = upstream.NewErrors(Name, "the store hours service is not answering; try again shortly")

// Errors of this service.
var (
	ErrUnavailable = errs.Unavailable
	ErrNotFound    = errs.NotFound
	ErrBadRequest  = errs.BadRequest
)

// clockPattern is the API's local time of day, HH:MM on a 24-hour clock.
var clockPattern = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// Hours are one store's opening hours today, in the store's local time.
type Hours struct {
	StoreID string
	// Date is the store's local date the hours are for (YYYY-MM-DD).
	Date string
	// OpensAt and ClosesAt are local times of day, HH:MM.
	OpensAt  string
	ClosesAt string
}

// Client calls the store hours service. It is safe for concurrent use.
type Client struct{ c *httpjson.Client }

// New returns a client for the hours API at baseURL. httpClient nil gets a
// pooled client of its own.
func New(baseURL string, httpClient *http.Client, opts ...httpjson.Option) *Client {
	return &Client{c: httpjson.New(Name, baseURL, httpClient, errs, opts...)}
}

type wireHours struct {
	StoreID  string `json:"storeId"`
	Date     string `json:"date"`
	OpensAt  string `json:"opensAt"`
	ClosesAt string `json:"closesAt"`
}

// hoursPath is the one store's hours; the API has no batch read, so a
// picker of twenty stores costs twenty calls on a cold cache and none warm.
func hoursPath(storeID string) string { return "/v1/stores/" + url.PathEscape(storeID) + "/hours" }

// OpeningHours returns today's hours of each store, one HTTP call per store.
// Stores the service does not know are absent from the map, not an error: a
// mapped loader turns absence into null per key.
func (c *Client) OpeningHours(ctx context.Context, storeIDs []string) (map[string]Hours, error) {
	ids := slices.Clone(storeIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[string]Hours, len(ids))
	for _, id := range ids {
		var h wireHours
		err := c.c.Get(ctx, hoursPath(id), nil, &h)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("opening hours of %s: %w", id, err)
		}
		if h.StoreID != id || h.Date == "" || !clockPattern.MatchString(h.OpensAt) || !clockPattern.MatchString(h.ClosesAt) {
			return nil, fmt.Errorf("opening hours of %s: %w: answer without this storeId, a date, or HH:MM times", id, ErrUnavailable)
		}
		out[id] = Hours(h)
	}
	return out, nil
}
