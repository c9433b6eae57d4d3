package agents

import (
	"context"
	"time"

	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/wire"
)

// Replicas (issue 19 part 2): an agent's WebSocket is held by one replica;
// the others learn it from presence messages, forward the commands they
// queue for it to that replica, and receive its results and every agent
// report, so that each replica shows every agent and every result. With
// no peers (a single server) nothing here runs or is published.

// presenceEvery is how often a replica re-announces the agents whose
// WebSocket it holds; presenceTTL how long an announcement counts.
const (
	presenceEvery = 10 * time.Second
	presenceTTL   = 3 * presenceEvery
)

// Messages between replicas.
type (
	presenceMsg struct {
		Host    string `json:"host"`
		Conn    bool   `json:"conn"`
		Version string `json:"version,omitempty"`
		Impl    string `json:"impl,omitempty"`
	}
	commandMsg struct {
		// To is the replica holding the host's WebSocket.
		To   string             `json:"to"`
		Host string             `json:"host"`
		Cmd  wire.QueuedCommand `json:"cmd"`
	}
	queuedMsg struct {
		Host string             `json:"host"`
		Cmd  wire.QueuedCommand `json:"cmd"`
	}
	issuedMsg struct {
		Host string `json:"host"`
		ID   string `json:"id"`
		At   int64  `json:"at"`
	}
	drainedMsg struct {
		Host string   `json:"host"`
		IDs  []string `json:"ids"`
	}
	resultMsg struct {
		Host   string   `json:"host"`
		Result wire.Msg `json:"result"`
	}
	reportMsg struct {
		Host    string        `json:"host"`
		IP      string        `json:"ip"`
		At      int64         `json:"at_ms"`
		Metrics *wire.Metrics `json:"metrics"`
	}
	streamMsg struct {
		Host    string `json:"host"`
		ID      string `json:"id"`
		Started int64  `json:"started"`
		Stop    bool   `json:"stop,omitempty"`
	}
	linesMsg struct {
		Host  string   `json:"host"`
		ID    string   `json:"id"`
		Lines []string `json:"lines"`
	}
	execLineMsg struct {
		Host string   `json:"host"`
		ID   string   `json:"id"`
		Line wire.Msg `json:"line"`
	}
	removedMsg struct {
		Host string `json:"host"`
	}
)

var (
	chPresence = cluster.Channel[presenceMsg]{Name: "agents.presence"}
	chCommand  = cluster.Channel[commandMsg]{Name: "agents.command"}
	chQueued   = cluster.Channel[queuedMsg]{Name: "agents.queued"}
	chIssued   = cluster.Channel[issuedMsg]{Name: "agents.issued"}
	chDrained  = cluster.Channel[drainedMsg]{Name: "agents.drained"}
	chResult   = cluster.Channel[resultMsg]{Name: "agents.result"}
	chReport   = cluster.Channel[reportMsg]{Name: "agents.report"}
	chRemoved  = cluster.Channel[removedMsg]{Name: "agents.removed"}
	chStream   = cluster.Channel[streamMsg]{Name: "agents.stream"}
	chLines    = cluster.Channel[linesMsg]{Name: "agents.stream-lines"}
	chExecLine = cluster.Channel[execLineMsg]{Name: "agents.exec-line"}
)

// clustered reports whether other replicas may exist.
func (r *Room) clustered() bool { return r.d.Cluster != nil && r.d.Cluster.Peers() }

// publish sends v to the other replicas (logged, never fatal).
func publish[T any](r *Room, ctx context.Context, ch cluster.Channel[T], v T) {
	if !r.clustered() {
		return
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := cluster.Send(c, r.d.Cluster, ch, v); err != nil {
		r.log.Warn("replica message not sent", "channel", ch.Name, "err", err)
	}
}

// joinCluster subscribes to the other replicas' messages.
func (r *Room) joinCluster() {
	if !r.clustered() {
		return
	}
	b, log := r.d.Cluster, r.log
	cluster.Listen(b, chPresence, log, func(from string, m presenceMsg) {
		if wire.ValidHostname(m.Host) {
			r.hub.setRemote(m.Host, from, m, time.Now())
		}
	})
	cluster.Listen(b, chCommand, log, func(_ string, m commandMsg) {
		if m.To == b.ID() && wire.ValidHostname(m.Host) {
			r.deliverForwarded(m.Host, m.Cmd)
		}
	})
	cluster.Listen(b, chQueued, log, func(_ string, m queuedMsg) {
		if wire.ValidHostname(m.Host) {
			r.hub.enqueue(m.Host, m.Cmd)
		}
	})
	cluster.Listen(b, chIssued, log, func(_ string, m issuedMsg) {
		if wire.ValidHostname(m.Host) {
			r.hub.issue(m.Host, m.ID, m.At)
		}
	})
	cluster.Listen(b, chDrained, log, func(_ string, m drainedMsg) {
		r.hub.unqueue(m.Host, m.IDs)
	})
	cluster.Listen(b, chResult, log, func(_ string, m resultMsg) {
		id := m.Result.Str("id")
		// Stored and hooked by the replica that received it; here it
		// joins the result ring and wakes who waits for it.
		r.hub.wasIssued(m.Host, id, true)
		r.hub.addResult(m.Host, m.Result)
		r.fanoutCommand(m.Host, id, m.Result)
	})
	cluster.Listen(b, chReport, log, func(_ string, m reportMsg) {
		if m.Metrics == nil || !wire.ValidHostname(m.Host) {
			return
		}
		r.hub.remoteReport(m.Host, m.IP, m.Metrics, time.UnixMilli(m.At))
		if r.d.Bus != nil {
			r.d.Bus.Publish(events.TopicAgentReport, m.Metrics)
		}
	})
	// Log streams started on one replica collect their lines on every
	// replica, whichever receives them from the agent.
	cluster.Listen(b, chStream, log, func(_ string, m streamMsg) {
		if !wire.ValidHostname(m.Host) || !wire.ValidCommandID(m.ID) {
			return
		}
		if m.Stop {
			r.hub.stopStream(m.Host, m.ID)
		} else {
			r.hub.startStream(m.Host, m.ID, m.Started)
		}
	})
	cluster.Listen(b, chLines, log, func(_ string, m linesMsg) {
		r.hub.appendLogs(m.Host, m.ID, m.Lines)
	})
	cluster.Listen(b, chExecLine, log, func(_ string, m execLineMsg) {
		if wire.ValidHostname(m.Host) && wire.ValidCommandID(m.ID) {
			r.hub.appendExec(m.Host, m.ID, m.Line)
			r.fanoutCommand(m.Host, m.ID, m.Line)
		}
	})
	cluster.Listen(b, chRemoved, log, func(_ string, m removedMsg) {
		if c := r.hub.remove(m.Host); c != nil {
			c.close(1000, "Agent removed")
		}
	})
	b.OnReconnect(func() { _ = r.AnnouncePresence(context.Background()) })
}

// deliverForwarded sends a command another replica queued for a host
// whose WebSocket this replica holds; when it no longer does, the command
// joins every replica's queue.
func (r *Room) deliverForwarded(host string, q wire.QueuedCommand) {
	ctx := context.Background()
	if c := r.hub.conn(host); c != nil {
		r.hub.issue(host, q.ID, q.QueuedAt)
		if err := c.send(ctx, wire.Command(q.ID, q.Type, q.Params)); err == nil {
			if err := r.d.Store.MarkDelivered(ctx, []string{q.ID}); err != nil {
				r.log.Warn("mark delivered", "err", err)
			}
			return
		}
		r.hub.clearConn(host, c)
		c.close(1011, "send failed")
		r.announce(ctx, host, false)
	}
	r.hub.enqueue(host, q)
	publish(r, ctx, chQueued, queuedMsg{Host: host, Cmd: q})
}

// announce tells the other replicas whether this one holds host's WebSocket.
func (r *Room) announce(ctx context.Context, host string, conn bool) {
	m := presenceMsg{Host: host, Conn: conn}
	if s, ok := r.hub.snapshot(host); ok {
		m.Version, m.Impl = s.version, s.impl
	}
	publish(r, ctx, chPresence, m)
}

// AnnouncePresence re-announces every WebSocket this replica holds (the
// agents-presence job; and after the bus reconnects).
func (r *Room) AnnouncePresence(ctx context.Context) error {
	if !r.clustered() {
		return nil
	}
	for _, h := range r.hub.held() {
		r.announce(ctx, h, true)
	}
	return nil
}

// setRemote records another replica's presence message for host.
func (h *hub) setRemote(host, replica string, m presenceMsg, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.getLocked(host)
	if !m.Conn {
		if a.remote == replica {
			a.remote, a.remoteAt = "", time.Time{}
		}
		return
	}
	a.remote, a.remoteAt = replica, now
	if m.Version != "" {
		a.version = m.Version
	}
	if m.Impl != "" {
		a.impl = m.Impl
	}
	if now.After(a.received) {
		a.received = now
	}
}

// remoteHolder is the replica holding host's WebSocket ("" when none is
// known or its announcement is stale).
func (h *hub) remoteHolder(host string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.agents[host]; a != nil && a.remote != "" && time.Since(a.remoteAt) < presenceTTL {
		return a.remote
	}
	return ""
}

// held lists the hosts whose WebSocket this replica holds.
func (h *hub) held() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for host, a := range h.agents {
		if a.conn != nil {
			out = append(out, host)
		}
	}
	return out
}

// unqueue drops commands another replica delivered from host's queue.
func (h *hub) unqueue(host string, ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[host]
	if a == nil || len(a.pending) == 0 {
		return
	}
	drop := map[string]bool{}
	for _, id := range ids {
		drop[id] = true
	}
	kept := a.pending[:0:0]
	for _, q := range a.pending {
		if !drop[q.ID] {
			kept = append(kept, q)
		}
	}
	a.pending = kept
}

// remoteReport applies a report another replica received: the host's
// state here, not the registry row (written by that replica).
func (h *hub) remoteReport(host, ip string, m *wire.Metrics, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.getLocked(host)
	if at.Before(a.received) && a.report != nil {
		return
	}
	a.report, a.received, a.ip = m, at, ip
	a.platform, a.arch, a.version, a.impl = m.Platform, m.Arch, m.AgentVersion, m.AgentImpl
	a.persistedAt = at
}

// startStream registers log stream id of host (its lines are kept).
func (h *hub) startStream(host, id string, started int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.getLocked(host)
	if a.streams == nil {
		a.streams = map[string]int64{}
	}
	if len(a.streams) >= maxStreams {
		return
	}
	a.streams[id] = started
}

// stopStream forgets log stream id of host and its lines.
func (h *hub) stopStream(host, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.agents[host]; a != nil {
		delete(a.streams, id)
	}
	delete(h.logs, host+"\x00"+id)
}
