-- +goose Up
-- Timestamps are BIGINT unix milliseconds (UTC) so that one migration and one
-- query text serve SQLite and PostgreSQL alike; the store converts them.

CREATE TABLE stores (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    city        TEXT NOT NULL,
    address     TEXT NOT NULL,
    latitude    DOUBLE PRECISION NOT NULL,
    longitude   DOUBLE PRECISION NOT NULL,
    phone       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE products (
    sku          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL,
    barcode      TEXT NOT NULL UNIQUE,
    price_cents  INTEGER NOT NULL CHECK (price_cents >= 0),
    search_text  TEXT NOT NULL
);
CREATE INDEX products_category ON products (category);

CREATE TABLE inventory (
    store_id       TEXT NOT NULL REFERENCES stores (id),
    sku            TEXT NOT NULL REFERENCES products (sku),
    on_hand        INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved       INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    reorder_point  INTEGER NOT NULL DEFAULT 0 CHECK (reorder_point >= 0),
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (store_id, sku)
);
CREATE INDEX inventory_sku ON inventory (sku);

CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    phone               TEXT NOT NULL DEFAULT '',
    email               TEXT NOT NULL DEFAULT '',
    search_text         TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX customers_name ON customers (name, id);

CREATE TABLE employees (
    id        TEXT PRIMARY KEY,
    oid       TEXT NOT NULL UNIQUE,
    login     TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    email     TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('STORE_ASSOCIATE', 'STORE_MANAGER', 'HEAD_OFFICE')),
    store_id  TEXT REFERENCES stores (id)
);

CREATE TABLE backorders (
    id                  TEXT PRIMARY KEY,
    store_id            TEXT NOT NULL REFERENCES stores (id),
    sku                 TEXT NOT NULL REFERENCES products (sku),
    customer_id         TEXT NOT NULL REFERENCES customers (id),
    quantity            INTEGER NOT NULL CHECK (quantity > 0),
    contact_preference  TEXT NOT NULL CHECK (contact_preference IN ('EMAIL', 'PHONE', 'SMS')),
    status              TEXT NOT NULL CHECK (status IN ('OPEN', 'NOTIFIED', 'FULFILLED', 'CANCELLED')),
    note                TEXT NOT NULL DEFAULT '',
    recorded_by         TEXT REFERENCES employees (id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX backorders_store ON backorders (store_id, created_at, id);
CREATE INDEX backorders_store_status ON backorders (store_id, status, created_at, id);
CREATE INDEX backorders_customer ON backorders (customer_id, created_at, id);
-- The unfiltered head-office list is ordered newest first too.
CREATE INDEX backorders_created ON backorders (created_at, id);

CREATE TABLE backorder_status_changes (
    backorder_id  TEXT NOT NULL REFERENCES backorders (id),
    seq           INTEGER NOT NULL CHECK (seq > 0),
    status        TEXT NOT NULL CHECK (status IN ('OPEN', 'NOTIFIED', 'FULFILLED', 'CANCELLED')),
    note          TEXT NOT NULL DEFAULT '',
    changed_by    TEXT REFERENCES employees (id),
    changed_at    BIGINT NOT NULL,
    PRIMARY KEY (backorder_id, seq)
);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    capacity     INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0), -- 0 = unlimited
    CHECK (ends_at >= starts_at)
);
CREATE INDEX events_starts ON events (starts_at, id);

CREATE TABLE rsvps (
    event_id      TEXT NOT NULL REFERENCES events (id),
    employee_id   TEXT NOT NULL REFERENCES employees (id),
    response      TEXT NOT NULL CHECK (response IN ('GOING', 'MAYBE', 'DECLINED')),
    responded_at  BIGINT NOT NULL,
    PRIMARY KEY (event_id, employee_id)
);

-- +goose Down
DROP TABLE rsvps;
DROP TABLE events;
DROP TABLE backorder_status_changes;
DROP TABLE backorders;
DROP TABLE employees;
DROP TABLE customers;
DROP TABLE inventory;
DROP TABLE products;
DROP TABLE stores;
