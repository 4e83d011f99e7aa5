package model

// Availability is whether a product can be had at a store; Store and Product
// resolve through loaders from the ids.
type Availability struct {
	StoreID   string
	SKU       string
	OnHand    int
	Available int
	InStock   bool
	Nearby    []NearbyStock
}

// NearbyStock is another store's stock of the product asked about.
type NearbyStock struct {
	StoreID    string
	Available  int
	DistanceKm float64
}
