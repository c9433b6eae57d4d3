package agents

import (
	"context"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

const (
	resultRing     = 50
	execStreamCap  = 500
	logStreamCap   = 2000
	queueMaxAge    = 600 * time.Second
	evictAfter     = 24 * time.Hour
	termQueueDepth = 100
	registryEvery  = 60 * time.Second
)

// agent is the in-memory state of one host.
type agent struct {
	hostname string
	// report is the latest report without the "_" keys (nil when the host is
	// only known from the registry table).
	report   map[string]any
	received time.Time
	ip       string
	platform string
	arch     string
	version  string
	impl     string

	results []wire.Msg
	pending []wire.QueuedCommand
	conn    *agentConn
	streams map[string]int64
	terms   map[*termSub]struct{}

	updateVersion string
	updateAt      time.Time
	persistedAt   time.Time
}

// lineBuf holds the lines of one log stream; seq counts every line ever
// appended, so a cursor keeps advancing after old lines are trimmed.
type lineBuf struct {
	lines []string
	seq   int64
}

// hub is the concurrency-safe in-memory state of the room (spec 20 §1.2).
type hub struct {
	mu      sync.Mutex
	agents  map[string]*agent
	logs    map[string]*lineBuf
	execs   map[string][]wire.Msg
	waiters map[string][]chan wire.Msg

	lastEvict, lastExpire time.Time
}

func newHub() *hub {
	return &hub{agents: map[string]*agent{}, logs: map[string]*lineBuf{}, execs: map[string][]wire.Msg{},
		waiters: map[string][]chan wire.Msg{}}
}

func (h *hub) seed(row RegistryRow) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.agents[row.Hostname] = &agent{hostname: row.Hostname, received: time.Unix(row.LastSeen, 0), ip: row.IP,
		platform: row.Platform, arch: row.Arch, version: row.AgentVersion}
}

// getLocked returns the host's state, creating it.
func (h *hub) getLocked(host string) *agent {
	a := h.agents[host]
	if a == nil {
		a = &agent{hostname: host}
		h.agents[host] = a
	}
	return a
}

// conn returns the live WebSocket of host, if any.
func (h *hub) conn(host string) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.agents[host]; a != nil {
		return a.conn
	}
	return nil
}

// setConn registers c for host and returns the connection it replaces.
func (h *hub) setConn(host string, c *agentConn, version, impl string, now time.Time) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.getLocked(host)
	old := a.conn
	a.conn = c
	if version != "" {
		a.version = version
	}
	if impl != "" {
		a.impl = impl
	}
	a.received = now
	return old
}

// clearConn unregisters c if the host still points at it.
func (h *hub) clearConn(host string, c *agentConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.agents[host]; a != nil && a.conn == c {
		a.conn = nil
	}
}

// touch records traffic from host.
func (h *hub) touch(host string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.agents[host]; a != nil {
		a.received = now
	}
}

// enqueue appends a command to the host's pending queue.
func (h *hub) enqueue(host string, q wire.QueuedCommand) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.getLocked(host)
	a.pending = append(a.pending, q)
}

// drain removes and returns the host's pending queue.
func (h *hub) drain(host string) []wire.QueuedCommand {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil {
		return nil
	}
	q := a.pending
	a.pending = nil
	return q
}

// expireQueues drops every host queue whose oldest entry is older than
// queueMaxAge and returns the dropped command ids.
func (h *hub) expireQueues(now time.Time) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, a := range h.agents {
		if len(a.pending) > 0 && now.Sub(time.Unix(a.pending[0].QueuedAt, 0)) > queueMaxAge {
			for _, q := range a.pending {
				ids = append(ids, q.ID)
			}
			a.pending = nil
		}
	}
	return ids
}

// expireQueuesThrottled is expireQueues at most once a second (reports
// call it).
func (h *hub) expireQueuesThrottled(now time.Time) []string {
	h.mu.Lock()
	if now.Sub(h.lastExpire) < time.Second {
		h.mu.Unlock()
		return nil
	}
	h.lastExpire = now
	h.mu.Unlock()
	return h.expireQueues(now)
}

// addResult appends a result to the host's ring and wakes its waiters.
func (h *hub) addResult(host string, m wire.Msg) {
	h.mu.Lock()
	a := h.getLocked(host)
	a.results = append(a.results, m)
	if len(a.results) > resultRing {
		a.results = append([]wire.Msg(nil), a.results[len(a.results)-resultRing:]...)
	}
	id := host + "\x00" + m.Str("id")
	ws := h.waiters[id]
	delete(h.waiters, id)
	h.mu.Unlock()
	for _, ch := range ws {
		ch <- m
	}
}

// waiter returns a channel that receives the result of command id sent to
// host (only that host's result wakes it).
func (h *hub) waiter(host, id string) (<-chan wire.Msg, func()) {
	id = host + "\x00" + id
	ch := make(chan wire.Msg, 1)
	h.mu.Lock()
	h.waiters[id] = append(h.waiters[id], ch)
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		ws := h.waiters[id]
		for i, c := range ws {
			if c == ch {
				h.waiters[id] = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(h.waiters[id]) == 0 {
			delete(h.waiters, id)
		}
	}
}

// wait blocks until the result of id arrives, ctx ends or timeout passes.
func (h *hub) wait(ctx context.Context, ch <-chan wire.Msg, timeout time.Duration) (wire.Msg, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-ch:
		return m, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// results returns a copy of the host's result ring.
func (h *hub) results(host string) ([]wire.Msg, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil {
		return []wire.Msg{}, false
	}
	out := make([]wire.Msg, len(a.results))
	copy(out, a.results)
	return out, true
}

// appendExec records a streamed exec line (WebSocket exec output).
func (h *hub) appendExec(host, id string, m wire.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := host + "\x00" + id
	s := append(h.execs[k], m)
	if len(s) > execStreamCap {
		s = s[len(s)-execStreamCap:]
	}
	h.execs[k] = s
}

// appendLogs adds lines to a log stream's buffer (per host: a host cannot
// write into another host's stream).
func (h *hub) appendLogs(host, id string, lines []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id = host + "\x00" + id
	b := h.logs[id]
	if b == nil {
		b = &lineBuf{}
		h.logs[id] = b
	}
	b.lines = append(b.lines, lines...)
	b.seq += int64(len(lines))
	if len(b.lines) > logStreamCap {
		b.lines = append([]string(nil), b.lines[len(b.lines)-logStreamCap:]...)
	}
}

// snapshot is a copy of an agent's state for the list and detail views.
type snapshot struct {
	hostname, ip, platform, arch, version, impl string
	report                                      map[string]any
	received                                    time.Time
	ws                                          bool
}

func (h *hub) snapshots() []snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]snapshot, 0, len(h.agents))
	for _, a := range h.agents {
		out = append(out, snapOf(a))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].hostname < out[j].hostname })
	return out
}

func (h *hub) snapshot(host string) (snapshot, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil {
		return snapshot{}, false
	}
	return snapOf(a), true
}

func snapOf(a *agent) snapshot {
	return snapshot{hostname: a.hostname, ip: a.ip, platform: a.platform, arch: a.arch, version: a.version,
		impl: a.impl, report: a.report, received: a.received, ws: a.conn != nil}
}

// remove forgets a host entirely and returns its connection.
func (h *hub) remove(host string) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil {
		return nil
	}
	delete(h.agents, host)
	for id := range a.streams {
		delete(h.logs, host+"\x00"+id)
	}
	for k := range h.execs {
		if len(k) > len(host) && k[:len(host)+1] == host+"\x00" {
			delete(h.execs, k)
		}
	}
	return a.conn
}

// streamsOf lists the registered log streams of a host.
func (h *hub) streamsOf(host string) map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.agents[host]; a != nil {
		return maps.Clone(a.streams)
	}
	return nil
}
