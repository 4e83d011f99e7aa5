package store

import (
	"context"
	"errors"
	"fmt"
)

const eventCols = `id, title, description, location, starts_at, ends_at, capacity`

// ListEvents returns events ordered by start time, then id.
func (s *DB) ListEvents(ctx context.Context, f EventFilter, page Page) (Paged[Event], error) {
	n, err := pageSize(page)
	if err != nil {
		return Paged[Event]{}, err
	}
	var w where
	if !f.EndsAfter.IsZero() {
		w.add(`ends_at > ?`, Millis(f.EndsAfter))
	}
	var c timeCursor
	if ok, err := decodeCursor(page.After, &c); err != nil {
		return Paged[Event]{}, err
	} else if ok {
		w.add(`(starts_at, id) > (?, ?)`, c.T, c.ID)
	}
	var rows []Event
	q := `SELECT ` + eventCols + ` FROM events` + w.String() + ` ORDER BY starts_at, id LIMIT ?`
	if err := s.selectContext(ctx, &rows, q, append(w.args, n+1)...); err != nil {
		return Paged[Event]{}, fmt.Errorf("list events: %w", err)
	}
	return finishPage(rows, n, func(x Event) any { return timeCursor{T: x.StartsAtMS, ID: x.ID} }), nil
}

// EventsByID loads events in one statement; unknown ids are absent.
func (s *DB) EventsByID(ctx context.Context, ids []string) (map[string]Event, error) {
	return byKeys(ctx, s, "events by id", `SELECT `+eventCols+` FROM events`, "id", ids, func(r Event) string { return r.ID })
}

// AttendeeCounts counts GOING answers per event in one statement; events
// nobody is going to are absent (count 0).
func (s *DB) AttendeeCounts(ctx context.Context, eventIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(eventIDs))
	if len(eventIDs) == 0 {
		return out, nil
	}
	cond, ids := s.oneOf("event_id", uniq(eventIDs))
	q := `SELECT event_id, COUNT(*) AS n FROM rsvps WHERE response = ? AND ` + cond + ` GROUP BY event_id`
	args := append([]any{ResponseGoing}, ids...)
	var rows []struct {
		EventID string `db:"event_id"`
		N       int    `db:"n"`
	}
	if err := s.selectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("attendee counts: %w", err)
	}
	for _, r := range rows {
		out[r.EventID] = r.N
	}
	return out, nil
}

const rsvpCols = `event_id, employee_id, response, responded_at`

// RSVPsOf returns one employee's answers to the given events, keyed by event
// id, in one statement; unanswered events are absent.
func (s *DB) RSVPsOf(ctx context.Context, employeeID string, eventIDs []string) (map[string]RSVP, error) {
	out := make(map[string]RSVP, len(eventIDs))
	if len(eventIDs) == 0 {
		return out, nil
	}
	cond, ids := s.oneOf("event_id", uniq(eventIDs))
	q := `SELECT ` + rsvpCols + ` FROM rsvps WHERE employee_id = ? AND ` + cond
	args := append([]any{employeeID}, ids...)
	var rows []RSVP
	if err := s.selectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("rsvps: %w", err)
	}
	for _, r := range rows {
		out[r.EventID] = r
	}
	return out, nil
}

// RSVP records (or changes) an employee's answer to an event. GOING is
// refused for an event that has ended, and for a full event unless the
// employee already holds a place.
func (s *DB) RSVP(ctx context.Context, eventID, employeeID string, response RSVPResponse) (RSVP, error) {
	if !response.Valid() {
		return RSVP{}, fmt.Errorf("response must be GOING, MAYBE or DECLINED, got %q: %w", response, ErrInvalidInput)
	}
	r := RSVP{EventID: eventID, EmployeeID: employeeID, Response: response}
	err := s.inTx(ctx, func(tx *txn) error {
		if response == ResponseGoing {
			// A no-op write takes the event's row lock in PostgreSQL so that
			// concurrent GOING answers are counted one after the other and
			// cannot overbook; SQLite transactions already hold the write lock.
			res, err := tx.execContext(ctx, `UPDATE events SET capacity = capacity WHERE id = ?`, eventID)
			if err != nil {
				return fmt.Errorf("lock event: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("lock event: %w", err)
			} else if n == 0 {
				return fmt.Errorf("event %s: %w", eventID, ErrNotFound)
			}
		}
		var ev struct {
			EndsAt    int64 `db:"ends_at"`
			Capacity  int   `db:"capacity"`
			Going     int   `db:"going"`
			Employees int   `db:"employees"`
		}
		// Everything the checks need in one round trip: the event, the GOING
		// count without this employee (so a repeated GOING never counts
		// itself) and whether the employee exists.
		err := tx.getContext(ctx, &ev, `SELECT ends_at, capacity,
			(SELECT COUNT(*) FROM rsvps WHERE event_id = e.id AND response = ? AND employee_id <> ?) AS going,
			(SELECT COUNT(*) FROM employees WHERE id = ?) AS employees
			FROM events e WHERE id = ?`, ResponseGoing, employeeID, employeeID, eventID)
		switch {
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("event %s: %w", eventID, ErrNotFound)
		case err != nil:
			return fmt.Errorf("load event: %w", err)
		case ev.Employees == 0:
			return fmt.Errorf("employee %s: %w", employeeID, ErrNotFound)
		}
		now := nowMillis()
		if response == ResponseGoing {
			if ev.EndsAt <= now {
				return fmt.Errorf("event %s has ended; cannot answer GOING: %w", eventID, ErrConflict)
			}
			if ev.Capacity > 0 && ev.Going >= ev.Capacity {
				return fmt.Errorf("event %s is full (%d places): %w", eventID, ev.Capacity, ErrConflict)
			}
		}
		r.RespondedAtMS = now
		_, err = tx.execContext(ctx, `INSERT INTO rsvps (`+rsvpCols+`) VALUES (?, ?, ?, ?)
			ON CONFLICT (event_id, employee_id) DO UPDATE
			SET response = excluded.response, responded_at = excluded.responded_at`,
			r.EventID, r.EmployeeID, r.Response, r.RespondedAtMS)
		if err != nil {
			return fmt.Errorf("save rsvp: %w", err)
		}
		return nil
	})
	if err != nil {
		return RSVP{}, err
	}
	return r, nil
}
