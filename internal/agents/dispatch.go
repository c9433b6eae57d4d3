package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// sendOpts are the options of one dispatch.
type sendOpts struct {
	id string
	// record inserts a command history row.
	record bool
	// queueOnly skips the WebSocket (never used by routes; kept for callers
	// that must not block).
	queueOnly bool
}

// dispatch delivers a command to host: over its WebSocket when connected,
// else into the pending queue picked up by its next report or WebSocket
// identify. It records the history row first, so that a fast result finds
// it. It returns whether the command went over the WebSocket.
func (r *Room) dispatch(ctx context.Context, host, cmd string, params map[string]any, by string, o sendOpts) (string, bool) {
	if params == nil {
		params = map[string]any{}
	}
	id := o.id
	if id == "" {
		id = wire.NewID(8)
	}
	now := r.now().Unix()
	if o.record {
		pj, _ := json.Marshal(params)
		if err := r.d.Store.InsertCommand(ctx, HistoryRow{ID: id, Hostname: host, CmdType: cmd, Params: pj, QueuedBy: by, QueuedAt: now}); err != nil {
			r.log.Error("record command", "err", err)
		}
	}
	if !o.queueOnly {
		if c := r.hub.conn(host); c != nil {
			r.hub.issue(host, id, now)
			publish(r, ctx, chIssued, issuedMsg{Host: host, ID: id, At: now})
			if err := c.send(ctx, wire.Command(id, cmd, params)); err == nil {
				if o.record {
					if err := r.d.Store.MarkDelivered(ctx, []string{id}); err != nil {
						r.log.Warn("mark delivered", "err", err)
					}
				}
				return id, true
			}
			r.hub.clearConn(host, c)
			c.close(1011, "send failed")
			r.announce(ctx, host, false)
		}
		// Replicas: the replica holding the host's WebSocket delivers it.
		if rep := r.hub.remoteHolder(host); rep != "" && r.clustered() {
			r.hub.issue(host, id, now)
			q := wire.QueuedCommand{ID: id, Type: cmd, Params: params, QueuedBy: by, QueuedAt: now}
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := cluster.Send(c, r.d.Cluster, chCommand, commandMsg{To: rep, Host: host, Cmd: q})
			cancel()
			if err == nil {
				return id, true
			}
			r.log.Warn("command not forwarded to the replica holding the agent; queued", "hostname", host, "err", err)
		}
	}
	q := wire.QueuedCommand{ID: id, Type: cmd, Params: params, QueuedBy: by, QueuedAt: now}
	r.hub.enqueue(host, q)
	publish(r, ctx, chQueued, queuedMsg{Host: host, Cmd: q})
	return id, false
}

// ingestResult handles one normalised result from either path (spec 20
// §6.3): result ring, waiters, terminal subscribers, history row and the
// side effects other rooms registered.
func (r *Room) ingestResult(ctx context.Context, host string, m wire.Msg) {
	id, cmd := m.Str("id"), m.Str("cmd")
	if !r.hub.wasIssued(host, id, true) {
		// Never sent to this host, or already answered: not stored.
		r.log.Debug("result for a command not issued to the host dropped", "hostname", host, "id", wire.Truncate(id, 80))
		return
	}
	m = boundResult(m)
	status := "error"
	if m.Str("status") == "ok" {
		status = "ok"
	}
	// The history row first: whoever sees the result (results route,
	// waiters) then also finds it completed in the history.
	b, _ := json.Marshal(map[string]any(m))
	if err := r.d.Store.CompleteCommand(ctx, host, id, status, b, r.now().Unix()); err != nil {
		r.log.Error("complete command", "err", err)
	}
	r.hub.addResult(host, m)
	r.fanoutCommand(host, id, m)
	publish(r, ctx, chResult, resultMsg{Host: host, Result: m})
	r.hookMu.RLock()
	hs := r.hooks[cmd]
	r.hookMu.RUnlock()
	for _, h := range hs {
		h(ctx, host, map[string]any(m))
	}
}

// Send queues a command for host on behalf of another room (healing,
// security, infrastructure...): WebSocket first, else the HTTP queue, with
// a history row. It validates the type and parameters but applies no role
// check: the calling route already did.
func (r *Room) Send(ctx context.Context, host, cmd string, params map[string]any, by string) (id string, ws bool, err error) {
	if !wire.IsCommand(cmd) {
		return "", false, httpx.Invalid("Unknown command type: '%s'", cmd)
	}
	if !wire.ValidHostname(host) {
		return "", false, httpx.Invalid("Invalid hostname")
	}
	if err := wire.ValidateParams(cmd, params); err != nil {
		return "", false, httpx.Invalid("%s", err.Error())
	}
	id, ws = r.dispatch(ctx, host, cmd, params, by, sendOpts{record: true})
	return id, ws, nil
}

// Run sends a command and waits for its result (default timeout 30 s).
// host "__all__" runs it on every online agent in turn and returns
// {"__all__":true,"results":{host: result|nil}}. A timeout returns a nil
// result and no error.
func (r *Room) Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if host == "__all__" {
		res := map[string]any{}
		for _, h := range r.Online() {
			m, err := r.Run(ctx, h, cmd, params, by, timeout)
			if err != nil {
				return nil, err
			}
			if m == nil {
				res[h] = nil
			} else {
				res[h] = m
			}
		}
		return map[string]any{"__all__": true, "results": res}, nil
	}
	id := wire.NewID(8)
	ch, cancel := r.hub.waiter(host, id)
	defer cancel()
	if !wire.IsCommand(cmd) {
		return nil, httpx.Invalid("Unknown command type: '%s'", cmd)
	}
	if err := wire.ValidateParams(cmd, params); err != nil {
		return nil, httpx.Invalid("%s", err.Error())
	}
	r.dispatch(ctx, host, cmd, params, by, sendOpts{id: id, record: true})
	m, ok := r.hub.wait(ctx, ch, timeout)
	if !ok {
		return nil, nil
	}
	return map[string]any(m), nil
}

// Online lists the hostnames of online agents, sorted.
func (r *Room) Online() []string {
	var out []string
	now := r.now()
	for _, s := range r.hub.snapshots() {
		if r.online(s, now) {
			out = append(out, s.hostname)
		}
	}
	return out
}

func (r *Room) online(s snapshot, now time.Time) bool {
	return !s.received.IsZero() && now.Sub(s.received) < r.d.OnlineWindow
}

// commandCheck applies the dispatch rules of spec 20 §6.2 for a principal
// of role: known type, risk tier, parameter validation.
func commandCheck(role, cmd string, params map[string]any) error {
	risk, ok := wire.RiskOf(cmd)
	if !ok {
		return httpx.Invalid("Unknown command type: '%s'", cmd)
	}
	if !wire.Allowed(role, risk) {
		return httpx.Forbidden("Insufficient permissions: %s requires %s access", cmd, riskRole(risk))
	}
	if err := wire.ValidateParams(cmd, params); err != nil {
		return httpx.Invalid("%s", err.Error())
	}
	return nil
}

func riskRole(r wire.Risk) string {
	if r == wire.High {
		return "admin"
	}
	return "operator"
}

// capabilityCheck refuses a command an older known agent cannot run.
func (r *Room) capabilityCheck(host, cmd string) error {
	s, ok := r.hub.snapshot(host)
	if !ok {
		return nil
	}
	if !wire.Supports(s.version, cmd) {
		v := s.version
		if v == "" {
			v = "1.1.0"
		}
		return httpx.Invalid("Agent v%s does not support '%s'", v, cmd)
	}
	return nil
}

func boolStr(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

var _ = fmt.Sprintf

// maxResultBytes bounds one stored result: longer text fields are cut to
// wire.OutputCap, and a result still larger is replaced by an error.
const maxResultBytes = 512 << 10

func boundResult(m wire.Msg) wire.Msg {
	b, err := json.Marshal(map[string]any(m))
	if err == nil && len(b) <= maxResultBytes {
		return m
	}
	out := wire.Msg{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = wire.Truncate(s, wire.OutputCap)
		} else {
			out[k] = v
		}
	}
	if b, err := json.Marshal(map[string]any(out)); err == nil && len(b) <= maxResultBytes {
		return out
	}
	return wire.Msg{"id": m.Str("id"), "cmd": m.Str("cmd"), "type": m.Str("type"), "status": "error",
		"error": "Result too large to store"}
}
