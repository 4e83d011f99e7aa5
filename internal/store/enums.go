package store

// The closed sets of values the store keeps in text columns. Each is a Go
// type so that the compiler, not a comment, says which constants a field may
// hold; gqlgen.yml binds the GraphQL enums of the same meaning to these types
// value by value, so the GraphQL layer needs no conversion of its own. The
// string values are the stored encoding and the GraphQL names at once: the
// seed data and the migrations' CHECK constraints use them, so they must not
// change.

// BackorderStatus is where a backorder is in its lifecycle:
// OPEN -> NOTIFIED -> FULFILLED, and OPEN or NOTIFIED -> CANCELLED.
type BackorderStatus string

// Backorder statuses.
const (
	StatusOpen      BackorderStatus = "OPEN"
	StatusNotified  BackorderStatus = "NOTIFIED"
	StatusFulfilled BackorderStatus = "FULFILLED"
	StatusCancelled BackorderStatus = "CANCELLED"
)

// Valid reports whether s is one of the backorder statuses. Callers outside
// GraphQL (store tests, the seed, future importers) can send any string, so
// the store still checks.
func (s BackorderStatus) Valid() bool {
	switch s {
	case StatusOpen, StatusNotified, StatusFulfilled, StatusCancelled:
		return true
	}
	return false
}

// ContactPreference is how a customer wants to hear that a product is back.
type ContactPreference string

// Contact preferences.
const (
	ContactEmail ContactPreference = "EMAIL"
	ContactPhone ContactPreference = "PHONE"
	ContactSMS   ContactPreference = "SMS"
)

// Valid reports whether c is one of the contact preferences.
func (c ContactPreference) Valid() bool {
	switch c {
	case ContactEmail, ContactPhone, ContactSMS:
		return true
	}
	return false
}

// Role is what an employee does; the access rules (internal/auth) depend on it.
type Role string

// Employee roles.
const (
	RoleStoreAssociate Role = "STORE_ASSOCIATE"
	RoleStoreManager   Role = "STORE_MANAGER"
	RoleHeadOffice     Role = "HEAD_OFFICE"
)

// RSVPResponse is an employee's answer to an event invitation.
type RSVPResponse string

// RSVP responses.
const (
	ResponseGoing    RSVPResponse = "GOING"
	ResponseMaybe    RSVPResponse = "MAYBE"
	ResponseDeclined RSVPResponse = "DECLINED"
)

// Valid reports whether r is one of the RSVP responses.
func (r RSVPResponse) Valid() bool {
	switch r {
	case ResponseGoing, ResponseMaybe, ResponseDeclined:
		return true
	}
	return false
}
