package hr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/httpjson"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

func TestLeaveBalancesFromDemo(t *testing.T) {
	srv := upstreamtest.Serve(t, hr.NewDemo())
	n := upstreamtest.NewCounter(t)
	c := hr.New(srv.URL, n.HTTP)
	ctx := context.WithValue(context.Background(), middleware.RequestIDKey, "req-42")

	ids := []string{"E0001", "E0002", "E0003", "E0002", "E9001"}
	got, err := c.LeaveBalances(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	// One HTTP call for the whole batch, seen from both ends.
	if n.Calls() != 1 || srv.Requests() != 1 {
		t.Fatalf("calls: client %d, server %d; want 1 and 1", n.Calls(), srv.Requests())
	}
	if len(got) != 3 {
		t.Fatalf("got %d balances, want 3 (E9xxx unknown to HR, duplicates once): %v", len(got), got)
	}
	for _, id := range []string{"E0001", "E0002", "E0003"} {
		b := got[id]
		if b.EmployeeID != id {
			t.Errorf("%s: EmployeeID = %q", id, b.EmployeeID)
		}
		if !b.AsOf.Equal(upstream.DemoReference()) {
			t.Errorf("%s: AsOf = %v, want %v", id, b.AsOf, upstream.DemoReference())
		}
		if b.AnnualDays < 0 || b.AnnualUsedDays < 0 || b.AnnualDays+b.AnnualUsedDays < 20 || b.AnnualDays+b.AnnualUsedDays > 30 {
			t.Errorf("%s: annual %v + used %v outside a 20-30 day entitlement", id, b.AnnualDays, b.AnnualUsedDays)
		}
		if b.SickDays < 0 || b.SickDays > 10 {
			t.Errorf("%s: SickDays = %v, want 0..10", id, b.SickDays)
		}
	}
	if got["E0001"] == got["E0002"] {
		t.Error("E0001 and E0002 have identical balances; want values derived from the id")
	}

	h := srv.LastHeader()
	for name, want := range map[string]string{"Accept": "application/json", "X-Request-Id": "req-42"} {
		if h.Get(name) != want {
			t.Errorf("header %s = %q, want %q", name, h.Get(name), want)
		}
	}
	if !strings.HasPrefix(h.Get("User-Agent"), "middletier") {
		t.Errorf("User-Agent = %q, want middletier...", h.Get("User-Agent"))
	}

	again, err := hr.New(srv.URL, nil).LeaveBalances(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("second run differs: %v vs %v", again, got)
	}
}

func TestLeaveBalance(t *testing.T) {
	c := hr.New(upstreamtest.Serve(t, hr.NewDemo()).URL, nil)
	ctx := context.Background()
	if b, err := c.LeaveBalance(ctx, "E0007"); err != nil || b.EmployeeID != "E0007" {
		t.Fatalf("LeaveBalance(E0007) = %+v, %v", b, err)
	}
	if _, err := c.LeaveBalance(ctx, "E9999"); !errors.Is(err, hr.ErrNotFound) {
		t.Fatalf("LeaveBalance(E9999) error = %v, want hr.ErrNotFound", err)
	}
}

func TestLeaveBalancesNoIDsNoCall(t *testing.T) {
	srv := upstreamtest.Serve(t, hr.NewDemo())
	n := upstreamtest.NewCounter(t)
	c := hr.New(srv.URL, n.HTTP)
	got, err := c.LeaveBalances(context.Background(), nil)
	if err != nil || len(got) != 0 || n.Calls() != 0 {
		t.Fatalf("LeaveBalances(nil) = %v, %v after %d calls; want empty, nil, 0", got, err, n.Calls())
	}
}

func TestLeaveBalancesSplitsLargeBatches(t *testing.T) {
	srv := upstreamtest.Serve(t, hr.NewDemo())
	c := hr.New(srv.URL, nil)
	ids := make([]string, hr.MaxBatch+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%04d", i+1)
	}
	got, err := c.LeaveBalances(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) || srv.Requests() != 2 {
		t.Fatalf("got %d balances in %d requests, want %d in 2", len(got), srv.Requests(), len(ids))
	}
}

func TestDemoValidates(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"ok", "employeeId=E0001", http.StatusOK},
		{"missing", "", http.StatusBadRequest},
		{"lower case", "employeeId=e0001", http.StatusBadRequest},
		{"too short", "employeeId=E001", http.StatusBadRequest},
		{"injection", "employeeId=E0001%27--", http.StatusBadRequest},
		{"too many", strings.Repeat("employeeId=E0001&", hr.MaxBatch+1), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			hr.NewDemo().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/leave-balances?"+tt.query, nil))
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// The demo's JSON must match the client's wire struct exactly, so demo and
// client cannot drift apart: decode with unknown fields refused.
func TestDemoShape(t *testing.T) {
	rec := httptest.NewRecorder()
	hr.NewDemo().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/leave-balances?employeeId=E0001", nil))
	var body struct {
		Balances []struct {
			EmployeeID     string    `json:"employeeId"`
			AnnualDays     float64   `json:"annualDays"`
			AnnualUsedDays float64   `json:"annualUsedDays"`
			SickDays       float64   `json:"sickDays"`
			AsOf           time.Time `json:"asOf"`
		} `json:"balances"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || len(body.Balances) != 1 {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}

func TestLeaveBalancesFaults(t *testing.T) {
	sentinel := map[error]error{
		upstream.ErrUnavailable: hr.ErrUnavailable,
		upstream.ErrNotFound:    hr.ErrNotFound,
		upstream.ErrBadRequest:  hr.ErrBadRequest,
	}
	faults := append(upstreamtest.Faults(), upstreamtest.Fault{
		Name: "entry without employeeId",
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"balances":[{"annualDays":3,"asOf":"2026-11-01T00:00:00Z"}]}`))
		}),
		Want: upstream.ErrUnavailable,
	})
	for _, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			srv := upstreamtest.Serve(t, f.Handler)
			n := upstreamtest.NewCounter(t)
			c := hr.New(srv.URL, n.HTTP)
			ctx := context.Background()
			if f.Blocks {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			got, err := c.LeaveBalances(ctx, []string{"E0001"})
			if !errors.Is(err, sentinel[f.Want]) || !errors.Is(err, f.Want) {
				t.Fatalf("LeaveBalances = %v, %v; want an error wrapping %v", got, err, sentinel[f.Want])
			}
			if f.Message != "" && !strings.Contains(err.Error(), f.Message) {
				t.Errorf("error %q does not carry the upstream message %q", err, f.Message)
			}
			if n.Calls() != 1 {
				t.Errorf("Calls() = %d, want 1 (no retries)", n.Calls())
			}
		})
	}
}

func TestClientTimeoutWithoutCallerDeadline(t *testing.T) {
	var slow http.Handler
	for _, f := range upstreamtest.Faults() {
		if f.Blocks {
			slow = f.Handler
		}
	}
	c := hr.New(upstreamtest.Serve(t, slow).URL, nil, httpjson.WithTimeout(20*time.Millisecond))
	_, err := c.LeaveBalances(context.Background(), []string{"E0001"})
	if !errors.Is(err, hr.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want hr.ErrUnavailable from the client's own deadline", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	c := hr.New(upstreamtest.RefusedURL(t), nil)
	if _, err := c.LeaveBalances(context.Background(), []string{"E0001"}); !errors.Is(err, hr.ErrUnavailable) {
		t.Fatalf("error = %v, want hr.ErrUnavailable", err)
	}
}

func TestCallerCancelIsNotUnavailable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := hr.New(upstreamtest.Serve(t, hr.NewDemo()).URL, nil)
	_, err := c.LeaveBalances(ctx, []string{"E0001"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, hr.ErrUnavailable) {
		t.Fatalf("error = %v, want context.Canceled and not hr.ErrUnavailable", err)
	}
}
