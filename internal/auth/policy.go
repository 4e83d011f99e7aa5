package auth

import (
	"context"
	"fmt"

	"github.com/middletier/middletier/internal/store"
)

// The access rules, all of them, in one file. Resolvers (and through them
// the REST facade, which runs the same GraphQL documents) ask these functions
// at every entry point to store data; none decides on its own.
//
//	who              store data (backorders, inventory,   record a      change backorder   own profile,
//	                 availability) of a store              backorder     status             RSVPs
//	store associate  own store only                        own store     no                 yes
//	store manager    own store only                        own store     own store          yes
//	head office      every store                           no            every store        yes
//
// Writes also need a token with a write scope (CanWrite); the executor checks
// that for every mutation, so no resolver can forget it. Everything else
// (the store directory, products, customers, events) is open to every
// signed-in employee. Nobody reads another employee's profile, leave
// balance or RSVPs: `me` and `myRsvp` answer for the caller only and take no
// employee id, and CanReadProfile guards a leave balance reached through any
// Employee (recordedBy, changedBy).

// Caller returns the request's principal or ErrUnauthenticated.
func Caller(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok || p.EmployeeID == "" {
		return Principal{}, fmt.Errorf("sign in: no verified employee for this request: %w", ErrUnauthenticated)
	}
	return p, nil
}

// AllStores reports whether p acts for every store (head office).
func (p Principal) AllStores() bool { return p.Role == store.RoleHeadOffice }

// StoreScope is the one store the caller may see store data of, or "" when
// they may see every store.
func StoreScope(ctx context.Context) (string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return "", err
	}
	if p.AllStores() {
		return "", nil
	}
	if p.StoreID == "" {
		// A store role without a store sees nothing rather than everything.
		return "", fmt.Errorf("%s has no store assigned: %w", p.Login, ErrForbidden)
	}
	return p.StoreID, nil
}

// CanReadStore allows reading a store's backorders, inventory and availability.
func CanReadStore(ctx context.Context, storeID string) error {
	scope, err := StoreScope(ctx)
	if err != nil {
		return err
	}
	if scope != "" && scope != storeID {
		return fmt.Errorf("store %s data is only for its own staff and head office (you work at %s): %w", storeID, scope, ErrForbidden)
	}
	return nil
}

// CanRecordBackorder allows recording a backorder at storeID: the store's own
// associates and manager; head office reads but does not serve customers.
func CanRecordBackorder(ctx context.Context, storeID string) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	if p.AllStores() || p.StoreID != storeID {
		return fmt.Errorf("only staff of store %s may record its backorders: %w", storeID, ErrForbidden)
	}
	return nil
}

// CanChangeBackorderStatus allows moving a backorder of storeID along its
// lifecycle: the store's manager and head office. Associates record
// backorders and read them; status changes (notify, fulfil, cancel) are a
// manager's decision, which keeps one rule for every transition.
func CanChangeBackorderStatus(ctx context.Context, storeID string) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	switch {
	case p.AllStores():
		return nil
	case p.Role == store.RoleStoreManager && p.StoreID == storeID:
		return nil
	case p.Role == store.RoleStoreManager:
		return fmt.Errorf("backorder belongs to store %s; you manage %s: %w", storeID, p.StoreID, ErrForbidden)
	default:
		return fmt.Errorf("only a store manager or head office may change a backorder's status: %w", ErrForbidden)
	}
}

// CanWrite allows running a mutation: the token must carry a write scope.
func CanWrite(ctx context.Context) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	if !p.CanWrite {
		return fmt.Errorf("this token is read-only: changes need a token with a write scope: %w", ErrForbidden)
	}
	return nil
}

// CanReadProfile allows reading an employee's personal data (leave balance):
// the employee themself only. Head office and managers included: HR data is
// not store data.
func CanReadProfile(ctx context.Context, employeeID string) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	if p.EmployeeID != employeeID {
		return fmt.Errorf("employee %s's personal data is only for that employee: %w", employeeID, ErrForbidden)
	}
	return nil
}
