package stats

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/events"
)

// TestTypedSnapshotOnBus: every collection is published typed too, with
// the headline metrics read from the payload.
func TestTypedSnapshotOnBus(t *testing.T) {
	var seq atomic.Int64
	h := newHarness(t, seqSource(&seq), nil)
	ch, cancel := events.Subscribe(h.bus, events.Snapshots, 1)
	defer cancel()
	if err := h.room.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		s, ok := events.Snapshots.Of(ev)
		if !ok || s.CPUPercent != 12.5 || !math.IsNaN(s.MemPercent) || s.Timestamp != 1_750_000_000 ||
			len(s.Services) != 2 || s.Services[1] != (events.Service{Name: "sshd", Status: "failed"}) || s.Payload["seq"] != int64(1) {
			t.Fatalf("typed snapshot %+v", s)
		}
	case <-time.After(time.Second):
		t.Fatal("no typed snapshot")
	}
	if s := h.room.Snapshot(); s == nil || s.Payload["seq"] != int64(1) {
		t.Fatalf("Room.Snapshot = %+v", s)
	}
}

// TestBusDropsOnPrometheus: events a slow subscriber missed show on
// /api/metrics/prometheus.
func TestBusDropsOnPrometheus(t *testing.T) {
	var seq atomic.Int64
	h := newHarness(t, seqSource(&seq), nil)
	_, cancel := h.bus.Subscribe(events.TopicStats, 1)
	defer cancel()
	for range 3 {
		if err := h.room.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	code, body, _ := h.get(t, "/api/metrics/prometheus", "viewer")
	if code != 200 || !strings.Contains(string(body), `noba_events_dropped_total{topic="stats.snapshot"} 2`) {
		t.Fatalf("%d\n%s", code, body)
	}
}

// TestScrubRemovesCredentialKeys: credential-named keys go at any depth,
// whatever their case; others stay.
func TestScrubRemovesCredentialKeys(t *testing.T) {
	snap := map[string]any{"piholeToken": "x", "API_KEY": "x", "nested": map[string]any{"PassWord": "x", "Client_Secret": "x",
		"ok": 1}, "agents": []map[string]any{{"hostname": "h", "authCredentials": "x", "cpu_percent": 1.0}},
		"list": []any{map[string]any{"apikey": "x", "name": "n"}}, "tokens_total": 3}
	scrub(snap)
	want := `{"agents":[{"cpu_percent":1,"hostname":"h"}],"list":[{"name":"n"}],"nested":{"ok":1}}`
	if b, _ := json.Marshal(snap); string(b) != want {
		t.Fatalf("scrubbed = %s, want %s", b, want)
	}
}
