package agents

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/wire"
)

func testStore(t *testing.T) Store {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	return NewStore(d)
}

func historyOf(t *testing.T, st Store, host string) map[string]string {
	t.Helper()
	rows, err := st.CommandHistory(context.Background(), host, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out
}

// Issue 11 §8: the queue survives a restart; what can no longer run is
// marked expired instead of staying queued forever.
func TestQueueSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	r, err := New(ctx, Deps{Store: st, DataDir: t.TempDir(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := r.Send(ctx, "away", wire.CmdPing, nil, "op")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(-20 * time.Minute) // queued 20 minutes before the restart
	stale, _, err := r.Send(ctx, "away", wire.CmdPing, nil, "op")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Minute)
	// Delivered over HTTP, never answered, three hours before the restart.
	now = now.Add(-3 * time.Hour)
	lost, _, _ := r.Send(ctx, "busy", wire.CmdPing, nil, "op")
	r.ingestReport(ctx, "busy", "127.0.0.1", &wire.Report{Metrics: wire.Metrics{Hostname: "busy"}})
	now = now.Add(3 * time.Hour)

	r2, err := New(ctx, Deps{Store: st, DataDir: t.TempDir(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	resp := r2.ingestReport(ctx, "away", "127.0.0.1", &wire.Report{Metrics: wire.Metrics{Hostname: "away"}})
	if len(resp.Commands) != 1 || resp.Commands[0].ID != fresh {
		t.Fatalf("after restart the fresh command is delivered, the stale one not: %+v", resp.Commands)
	}
	h := historyOf(t, st, "away")
	if h[fresh] != "sent" || h[stale] != "expired" {
		t.Fatalf("history after restart: %v", h)
	}
	if err := r2.SweepQueues(ctx); err != nil {
		t.Fatal(err)
	}
	if s := historyOf(t, st, "busy")[lost]; s != "expired" {
		t.Fatalf("a delivered command never answered for hours: %q, want expired", s)
	}
}

// Issue 11 §9: results for command ids never issued to the host are not
// stored; a result is stored once.
func TestResultsOfUnissuedIDsDropped(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	r, err := New(ctx, Deps{Store: st, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := r.Send(ctx, "h1", wire.CmdPing, nil, "op")
	rep := &wire.Report{Metrics: wire.Metrics{Hostname: "h1"}, CmdResults: []wire.Msg{
		{"type": "ping", "id": "forged-1", "status": "ok"},
		{"type": "ping", "id": id, "status": "ok"},
		{"type": "ping", "id": id, "status": "error", "error": "replayed"},
	}}
	r.ingestReport(ctx, "h1", "127.0.0.1", rep)
	res, _ := r.hub.results("h1")
	if len(res) != 1 || res[0].Str("id") != id || res[0].Str("status") != "ok" {
		t.Fatalf("stored results: %v", res)
	}
	if h := historyOf(t, st, "h1"); h[id] != "ok" || len(h) != 1 {
		t.Fatalf("history: %v", h)
	}
}

// Issue 11 §6: stream lines are kept only for streams the server started
// for that host, per stream at most 2000 lines and 1 MiB, and a line is
// cut at 4 KiB.
func TestStreamCaps(t *testing.T) {
	ctx := context.Background()
	r, err := New(ctx, Deps{Store: testStore(t), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	r.hub.mu.Lock()
	r.hub.getLocked("h1").streams = map[string]int64{"s1": 1}
	r.hub.mu.Unlock()
	data := map[string][]string{"s1": {strings.Repeat("x", 10_000)}}
	for i := range 200 {
		data["junk"+strings.Repeat("0", i%3)+string(rune('a'+i%26))] = []string{"spam"}
	}
	r.ingestReport(ctx, "h1", "127.0.0.1", &wire.Report{Metrics: wire.Metrics{Hostname: "h1"}, StreamData: data})
	r.hub.mu.Lock()
	n := len(r.hub.logs)
	b := r.hub.logs["h1\x00s1"]
	r.hub.mu.Unlock()
	if n != 1 || b == nil || len(b.lines) != 1 || len(b.lines[0]) != maxLineBytes {
		t.Fatalf("buffers %d, s1 %+v", n, b)
	}
	big := make([]string, 600)
	for i := range big {
		big[i] = strings.Repeat("y", 4000)
	}
	r.ingestReport(ctx, "h1", "127.0.0.1", &wire.Report{Metrics: wire.Metrics{Hostname: "h1"}, StreamData: map[string][]string{"s1": big}})
	r.hub.mu.Lock()
	total := 0
	for _, l := range b.lines {
		total += len(l)
	}
	r.hub.mu.Unlock()
	if total > streamBytesCap {
		t.Fatalf("stream buffer keeps %d bytes", total)
	}
}
