package graph_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

// homeQuery is the employee home view of a store manager with 20 backorders
// and their restocks: every upstream is asked, each for many keys.
const homeQuery = `{
	me { id login leaveBalance { annualDays annualUsedDays annualRemainingDays sickDays asOf }
		store { backorders(first: 20) { nodes { id product { sku } nextRestock { expectedAt quantity } } } } }
	news(first: 5) { nodes { id title publishedAt } pageInfo { hasNextPage endCursor } }
}`

type homeAnswer struct {
	ID           string
	Login        string
	LeaveBalance *struct {
		AnnualDays, AnnualUsedDays, AnnualRemainingDays, SickDays float64
		AsOf                                                      string
	}
	Store struct {
		Backorders pageOf[struct {
			ID      string
			Product struct{ SKU string }
			// NextRestock is null when no delivery is scheduled.
			NextRestock *struct {
				ExpectedAt string
				Quantity   int
			}
		}]
	}
}

// TestUpstreams runs the upstream reads through the real handler, the
// loaders, the cache and the demo services on loopback, counting HTTP calls.
func TestUpstreams(t *testing.T) {
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			// Order matters: the first case needs cold caches.
			t.Run("one call per upstream", func(t *testing.T) { testUpstreamBatching(t, s) })
			t.Run("leave balance is own only", func(t *testing.T) { testLeaveBalanceOwnOnly(t, s) })
			t.Run("news outage is partial", func(t *testing.T) { testNewsOutage(t, s) })
		})
	}
}

func testUpstreamBatching(t *testing.T, s *testServer) {
	blake := s.TokenFor(t, "blake")
	ask := func() (homeAnswer, cachedtest.Calls) {
		t.Helper()
		before := s.Up.Calls()
		_, res := s.PostAs(t, blake, homeQuery, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("errors: %+v", res.Errors)
		}
		after := s.Up.Calls()
		if n := decode[pageOf[struct{ ID string }]](t, res.Data["news"]).Nodes; len(n) != 5 {
			t.Errorf("news: %d articles, want 5", len(n))
		}
		return decode[homeAnswer](t, res.Data["me"]), cachedtest.Calls{
			HR: after.HR - before.HR, News: after.News - before.News, Supply: after.Supply - before.Supply,
		}
	}

	first, calls := ask()
	nodes := first.Store.Backorders.Nodes
	if len(nodes) != 20 {
		t.Fatalf("got %d backorders, want 20", len(nodes))
	}
	if first.LeaveBalance == nil || first.LeaveBalance.AnnualRemainingDays != first.LeaveBalance.AnnualDays-first.LeaveBalance.AnnualUsedDays {
		t.Errorf("leave balance %+v: want remaining = annual - used", first.LeaveBalance)
	}
	restocks := 0
	var skus []string
	for _, n := range nodes {
		if n.NextRestock != nil {
			restocks++
			if n.NextRestock.Quantity <= 0 || n.NextRestock.ExpectedAt == "" {
				t.Errorf("backorder %s: restock %+v", n.ID, *n.NextRestock)
			}
		}
		skus = append(skus, n.Product.SKU)
	}
	if restocks == 0 {
		t.Errorf("no backorder has a next restock; the demo schedules about 6 in 10")
	}
	if want := (cachedtest.Calls{HR: 1, News: 1, Supply: 1}); calls != want {
		t.Errorf("cold home view: upstream calls %+v, want %+v (one batch per upstream)", calls, want)
	}

	// Within the TTLs the same view is served from the cache. ristretto
	// applies writes asynchronously and may refuse one, so wait for the
	// writes and let the cache's own accounting say what it held: each
	// upstream is called once if any of its keys missed, else never.
	s.Up.Sources.Wait()
	stats := s.Up.Sources.Stats()
	second, calls := ask()
	got := s.Up.Sources.Stats()
	slices.Sort(skus)
	distinct := uint64(len(slices.Compact(skus)))
	checks := []struct {
		name         string
		hits, misses uint64
		keys         uint64
		calls        int64
	}{
		{"hr", got.LeaveHits - stats.LeaveHits, got.LeaveMisses - stats.LeaveMisses, 1, calls.HR},
		{"supply", got.RestockHits - stats.RestockHits, got.RestockMisses - stats.RestockMisses, distinct, calls.Supply},
		{"news", got.NewsHits - stats.NewsHits, got.NewsMisses - stats.NewsMisses, 1, calls.News},
	}
	for _, c := range checks {
		if c.hits+c.misses != c.keys {
			t.Errorf("%s: %d hits + %d misses, want %d keys looked up", c.name, c.hits, c.misses, c.keys)
		}
		want := int64(0)
		if c.misses > 0 {
			want = 1
			t.Logf("%s: %d of %d cache writes were refused by admission", c.name, c.misses, c.keys)
		}
		if c.calls != want {
			t.Errorf("%s: warm home view made %d calls with %d cache misses, want %d", c.name, c.calls, c.misses, want)
		}
	}
	if second.LeaveBalance == nil || *second.LeaveBalance != *first.LeaveBalance {
		t.Errorf("cached leave balance %+v, want %+v", second.LeaveBalance, first.LeaveBalance)
	}
}

func testLeaveBalanceOwnOnly(t *testing.T, s *testServer) {
	// Colleagues reached through recordedBy: their balances are FORBIDDEN,
	// and HR is not even asked for them.
	before := s.Up.Calls()
	_, res := s.PostAs(t, s.TokenFor(t, "blake"), `{ me { id }
		backorders(storeId: "S001", first: 50) { nodes { recordedBy { id login leaveBalance { annualDays } } } } }`, nil)
	me := decode[struct{ ID string }](t, res.Data["me"])
	type emp struct {
		ID, Login    string
		LeaveBalance *struct{ AnnualDays float64 }
	}
	others := 0
	for _, n := range decode[pageOf[struct{ RecordedBy *emp }]](t, res.Data["backorders"]).Nodes {
		if n.RecordedBy == nil || n.RecordedBy.ID == me.ID {
			continue
		}
		others++
		if n.RecordedBy.LeaveBalance != nil {
			t.Errorf("blake read %s's leave balance", n.RecordedBy.Login)
		}
	}
	if others == 0 {
		t.Fatal("no backorder recorded by a colleague: the test proves nothing")
	}
	forbidden := 0
	for i := range res.Errors {
		if res.Code(i) == "FORBIDDEN" {
			forbidden++
		} else {
			t.Errorf("unexpected error %+v", res.Errors[i])
		}
	}
	if forbidden == 0 {
		t.Errorf("no FORBIDDEN error for %d colleagues' leave balances", others)
	}
	if got := s.Up.Calls().HR - before.HR; got > 1 {
		t.Errorf("HR calls %d, want at most 1 (blake's own, if not cached)", got)
	}
}

func testNewsOutage(t *testing.T, s *testServer) {
	for name, url := range map[string]string{
		"503": upstreamtest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			httpjson.WriteError(w, http.StatusServiceUnavailable, "unavailable", "down for maintenance")
		})).URL,
		"closed port": upstreamtest.RefusedURL(t),
	} {
		t.Run(name, func(t *testing.T) {
			down := newServerUp(t, s.DB, s.DB, cachedtest.Start(t, cachedtest.Options{NewsURL: url}))
			status, res := down.PostAs(t, down.TokenFor(t, "avery"), `{ me { login leaveBalance { annualDays } } news { nodes { id } } }`, nil)
			if status != http.StatusOK {
				t.Errorf("status %d, want 200 with a partial result", status)
			}
			if string(res.Data["news"]) != "null" {
				t.Errorf("news = %s, want null", res.Data["news"])
			}
			if len(res.Errors) != 1 || res.Code(0) != "UPSTREAM_UNAVAILABLE" || len(res.Errors[0].Path) != 1 || res.Errors[0].Path[0] != "news" {
				t.Fatalf("errors %+v, want one UPSTREAM_UNAVAILABLE at news", res.Errors)
			}
			me := decode[struct {
				Login        string
				LeaveBalance *struct{ AnnualDays float64 }
			}](t, res.Data["me"])
			if me.Login != "avery" || me.LeaveBalance == nil {
				t.Errorf("me = %+v: the other sources must still answer", me)
			}
		})
	}
}
