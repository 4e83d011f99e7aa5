package replicas

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Postgres carries invalidations between replicas that share a PostgreSQL
// database and no Redis, by LISTEN/NOTIFY (cache.Bus, cache.Syncer). The
// channel is named after the schema, so deployments in other schemas of
// the same database (and tests) do not hear each other.
type Postgres struct {
	fanout
	url     string
	db      *sql.DB // NOTIFY
	channel string
	self    string
	cancel  context.CancelFunc
	done    chan struct{}
}

// OpenPostgres listens for invalidations on the database at url (the
// service's --database-url). Close it to stop.
func OpenPostgres(ctx context.Context, url string, log *slog.Logger) (*Postgres, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// NOTIFY is a short statement; two connections are plenty.
	db.SetMaxOpenConns(2)
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	sum := sha256.Sum256([]byte(schema))
	p := &Postgres{fanout: newFanout(log), url: url, db: db, done: make(chan struct{})}
	p.channel = "middletier_invalidate_" + hex.EncodeToString(sum[:6])
	p.self = p.channel + "_" + p.id
	conn, err := p.connect(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	go p.listen(lctx, conn)
	return p, nil
}

// connect opens the listening connection; LISTEN holds it for good.
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	for _, ch := range []string{p.channel, p.self} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("listen on %s: %w", ch, err)
		}
	}
	return conn, nil
}

// listen reads notifications in order until Close, reconnecting when the
// connection drops; what was published meanwhile is lost, so every cached
// answer is dropped then.
func (p *Postgres) listen(ctx context.Context, conn *pgx.Conn) {
	defer close(p.done)
	defer func() { conn.Close(context.Background()) }()
	for {
		n, err := conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			if n.Channel == p.self {
				p.arrived(n.Payload)
			} else {
				p.deliver(n.Payload)
			}
			continue
		}
		p.lost(err)
		conn.Close(context.Background())
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			if conn, err = p.connect(ctx); err == nil {
				break
			}
			p.log.Warn("invalidation bus: reconnecting to postgres", "err", err)
		}
		// Drop again whatever was cached while LISTEN was away.
		p.back()
	}
}

// Publish applies tags here and notifies every other replica.
func (p *Postgres) Publish(ctx context.Context, tags []string) error {
	p.local.Publish(ctx, tags)
	b, err := p.encode(tags)
	if err != nil {
		return err
	}
	_, err = p.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, p.channel, string(b))
	return err
}

// Sync returns once every invalidation committed before the call has been
// applied here: PostgreSQL delivers notifications in commit order, and the
// marker commits after them.
func (p *Postgres) Sync(ctx context.Context) error {
	return p.await(ctx, func(ctx context.Context, token string) error {
		_, err := p.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, p.self, token)
		return err
	})
}

// Close stops listening and closes the connections.
func (p *Postgres) Close() error {
	p.cancel()
	<-p.done
	return p.db.Close()
}
