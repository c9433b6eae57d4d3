package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/events"
)

// Topic is an events topic carried between replicas.
type Topic struct {
	// Name is the events topic (its payload must encode as JSON).
	Name string
	// LeaderOnly forwards the topic only while this replica leads (the
	// stats snapshot: followers show the leader's collection).
	LeaderOnly bool
	// Deliver receives the JSON of each event from another replica; nil
	// decodes it as a JSON object (map[string]any) and publishes it on
	// this replica's events bus.
	Deliver func(data []byte)
}

// channelOf is the bus channel of an events topic.
func channelOf(topic string) string { return "events." + topic }

// Bridge carries the events of topics published on this replica's events
// bus to the other replicas, and theirs to this one. An event that came
// from another replica is never sent back (no echo loops): the bridge
// recognises the payloads it published itself. It runs until ctx ends.
func Bridge(ctx context.Context, n *Node, ev *events.Bus, log *slog.Logger, topics ...Topic) {
	if n == nil || ev == nil || !n.Bus.Peers() {
		<-ctx.Done()
		return
	}
	if log == nil {
		log = slog.Default()
	}
	g := &echoGuard{seen: map[uintptr]time.Time{}}
	var wg sync.WaitGroup
	for _, t := range topics {
		cancel := n.Bus.Subscribe(channelOf(t.Name), func(m Message) {
			if t.Deliver != nil {
				t.Deliver(m.Data)
				return
			}
			var v map[string]any
			if err := json.Unmarshal(m.Data, &v); err != nil {
				log.Warn("bridged event undecodable", "topic", t.Name, "from", m.From, "err", err)
				return
			}
			g.mark(v)
			ev.Publish(t.Name, v)
		})
		defer cancel()
		ch, unsub := ev.Subscribe(t.Name, 64)
		defer unsub()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case e, ok := <-ch:
					if !ok {
						return
					}
					if g.take(e.Data) || (t.LeaderOnly && !n.Elector.Leading()) {
						continue
					}
					data, err := json.Marshal(e.Data)
					if err != nil {
						log.Warn("event not bridged: cannot encode", "topic", t.Name, "err", err)
						continue
					}
					c, cancel := context.WithTimeout(ctx, 5*time.Second)
					if err := n.Bus.Publish(c, channelOf(t.Name), data); err != nil && ctx.Err() == nil {
						log.Warn("event not bridged", "topic", t.Name, "err", err)
					}
					cancel()
				}
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
}

// echoGuard remembers the payloads the bridge published locally (by the
// address of their map) until the bridge's own subscription sees them.
type echoGuard struct {
	mu   sync.Mutex
	seen map[uintptr]time.Time
}

func identity(v any) (uintptr, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Pointer, reflect.Slice:
		return rv.Pointer(), rv.Pointer() != 0
	}
	return 0, false
}

func (g *echoGuard) mark(v any) {
	id, ok := identity(v)
	if !ok {
		return
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.seen) > 1024 {
		// Entries whose event the bridge's subscription dropped.
		for k, at := range g.seen {
			if now.Sub(at) > time.Minute {
				delete(g.seen, k)
			}
		}
	}
	g.seen[id] = now
}

// take reports whether v came from another replica, forgetting it.
func (g *echoGuard) take(v any) bool {
	id, ok := identity(v)
	if !ok {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.seen[id]; ok {
		delete(g.seen, id)
		return true
	}
	return false
}
