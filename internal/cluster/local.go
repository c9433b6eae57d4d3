package cluster

import (
	"context"
	"errors"
	"sync"
)

// Hub joins the nodes of one process: a message published by one is
// delivered to the others, and one of them leads at a time. Single uses a
// hub of one node; tests join several servers through one hub.
type Hub struct {
	// single: the hub of Single, whose node has no peers.
	single bool
	mu     sync.Mutex
	nodes  map[*localBus]struct{}
	leader *localBus
	// changed is closed (and replaced) whenever the leader goes away.
	changed chan struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{nodes: map[*localBus]struct{}{}, changed: make(chan struct{})}
}

// Join adds a node with the given id; its Close leaves the hub (and gives
// up leadership).
func (h *Hub) Join(id string) *Node {
	b := &localBus{hub: h, id: id, queue: make(chan Message, 4096), done: make(chan struct{})}
	h.mu.Lock()
	h.nodes[b] = struct{}{}
	h.mu.Unlock()
	go b.loop()
	e := &localElector{b: b}
	var once sync.Once
	return &Node{Bus: b, Elector: e, close: func() error {
		once.Do(b.leave)
		return nil
	}}
}

// localBus is one node of a hub.
type localBus struct {
	hub   *Hub
	id    string
	mu    sync.Mutex
	subs  subs
	queue chan Message
	done  chan struct{}
	left  bool
}

func (b *localBus) ID() string { return b.id }

// Peers is true on a hub made for several nodes, even before the others
// join (servers of a test start one after another).
func (b *localBus) Peers() bool { return !b.hub.single }

// Publish queues data on every other node of the hub (a node whose queue
// is full misses it, as a replica whose connection is down would).
func (b *localBus) Publish(ctx context.Context, channel string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.hub.mu.Lock()
	defer b.hub.mu.Unlock()
	if b.left {
		return errors.New("cluster: node closed")
	}
	for n := range b.hub.nodes {
		if n == b {
			continue
		}
		select {
		case n.queue <- Message{Channel: channel, From: b.id, Data: append([]byte(nil), data...)}:
		default:
		}
	}
	return nil
}

func (b *localBus) Subscribe(channel string, h Handler) func() {
	b.mu.Lock()
	id := b.subs.add(channel, h)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.subs.remove(channel, id)
			b.mu.Unlock()
		})
	}
}

// OnReconnect: an in-process node never loses its connection.
func (b *localBus) OnReconnect(func()) {}

func (b *localBus) loop() {
	for {
		select {
		case <-b.done:
			return
		case m := <-b.queue:
			b.mu.Lock()
			hs := b.subs.of(m.Channel)
			b.mu.Unlock()
			for _, h := range hs {
				h(m)
			}
		}
	}
}

func (b *localBus) leave() {
	h := b.hub
	h.mu.Lock()
	delete(h.nodes, b)
	b.left = true
	if h.leader == b {
		h.leader = nil
		close(h.changed)
		h.changed = make(chan struct{})
	}
	h.mu.Unlock()
	close(b.done)
}

// localElector: the first node of the hub to ask leads until it leaves.
type localElector struct{ b *localBus }

func (e *localElector) Leading() bool {
	h := e.b.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leader == e.b
}

func (e *localElector) Lead(ctx context.Context) (context.Context, context.CancelFunc, error) {
	h := e.b.hub
	for {
		h.mu.Lock()
		if e.b.left {
			h.mu.Unlock()
			<-ctx.Done()
			return nil, nil, ctx.Err()
		}
		if h.leader == nil {
			h.leader = e.b
		}
		changed := h.changed
		if h.leader == e.b {
			h.mu.Unlock()
			lctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-e.b.done:
					cancel()
				case <-lctx.Done():
				}
			}()
			return lctx, cancel, nil
		}
		h.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}
