package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/middletier/middletier/internal/store/storetest"
)

// TestMCPStdio drives `middletier mcp --user casey` with the SDK's own
// client over the command's stdin and stdout: the same ten tools, run as
// casey under the same access rules (her store's data, not S001's), and
// the command ends cleanly when the client goes away.
func TestMCPStdio(t *testing.T) {
	_, dir := storetest.SeededSQLite(t)
	deadline := time.Now().Add(5 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"middletier", "mcp", "--data-dir", dir, "--user", "casey"}, func(string) string { return "" }, inR, outW, &logs)
		outW.Close()
	}()

	c := sdk.NewClient(&sdk.Implementation{Name: "middletier-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &sdk.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, logs.String())
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("list tools: %v\n%s", err, logs.String())
	}
	if len(tools.Tools) != 10 {
		t.Errorf("%d tools over stdio, want 10", len(tools.Tools))
	}

	call := func(name string, args map[string]any) (string, bool) {
		t.Helper()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, logs.String())
		}
		return res.Content[0].(*sdk.TextContent).Text, res.IsError
	}
	text, isErr := call("ListStores", map[string]any{"pageSize": 5})
	var stores struct{ Value []struct{ ID string } }
	if err := json.Unmarshal([]byte(text), &stores); isErr || err != nil || len(stores.Value) != 1 || stores.Value[0].ID != "S002" {
		t.Errorf("ListStores as casey: isError=%v %s; want her store S002 only", isErr, text)
	}
	if text, isErr := call("ListStoreBackorders", map[string]any{"storeId": "S001"}); !isErr || !strings.Contains(text, `"FORBIDDEN"`) {
		t.Errorf("S001's backorders as casey: isError=%v %s; want FORBIDDEN", isErr, text)
	}
	if text, isErr := call("RsvpEvent", map[string]any{"eventId": "EV004", "response": "MAYBE", "clientRequestId": "stdio-1"}); isErr || !strings.Contains(text, `"MAYBE"`) {
		t.Errorf("RsvpEvent as casey: isError=%v %s", isErr, text)
	}

	cs.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mcp ended with %v\n%s", err, logs.String())
		}
	case <-ctx.Done():
		t.Fatalf("mcp did not end after the client closed\n%s", logs.String())
	}
}
