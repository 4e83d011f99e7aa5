package hr

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

var employeeIDPattern = regexp.MustCompile(`^E\d{4}$`)

// NewDemo returns a demo HR API: GET /v1/leave-balances?employeeId=..
// (repeated, up to MaxBatch). Every id matching E\d{4} has a balance derived
// from the id alone, so runs are reproducible, except E9000-E9999, which
// stand for contractors the HR system does not hold and are left out of the
// answer. Malformed ids get a 400 naming the first offender.
func NewDemo() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+leaveBalancesPath, demoLeaveBalances)
	return mux
}

func demoLeaveBalances(w http.ResponseWriter, r *http.Request) {
	ids := r.URL.Query()["employeeId"]
	switch {
	case len(ids) == 0:
		httpjson.WriteError(w, http.StatusBadRequest, "bad_request", "employeeId is required")
		return
	case len(ids) > MaxBatch:
		httpjson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("at most %d employeeId values per request, got %d", MaxBatch, len(ids)))
		return
	}
	resp := wireBalances{Balances: make([]wireBalance, 0, len(ids))}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !employeeIDPattern.MatchString(id) {
			httpjson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("employeeId %q is not an employee id (E followed by 4 digits)", id))
			return
		}
		if seen[id] || strings.HasPrefix(id, "E9") {
			continue
		}
		seen[id] = true
		resp.Balances = append(resp.Balances, demoBalance(id, upstream.DemoReference()))
	}
	httpjson.WriteJSON(w, http.StatusOK, resp)
}

// demoBalance draws a plausible balance from a generator seeded by the id:
// 20 to 30 days of annual leave a calendar year, most of it taken by
// November, and up to 10 sick days left of 10. Values are in half days,
// as HR systems book them.
func demoBalance(id string, asOf time.Time) wireBalance {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x6872))
	entitled := float64(20 + rng.IntN(11))
	yearDone := float64(asOf.YearDay()) / 365
	used := halfDays(entitled * yearDone * (0.4 + 0.6*rng.Float64()))
	return wireBalance{
		EmployeeID:     id,
		AnnualDays:     entitled - used,
		AnnualUsedDays: used,
		SickDays:       halfDays(10 - 10*yearDone*rng.Float64()*0.6),
		AsOf:           asOf,
	}
}

func halfDays(d float64) float64 { return math.Round(d*2) / 2 }
