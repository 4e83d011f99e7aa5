// Package hr is the client of the HR system's REST API (leave balances) and
// a demo implementation of that API, so the default run goes through the
// same HTTP path as production.
//
// Leave balances are per employee: anything caching them across requests
// must key them by employee id (see internal/cache).
package hr

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// errs carry what an app user reads when the service fails (the error
// presenter shows Message by Kind); each matches the shared upstream class,
// so errors.Is works with either.
var errs = upstream.NewErrors("hr", "the HR system is not answering; try again shortly")

// Errors of this service.
var (
	ErrUnavailable = errs.Unavailable
	ErrNotFound    = errs.NotFound
	ErrBadRequest  = errs.BadRequest
)

// MaxBatch is the most employees asked for in one HTTP call; the HR API
// caps its employeeId list there. Larger requests are split.
const MaxBatch = 100

const leaveBalancesPath = "/v1/leave-balances"

// LeaveBalance is one employee's leave, in days (half days are common),
// named as the HR API names it.
type LeaveBalance struct {
	EmployeeID string
	// AnnualDays is the annual leave still available this leave year.
	AnnualDays float64
	// AnnualUsedDays is the annual leave taken so far this leave year.
	AnnualUsedDays float64
	// SickDays is the paid sick leave still available.
	SickDays float64
	// AsOf is when the HR system computed the balance (it books leave
	// overnight), so screens can say "as of".
	AsOf time.Time
}

// Client calls the HR system. It is safe for concurrent use.
type Client struct{ c *httpjson.Client }

// New returns a client for the HR API at baseURL. httpClient nil gets a
// pooled client of its own.
func New(baseURL string, httpClient *http.Client, opts ...httpjson.Option) *Client {
	return &Client{c: httpjson.New("hr", baseURL, httpClient, errs, opts...)}
}

// wire is the API's JSON; kept apart from LeaveBalance so the exported type
// can change without changing what is sent on the wire.
type wireBalance struct {
	EmployeeID     string    `json:"employeeId"`
	AnnualDays     float64   `json:"annualDays"`
	AnnualUsedDays float64   `json:"annualUsedDays"`
	SickDays       float64   `json:"sickDays"`
	AsOf           time.Time `json:"asOf"`
}

type wireBalances struct {
	Balances []wireBalance `json:"balances"`
}

// LeaveBalances returns the balances of the given employees in one HTTP call
// (one per MaxBatch ids). Employees the HR system does not know are absent
// from the map, not an error: a mapped loader turns absence into "not found"
// per key.
func (c *Client) LeaveBalances(ctx context.Context, employeeIDs []string) (map[string]LeaveBalance, error) {
	ids := slices.Clone(employeeIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[string]LeaveBalance, len(ids))
	for chunk := range slices.Chunk(ids, MaxBatch) {
		q := url.Values{"employeeId": chunk}
		var resp wireBalances
		if err := c.c.Get(ctx, leaveBalancesPath, q, &resp); err != nil {
			return nil, fmt.Errorf("leave balances: %w", err)
		}
		for _, b := range resp.Balances {
			if b.EmployeeID == "" || b.AsOf.IsZero() {
				return nil, fmt.Errorf("leave balances: %w: %s: entry without employeeId or asOf", ErrUnavailable, leaveBalancesPath)
			}
			// Only what was asked for: an upstream answering for other
			// employees must not leak them into this result.
			if !slices.Contains(chunk, b.EmployeeID) {
				continue
			}
			out[b.EmployeeID] = LeaveBalance(b)
		}
	}
	return out, nil
}

// LeaveBalance returns one employee's balance, or ErrNotFound when the HR
// system does not know the employee.
func (c *Client) LeaveBalance(ctx context.Context, employeeID string) (LeaveBalance, error) {
	m, err := c.LeaveBalances(ctx, []string{employeeID})
	if err != nil {
		return LeaveBalance{}, err
	}
	b, ok := m[employeeID]
	if !ok {
		return LeaveBalance{}, fmt.Errorf("leave balance of %s: %w", employeeID, ErrNotFound)
	}
	return b, nil
}
