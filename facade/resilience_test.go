package facade_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

// homeBody is what the resilience tests read of GetMyHome.
type homeBody struct {
	Profile struct {
		Login        string
		LeaveBalance json.RawMessage
		Store        *struct{ ID string }
	}
	News     struct{ Nodes []json.RawMessage }
	Warnings []struct{ Code, Path string }
}

// TestFlappingUpstreamDegradesOneSection: the HR service fails 6 of every 8
// calls. Its breaker opens once it has seen enough failures; from then on
// the home view is answered without asking HR at all (no call reaches it),
// with the leave balance left out and one warning naming it, while news,
// stores and backorders (the database and the other services, whose
// breakers stay closed) are answered in full on every request.
func TestFlappingUpstreamDegradesOneSection(t *testing.T) {
	db, _ := storetest.SeededSQLite(t)
	hrSrv := upstreamtest.Serve(t, upstreamtest.NewFlapping(6, 8, hr.NewDemo()))
	obs := upstreamtest.NewObserver()
	up := cachedtest.Start(t, cachedtest.Options{
		HRURL: hrSrv.URL,
		Resilience: upstream.Resilience{
			Retries: 1, RetryBackoff: time.Millisecond,
			BreakerMinCalls: 4, BreakerFailureRatio: 0.5, BreakerWindow: time.Hour, BreakerOpenFor: time.Hour,
			Observer: obs,
		},
	})
	e := newEnvWith(t, db, up)

	for i := range 10 {
		w := e.do(t, get("/api/v1/me/home", "avery"))
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %.500s, want 200", i, w.Code, w.Body)
		}
		b := decodeBody[homeBody](t, w)
		if b.Profile.Login != "avery" || b.Profile.Store == nil || len(b.News.Nodes) == 0 {
			t.Errorf("request %d: the other sections are missing: %.500s", i, w.Body)
		}
		if len(b.Profile.LeaveBalance) != 0 || len(b.Warnings) != 1 || b.Warnings[0].Code != "UPSTREAM_UNAVAILABLE" || b.Warnings[0].Path != "profile.leaveBalance" {
			t.Errorf("request %d: leave %s, warnings %+v; want no leave balance and one UPSTREAM_UNAVAILABLE at profile.leaveBalance", i, b.Profile.LeaveBalance, b.Warnings)
		}
	}
	// Request 0: a call and its retry; request 1: the same, and the fourth
	// failure opens the breaker. Requests 2 to 9 never reach HR.
	if got := hrSrv.Requests(); got != 4 {
		t.Errorf("%d calls reached HR, want 4 (two requests with one retry each, then none)", got)
	}
	if got := obs.States(hr.Name); !slices.Equal(got, []string{upstream.BreakerClosed, upstream.BreakerOpen}) {
		t.Errorf("HR breaker states %v, want closed then open", got)
	}
	if obs.Retries(hr.Name) != 2 || obs.Rejections(hr.Name) != 8 {
		t.Errorf("HR: %d retries and %d rejections, want 2 and 8", obs.Retries(hr.Name), obs.Rejections(hr.Name))
	}
	for _, other := range []string{"news", "supply"} {
		if got := obs.States(other); !slices.Equal(got, []string{upstream.BreakerClosed}) {
			t.Errorf("%s breaker states %v, want closed throughout", other, got)
		}
	}
}

// TestHangingUpstreamCostsItsTimeoutOnce: an HR service that never answers
// holds the home view for HR's timeout, not the request's: the request
// still answers 200 with the other sections (the 60 s request deadline is
// far away). The breaker opens
// on that timeout, so the next requests do not call HR at all.
func TestHangingUpstreamCostsItsTimeoutOnce(t *testing.T) {
	db, _ := storetest.SeededSQLite(t)
	hrSrv := upstreamtest.Serve(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	obs := upstreamtest.NewObserver()
	up := cachedtest.Start(t, cachedtest.Options{
		HRURL: hrSrv.URL,
		// Long enough for the demo news and supply services on loopback
		// under a loaded machine; HR's share of it is all spent waiting.
		Timeout: 2 * time.Second,
		Resilience: upstream.Resilience{
			Retries: 2, RetryBackoff: time.Millisecond,
			BreakerMinCalls: 1, BreakerFailureRatio: 1, BreakerWindow: time.Hour, BreakerOpenFor: time.Hour,
			Observer: obs,
		},
	})
	e := newEnvWith(t, db, up)
	for i := range 3 {
		w := e.do(t, get("/api/v1/me/home", "avery"))
		b := decodeBody[homeBody](t, w)
		if w.Code != http.StatusOK || b.Profile.Login != "avery" || len(b.News.Nodes) == 0 || len(b.Warnings) != 1 {
			t.Fatalf("request %d: %d %.500s; want 200 with every section but the leave balance", i, w.Code, w.Body)
		}
	}
	if hrSrv.Requests() != 1 || obs.Retries(hr.Name) != 0 {
		t.Errorf("%d calls reached HR with %d retries; want one call (timed out, not retried), then the open breaker", hrSrv.Requests(), obs.Retries(hr.Name))
	}
	if obs.State(hr.Name) != upstream.BreakerOpen || obs.Rejections(hr.Name) != 2 {
		t.Errorf("HR breaker %q with %d rejections, want open with 2", obs.State(hr.Name), obs.Rejections(hr.Name))
	}
}
