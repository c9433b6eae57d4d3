// Package events is NOBA's in-process publish/subscribe bus: it feeds the
// live stream and carries signals between rooms (alert fired -> healing)
// without one room importing another.
package events

import (
	"sync"
)

// Topics shared between rooms.
const (
	// TopicStats carries each new stats snapshot (Data: map[string]any, the
	// /api/stats payload; read-only for subscribers).
	TopicStats = "stats.snapshot"
	// TopicAgentReport carries each agent report (Data: map[string]any with
	// at least "hostname" and the agent's metrics; read-only).
	TopicAgentReport = "agent.report"
)

// Event is one published message.
type Event struct {
	Topic string
	Data  any
}

// Bus fans published events out to subscribers. Publishing never blocks:
// a subscriber whose buffer is full misses the event.
type Bus struct {
	mu   sync.RWMutex
	subs map[string]map[*sub]struct{}
}

type sub struct{ ch chan Event }

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[string]map[*sub]struct{}{}} }

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

// Publish delivers data to every subscriber of topic without blocking.
func (b *Bus) Publish(topic string, data any) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs[topic] {
		select {
		case s.ch <- Event{Topic: topic, Data: data}:
		default:
		}
	}
}
