package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Message is one message received from another replica.
type Message struct {
	// Channel is the name it was published on.
	Channel string
	// From is the publishing replica's id.
	From string
	// Data is the published payload (JSON for typed channels).
	Data []byte
}

// Handler receives the messages of a channel. Handlers of one replica run
// one at a time, in the order the messages were published by each
// replica; they must not block for long.
type Handler func(Message)

// Bus carries messages between replicas.
type Bus interface {
	// ID is this replica's id (NOBA_REPLICA_ID, or hostname+random).
	ID() string
	// Publish sends data to the subscribers of channel on every other
	// replica (never to this one).
	Publish(ctx context.Context, channel string, data []byte) error
	// Subscribe calls h with every message published on channel by another
	// replica, until cancel is called.
	Subscribe(channel string, h Handler) (cancel func())
	// OnReconnect registers f, called after the bus lost and regained its
	// connection (messages may have been missed meanwhile).
	OnReconnect(f func())
	// Peers reports whether other replicas may exist: false for a single
	// node, whose rooms skip publishing altogether.
	Peers() bool
}

// Channel is a named channel whose payload is T (encoded as JSON).
type Channel[T any] struct{ Name string }

// Send publishes v on ch. It does nothing when b has no peers.
func Send[T any](ctx context.Context, b Bus, ch Channel[T], v T) error {
	if b == nil || !b.Peers() {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cluster %s: encode: %w", ch.Name, err)
	}
	return b.Publish(ctx, ch.Name, data)
}

// Listen calls fn with every value another replica sends on ch; a payload
// that does not decode as T is logged and skipped.
func Listen[T any](b Bus, ch Channel[T], log *slog.Logger, fn func(from string, v T)) (cancel func()) {
	if log == nil {
		log = slog.Default()
	}
	return b.Subscribe(ch.Name, func(m Message) {
		var v T
		if err := json.Unmarshal(m.Data, &v); err != nil {
			log.Warn("cluster message undecodable", "channel", ch.Name, "from", m.From, "err", err)
			return
		}
		fn(m.From, v)
	})
}

// subs is the subscriber table shared by the implementations.
type subs struct {
	next int
	m    map[string]map[int]Handler
}

func (s *subs) add(ch string, h Handler) int {
	if s.m == nil {
		s.m = map[string]map[int]Handler{}
	}
	if s.m[ch] == nil {
		s.m[ch] = map[int]Handler{}
	}
	s.next++
	s.m[ch][s.next] = h
	return s.next
}

func (s *subs) remove(ch string, id int) {
	delete(s.m[ch], id)
	if len(s.m[ch]) == 0 {
		delete(s.m, ch)
	}
}

func (s *subs) of(ch string) []Handler {
	hs := make([]Handler, 0, len(s.m[ch]))
	for _, h := range s.m[ch] {
		hs = append(hs, h)
	}
	return hs
}
