// Package supply is the client of the supply system's REST API (when stock
// arrives at a store) and a demo implementation of it, so the default run
// goes through the same HTTP path as production.
package supply

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// errs carry what an app user reads when the service fails (the error
// presenter shows Message by Kind); each matches the shared upstream class,
// so errors.Is works with either.
var errs = upstream.NewErrors("supply", "the supply system is not answering; try again shortly")

// Errors of this service.
var (
	ErrUnavailable = errs.Unavailable
	ErrNotFound    = errs.NotFound
	ErrBadRequest  = errs.BadRequest
)

// MaxBatch is the most keys sent in one HTTP call; the supply API caps a
// query there. Larger requests are split.
const MaxBatch = 500

// restocksQueryPath follows the custom-method style (AIP-136) many
// enterprise APIs use for a read whose input is too large for a URL.
const restocksQueryPath = "/v1/restocks:query"

// RestockKey names one product at one store.
type RestockKey struct {
	StoreID string
	SKU     string
}

// Restock is the next scheduled delivery of a product to a store.
type Restock struct {
	StoreID    string
	SKU        string
	ExpectedAt time.Time
	Quantity   int
}

// Client calls the supply system. It is safe for concurrent use.
type Client struct{ c *httpjson.Client }

// New returns a client for the supply API at baseURL. httpClient nil gets a
// pooled client of its own.
func New(baseURL string, httpClient *http.Client, opts ...httpjson.Option) *Client {
	return &Client{c: httpjson.New("supply", baseURL, httpClient, errs, opts...)}
}

type wireKey struct {
	StoreID string `json:"storeId"`
	SKU     string `json:"sku"`
}

type wireQuery struct {
	Items []wireKey `json:"items"`
}

type wireRestock struct {
	StoreID    string    `json:"storeId"`
	SKU        string    `json:"sku"`
	ExpectedAt time.Time `json:"expectedAt"`
	Quantity   int       `json:"quantity"`
}

type wireRestocks struct {
	Restocks []wireRestock `json:"restocks"`
}

// NextRestocks returns the next restock of each key in one HTTP call (one
// per MaxBatch keys). A key with no restock scheduled is absent from the map.
// When the service lists several deliveries for a key, the earliest wins.
func (c *Client) NextRestocks(ctx context.Context, keys []RestockKey) (map[RestockKey]Restock, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b RestockKey) int {
		return cmp.Or(cmp.Compare(a.StoreID, b.StoreID), cmp.Compare(a.SKU, b.SKU))
	})
	keys = slices.Compact(keys)
	out := make(map[RestockKey]Restock, len(keys))
	for chunk := range slices.Chunk(keys, MaxBatch) {
		asked := make(map[RestockKey]bool, len(chunk))
		q := wireQuery{Items: make([]wireKey, len(chunk))}
		for i, k := range chunk {
			asked[k] = true
			q.Items[i] = wireKey(k)
		}
		var resp wireRestocks
		if err := c.c.Post(ctx, restocksQueryPath, q, &resp); err != nil {
			return nil, fmt.Errorf("next restocks: %w", err)
		}
		for _, r := range resp.Restocks {
			if r.StoreID == "" || r.SKU == "" || r.ExpectedAt.IsZero() || r.Quantity <= 0 {
				return nil, fmt.Errorf("next restocks: %w: %s: restock without storeId, sku, expectedAt or a positive quantity", ErrUnavailable, restocksQueryPath)
			}
			k := RestockKey{StoreID: r.StoreID, SKU: r.SKU}
			// Only what was asked for, and the earliest delivery per key.
			if prev, ok := out[k]; !asked[k] || (ok && !r.ExpectedAt.Before(prev.ExpectedAt)) {
				continue
			}
			out[k] = Restock(r)
		}
	}
	return out, nil
}
