package hours_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/hours"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

func TestOpeningHoursFromDemo(t *testing.T) {
	srv := upstreamtest.Serve(t, hours.NewDemo())
	n := upstreamtest.NewCounter(t)
	c := hours.New(srv.URL, n.HTTP)
	got, err := c.OpeningHours(context.Background(), []string{"S001", "S002", "S001", "S901"})
	if err != nil {
		t.Fatal(err)
	}
	// One call per distinct store: the API has no batch read.
	if n.Calls() != 3 || srv.Requests() != 3 {
		t.Fatalf("calls: client %d, server %d; want 3 and 3", n.Calls(), srv.Requests())
	}
	if _, ok := got["S901"]; ok || len(got) != 2 {
		t.Fatalf("got %v; want S001 and S002, the unknown S901 absent", got)
	}
	for id, h := range got {
		if h.StoreID != id || h.Date != upstream.DemoReference().Format("2006-01-02") || h.OpensAt >= h.ClosesAt {
			t.Errorf("%s: %+v, want today's hours with opening before closing", id, h)
		}
	}
}

func TestOpeningHoursFaults(t *testing.T) {
	class := map[error]error{
		upstream.ErrUnavailable: hours.ErrUnavailable,
		upstream.ErrBadRequest:  hours.ErrBadRequest,
	}
	faults := append(upstreamtest.Faults(), upstreamtest.Fault{
		Name: "hours without times",
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"storeId":"S001","date":"2026-11-01","opensAt":"8am"}`))
		}),
		Want: upstream.ErrUnavailable,
	})
	for _, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			n := upstreamtest.NewCounter(t)
			c := hours.New(upstreamtest.Serve(t, f.Handler).URL, n.HTTP)
			ctx := context.Background()
			if f.Blocks {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			got, err := c.OpeningHours(ctx, []string{"S001"})
			if f.Want == upstream.ErrNotFound {
				// A store the service does not know is absent, not an error.
				if err != nil || len(got) != 0 {
					t.Fatalf("OpeningHours = %v, %v; want empty, nil", got, err)
				}
				return
			}
			if !errors.Is(err, class[f.Want]) || !errors.Is(err, f.Want) {
				t.Fatalf("OpeningHours = %v, %v; want an error wrapping %v", got, err, class[f.Want])
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

func TestConnectionRefused(t *testing.T) {
	c := hours.New(upstreamtest.RefusedURL(t), nil)
	if _, err := c.OpeningHours(context.Background(), []string{"S001"}); !errors.Is(err, hours.ErrUnavailable) {
		t.Fatalf("error = %v, want hours.ErrUnavailable", err)
	}
}
