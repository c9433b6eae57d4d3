package events_test

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/noba-go/noba/internal/events"
)

// TestDropsCountedAndLoggedOnce: a full subscriber never blocks the
// publisher; every missed event is counted and the first one logged.
func TestDropsCountedAndLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	b := events.New(events.WithLog(slog.New(slog.NewTextHandler(&logs, nil))))
	slow, cancel := b.Subscribe(events.TopicStats, 2)
	defer cancel()
	fast, cancelFast := b.Subscribe(events.TopicStats, 100)
	defer cancelFast()
	for i := range 10 {
		b.Publish(events.TopicStats, i)
	}
	if got := b.Dropped(); got != 8 {
		t.Fatalf("dropped = %d, want 8", got)
	}
	if got := b.DroppedByTopic(); len(got) != 1 || got[0].Topic != events.TopicStats || got[0].Dropped != 8 {
		t.Fatalf("by topic = %v", got)
	}
	if n := strings.Count(logs.String(), "events are dropped"); n != 1 {
		t.Fatalf("%d drop log lines, want 1:\n%s", n, logs.String())
	}
	if len(slow) != 2 || len(fast) != 10 {
		t.Fatalf("delivered slow=%d fast=%d", len(slow), len(fast))
	}
}

// TestTypedTopic: payloads of a typed topic come back typed; another
// topic's event does not match.
func TestTypedTopic(t *testing.T) {
	b := events.New()
	ch, cancel := events.Subscribe(b, events.Snapshots, 1)
	defer cancel()
	events.Publish(b, events.Snapshots, &events.Snapshot{Timestamp: 42, Agents: 3})
	s, ok := events.Snapshots.Of(<-ch)
	if !ok || s.Timestamp != 42 || s.Agents != 3 {
		t.Fatalf("typed payload = %+v %v", s, ok)
	}
	if _, ok := events.Snapshots.Of(events.Event{Topic: events.TopicStats, Data: &events.Snapshot{}}); ok {
		t.Fatal("an event of another topic matched")
	}
}

// TestConcurrentPublishCancel: publishing while subscribers come and go
// is race-free and never panics on a closed channel.
func TestConcurrentPublishCancel(t *testing.T) {
	b := events.New(events.WithLog(slog.New(slog.DiscardHandler)))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				_, cancel := b.Subscribe("x", 1)
				b.Publish("x", 1)
				cancel()
			}
		}()
	}
	wg.Wait()
	_ = b.DroppedByTopic()
}

// A snapshot built from a payload as the host collector builds it (typed
// slices, a temperature with its unit, integration blocks, a struct,
// agents) reads its typed fields, and its flat metrics are numbers,
// booleans and numeric strings by name, key.field, key[i].field, the
// snake_case headline names and disk_percent as the fullest filesystem;
// words, series and the agents list stay out (Flatten keeps agents).
func TestSnapshotMetrics(t *testing.T) {
	s := events.NewSnapshot(map[string]any{
		"timestamp": int64(1_800_000_000), "cpuPercent": 12.5, "memPercent": "61%", "cpuTemp": "71°C", "gpuTemp": "N/A",
		"disks":    []map[string]any{{"mount": "/", "percent": 41.0}, {"mount": "/srv", "percent": 93.0, "fs": "xfs"}},
		"services": []any{map[string]any{"name": "nginx", "status": "failed"}},
		"agents":   []map[string]any{{"hostname": "a1", "cpu": 99.0}},
		"pihole":   map[string]any{"blocked": 10.0}, "online": true, "hostname": "box",
		"cpuHistory": []any{1.0, 2.0}, "ups": struct {
			Load float64 `json:"load"`
		}{Load: 37},
	})
	if s.Timestamp != 1_800_000_000 || s.CPUPercent != 12.5 || s.MemPercent != 61 || s.CPUTemp != 71 || !math.IsNaN(s.GPUTemp) ||
		len(s.Disks) != 2 || s.Disks[1] != (events.Disk{Mount: "/srv", Percent: 93}) || s.Services[0].Status != "failed" || s.Agents != 1 {
		t.Fatalf("typed: %+v", s)
	}
	want := map[string]float64{"timestamp": 1_800_000_000, "cpuPercent": 12.5, "memPercent": 61, "cpuTemp": 71,
		"cpu_percent": 12.5, "mem_percent": 61, "cpu_temp": 71, "disk_percent": 93,
		"disks[0].percent": 41, "disks[1].percent": 93, "online": 1, "pihole.blocked": 10, "ups.load": 37}
	got := s.Metrics()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if all := events.Flatten(s.Payload); all["agents[0].cpu"] != 99 || len(all) != len(want)+1 {
		t.Errorf("Flatten: %v", all)
	}
	if empty := events.NewSnapshot(map[string]any{}); len(empty.Metrics()) != 0 || !math.IsNaN(empty.CPUPercent) {
		t.Errorf("empty payload: %+v %v", empty, empty.Metrics())
	}
}
