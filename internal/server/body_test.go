package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/upstream/cached/cachedtest"
)

// bodyServer is the whole HTTP surface on a real loopback listener, with
// the settings tune changes, signed in as a head-office employee of a fake
// directory; it returns the listener's address and a valid token.
func bodyServer(t *testing.T, tune func(*config.Config)) (string, string) {
	t.Helper()
	cfg := config.Defaults()
	if tune != nil {
		tune(&cfg)
	}
	db := storetest.SQLite(t)
	log := slog.New(slog.DiscardHandler)
	dev, authn := devAuth(t, fakeEmployees{"oid-hq": {ID: "E-HQ", OID: "oid-hq", Login: "hq", Role: store.RoleHeadOffice}})
	up := cachedtest.Start(t, cachedtest.Options{})
	h, _ := graphtest.Handler(t, cfg, db, up.Sources, server.Deps{Log: log, Ready: db,
		Authenticate: authn.Middleware(server.WriteError)})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s := &testServer{Dev: dev}
	return ts.Listener.Addr().String(), s.Mint(t, "oid-hq")
}

// waitUntil is when a test stops waiting for answers: before the test's own
// deadline, so that a server that never answers fails with a message.
func waitUntil(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-time.Until(d) / 10)
	}
	return time.Now().Add(time.Minute)
}

// rawUpload is one POST /graphql on its own connection, written by hand so
// that the test decides how much of the body goes out and when.
type rawUpload struct {
	conn   net.Conn
	body   []byte
	answer chan rawAnswer
}

type rawAnswer struct {
	status     int
	retryAfter string
	code       string
	err        error
}

// startUpload dials addr, sends the request line and headers of a POST
// /graphql declaring len(body), then the first `first` bytes of the body,
// and reads the answer in the background. When more is closed (or nil,
// which means at once) it sends the rest, 32 KiB at a time, until the
// server stops reading.
func startUpload(t *testing.T, addr, token string, body []byte, first int, more <-chan struct{}) *rawUpload {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(waitUntil(t)); err != nil {
		t.Fatal(err)
	}
	u := &rawUpload{conn: conn, body: body, answer: make(chan rawAnswer, 1)}
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST /graphql HTTP/1.1\r\nHost: middletier.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	if token != "" {
		fmt.Fprintf(&head, "Authorization: Bearer %s\r\n", token)
	}
	head.WriteString("\r\n")
	go func() {
		if _, err := conn.Write(head.Bytes()); err != nil {
			return
		}
		if _, err := conn.Write(body[:first]); err != nil {
			return
		}
		if more != nil {
			<-more
		}
		for off := first; off < len(body); off += 32 << 10 {
			// A write fails once the server has answered and closed the
			// connection: the rest of the body is not wanted.
			if _, err := conn.Write(body[off:min(off+32<<10, len(body))]); err != nil {
				return
			}
		}
	}()
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			u.answer <- rawAnswer{err: err}
			return
		}
		var b struct{ Error struct{ Code string } }
		raw, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(raw, &b)
		res.Body.Close()
		u.answer <- rawAnswer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), code: b.Error.Code}
		conn.Close()
	}()
	return u
}

// paddedQuery is a valid GraphQL request body of exactly size bytes.
func paddedQuery(size int) []byte {
	const head, tail = `{"query":"{ __typename }","pad":"`, `"}`
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

// allocated is how many heap bytes the process has allocated since it
// started: unlike the heap's size it does not depend on when the garbage
// collector ran, so a difference measures what a piece of work cost.
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// vmRSS is the process's resident set in bytes from /proc, or 0 where
// there is no /proc.
func vmRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestUnauthenticatedUploadsCostNoBodies: 200 connections without a token
// each start uploading a body of the largest accepted size; every one is
// refused with 401 without its body being read, so the memory they cost is
// a small fraction of the bodies' 800 MiB. Reading the bodies before
// checking the token, as the service once did, allocates all of it.
func TestUnauthenticatedUploadsCostNoBodies(t *testing.T) {
	const conns = 200
	addr, _ := bodyServer(t, nil)
	size := int(config.Defaults().HTTP.MaxBodyBytes)
	body := paddedQuery(size)
	// Bodies not read cost nothing; what remains is each connection's
	// buffers and goroutines on both sides (a few tens of KiB).
	const maxAllocated, maxRSSGrowth = 48 << 20, 96 << 20

	rssBefore, allocBefore := vmRSS(), allocated()
	uploads := make([]*rawUpload, conns)
	for i := range uploads {
		uploads[i] = startUpload(t, addr, "", body, 64<<10, nil)
	}
	statuses := map[int]int{}
	for _, u := range uploads {
		a := <-u.answer
		if a.err != nil {
			t.Fatalf("no answer: %v (the server waits for the body before checking the token?)", a.err)
		}
		statuses[a.status]++
	}
	alloc, rss := allocated()-allocBefore, vmRSS()
	t.Logf("%d uploads of %d bytes without a token: answers %v; %d KiB allocated; VmRSS %d -> %d MiB", conns, size, statuses, alloc>>10, rssBefore>>20, rss>>20)
	if statuses[http.StatusUnauthorized] != conns {
		t.Errorf("answers %v, want %d × 401", statuses, conns)
	}
	if alloc > maxAllocated {
		t.Errorf("the uploads allocated %d MiB, want at most %d MiB: bodies were read before the token was checked", alloc>>20, maxAllocated>>20)
	}
	if rss > rssBefore && rss-rssBefore > maxRSSGrowth {
		t.Errorf("VmRSS grew by %d MiB, want at most %d MiB", (rss-rssBefore)>>20, maxRSSGrowth>>20)
	}
}

// TestBodyBudget: signed-in callers sending large bodies at once share one
// budget. Bodies of 3 MiB against an 8 MiB budget: two are read at a time;
// the others wait their turn, or get 503 with Retry-After once their wait
// is over. Which two go first is up to the scheduler, so the test counts
// answers rather than naming requests.
func TestBodyBudget(t *testing.T) {
	const (
		uploads   = 6
		bodySize  = 3 << 20
		budget    = 8 << 20
		admitted  = budget / bodySize
		firstPart = 64 << 10
	)
	tests := []struct {
		name string
		// wait is how long a body waits for its share of the budget.
		wait time.Duration
		// hold: the admitted bodies stop after their first part until
		// every other request has its answer.
		hold       bool
		want       map[int]int
		wantBusyOf int // of the answers, how many must be 503 + Retry-After + SERVER_BUSY
	}{
		{"short wait: the bodies that do not fit are refused, the rest go through", 10 * time.Millisecond, true,
			map[int]int{http.StatusServiceUnavailable: uploads - admitted, http.StatusOK: admitted}, uploads - admitted},
		{"long wait: every body waits its turn and goes through", time.Until(waitUntil(t)) / 2, false,
			map[int]int{http.StatusOK: uploads}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, token := bodyServer(t, func(c *config.Config) {
				c.HTTP.BodyBudgetBytes = budget
				c.HTTP.BodyBudgetWait = tt.wait
			})
			body := paddedQuery(bodySize)
			more := make(chan struct{})
			if !tt.hold {
				close(more)
			}
			us := make([]*rawUpload, uploads)
			for i := range us {
				us[i] = startUpload(t, addr, token, body, firstPart, more)
			}
			answers := make(chan rawAnswer, uploads)
			for _, u := range us {
				go func() { answers <- <-u.answer }()
			}
			got := map[int]int{}
			busy := 0
			for i := range uploads {
				if tt.hold && i == uploads-admitted {
					close(more)
				}
				a := <-answers
				if a.err != nil {
					t.Fatalf("after %d answers %v: %v", i, got, a.err)
				}
				got[a.status]++
				if a.status == http.StatusServiceUnavailable && a.retryAfter != "" && a.code == "SERVER_BUSY" {
					busy++
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("answers %v, want %v", got, tt.want)
			}
			if busy != tt.wantBusyOf {
				t.Errorf("%d answers are 503 with Retry-After and SERVER_BUSY, want %d", busy, tt.wantBusyOf)
			}
		})
	}
}

// TestLazyBodyLimit: a body that declares no length is refused with the
// same 413 as one that declares too much, once it is read past the limit.
func TestLazyBodyLimit(t *testing.T) {
	s := emptyServer(t)
	max := config.Defaults().HTTP.MaxBodyBytes
	tests := []struct {
		name       string
		size       int64
		wantStatus int
		wantCode   string
	}{
		{"chunked over the limit", max + 1, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE"},
		{"chunked at the limit", max, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Hiding the reader's type makes the client send it chunked,
			// without a Content-Length.
			body := struct{ io.Reader }{bytes.NewReader(paddedQuery(int(tt.size)))}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+s.Token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if req.ContentLength != -1 && req.ContentLength != 0 {
				t.Fatalf("the request declared its length %d: the case needs a chunked body", req.ContentLength)
			}
			if tt.wantCode == "" {
				if res.StatusCode != tt.wantStatus {
					t.Fatalf("status %d, want %d: %.300s", res.StatusCode, tt.wantStatus, raw)
				}
				return
			}
			checkErrorBody(t, res.StatusCode, raw, tt.wantStatus, tt.wantCode)
		})
	}
}
