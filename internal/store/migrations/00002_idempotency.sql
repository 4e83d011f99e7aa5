-- +goose Up
-- One row per (user, operation, idempotency key): the first request claims it
-- ('running'), stores its answer when it ends ('done'), and every retry
-- replays that answer. Times are BIGINT unix milliseconds like the rest of
-- the schema. locked_until bounds how long a claim whose request died with
-- its replica blocks retries; expires_at is when the replay may be forgotten.

CREATE TABLE idempotency_keys (
    user_id       TEXT    NOT NULL,
    operation     TEXT    NOT NULL,
    idem_key      TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('running', 'done')),
    status        INTEGER NOT NULL DEFAULT 0,
    body          TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    locked_until  BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    PRIMARY KEY (user_id, operation, idem_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
