// Package events is NOBA's in-process publish/subscribe bus: it feeds the
// live stream and carries signals between rooms (alert fired -> healing)
// without one room importing another.
//
// Topics carry types: a Topic[T] names a stream whose payload is T, and
// Publish/Of check it at compile time. The bus never blocks a publisher;
// an event a slow subscriber cannot take is counted (Dropped, exported on
// /api/metrics/prometheus as noba_events_dropped_total) and the first
// drop of each topic is logged.
package events

import (
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
)

// Topic is a named stream of events whose payload is T.
type Topic[T any] struct{ Name string }

// Of returns the payload of e when e belongs to the topic.
func (t Topic[T]) Of(e Event) (T, bool) {
	v, ok := e.Data.(T)
	return v, ok && e.Topic == t.Name
}

// Publish delivers v to every subscriber of t without blocking.
func Publish[T any](b *Bus, t Topic[T], v T) { b.Publish(t.Name, v) }

// Subscribe subscribes to t (see Bus.Subscribe); read payloads with t.Of.
func Subscribe[T any](b *Bus, t Topic[T], buf int) (<-chan Event, func()) {
	return b.Subscribe(t.Name, buf)
}

// Topics shared between rooms.
const (
	// TopicStats carries each new stats snapshot as the /api/stats payload
	// (Data: map[string]any; read-only for subscribers). Snapshots is its
	// typed twin.
	TopicStats = "stats.snapshot"
	// TopicAgentReport carries each agent report (Data: map[string]any with
	// at least "hostname" and the agent's metrics; read-only).
	TopicAgentReport = "agent.report"
)

// Snapshots carries each stats collection, typed (published beside
// TopicStats, from the same collection).
var Snapshots = Topic[*Snapshot]{Name: "stats.collected"}

// Event is one published message.
type Event struct {
	Topic string
	Data  any
}

// Bus fans published events out to subscribers. Publishing never blocks:
// a subscriber whose buffer is full misses the event, which is counted.
type Bus struct {
	log  *slog.Logger
	mu   sync.RWMutex
	subs map[string]map[*sub]struct{}

	dropped atomic.Uint64
	dmu     sync.Mutex
	byTopic map[string]uint64
}

type sub struct{ ch chan Event }

// Option configures New.
type Option func(*Bus)

// WithLog sets the logger of the first drop per topic.
func WithLog(l *slog.Logger) Option { return func(b *Bus) { b.log = l } }

// New returns an empty bus.
func New(opts ...Option) *Bus {
	b := &Bus{subs: map[string]map[*sub]struct{}{}, byTopic: map[string]uint64{}, log: slog.Default()}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Subscribe returns a channel of the topic's events with buffer size buf,
// and a cancel function that unsubscribes and closes the channel.
func (b *Bus) Subscribe(topic string, buf int) (<-chan Event, func()) {
	s := &sub{ch: make(chan Event, buf)}
	b.mu.Lock()
	if b.subs[topic] == nil {
		b.subs[topic] = map[*sub]struct{}{}
	}
	b.subs[topic][s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs[topic], s)
			b.mu.Unlock()
			close(s.ch)
		})
	}
}

// Publish delivers data to every subscriber of topic without blocking; an
// event a full subscriber cannot take is counted as dropped.
func (b *Bus) Publish(topic string, data any) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs[topic] {
		select {
		case s.ch <- Event{Topic: topic, Data: data}:
		default:
			b.drop(topic, len(s.ch))
		}
	}
}

func (b *Bus) drop(topic string, buf int) {
	b.dropped.Add(1)
	b.dmu.Lock()
	b.byTopic[topic]++
	first := b.byTopic[topic] == 1
	b.dmu.Unlock()
	if first {
		b.log.Warn("event bus: a subscriber is too slow, events are dropped (counted in noba_events_dropped_total)",
			"topic", topic, "buffer", buf)
	}
}

// Dropped is the number of events dropped since start, all topics.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// TopicDrops is the number of dropped events of one topic.
type TopicDrops struct {
	Topic   string
	Dropped uint64
}

// DroppedByTopic lists the topics that dropped events, by name.
func (b *Bus) DroppedByTopic() []TopicDrops {
	b.dmu.Lock()
	out := make([]TopicDrops, 0, len(b.byTopic))
	for t, n := range b.byTopic {
		out = append(out, TopicDrops{Topic: t, Dropped: n})
	}
	b.dmu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}
