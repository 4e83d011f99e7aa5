package hours

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

var storeIDPattern = regexp.MustCompile(`^S\d{3}$`)

// NewDemo returns a demo hours API: GET /v1/stores/{id}/hours. Every id
// matching S\d{3} below S900 has hours derived from the id alone, so runs
// are reproducible; S900-S999 stand for stores the service does not know
// (404); other ids get a 400.
func NewDemo() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/stores/{id}/hours", demoHours)
	return mux
}

func demoHours(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	switch {
	case !storeIDPattern.MatchString(id):
		httpjson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%q is not a store id (S followed by 3 digits)", id))
		return
	case id >= "S900":
		httpjson.WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no hours for store %s", id))
		return
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	n := h.Sum32()
	// Opens between 07:00 and 09:30, stays open 11 to 13 hours.
	opens := 7*60 + int(n%6)*30
	closes := opens + 11*60 + int(n/6%5)*30
	httpjson.WriteJSON(w, http.StatusOK, wireHours{
		StoreID:  id,
		Date:     upstream.DemoReference().Format("2006-01-02"),
		OpensAt:  fmt.Sprintf("%02d:%02d", opens/60, opens%60),
		ClosesAt: fmt.Sprintf("%02d:%02d", closes/60, closes%60),
	})
}
