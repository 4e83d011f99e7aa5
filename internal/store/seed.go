package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SeedReference is the seed's "now" (2026-11-01T00:00:00Z): every seeded
// timestamp is placed relative to it rather than to the wall clock, so the
// data is identical on every run. Backorders were created in the 120 days
// before it; upcoming events lie 30 to 300 days after it. Treat it as a constant.
var SeedReference = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Seed sizes at scale 1. Scale N multiplies products, customers and
// backorders; stores, employees and events stay the same, and inventory is
// always every store times every product.
const (
	SeedMaxScale           = 50
	seedStoresCount        = 20
	seedProductsPerScale   = 5000
	seedCustomersPerScale  = 2000
	seedBackordersPerScale = 10000
	seedBackorderDays      = 120
)

// Parameter limits per statement: SQLite's SQLITE_MAX_VARIABLE_NUMBER
// (32766 since 3.32) and PostgreSQL's wire-protocol limit (65535). Within
// them, about a thousand rows per INSERT measured fastest on both engines.
const (
	seedSQLiteMaxParams   = 32766
	seedPostgresMaxParams = 65535
	seedMaxRowsPerInsert  = 1000
)

// SeedSize is how much demo data a seed writes beyond what every size has
// (the 20 stores, their staff with the personas, events and RSVPs):
// products, each stocked in every store, customers and backorders.
type SeedSize struct {
	Products, Customers, Backorders int
}

// ScaleSize is the size of scale N: 5,000×N products, 2,000×N customers
// and 10,000×N backorders.
func ScaleSize(scale int) SeedSize {
	return SeedSize{
		Products:   seedProductsPerScale * scale,
		Customers:  seedCustomersPerScale * scale,
		Backorders: seedBackordersPerScale * scale,
	}
}

// FixtureSize is the tests' data: the same stores, staff, personas and
// events as scale 1 with a tenth of its products (10,000 inventory rows
// instead of 100,000) and a fifth of its customers and backorders: enough
// for every list to have several pages and S001 more than a page of 100
// backorders. Tests that need the real scale seed it explicitly.
var FixtureSize = SeedSize{Products: 500, Customers: 400, Backorders: 2000}

// IsEmpty reports whether the database holds no stores, that is no data.
func (s *DB) IsEmpty(ctx context.Context) (bool, error) {
	var one int
	err := s.getContext(ctx, &one, "SELECT 1 FROM stores LIMIT 1")
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("check for data: %w", err)
	}
	return false, nil
}

// Seed fills an empty database with deterministic demo data: 20 stores in
// the Seattle area, 5,000×scale products stocked in every store,
// 2,000×scale customers, 10,000×scale backorders with their status
// histories, the staff (including the personas avery, blake, casey and
// devon), company events and RSVPs. The same scale always yields the same
// rows, ids included. Everything is written in one transaction with
// multi-row INSERTs. Seed refuses to run when the database already has data
// (ErrConflict) and accepts scales 1 to 50 (else ErrInvalidInput).
func (s *DB) Seed(ctx context.Context, scale int) error {
	if scale < 1 || scale > SeedMaxScale {
		return fmt.Errorf("seed scale %d: want 1 to %d: %w", scale, SeedMaxScale, ErrInvalidInput)
	}
	return s.SeedSized(ctx, ScaleSize(scale))
}

// SeedSized is Seed at any size, FixtureSize in tests. The same size
// always yields the same rows; every size at least one of each.
func (s *DB) SeedSized(ctx context.Context, size SeedSize) error {
	if size.Products < 1 || size.Customers < 1 || size.Backorders < 1 {
		return fmt.Errorf("seed size %+v: want at least one of each: %w", size, ErrInvalidInput)
	}
	maxParams := seedSQLiteMaxParams
	if s.dialect == Postgres {
		maxParams = seedPostgresMaxParams
	}
	return s.inTx(ctx, func(tx *txn) error {
		if s.dialect == Postgres {
			// Serialise concurrent seeds; SQLite's BEGIN IMMEDIATE already does.
			if _, err := tx.execContext(ctx, "LOCK TABLE stores IN EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("lock stores: %w", err)
			}
		}
		var one int
		switch err := tx.getContext(ctx, &one, "SELECT 1 FROM stores LIMIT 1"); {
		case err == nil:
			return fmt.Errorf("database already has data; seed runs only on an empty database: %w", ErrConflict)
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("check for data: %w", err)
		}
		w := &seedWriter{ctx: ctx, tx: tx, maxParams: maxParams}
		if err := w.run(size); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if s.dialect == Postgres {
			// Fresh statistics so the planner knows the tables are no longer empty.
			if _, err := tx.execContext(ctx, "ANALYZE "+strings.Join(seedTables, ", ")); err != nil {
				return fmt.Errorf("seed: analyze: %w", err)
			}
		}
		return nil
	})
}

// seedTables are the tables Seed fills.
var seedTables = []string{"stores", "products", "inventory", "employees", "customers",
	"backorders", "backorder_status_changes", "events", "rsvps"}

// seedWriter generates the rows and streams them into multi-row INSERTs.
type seedWriter struct {
	ctx       context.Context
	tx        *txn
	maxParams int

	stores    []seedStoreDef
	productN  int
	staff     [][]string // employee ids per store index
	employees []seedEmployee
	customers []seedCustomer
	// outOfStock lists, per store index, the product indexes with nothing on hand.
	outOfStock [][]int32
}

// seedRand returns an independent deterministic stream per part of the
// data, so that changing one part never shifts the others.
func seedRand(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(1, 2+stream)) }

// Streams of seedRand.
const (
	seedStreamProducts = iota
	seedStreamInventory
	seedStreamEmployees
	seedStreamCustomers
	seedStreamBackorders
	seedStreamRSVPs
)

func (w *seedWriter) run(size SeedSize) error {
	steps := []func(SeedSize) error{
		w.seedStores,
		w.seedProducts,
		w.seedInventory,
		w.seedEmployees,
		w.seedCustomers,
		w.seedBackorders,
		w.seedEvents,
	}
	for _, step := range steps {
		if err := step(size); err != nil {
			return err
		}
	}
	return nil
}

// seedBatch accumulates rows and sends them as multi-row INSERTs.
type seedBatch struct {
	w       *seedWriter
	table   string
	cols    []string
	perStmt int
	args    []any
	rows    int
	fullSQL string
}

func (w *seedWriter) batch(table string, cols ...string) *seedBatch {
	per := min(w.maxParams/len(cols), seedMaxRowsPerInsert)
	return &seedBatch{
		w: w, table: table, cols: cols, perStmt: per,
		args: make([]any, 0, per*len(cols)),
	}
}

func (b *seedBatch) add(vals ...any) error {
	if len(vals) != len(b.cols) {
		return fmt.Errorf("insert into %s: %d values for %d columns", b.table, len(vals), len(b.cols))
	}
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows == b.perStmt {
		return b.flush()
	}
	return nil
}

func (b *seedBatch) flush() error {
	if b.rows == 0 {
		return nil
	}
	var query string
	if b.rows == b.perStmt {
		if b.fullSQL == "" {
			b.fullSQL = seedInsertSQL(b.table, b.cols, b.perStmt)
		}
		query = b.fullSQL
	} else {
		query = seedInsertSQL(b.table, b.cols, b.rows)
	}
	if _, err := b.w.tx.execContext(b.w.ctx, query, b.args...); err != nil {
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	clear(b.args)
	b.args = b.args[:0]
	b.rows = 0
	return nil
}

func seedInsertSQL(table string, cols []string, rows int) string {
	row := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	var sb strings.Builder
	sb.Grow(len(table) + 32 + rows*(len(row)+2))
	sb.WriteString("INSERT INTO ")
	sb.WriteString(table)
	sb.WriteString(" (")
	sb.WriteString(strings.Join(cols, ", "))
	sb.WriteString(") VALUES ")
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	return sb.String()
}

// seedUUID draws a version 4 UUID from r.
func seedUUID(r *rand.Rand) string {
	var b uuid.UUID
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return b.String()
}

// SeedEmployeeOID is the stable Entra object id the seed gives the employee
// with this login.
func SeedEmployeeOID(login string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("middletier:employee:"+login)).String()
}

// seedMS converts a time to stored milliseconds, truncated to the second.
func seedMS(t time.Time) int64 { return t.Truncate(time.Second).UnixMilli() }

// seedBetween returns a whole-second instant uniformly in [from, to).
func seedBetween(r *rand.Rand, from, to time.Time) time.Time {
	return from.Add(seedDuration(r, to.Sub(from)))
}

// seedDuration returns a whole number of seconds uniformly in [0, d).
func seedDuration(r *rand.Rand, d time.Duration) time.Duration {
	if d < time.Second {
		return 0
	}
	return time.Duration(r.Int64N(int64(d/time.Second))) * time.Second
}

// seedPick returns an index drawn with the given weights.
func seedPick(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func seedOneOf(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }

// ---- stores ----

type seedStoreDef struct {
	id, name, city, address, phone string
	lat, lon                       float64
}

// Real towns of the Seattle area, close together so "nearby stores" means
// a short drive. Addresses are made up; phones use the fictional 555-01xx range.
var seedStoreDefs = []seedStoreDef{
	{"S001", "Contoso Seattle Downtown", "Seattle", "1420 5th Ave, Seattle, WA 98101", "(206) 555-0101", 47.6101, -122.3355},
	{"S002", "Contoso Bellevue Square", "Bellevue", "575 Bellevue Way NE, Bellevue, WA 98004", "(425) 555-0102", 47.6155, -122.2036},
	{"S003", "Contoso Redmond Town Center", "Redmond", "16495 NE 74th St, Redmond, WA 98052", "(425) 555-0103", 47.6712, -122.1187},
	{"S004", "Contoso Kirkland", "Kirkland", "12200 NE 85th St, Kirkland, WA 98033", "(425) 555-0104", 47.6790, -122.1810},
	{"S005", "Contoso Bothell", "Bothell", "18210 Bothell Way NE, Bothell, WA 98011", "(425) 555-0105", 47.7601, -122.2054},
	{"S006", "Contoso Lynnwood", "Lynnwood", "3000 184th St SW, Lynnwood, WA 98037", "(425) 555-0106", 47.8209, -122.3151},
	{"S007", "Contoso Everett", "Everett", "1402 SE Everett Mall Way, Everett, WA 98208", "(425) 555-0107", 47.9100, -122.2150},
	{"S008", "Contoso Renton Landing", "Renton", "800 N 10th St, Renton, WA 98057", "(425) 555-0108", 47.4960, -122.2030},
	{"S009", "Contoso Kent Station", "Kent", "417 Ramsay Way, Kent, WA 98032", "(253) 555-0109", 47.3840, -122.2340},
	{"S010", "Contoso Tacoma", "Tacoma", "4502 S Steele St, Tacoma, WA 98409", "(253) 555-0110", 47.2150, -122.4690},
	{"S011", "Contoso Issaquah", "Issaquah", "1480 NW Gilman Blvd, Issaquah, WA 98027", "(425) 555-0111", 47.5430, -122.0520},
	{"S012", "Contoso Sammamish", "Sammamish", "22830 NE 8th St, Sammamish, WA 98074", "(425) 555-0112", 47.6163, -122.0356},
	{"S013", "Contoso Federal Way", "Federal Way", "2001 S Commons, Federal Way, WA 98003", "(253) 555-0113", 47.3150, -122.3110},
	{"S014", "Contoso Auburn", "Auburn", "1101 Outlet Collection Way, Auburn, WA 98001", "(253) 555-0114", 47.2970, -122.2450},
	{"S015", "Contoso Puyallup", "Puyallup", "3500 S Meridian, Puyallup, WA 98373", "(253) 555-0115", 47.1580, -122.2930},
	{"S016", "Contoso Shoreline", "Shoreline", "15505 Westminster Way N, Shoreline, WA 98133", "(206) 555-0116", 47.7430, -122.3480},
	{"S017", "Contoso Mercer Island", "Mercer Island", "2750 77th Ave SE, Mercer Island, WA 98040", "(206) 555-0117", 47.5840, -122.2330},
	{"S018", "Contoso Woodinville", "Woodinville", "14200 NE Woodinville-Duvall Rd, Woodinville, WA 98072", "(425) 555-0118", 47.7543, -122.1635},
	{"S019", "Contoso Burien", "Burien", "15858 1st Ave S, Burien, WA 98148", "(206) 555-0119", 47.4640, -122.3380},
	{"S020", "Contoso Seattle Northgate", "Seattle", "401 NE Northgate Way, Seattle, WA 98125", "(206) 555-0120", 47.7062, -122.3251},
}

func (w *seedWriter) seedStores(SeedSize) error {
	w.stores = seedStoreDefs[:seedStoresCount]
	b := w.batch("stores", "id", "name", "city", "address", "latitude", "longitude", "phone")
	for _, st := range w.stores {
		if err := b.add(st.id, st.name, st.city, st.address, st.lat, st.lon, st.phone); err != nil {
			return err
		}
	}
	return b.flush()
}

// ---- products ----

type seedBrand struct {
	name   string
	prefix string // six-digit barcode company prefix, unique per brand
	offset int    // where the brand's item numbers start, below 1,000,000
}

type seedNoun struct {
	name     string
	lo, hi   int // price range in whole currency units
	features []string
}

type seedCategory struct {
	name       string
	weight     int
	brands     []int // indexes into seedBrands
	adjectives []string
	variants   []string
	nouns      []seedNoun
	features   []string // category-wide closing sentences
	// modelSuffix puts the adjective after the noun, as a model name
	// ("Wireless Earbuds Pro") rather than before it ("Rustic Table Lamp").
	modelSuffix bool
}

var seedBrands = []seedBrand{
	{"Fabrikam", "084631", 104729},
	{"Proseware", "071942", 583117},
	{"Litware", "069175", 271828},
	{"Northwind", "058203", 918273},
	{"Lucerne", "047718", 350877},
	{"Coho Home", "036459", 662607},
	{"Tailspin", "025864", 17320},
	{"Wingtip", "093317", 440401},
	{"Adventure Works", "014286", 806449},
	{"Alpine Ski House", "082075", 529177},
	{"Trey Outfitters", "063390", 735211},
	{"Woodgrove", "051126", 299792},
}

var seedCategories = []seedCategory{
	{
		name: "Electronics", weight: 22, brands: []int{0, 1, 2},
		adjectives:  []string{"", "Pro", "Lite", "Max", "Mini", "Plus", "Air", "Ultra", "Essential", "Go"},
		variants:    []string{"Black", "White", "Graphite", "Midnight Blue", "Silver", "Sage", "2nd Gen", "3rd Gen"},
		features:    []string{"Comes with a 2-year warranty.", "Ask in store for free setup help.", "Ships in recyclable packaging.", "Covered by our in-store protection plans."},
		modelSuffix: true,
		nouns: []seedNoun{
			{"Wireless Earbuds", 29, 149, []string{"active noise cancellation", "a pocket charging case"}},
			{"Bluetooth Speaker", 24, 199, []string{"IPX7 waterproofing", "360-degree sound"}},
			{"Over-Ear Headphones", 49, 299, []string{"memory-foam ear cushions", "a foldable frame"}},
			{"USB-C Charger", 15, 59, []string{"65W fast charging", "two USB-C ports"}},
			{"Power Bank", 19, 79, []string{"20,000 mAh capacity", "pass-through charging"}},
			{"Smart Plug", 9, 29, []string{"energy monitoring", "voice assistant support"}},
			{"Smart LED Bulb", 8, 39, []string{"16 million colours", "app scheduling"}},
			{"Security Camera", 39, 199, []string{"1080p night vision", "motion alerts"}},
			{"Video Doorbell", 59, 249, []string{"two-way talk", "package detection"}},
			{"HDMI Cable", 7, 29, []string{"8K/60Hz support", "braided nylon jacket"}},
			{"Fitness Tracker", 39, 179, []string{"heart-rate monitoring", "sleep tracking"}},
			{"Wi-Fi Router", 59, 299, []string{"Wi-Fi 6 speeds", "mesh-ready setup"}},
			{"Portable SSD", 49, 229, []string{"1 TB of storage", "drop resistance"}},
			{"HD Webcam", 29, 129, []string{"a built-in privacy shutter", "dual microphones"}},
			{"Wireless Mouse", 14, 79, []string{"silent clicks", "a 12-month battery"}},
			{"Mechanical Keyboard", 49, 179, []string{"hot-swappable switches", "backlit keys"}},
			{"Soundbar", 99, 399, []string{"Dolby Atmos", "a wireless subwoofer"}},
			{"Streaming Stick", 29, 69, []string{"4K HDR", "a voice remote"}},
			{"Smart Thermostat", 99, 249, []string{"learning schedules", "remote control from your phone"}},
			{"Tablet Case", 14, 59, []string{"a built-in stand", "a pencil holder"}},
		},
	},
	{
		name: "Home & Kitchen", weight: 24, brands: []int{3, 4, 5},
		adjectives: []string{"", "Classic", "Modern", "Rustic", "Everyday", "Signature", "Nordic", "Essentials", "Premium"},
		variants:   []string{"White", "Charcoal", "Stainless Steel", "Sage Green", "Navy", "Oak", "Terracotta", "Set of 2", "Set of 4"},
		features:   []string{"Backed by a lifetime guarantee.", "Made with responsibly sourced materials.", "Designed to last.", "Arrives in giftable packaging."},
		nouns: []seedNoun{
			{"Nonstick Frying Pan", 19, 69, []string{"a PFOA-free coating", "an oven-safe handle"}},
			{"Chef's Knife", 24, 129, []string{"a forged steel blade", "a full-tang handle"}},
			{"Cast Iron Skillet", 19, 59, []string{"a pre-seasoned surface", "even heat retention"}},
			{"Stand Mixer", 149, 449, []string{"a 5-quart bowl", "10 speeds"}},
			{"Drip Coffee Maker", 29, 149, []string{"a programmable timer", "a thermal carafe"}},
			{"Electric Kettle", 19, 79, []string{"variable temperature", "auto shut-off"}},
			{"2-Slice Toaster", 19, 89, []string{"extra-wide slots", "a bagel setting"}},
			{"High-Speed Blender", 39, 249, []string{"a 64 oz pitcher", "self-cleaning mode"}},
			{"Food Storage Set", 14, 49, []string{"leak-proof lids", "stackable containers"}},
			{"Bamboo Cutting Board", 12, 39, []string{"a juice groove", "knife-friendly bamboo"}},
			{"Bath Towel Set", 19, 79, []string{"600 gsm cotton", "quick-dry loops"}},
			{"Percale Sheet Set", 39, 149, []string{"crisp cotton percale", "deep pockets"}},
			{"Throw Blanket", 19, 69, []string{"a soft knit", "a 50 x 60 in size"}},
			{"Table Lamp", 24, 119, []string{"a linen shade", "a dimmable LED bulb"}},
			{"Wall Clock", 14, 59, []string{"a silent sweep movement", "a 12 in face"}},
			{"Storage Bin", 9, 39, []string{"collapsible sides", "reinforced handles"}},
			{"Dinnerware Set", 39, 149, []string{"12 stoneware pieces", "chip resistance"}},
			{"Air Fryer", 59, 179, []string{"a 6-quart basket", "8 presets"}},
			{"Cordless Stick Vacuum", 99, 349, []string{"a 40-minute runtime", "a HEPA filter"}},
			{"Shower Curtain", 12, 39, []string{"a water-repellent weave", "rust-proof grommets"}},
		},
	},
	{
		name: "Garden & Outdoor", weight: 20, brands: []int{6, 7, 11},
		adjectives: []string{"", "Heavy-Duty", "Weatherproof", "Compact", "Deluxe", "Eco", "Premium", "All-Season"},
		variants:   []string{"Green", "Black", "Terracotta", "Slate", "Small", "Medium", "Large"},
		features:   []string{"Backed by a 3-year warranty.", "Tested in Pacific Northwest gardens.", "A favourite of our garden team.", "Ships in recyclable packaging."},
		nouns: []seedNoun{
			{"Garden Hose", 19, 79, []string{"kink-free construction", "brass fittings"}},
			{"Hose Nozzle", 7, 29, []string{"8 spray patterns", "a thumb control"}},
			{"Pruning Shears", 12, 49, []string{"a bypass blade", "an ergonomic grip"}},
			{"Raised Garden Bed", 49, 199, []string{"cedar boards", "tool-free assembly"}},
			{"Ceramic Planter", 14, 89, []string{"a drainage hole", "a glazed finish"}},
			{"Potting Mix", 6, 24, []string{"added slow-release nutrients", "a peat-free blend"}},
			{"Oscillating Sprinkler", 14, 49, []string{"adjustable coverage", "a sturdy base"}},
			{"Leaf Rake", 12, 39, []string{"a flexible tine head", "a cushioned handle"}},
			{"Wheelbarrow", 69, 189, []string{"a 6 cu ft tray", "a flat-free tyre"}},
			{"Folding Patio Chair", 29, 119, []string{"an acacia wood frame", "a reclining back"}},
			{"Solar Path Light", 9, 49, []string{"dusk-to-dawn sensors", "no wiring"}},
			{"Bird Feeder", 14, 59, []string{"a squirrel guard", "a seed-level window"}},
			{"Gas Grill", 199, 699, []string{"three burners", "a side shelf"}},
			{"Grill Cover", 19, 59, []string{"a waterproof lining", "vents to prevent condensation"}},
			{"Outdoor String Lights", 19, 69, []string{"shatterproof bulbs", "48 ft of cable"}},
			{"Outdoor Cushion", 19, 79, []string{"fade-resistant fabric", "ties to hold it in place"}},
			{"Garden Gloves", 6, 24, []string{"thorn-proof palms", "breathable backs"}},
			{"Seed Starter Kit", 12, 39, []string{"a humidity dome", "72 cells"}},
			{"Compost Bin", 39, 149, []string{"a tumbling drum", "aeration vents"}},
			{"Cordless Leaf Blower", 79, 249, []string{"a brushless motor", "variable speed"}},
		},
	},
	{
		name: "Tools & Hardware", weight: 14, brands: []int{8, 11, 1},
		adjectives: []string{"", "Heavy-Duty", "Compact", "Professional", "Pro-Series"},
		variants:   []string{"Yellow", "Red", "Black", "Orange", "Blue", "Green"},
		features:   []string{"Backed by a lifetime warranty.", "Built for job-site durability.", "Trusted by local contractors.", "Comfortable for all-day use."},
		nouns: []seedNoun{
			{"Cordless Drill", 59, 229, []string{"two batteries", "a 1/2 in chuck"}},
			{"Impact Driver", 79, 249, []string{"1,800 in-lbs of torque", "an LED work light"}},
			{"Tape Measure", 7, 29, []string{"a 25 ft blade", "a belt clip"}},
			{"Claw Hammer", 12, 39, []string{"a 16 oz steel head", "an anti-vibration handle"}},
			{"Screwdriver Set", 14, 49, []string{"12 precision bits", "magnetic tips"}},
			{"Socket Set", 29, 149, []string{"72-tooth ratchets", "SAE and metric sockets"}},
			{"Stud Finder", 19, 59, []string{"edge detection", "AC wire warnings"}},
			{"Utility Knife", 7, 24, []string{"quick blade change", "on-board blade storage"}},
			{"Torpedo Level", 9, 34, []string{"three vials", "a magnetic edge"}},
			{"LED Work Light", 24, 89, []string{"3,000 lumens", "a folding stand"}},
			{"Extension Cord", 12, 49, []string{"a 25 ft length", "a lighted end"}},
			{"Tool Box", 19, 89, []string{"a removable tray", "metal latches"}},
			{"Step Ladder", 49, 179, []string{"a 300 lb rating", "a paint shelf"}},
			{"Wet/Dry Shop Vacuum", 59, 179, []string{"a 6-gallon tank", "a blower port"}},
			{"Circular Saw", 69, 229, []string{"a 7-1/4 in blade", "a laser guide"}},
		},
	},
	{
		name: "Apparel", weight: 20, brands: []int{9, 10, 3},
		adjectives: []string{"Men's", "Women's", "Kids'", "Unisex"},
		variants:   []string{"Navy, S", "Navy, M", "Navy, L", "Black, M", "Black, L", "Black, XL", "Heather Grey, S", "Heather Grey, M", "Forest Green, L", "Rust, M", "Olive, XL", "Cream, S"},
		features:   []string{"Backed by a 60-day fit guarantee.", "Responsibly made.", "True to size.", "Easy care."},
		nouns: []seedNoun{
			{"Rain Jacket", 49, 199, []string{"taped seams", "a packable hood"}},
			{"Fleece Pullover", 29, 89, []string{"a quarter-zip collar", "anti-pill fleece"}},
			{"Flannel Shirt", 24, 69, []string{"brushed cotton", "a chest pocket"}},
			{"Crew Neck T-Shirt", 9, 34, []string{"organic cotton", "a pre-shrunk fabric"}},
			{"Chino Pants", 29, 79, []string{"a stretch twill", "a tapered leg"}},
			{"Denim Jeans", 34, 99, []string{"a straight fit", "selvedge denim"}},
			{"Hiking Socks", 9, 24, []string{"merino wool", "cushioned soles"}},
			{"Wool Beanie", 12, 39, []string{"a ribbed knit", "a fleece lining"}},
			{"Puffer Vest", 39, 129, []string{"recycled insulation", "zip hand pockets"}},
			{"Pullover Hoodie", 29, 79, []string{"a kangaroo pocket", "a lined hood"}},
			{"High-Rise Leggings", 24, 79, []string{"four-way stretch", "a hidden pocket"}},
			{"Rain Boots", 34, 119, []string{"natural rubber", "a grippy outsole"}},
			{"Canvas Sneakers", 29, 79, []string{"a cushioned insole", "a vulcanised sole"}},
			{"Baseball Cap", 14, 34, []string{"an adjustable strap", "a curved brim"}},
			{"Softshell Jacket", 59, 179, []string{"wind resistance", "a brushed interior"}},
		},
	},
}

// seedEAN13 appends the EAN-13 check digit to twelve digits.
func seedEAN13(digits12 string) string {
	sum := 0
	for i, c := range digits12 {
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return digits12 + string(rune('0'+(10-sum%10)%10))
}

// seedSKU is the SKU of the i-th seeded product (0-based).
func seedSKU(i int) string { return fmt.Sprintf("SKU-%05d", i+1) }

func (w *seedWriter) seedProducts(size SeedSize) error {
	r := seedRand(seedStreamProducts)
	w.productN = size.Products
	weights := make([]int, len(seedCategories))
	for i, c := range seedCategories {
		weights[i] = c.weight
	}
	brandCount := make([]int, len(seedBrands))
	b := w.batch("products", "sku", "name", "description", "category", "barcode", "price_cents", "search_text")
	for i := range w.productN {
		cat := &seedCategories[seedPick(r, weights)]
		bi := cat.brands[r.IntN(len(cat.brands))]
		brand := seedBrands[bi]
		noun := cat.nouns[r.IntN(len(cat.nouns))]
		adj := seedOneOf(r, cat.adjectives)
		variant := seedOneOf(r, cat.variants)

		name := brand.name + " "
		lead := noun.name
		switch {
		case adj == "":
			name += noun.name
		case cat.modelSuffix:
			name += noun.name + " " + adj
		default:
			name += adj + " " + noun.name
			lead = adj + " " + strings.ToLower(noun.name)
		}
		name += ", " + variant
		desc := fmt.Sprintf("%s from %s with %s. %s", lead, brand.name,
			seedOneOf(r, noun.features), seedOneOf(r, cat.features))

		// Unique per brand: a bijective scramble of the brand's running count.
		n := brandCount[bi]
		brandCount[bi]++
		if n >= 1_000_000 {
			return fmt.Errorf("products: brand %s ran out of barcodes", brand.name)
		}
		ref := (n*7919 + brand.offset) % 1_000_000
		barcode := seedEAN13(brand.prefix + fmt.Sprintf("%06d", ref))

		dollars := noun.lo + r.IntN(noun.hi-noun.lo+1)
		cents := []int{99, 99, 99, 49, 0, 95}[r.IntN(6)]
		price := dollars*100 + cents
		if cents == 0 {
			price = dollars * 100
		}

		sku := seedSKU(i)
		search := ProductSearchText(Product{SKU: sku, Name: name, Description: desc, Barcode: barcode})
		if err := b.add(sku, name, desc, cat.name, barcode, price, search); err != nil {
			return err
		}
	}
	return b.flush()
}

// ---- inventory ----

func (w *seedWriter) seedInventory(SeedSize) error {
	r := seedRand(seedStreamInventory)
	w.outOfStock = make([][]int32, len(w.stores))
	newest := SeedReference.Add(-time.Hour)
	oldest := SeedReference.Add(-21 * 24 * time.Hour)
	b := w.batch("inventory", "store_id", "sku", "on_hand", "reserved", "reorder_point", "updated_at")
	for si, st := range w.stores {
		for p := range w.productN {
			onHand := 0
			// About 9% of items are out of stock; the rest skew low.
			if r.IntN(1000) >= 90 {
				u := r.Float64()
				onHand = 1 + int(u*u*60)
				if onHand > 60 {
					onHand = 60
				}
			} else {
				w.outOfStock[si] = append(w.outOfStock[si], int32(p))
			}
			reserved := 0
			if onHand > 0 && r.IntN(100) < 15 {
				reserved = 1 + r.IntN(min(onHand, 4))
			}
			reorder := 3 + r.IntN(8)
			updated := seedMS(seedBetween(r, oldest, newest))
			if err := b.add(st.id, seedSKU(p), onHand, reserved, reorder, updated); err != nil {
				return err
			}
		}
	}
	return b.flush()
}

// ---- employees ----

type seedEmployee struct {
	id, oid, login, name, email string
	role                        Role
	store                       int // store index, -1 for head office
}

type seedPersona struct {
	login, name string
	role        Role
	store       int
}

// The personas the demo signs in as.
var seedPersonas = []seedPersona{
	{"avery", "Avery Johnson", RoleStoreAssociate, 0},
	{"blake", "Blake Chen", RoleStoreManager, 0},
	{"casey", "Casey Morgan", RoleStoreAssociate, 1},
	{"devon", "Devon Patel", RoleHeadOffice, -1},
}

var seedFirstNames = []string{
	"Aaliyah", "Aaron", "Abigail", "Adrian", "Aisha", "Alejandro", "Alex", "Alice", "Amara", "Andre",
	"Angela", "Anika", "Ben", "Bianca", "Brandon", "Carla", "Carlos", "Caroline", "Chloe", "Daniel",
	"Daniela", "David", "Diego", "Elena", "Eli", "Emily", "Emma", "Ethan", "Fatima", "Gabriel",
	"Grace", "Hana", "Hannah", "Hiroshi", "Isaac", "Isabel", "Jack", "Jamal", "James", "Jasmine",
	"Javier", "Jenna", "Jia", "Jordan", "Jose", "Julia", "Kai", "Karen", "Kenji", "Laila",
	"Leah", "Liam", "Lucas", "Lucia", "Maya", "Mei", "Mia", "Michael", "Miguel", "Mohammed",
	"Nadia", "Naomi", "Nathan", "Noah", "Olivia", "Omar", "Priya", "Rachel", "Rahul", "Riley",
	"Rosa", "Ryan", "Samuel", "Sara", "Sofia", "Sophie", "Tariq", "Theo", "Valentina", "Wei",
	"William", "Yara", "Yusuf", "Zoe",
}

var seedLastNames = []string{
	"Adams", "Ahmed", "Alvarez", "Anderson", "Bailey", "Baker", "Brooks", "Brown", "Campbell", "Castillo",
	"Clark", "Collins", "Cruz", "Davis", "Diaz", "Edwards", "Evans", "Fischer", "Flores", "Garcia",
	"Gomez", "Gonzalez", "Green", "Gupta", "Hall", "Harris", "Hernandez", "Hill", "Huang", "Ito",
	"Jackson", "Jensen", "Kaur", "Khan", "Kim", "King", "Lee", "Lewis", "Li", "Lopez",
	"Martin", "Martinez", "Mitchell", "Moore", "Murphy", "Nakamura", "Nelson", "Nguyen", "Novak", "Okafor",
	"Olsen", "Ortiz", "Park", "Parker", "Perez", "Phillips", "Reed", "Reyes", "Rivera", "Roberts",
	"Robinson", "Rodriguez", "Rossi", "Sanchez", "Santos", "Schmidt", "Scott", "Shah", "Silva", "Singh",
	"Smith", "Sullivan", "Tanaka", "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Walker", "Wang",
	"White", "Williams", "Wilson", "Wong", "Wright", "Young", "Zhang",
}

func (w *seedWriter) seedEmployees(SeedSize) error {
	r := seedRand(seedStreamEmployees)
	w.staff = make([][]string, len(w.stores))
	logins := map[string]bool{}
	add := func(login, name string, role Role, store int) {
		e := seedEmployee{
			id:    fmt.Sprintf("E%04d", len(w.employees)+1),
			oid:   SeedEmployeeOID(login),
			login: login, name: name, role: role, store: store,
			email: login + "@contoso.example",
		}
		logins[login] = true
		w.employees = append(w.employees, e)
		if store >= 0 {
			w.staff[store] = append(w.staff[store], e.id)
		}
	}
	for _, p := range seedPersonas {
		add(p.login, p.name, p.role, p.store)
	}
	// Fill every store up to one manager and two associates.
	for si := range w.stores {
		managers, associates := 0, 0
		for _, e := range w.employees {
			if e.store != si {
				continue
			}
			switch e.role {
			case RoleStoreManager:
				managers++
			case RoleStoreAssociate:
				associates++
			}
		}
		for i := 0; i < 3; i++ {
			role := RoleStoreAssociate
			if i == 0 {
				if managers > 0 {
					continue
				}
				role = RoleStoreManager
			} else if associates >= i {
				continue
			}
			first, last := seedOneOf(r, seedFirstNames), seedOneOf(r, seedLastNames)
			base := strings.ToLower(first + "." + last)
			login := base
			for n := 2; logins[login]; n++ {
				login = fmt.Sprintf("%s%d", base, n)
			}
			add(login, first+" "+last, role, si)
		}
	}
	b := w.batch("employees", "id", "oid", "login", "name", "email", "role", "store_id")
	for _, e := range w.employees {
		var store any
		if e.store >= 0 {
			store = w.stores[e.store].id
		}
		if err := b.add(e.id, e.oid, e.login, e.name, e.email, e.role, store); err != nil {
			return err
		}
	}
	return b.flush()
}

// ---- customers ----

type seedCustomer struct {
	id           string
	phone, email string
}

var seedAreaCodes = []string{"206", "206", "425", "425", "253", "360"}

func (w *seedWriter) seedCustomers(size SeedSize) error {
	r := seedRand(seedStreamCustomers)
	n := size.Customers
	w.customers = make([]seedCustomer, 0, n)
	// Customers were first recorded before any seeded backorder.
	newest := SeedReference.Add(-(seedBackorderDays + 5) * 24 * time.Hour)
	oldest := SeedReference.Add(-3 * 365 * 24 * time.Hour)
	b := w.batch("customers", "id", "name", "phone", "email", "search_text", "created_at")
	for range n {
		id := seedUUID(r)
		first, last := seedOneOf(r, seedFirstNames), seedOneOf(r, seedLastNames)
		name := first + " " + last
		phone := fmt.Sprintf("(%s) 555-%04d", seedOneOf(r, seedAreaCodes), 100+r.IntN(9900))
		var email string
		lf, ll := strings.ToLower(first), strings.ToLower(last)
		domain := []string{"example.com", "example.com", "example.org"}[r.IntN(3)]
		switch r.IntN(5) {
		case 0:
			email = lf + "." + ll + "@" + domain
		case 1:
			email = lf[:1] + ll + "@" + domain
		case 2:
			email = fmt.Sprintf("%s.%s%d@%s", lf, ll, 1+r.IntN(99), domain)
		case 3:
			email = fmt.Sprintf("%s%s%d@%s", lf, ll[:1], 10+r.IntN(90), domain)
		default:
			email = lf + "_" + ll + "@" + domain
		}
		// Some customers left only one way to reach them.
		switch k := r.IntN(100); {
		case k < 8:
			email = ""
		case k < 12:
			phone = ""
		}
		created := seedMS(seedBetween(r, oldest, newest))
		search := CustomerSearchText(name, email, phone)
		w.customers = append(w.customers, seedCustomer{id: id, phone: phone, email: email})
		if err := b.add(id, name, phone, email, search, created); err != nil {
			return err
		}
	}
	return b.flush()
}

// ---- backorders ----

var seedBackorderNotes = []string{
	"Customer prefers the blue one if it comes in.",
	"Needs it before the weekend.",
	"Gift: please call before 5 pm.",
	"Will pick up at this store.",
	"Asked whether a nearby store can transfer one.",
	"Happy to take the display model.",
	"Repeat customer, asked twice already.",
	"Wants two if the price drops.",
	"Call on the mobile number, not email.",
	"Hold at customer service when it arrives.",
}

var seedNotifiedNotes = map[ContactPreference]string{
	"EMAIL": "Customer emailed: stock arrived.",
	"SMS":   "Customer texted: stock arrived.",
	"PHONE": "Called the customer: stock arrived.",
}

var seedCancelNotes = []string{
	"Customer no longer needs it.",
	"Customer bought it elsewhere.",
	"Product discontinued by the supplier.",
	"Customer did not respond to the notification.",
	"Customer chose a different model.",
}

func (w *seedWriter) seedBackorders(size SeedSize) error {
	r := seedRand(seedStreamBackorders)
	n := size.Backorders
	statuses := []BackorderStatus{StatusOpen, StatusNotified, StatusFulfilled, StatusCancelled}
	statusWeights := []int{45, 20, 25, 10}
	start := SeedReference.Add(-seedBackorderDays * 24 * time.Hour)
	latest := SeedReference.Add(-time.Hour)

	bo := w.batch("backorders", "id", "store_id", "sku", "customer_id", "quantity",
		"contact_preference", "status", "note", "recorded_by", "created_at", "updated_at")
	type change struct {
		status   BackorderStatus
		note, by string
		at       int64
	}
	hist := w.batch("backorder_status_changes", "backorder_id", "seq", "status", "note", "changed_by", "changed_at")
	// Histories go in after all backorders so their rows exist first.
	type pending struct {
		id      string
		changes []change
	}
	all := make([]pending, 0, n)

	for range n {
		id := seedUUID(r)
		si := r.IntN(len(w.stores))
		staff := w.staff[si]
		status := statuses[seedPick(r, statusWeights)]

		// Open backorders are mostly for items the store has none of.
		var p int
		if oos := w.outOfStock[si]; status == StatusOpen && len(oos) > 0 && r.IntN(100) < 85 {
			p = int(oos[r.IntN(len(oos))])
		} else {
			p = r.IntN(w.productN)
		}
		cust := w.customers[r.IntN(len(w.customers))]
		qty := 1
		switch k := r.IntN(100); {
		case k >= 97:
			qty = 4 + r.IntN(3)
		case k >= 92:
			qty = 3
		case k >= 75:
			qty = 2
		}
		var contact ContactPreference
		switch {
		case cust.email == "":
			contact = []ContactPreference{ContactPhone, ContactSMS}[r.IntN(2)]
		case cust.phone == "":
			contact = ContactEmail
		default:
			contact = []ContactPreference{ContactEmail, ContactSMS, ContactPhone}[seedPick(r, []int{50, 30, 20})]
		}
		note := ""
		if r.IntN(100) < 30 {
			note = seedOneOf(r, seedBackorderNotes)
		}
		recordedBy := staff[r.IntN(len(staff))]
		created := seedBetween(r, start, latest)

		path := []BackorderStatus{StatusOpen}
		switch status {
		case StatusNotified:
			path = append(path, StatusNotified)
		case StatusFulfilled:
			path = append(path, StatusNotified, StatusFulfilled)
		case StatusCancelled:
			if r.IntN(100) < 30 {
				path = append(path, StatusNotified)
			}
			path = append(path, StatusCancelled)
		}

		changes := make([]change, 0, len(path))
		// Like RecordBackorder, the creation entry carries no note.
		changes = append(changes, change{StatusOpen, "", recordedBy, seedMS(created)})
		at := created
		for k := 1; k < len(path); k++ {
			// Each step follows the previous one by ten minutes to about ten
			// days, always before the reference date.
			room := SeedReference.Sub(at) / time.Duration(len(path)-k+1)
			at = at.Add(10*time.Minute + seedDuration(r, min(room, 10*24*time.Hour)-10*time.Minute))
			var cnote string
			switch path[k] {
			case StatusNotified:
				cnote = seedNotifiedNotes[contact]
			case StatusFulfilled:
				cnote = "Customer picked it up."
			case StatusCancelled:
				cnote = seedOneOf(r, seedCancelNotes)
			}
			changes = append(changes, change{path[k], cnote, staff[r.IntN(len(staff))], seedMS(at)})
		}
		updated := changes[len(changes)-1].at
		if err := bo.add(id, w.stores[si].id, seedSKU(p), cust.id, qty, contact, status, note,
			recordedBy, seedMS(created), updated); err != nil {
			return err
		}
		all = append(all, pending{id, changes})
	}
	if err := bo.flush(); err != nil {
		return err
	}
	for _, pb := range all {
		for k, c := range pb.changes {
			if err := hist.add(pb.id, k+1, c.status, c.note, c.by, c.at); err != nil {
				return err
			}
		}
	}
	return hist.flush()
}

// ---- events and RSVPs ----

type seedEventDef struct {
	id, title, description, location string
	dayOffset                        int // days from SeedReference
	startHourUTC, hours              int
	capacity                         int
}

// Starts are given in UTC; 17:00 UTC is 9 am in Seattle in winter.
var seedEventDefs = []seedEventDef{
	{"EV001", "Back-to-School Readiness Review", "What sold, what ran out and what we learned from the back-to-school season.", "Head Office, Seattle - Rainier Room", -70, 17, 2, 60},
	{"EV002", "Fall Garden Clearance Huddle", "Store teams share how they moved summer garden stock before winter.", "Online (Teams)", -38, 18, 1, 200},
	{"EV003", "Inventory Count Workshop", "Hands-on practice with the handheld scanners before the year-end count.", "Contoso Bellevue Square - Training Room", -12, 17, 3, 30},
	{"EV004", "Holiday Season Kickoff", "Plans, staffing and promotions for the holiday season, with Q&A from head office.", "Head Office, Seattle - Auditorium", 30, 17, 2, 250},
	{"EV005", "Smart Home Product Workshop", "Learn to demo and troubleshoot smart plugs, thermostats and doorbells with the vendor team.", "Contoso Redmond Town Center - Demo Floor", 38, 18, 3, 12},
	{"EV006", "Holiday Volunteer Day", "Pack and deliver gifts with our community partners around Puget Sound.", "Seattle Center, Seattle", 45, 17, 6, 80},
	{"EV007", "Year-End Town Hall", "Our year in review and the plan for next year, with the leadership team.", "Online (Teams)", 60, 18, 1, 500},
	{"EV008", "Store Safety and First Aid Training", "Certified first-aid and ladder-safety training; counts toward annual compliance.", "Contoso Kent Station - Training Room", 95, 16, 4, 20},
	{"EV009", "Regional Managers' Summit", "Two-day planning session for store managers and head office.", "Hotel Bellevue - Ballroom", 130, 16, 8, 40},
	{"EV010", "Spring Garden Launch", "Preview the spring garden range and the new raised-bed displays.", "Contoso Woodinville - Garden Center", 150, 17, 2, 60},
	{"EV011", "Customer Service Excellence Workshop", "Practical techniques for handling backorders, returns and tricky conversations.", "Contoso Seattle Downtown - Community Room", 200, 17, 3, 25},
	{"EV012", "Summer Team Picnic", "Food, games and awards for everyone and their families.", "Marymoor Park, Redmond", 260, 18, 5, 300},
}

func (w *seedWriter) seedEvents(SeedSize) error {
	eb := w.batch("events", "id", "title", "description", "location", "starts_at", "ends_at", "capacity")
	day := func(offset, hour int) time.Time {
		return SeedReference.AddDate(0, 0, offset).Add(time.Duration(hour) * time.Hour)
	}
	for _, e := range seedEventDefs {
		starts := day(e.dayOffset, e.startHourUTC)
		ends := starts.Add(time.Duration(e.hours) * time.Hour)
		if err := eb.add(e.id, e.title, e.description, e.location, seedMS(starts), seedMS(ends), e.capacity); err != nil {
			return err
		}
	}
	if err := eb.flush(); err != nil {
		return err
	}

	// Personas' answers are fixed so the demo has a known starting point;
	// each persona also has upcoming events left to answer.
	fixed := []struct{ event, login, response string }{
		{"EV003", "avery", "GOING"},
		{"EV004", "avery", "GOING"},
		{"EV006", "avery", "MAYBE"},
		{"EV004", "blake", "GOING"},
		{"EV009", "blake", "GOING"},
		{"EV005", "casey", "DECLINED"},
		{"EV007", "devon", "GOING"},
		{"EV009", "devon", "MAYBE"},
	}
	personaLogins := map[string]bool{}
	for _, p := range seedPersonas {
		personaLogins[p.login] = true
	}
	empByLogin := map[string]seedEmployee{}
	for _, e := range w.employees {
		empByLogin[e.login] = e
	}

	r := seedRand(seedStreamRSVPs)
	rb := w.batch("rsvps", "event_id", "employee_id", "response", "responded_at")
	for _, e := range seedEventDefs {
		starts := day(e.dayOffset, e.startHourUTC)
		// Answers come in the three weeks before the event, never after the reference date.
		until := starts.Add(-time.Hour)
		if until.After(SeedReference) {
			until = SeedReference
		}
		from := until.Add(-21 * 24 * time.Hour)
		going := 0
		for _, f := range fixed {
			if f.event == e.id {
				if f.response == "GOING" {
					going++
				}
				if err := rb.add(e.id, empByLogin[f.login].id, f.response, seedMS(seedBetween(r, from, until))); err != nil {
					return err
				}
			}
		}
		for _, emp := range w.employees {
			if personaLogins[emp.login] || r.IntN(100) >= 30 {
				continue
			}
			resp := []string{"GOING", "MAYBE", "DECLINED"}[seedPick(r, []int{60, 25, 15})]
			if resp == "GOING" {
				if going >= e.capacity-2 { // leave a couple of places for the demo
					resp = "MAYBE"
				} else {
					going++
				}
			}
			if err := rb.add(e.id, emp.id, resp, seedMS(seedBetween(r, from, until))); err != nil {
				return err
			}
		}
	}
	return rb.flush()
}
