package demo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/middletier/middletier/internal/upstream/demo"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/sources"
	"github.com/middletier/middletier/internal/upstream/supply"
)

func TestStartServesAllThree(t *testing.T) {
	ctx := context.Background()
	urls, stop, err := demo.Start(ctx, sources.All())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	hc := hr.New(urls[hr.Name], nil)
	if b, err := hc.LeaveBalance(ctx, "E0001"); err != nil || b.EmployeeID != "E0001" {
		t.Errorf("HR: %+v, %v", b, err)
	}
	nc := news.New(urls[news.Name], nil)
	if p, err := nc.Latest(ctx, 5, ""); err != nil || len(p.Articles) != 5 {
		t.Errorf("news: %d articles, %v", len(p.Articles), err)
	}
	sc := supply.New(urls[supply.Name], nil)
	if _, err := sc.NextRestocks(ctx, []supply.RestockKey{{StoreID: "S001", SKU: "SKU-00001"}}); err != nil {
		t.Errorf("supply: %v", err)
	}

	stop()
	stop() // idempotent
	if _, err := hc.LeaveBalance(ctx, "E0001"); !errors.Is(err, hr.ErrUnavailable) {
		t.Errorf("after stop: %v, want hr.ErrUnavailable", err)
	}
}

func TestStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	urls, stop, err := demo.Start(ctx, sources.All())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	stop() // waits for the shutdown that ctx started
	if _, err := news.New(urls[news.Name], nil).Latest(context.Background(), 1, ""); !errors.Is(err, news.ErrUnavailable) {
		t.Errorf("after cancel: %v, want news.ErrUnavailable", err)
	}
}
