package supply

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"regexp"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

var (
	storeIDPattern = regexp.MustCompile(`^S\d{3}$`)
	skuPattern     = regexp.MustCompile(`^SKU-\d{5}$`)
)

// demoMaxBody bounds a query body: MaxBatch keys are about 20 KiB.
const demoMaxBody = 1 << 20

// NewDemo returns a demo supply API: POST /v1/restocks:query with
// {"items":[{"storeId":"S001","sku":"SKU-00001"},...]}. Each key's answer is
// derived from the key alone: about four keys in ten have no restock
// scheduled, the others one delivery within two weeks of
// upstream.DemoReference, in case packs of 6. Malformed keys get a 400.
func NewDemo() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+restocksQueryPath, demoRestocks)
	return mux
}

func demoRestocks(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, demoMaxBody))
	dec.DisallowUnknownFields()
	var q wireQuery
	if err := dec.Decode(&q); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, "bad_request", "body must be {\"items\":[{\"storeId\":..,\"sku\":..}]}: "+err.Error())
		return
	}
	switch {
	case len(q.Items) == 0:
		httpjson.WriteError(w, http.StatusBadRequest, "bad_request", "items is required")
		return
	case len(q.Items) > MaxBatch:
		httpjson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("at most %d items per query, got %d", MaxBatch, len(q.Items)))
		return
	}
	resp := wireRestocks{Restocks: []wireRestock{}}
	for _, k := range q.Items {
		if !storeIDPattern.MatchString(k.StoreID) || !skuPattern.MatchString(k.SKU) {
			httpjson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("item {storeId %q, sku %q}: want a store id like S001 and a SKU like SKU-00001", k.StoreID, k.SKU))
			return
		}
		if rs, ok := demoRestock(k, upstream.DemoReference()); ok {
			resp.Restocks = append(resp.Restocks, rs)
		}
	}
	httpjson.WriteJSON(w, http.StatusOK, resp)
}

// demoRestock draws the key's delivery from a generator seeded by the key.
// Deliveries land at 14:00 UTC (6 am Pacific, before stores open).
func demoRestock(k wireKey, ref time.Time) (wireRestock, bool) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(k.StoreID + "/" + k.SKU))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x7375))
	if rng.IntN(10) < 4 {
		return wireRestock{}, false
	}
	return wireRestock{
		StoreID:    k.StoreID,
		SKU:        k.SKU,
		ExpectedAt: ref.AddDate(0, 0, 1+rng.IntN(14)).Add(14 * time.Hour),
		Quantity:   6 * (1 + rng.IntN(8)),
	}, true
}
