package events_test

import (
	"bytes"
	"log/slog"
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
