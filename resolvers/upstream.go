package resolvers

import (
	"context"
	"errors"
	"fmt"

	"github.com/vikstrous/dataloadgen"

	"github.com/middletier/middletier/graph/model"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
	"github.com/middletier/middletier/loaders"
)

// leaveBalance loads an employee's balance for that employee only; HR not
// knowing them is null, not an error.
func leaveBalance(ctx context.Context, employeeID string) (*model.LeaveBalance, error) {
	if err := auth.CanReadProfile(ctx, employeeID); err != nil {
		return nil, err
	}
	b, err := optional(loaders.LeaveBalance.Load(ctx, employeeID))
	if b == nil || err != nil {
		return nil, err
	}
	return leaveBalanceOf(*b), nil
}

// leaveBalanceOf maps the HR API's names onto the schema's: HR reports the
// annual leave still available as AnnualDays; the schema's annualDays is the
// whole year's entitlement (available plus taken) and annualRemainingDays
// what is still available.
func leaveBalanceOf(b hr.LeaveBalance) *model.LeaveBalance {
	return &model.LeaveBalance{
		AnnualDays:          b.AnnualDays + b.AnnualUsedDays,
		AnnualUsedDays:      b.AnnualUsedDays,
		AnnualRemainingDays: b.AnnualDays,
		SickDays:            b.SickDays,
		AsOf:                b.AsOf,
	}
}

// nextRestock loads the next delivery of sku to storeID; none scheduled is null.
func nextRestock(ctx context.Context, storeID, sku string) (*supply.Restock, error) {
	return optional(loaders.Restock.Load(ctx, supply.RestockKey{StoreID: storeID, SKU: sku}))
}

// latestNews loads one page of company news. first lies within the schema's
// @range, which internal/input enforces and which stays within news.MaxPage
// (a test checks the two agree).
func latestNews(ctx context.Context, first *int, after *string) (*model.NewsConnection, error) {
	n, err := orDefault(ctx, "first", first)
	if err != nil {
		return nil, err
	}
	p, err := loaders.NewsPage.Load(ctx, loaders.NewsPageKey{First: n, After: deref(after)})
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, fmt.Errorf("news page: %w", news.ErrUnavailable)
	}
	if err != nil && errors.Is(err, news.ErrBadRequest) && deref(after) != "" {
		// The news service refuses a cursor it did not make with a 400. Only
		// here, where we know we passed the client's own after through, does
		// that 400 become the client's mistake (BAD_USER_INPUT, naming the
		// cursor). Any other 400 from an upstream means we built a bad
		// request: that stays an internal error (logged, 500) rather than
		// being blamed on the client, which is why upstream.ErrBadRequest is
		// not mapped to a code in gqlerr as a whole.
		return nil, fmt.Errorf("news page: %w: %w", gqlerr.ErrInvalidCursor, err)
	}
	if err != nil {
		return nil, err
	}
	pi := &model.PageInfo{HasNextPage: p.HasNextPage}
	if p.EndCursor != "" {
		c := p.EndCursor
		pi.EndCursor = &c
	}
	return &model.NewsConnection{Nodes: p.Articles, PageInfo: pi}, nil
}
