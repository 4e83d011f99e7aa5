package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The baseline server: what a team would write by hand, apart from the
// product and sharing none of its code, over the same database. It runs as
// its own process (this binary re-executed with MIDDLETIER_BENCH_ROLE=baseline)
// so that its CPU per request is read from /proc exactly like middletier's.
//
//	GET /perrow?store=S001&n=20  a page of backorders, then one query per row for its customer and one for its product (N+1)
//	GET /join?store=S001&n=20    the same page in one JOIN, each row encoded straight to the response
//	GET /bytes                   the bytes of --bytes-file with --bytes-content-type (a cached GET at its cheapest)
//	GET /stats                   {"statements": N}: SQL statements sent so far
//	GET /healthz                 ok
type baseline struct {
	db         *sql.DB
	sqlite     bool
	statements atomic.Int64
	body       []byte
	bodyType   string
}

func serveBaseline(ctx context.Context, args []string, stdout io.Writer) error {
	var addr, dbURL, sqliteFile, bytesFile, bytesType string
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.StringVar(&addr, "addr", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&dbURL, "database-url", "", "PostgreSQL URL")
	fs.StringVar(&sqliteFile, "sqlite", "", "SQLite file (when no database-url)")
	fs.StringVar(&bytesFile, "bytes-file", "", "file whose bytes GET /bytes writes")
	fs.StringVar(&bytesType, "bytes-content-type", "application/json", "Content-Type of GET /bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := &baseline{bodyType: bytesType}
	var err error
	if dbURL != "" {
		b.db, err = sql.Open("pgx", dbURL)
		// The service's default pool size on PostgreSQL.
		b.db.SetMaxOpenConns(20)
		b.db.SetMaxIdleConns(20)
	} else {
		b.sqlite = true
		// The service's pragmas and pool size on SQLite, read-only here.
		b.db, err = sql.Open("sqlite", "file:"+sqliteFile+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
		b.db.SetMaxOpenConns(8)
		b.db.SetMaxIdleConns(8)
	}
	if err != nil {
		return err
	}
	defer b.db.Close()
	if bytesFile != "" {
		if b.body, err = os.ReadFile(bytesFile); err != nil {
			return err
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /perrow", b.perRow)
	mux.HandleFunc("GET /join", b.join)
	mux.HandleFunc("GET /bytes", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", b.bodyType)
		_, _ = w.Write(b.body)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]int64{"statements": b.statements.Load()})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(stdout, "baseline listening on", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// q writes PostgreSQL's $n placeholders as SQLite's ?n.
func (b *baseline) q(query string) string {
	if b.sqlite {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}

type baseCustomer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

type baseProduct struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
}

type baseBackorder struct {
	ID                string       `json:"id"`
	Status            string       `json:"status"`
	Quantity          int          `json:"quantity"`
	ContactPreference string       `json:"contactPreference"`
	Note              string       `json:"note,omitempty"`
	CreatedAt         time.Time    `json:"createdAt"`
	UpdatedAt         time.Time    `json:"updatedAt"`
	Customer          baseCustomer `json:"customer"`
	Product           baseProduct  `json:"product"`
}

func pageArgs(r *http.Request) (string, int, error) {
	store := r.URL.Query().Get("store")
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if store == "" || err != nil || n < 1 || n > 100 {
		return "", 0, fmt.Errorf("want ?store=ID&n=1..100")
	}
	return store, n, nil
}

// perRow is the obvious hand-written endpoint: the page, then each row's
// customer and product one query at a time.
func (b *baseline) perRow(w http.ResponseWriter, r *http.Request) {
	store, n, err := pageArgs(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	b.statements.Add(1)
	rows, err := b.db.QueryContext(ctx, b.q(`SELECT id, sku, customer_id, quantity, contact_preference, status, note, created_at, updated_at
		FROM backorders WHERE store_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`), store, n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var page []baseBackorder
	for rows.Next() {
		var bo baseBackorder
		var created, updated int64
		if err := rows.Scan(&bo.ID, &bo.Product.SKU, &bo.Customer.ID, &bo.Quantity, &bo.ContactPreference, &bo.Status, &bo.Note, &created, &updated); err != nil {
			rows.Close()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		bo.CreatedAt, bo.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		page = append(page, bo)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for i := range page {
		bo := &page[i]
		b.statements.Add(2)
		if err := b.db.QueryRowContext(ctx, b.q(`SELECT name, phone, email FROM customers WHERE id = $1`), bo.Customer.ID).
			Scan(&bo.Customer.Name, &bo.Customer.Phone, &bo.Customer.Email); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if err := b.db.QueryRowContext(ctx, b.q(`SELECT name FROM products WHERE sku = $1`), bo.Product.SKU).Scan(&bo.Product.Name); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"value": page})
}

// join is the limit: one statement, each row written as it is read.
func (b *baseline) join(w http.ResponseWriter, r *http.Request) {
	store, n, err := pageArgs(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.statements.Add(1)
	rows, err := b.db.QueryContext(r.Context(), b.q(`SELECT b.id, b.quantity, b.contact_preference, b.status, b.note, b.created_at, b.updated_at,
			c.id, c.name, c.phone, c.email, p.sku, p.name
		FROM backorders b JOIN customers c ON c.id = b.customer_id JOIN products p ON p.sku = b.sku
		WHERE b.store_id = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT $2`), store, n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_, _ = io.WriteString(w, `{"value":[`)
	for i := 0; rows.Next(); i++ {
		var bo baseBackorder
		var created, updated int64
		if err := rows.Scan(&bo.ID, &bo.Quantity, &bo.ContactPreference, &bo.Status, &bo.Note, &created, &updated,
			&bo.Customer.ID, &bo.Customer.Name, &bo.Customer.Phone, &bo.Customer.Email, &bo.Product.SKU, &bo.Product.Name); err != nil {
			panic(http.ErrAbortHandler) // the answer has begun: cut it rather than send a wrong one
		}
		bo.CreatedAt, bo.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		_ = enc.Encode(bo)
	}
	if rows.Err() != nil {
		panic(http.ErrAbortHandler)
	}
	_, _ = io.WriteString(w, "]}\n")
}
