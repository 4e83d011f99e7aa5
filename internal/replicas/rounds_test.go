package replicas

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSyncsShareMarkers drives the marker rounds with a transport the test
// delivers by hand (the real buses are tested against Redis and PostgreSQL
// in replicas_test.go): every Sync returns only after a marker sent after it
// began, and Syncs that arrive while a marker is in flight share the next one.
func TestSyncsShareMarkers(t *testing.T) {
	f := newFanout(nil)
	sent := make(chan string, 8)
	var sends atomic.Int64
	send := func(_ context.Context, token string) error {
		sends.Add(1)
		sent <- token
		return nil
	}
	ctx := context.Background()
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	next := func() string {
		select {
		case tok := <-sent:
			return tok
		case <-time.After(time.Until(deadline)):
			t.Fatal("no marker sent before the test's deadline")
			return ""
		}
	}

	first := make(chan error, 1)
	go func() { first <- f.await(ctx, send) }()
	marker1 := next() // in flight, not delivered yet

	const later = 20
	var returned atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, later)
	for range later {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.await(ctx, send)
			returned.Add(1)
			errs <- err
		}()
	}
	// Wait until all of them have joined the round after marker 1.
	for {
		f.rounds.Lock()
		n := 0
		if f.rounds.next != nil {
			n = f.rounds.next.waiters
		}
		f.rounds.Unlock()
		if n == later {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Syncs joined the next round before the deadline", n, later)
		}
		time.Sleep(time.Millisecond)
	}

	f.arrived(marker1)
	if err := <-first; err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	marker2 := next() // the later Syncs' shared marker
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d Syncs that began after marker 1 was sent returned on it", n)
	}
	f.arrived(marker2)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("later Sync: %v", err)
		}
	}
	if n := sends.Load(); n != 2 {
		t.Errorf("%d markers sent for 1 + %d Syncs, want 2 (one per round)", n, later)
	}
	select {
	case tok := <-sent:
		t.Errorf("an extra marker %q was sent with no Sync waiting", tok)
	default:
	}
}
