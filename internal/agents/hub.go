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
	// registryFlush is how often changed registry rows are written.
	registryFlush = 5 * time.Second
	// sentMaxAge is how long a delivered command may wait for its result
	// (exec's longest timeout) before it is marked expired.
	sentMaxAge = 2 * time.Hour
	// maxIssued caps the command ids a host may still answer.
	maxIssued = 4096
	// maxStreams caps the log streams of one host; streamBytesCap the bytes
	// one stream's buffer keeps.
	maxStreams     = 16
	streamBytesCap = 1 << 20
)

// agent is the in-memory state of one host.
type agent struct {
	hostname string
	// report is the latest report's metrics (nil when the host is only
	// known from the registry table).
	report   *wire.Metrics
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
	// issued are the command ids sent to the host whose result is still
	// awaited (id -> queued at, unix seconds): a result for any other id
	// is dropped.
	issued map[string]int64
	// execIDs are the ids of the exec output buffers kept, oldest first.
	execIDs []string

	// remote is the replica that announced it holds the host's WebSocket
	// (replicas), remoteAt when.
	remote   string
	remoteAt time.Time

	updateVersion string
	updateAt      time.Time
	persistedAt   time.Time
}

// lineBuf holds the lines of one log stream; seq counts every line ever
// appended, so a cursor keeps advancing after old lines are trimmed.
type lineBuf struct {
	lines []string
	bytes int
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
	a.issueLocked(q.ID, q.QueuedAt)
}

// issue records that command id was sent to host.
func (h *hub) issue(host, id string, at int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.getLocked(host).issueLocked(id, at)
}

func (a *agent) issueLocked(id string, at int64) {
	if a.issued == nil {
		a.issued = map[string]int64{}
	}
	if len(a.issued) >= maxIssued {
		// Forget the oldest half: their results can no longer be stored.
		cut := oldestHalf(a.issued)
		for k, t := range a.issued {
			if t <= cut {
				delete(a.issued, k)
			}
		}
	}
	a.issued[id] = at
}

func oldestHalf(m map[string]int64) int64 {
	ts := make([]int64, 0, len(m))
	for _, t := range m {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}

// wasIssued reports whether id was sent to host and its result is still
// awaited. final consumes the id (a command result); a stream line does not.
func (h *hub) wasIssued(host, id string, final bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil {
		return false
	}
	if _, ok := a.issued[id]; !ok {
		return false
	}
	if final {
		delete(a.issued, id)
	}
	return true
}

// forgetIssued drops the ids issued before cutoff (unix seconds).
func (h *hub) forgetIssued(cutoff int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.agents {
		for id, t := range a.issued {
			if t < cutoff {
				delete(a.issued, id)
			}
		}
	}
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

// appendExec records a streamed exec line (WebSocket exec output); a host
// keeps the buffers of its maxStreams latest execs.
func (h *hub) appendExec(host, id string, m wire.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := host + "\x00" + id
	if _, ok := h.execs[k]; !ok {
		a := h.getLocked(host)
		a.execIDs = append(a.execIDs, id)
		if len(a.execIDs) > maxStreams {
			delete(h.execs, host+"\x00"+a.execIDs[0])
			a.execIDs = append([]string(nil), a.execIDs[1:]...)
		}
	}
	s := append(h.execs[k], m)
	if len(s) > execStreamCap {
		s = s[len(s)-execStreamCap:]
	}
	h.execs[k] = s
}

// appendLogs adds lines to a log stream's buffer (per host: a host cannot
// write into another host's stream). Lines of a stream the server did not
// start for this host are dropped; a buffer keeps at most logStreamCap
// lines and streamBytesCap bytes. It reports whether the lines were kept.
func (h *hub) appendLogs(host, id string, lines []string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil {
		return false
	}
	if _, started := a.streams[id]; !started {
		return false
	}
	id = host + "\x00" + id
	b := h.logs[id]
	if b == nil {
		b = &lineBuf{}
		h.logs[id] = b
	}
	b.lines = append(b.lines, lines...)
	for _, l := range lines {
		b.bytes += len(l)
	}
	b.seq += int64(len(lines))
	drop := 0
	for len(b.lines)-drop > logStreamCap || (b.bytes > streamBytesCap && drop < len(b.lines)) {
		b.bytes -= len(b.lines[drop])
		drop++
	}
	if drop > 0 {
		b.lines = append([]string(nil), b.lines[drop:]...)
	}
	return true
}

// snapshot is a copy of an agent's state for the list and detail views.
type snapshot struct {
	hostname, ip, platform, arch, version, impl string
	report                                      *wire.Metrics
	received                                    time.Time
	ws                                          bool
}

func (h *hub) snapshots() []snapshot {
	h.mu.Lock()
	out := make([]snapshot, 0, len(h.agents))
	for _, a := range h.agents {
		out = append(out, snapOf(a))
	}
	// Sorted outside the lock: reports wait on it.
	h.mu.Unlock()
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
		impl: a.impl, report: a.report, received: a.received,
		ws: a.conn != nil || a.remote != "" && time.Since(a.remoteAt) < presenceTTL}
}

// remove forgets a host entirely and returns its connection.
func (h *hub) remove(host string) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.removeLocked(host)
}

func (h *hub) removeLocked(host string) *agentConn {
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
