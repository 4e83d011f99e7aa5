package resolvers

import (
	"testing"
	"time"

	"github.com/middletier/middletier/graph/model"
	"github.com/middletier/middletier/internal/upstream/hr"
)

// TestLeaveBalanceOf pins the one place HR's names meet the schema's: HR's
// AnnualDays is what is still available, the schema's annualDays the
// entitlement.
func TestLeaveBalanceOf(t *testing.T) {
	asOf := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	got := leaveBalanceOf(hr.LeaveBalance{EmployeeID: "E0001", AnnualDays: 7.5, AnnualUsedDays: 17, SickDays: 4.5, AsOf: asOf})
	want := model.LeaveBalance{AnnualDays: 24.5, AnnualUsedDays: 17, AnnualRemainingDays: 7.5, SickDays: 4.5, AsOf: asOf}
	if *got != want {
		t.Errorf("leaveBalanceOf = %+v, want %+v", *got, want)
	}
}
