package store

import (
	"errors"
	"time"
)

// Sentinel errors. Callers test them with errors.Is; the GraphQL error
// presenter and the REST facade map them to codes and HTTP statuses.
var (
	// ErrNotFound means a referenced row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidInput means the caller sent a value the store refuses.
	ErrInvalidInput = errors.New("invalid input")
	// ErrConflict means the row changed state in a way that forbids the write
	// (for example a status change from a final status).
	ErrConflict = errors.New("conflict")
)

// Store is a retail store.
type Store struct {
	ID        string  `db:"id"`
	Name      string  `db:"name"`
	City      string  `db:"city"`
	Address   string  `db:"address"`
	Latitude  float64 `db:"latitude"`
	Longitude float64 `db:"longitude"`
	Phone     string  `db:"phone"`
}

// Product is a catalogue item, identified by its SKU.
type Product struct {
	SKU         string `db:"sku"`
	Name        string `db:"name"`
	Description string `db:"description"`
	Category    string `db:"category"`
	Barcode     string `db:"barcode"`
	PriceCents  int    `db:"price_cents"`
}

// Price is the shelf price in the store currency. Prices are stored in
// cents so sums stay exact; the conversion lives here, next to the encoding,
// not in the GraphQL layer.
func (p Product) Price() float64 { return float64(p.PriceCents) / 100 }

// InventoryKey names one product in one store.
type InventoryKey struct {
	StoreID string
	SKU     string
}

// Inventory is the stock of one product in one store.
type Inventory struct {
	StoreID      string `db:"store_id"`
	SKU          string `db:"sku"`
	OnHand       int    `db:"on_hand"`
	Reserved     int    `db:"reserved"`
	ReorderPoint int    `db:"reorder_point"`
	UpdatedAtMS  int64  `db:"updated_at"`

	// The product stocked: every read of inventory returns it with the
	// row (one join), as backorders come with their customer and product.
	Product *Product `db:"product"`
}

// Available is what can be sold: on hand less reserved, never negative.
func (i Inventory) Available() int { return max(i.OnHand-i.Reserved, 0) }

// LowStock reports whether what can be sold has reached the reorder point.
func (i Inventory) LowStock() bool { return i.Available() <= i.ReorderPoint }

// UpdatedAt is when the stock figures last changed.
func (i Inventory) UpdatedAt() time.Time { return FromMillis(i.UpdatedAtMS) }

// Customer is a shopper who may be notified about a backorder.
type Customer struct {
	ID          string `db:"id"`
	Name        string `db:"name"`
	Phone       string `db:"phone"`
	Email       string `db:"email"`
	CreatedAtMS int64  `db:"created_at"`
}

// CreatedAt is when the customer was first recorded.
func (c Customer) CreatedAt() time.Time { return FromMillis(c.CreatedAtMS) }

// Employee is a member of staff; OID is the Entra ID object id that tokens carry.
type Employee struct {
	ID      string  `db:"id"`
	OID     string  `db:"oid"`
	Login   string  `db:"login"`
	Name    string  `db:"name"`
	Email   string  `db:"email"`
	Role    Role    `db:"role"`
	StoreID *string `db:"store_id"`
}

// Backorder is a customer's request to be told when a product is back in stock.
type Backorder struct {
	ID                string            `db:"id"`
	StoreID           string            `db:"store_id"`
	SKU               string            `db:"sku"`
	CustomerID        string            `db:"customer_id"`
	Quantity          int               `db:"quantity"`
	ContactPreference ContactPreference `db:"contact_preference"`
	Status            BackorderStatus   `db:"status"`
	Note              string            `db:"note"`
	RecordedBy        *string           `db:"recorded_by"`
	CreatedAtMS       int64             `db:"created_at"`
	UpdatedAtMS       int64             `db:"updated_at"`

	// The customer waiting and the product waited for: every read and
	// write of backorders returns them with the row (one join), so a
	// backorder from the store always has both.
	Customer *Customer `db:"customer"`
	Product  *Product  `db:"product"`
}

// CreatedAt is when the backorder was recorded.
func (b Backorder) CreatedAt() time.Time { return FromMillis(b.CreatedAtMS) }

// UpdatedAt is when the backorder last changed.
func (b Backorder) UpdatedAt() time.Time { return FromMillis(b.UpdatedAtMS) }

// StatusChange is one entry of a backorder's history; the first entry is its creation.
type StatusChange struct {
	BackorderID string          `db:"backorder_id"`
	Seq         int             `db:"seq"`
	Status      BackorderStatus `db:"status"`
	Note        string          `db:"note"`
	ChangedBy   *string         `db:"changed_by"`
	ChangedAtMS int64           `db:"changed_at"`
}

// ChangedAt is when the status changed.
func (c StatusChange) ChangedAt() time.Time { return FromMillis(c.ChangedAtMS) }

// Event is a company event employees can RSVP to.
type Event struct {
	ID          string `db:"id"`
	Title       string `db:"title"`
	Description string `db:"description"`
	Location    string `db:"location"`
	StartsAtMS  int64  `db:"starts_at"`
	EndsAtMS    int64  `db:"ends_at"`
	Capacity    int    `db:"capacity"`
}

// StartsAt is when the event begins.
func (e Event) StartsAt() time.Time { return FromMillis(e.StartsAtMS) }

// EndsAt is when the event ends.
func (e Event) EndsAt() time.Time { return FromMillis(e.EndsAtMS) }

// RSVP is one employee's answer to one event.
type RSVP struct {
	EventID       string       `db:"event_id"`
	EmployeeID    string       `db:"employee_id"`
	Response      RSVPResponse `db:"response"`
	RespondedAtMS int64        `db:"responded_at"`
}

// RespondedAt is when the employee last answered.
func (r RSVP) RespondedAt() time.Time { return FromMillis(r.RespondedAtMS) }

// FromMillis converts a stored timestamp to UTC time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Millis converts a time to the stored form.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Page asks for at most First items after an opaque cursor ("" = from the start).
type Page struct {
	First int
	After string
}

// Paged is one page of a list in a stable order.
type Paged[T any] struct {
	Items     []T
	HasNext   bool
	EndCursor string // cursor of the last item, "" when Items is empty
}

// Filters for list queries. Empty fields do not filter.

// ProductFilter narrows a product search.
type ProductFilter struct {
	Text     string // case-insensitive match on name, description, SKU or barcode
	SKU      string // exact SKU or barcode
	Category string
}

// InventoryFilter narrows a store's inventory.
type InventoryFilter struct {
	LowStockOnly bool // available <= reorder_point
}

// BackorderFilter narrows a backorder list.
type BackorderFilter struct {
	StoreID    string
	CustomerID string
	Status     BackorderStatus // "" = any status
}

// StoreFilter narrows the store list.
type StoreFilter struct {
	ID string // only this store; "" = every store
}

// EventFilter narrows the events list.
type EventFilter struct {
	EndsAfter time.Time // only events that end after this instant; zero = all
}

// NewCustomer is a customer created together with a backorder.
type NewCustomer struct {
	Name  string
	Phone string
	Email string
}

// RecordBackorderParams is what RecordBackorder needs.
type RecordBackorderParams struct {
	StoreID           string
	SKU               string
	Quantity          int
	CustomerID        string       // an existing customer, or
	NewCustomer       *NewCustomer // a new one (exactly one of the two)
	ContactPreference ContactPreference
	Note              string
	RecordedBy        *string // employee id, nil when unknown
}
