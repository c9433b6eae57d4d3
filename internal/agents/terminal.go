package agents

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// termSub is one browser terminal connection. It receives only the PTY
// messages of the sessions it opened and the results and stream lines of
// the commands it sent (spec 20 §19.5: no broadcast between viewers).
type termSub struct {
	out      chan wire.Msg
	mu       sync.Mutex
	sessions map[string]bool
	cmds     map[string]bool
	cancel   context.CancelFunc
}

func (s *termSub) owns(session string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[session]
}

// deliver queues m for the browser; a subscriber that cannot keep up is
// dropped.
func (s *termSub) deliver(m wire.Msg) {
	select {
	case s.out <- m:
	default:
		s.cancel()
	}
}

func (r *Room) subscribe(host string, s *termSub) {
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	a := r.hub.getLocked(host)
	if a.terms == nil {
		a.terms = map[*termSub]struct{}{}
	}
	a.terms[s] = struct{}{}
}

func (r *Room) unsubscribe(host string, s *termSub) {
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	if a := r.hub.agents[host]; a != nil {
		delete(a.terms, s)
	}
}

func (r *Room) subsOf(host string) []*termSub {
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	a := r.hub.agents[host]
	if a == nil {
		return nil
	}
	out := make([]*termSub, 0, len(a.terms))
	for s := range a.terms {
		out = append(out, s)
	}
	return out
}

// fanoutSession sends a PTY message to the subscriber owning session.
func (r *Room) fanoutSession(host, session string, m wire.Msg) {
	if session == "" {
		return
	}
	for _, s := range r.subsOf(host) {
		if s.owns(session) {
			s.deliver(m)
			if m.Type() == wire.TypePtyExit {
				s.mu.Lock()
				delete(s.sessions, session)
				s.mu.Unlock()
			}
		}
	}
}

// fanoutCommand sends a result or stream line to the subscriber that sent
// the command.
func (r *Room) fanoutCommand(host, id string, m wire.Msg) {
	for _, s := range r.subsOf(host) {
		s.mu.Lock()
		mine := s.cmds[id]
		s.mu.Unlock()
		if mine {
			s.deliver(m)
		}
	}
}

// terminalWS serves WS /api/agents/{hostname}/terminal: one browser
// connection bridged to the agent's PTY sessions it opens.
func (r *Room) terminalWS(w http.ResponseWriter, req *http.Request) {
	host := req.PathValue("hostname")
	if !wire.ValidHostname(host) {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid hostname")
		return
	}
	if !httpx.OriginAllowed(req, r.d.CORSOrigins) {
		httpx.WriteError(w, http.StatusForbidden, "Origin not allowed")
		return
	}
	p := authz.Must(req.Context())
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{InsecureSkipVerify: true,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	sub := &termSub{out: make(chan wire.Msg, termQueueDepth), sessions: map[string]bool{}, cmds: map[string]bool{}, cancel: cancel}
	r.subscribe(host, sub)
	defer r.unsubscribe(host, sub)
	ip := httpx.ClientIP(req.Context())

	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-sub.out:
				wctx, wc := context.WithTimeout(ctx, writeTimeout)
				err := c.Write(wctx, websocket.MessageText, m.Marshal())
				wc()
				if err != nil {
					cancel()
					return
				}
			}
		}
	}()
	reply := func(m wire.Msg) { sub.deliver(m) }

	defer func() {
		sub.mu.Lock()
		sessions := make([]string, 0, len(sub.sessions))
		for s := range sub.sessions {
			sessions = append(sessions, s)
		}
		sub.mu.Unlock()
		bg := context.WithoutCancel(req.Context())
		for _, s := range sessions {
			if conn := r.hub.conn(host); conn != nil {
				_ = conn.send(bg, &wire.PtyClose{Session: s})
			}
			r.audit(bg, "agent_terminal_close", p.Username, fmt.Sprintf("host=%s session=%s", host, s), ip)
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	}()

	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		m, err := wire.Decode(b)
		if err != nil {
			reply(wire.Msg{"type": "error", "error": "Invalid JSON"})
			continue
		}
		switch t := m.Type(); t {
		case wire.TypePtyOpen, wire.TypePtyInput, wire.TypePtyResize, wire.TypePtyClose:
			r.terminalPTY(ctx, host, sub, p, ip, m, reply)
		default:
			r.terminalCommand(ctx, host, sub, p, m, reply)
		}
	}
}

func (r *Room) terminalPTY(ctx context.Context, host string, sub *termSub, p authz.Principal, ip string, m wire.Msg, reply func(wire.Msg)) {
	t := m.Type()
	session := m.Str("session")
	if t == wire.TypePtyOpen {
		if session == "" {
			session = fmt.Sprintf("term-%s-%d", host, time.Now().UnixMilli())
		}
		if len(session) > 128 {
			reply(wire.Msg{"type": wire.TypePtyError, "session": session, "error": "Invalid session id"})
			return
		}
		for _, s := range r.subsOf(host) {
			if s != sub && s.owns(session) {
				reply(wire.Msg{"type": wire.TypePtyError, "session": session, "error": "Session already exists"})
				return
			}
		}
		sub.mu.Lock()
		sub.sessions[session] = true
		sub.mu.Unlock()
		r.audit(ctx, "agent_terminal_open", p.Username, fmt.Sprintf("host=%s session=%s role=%s", host, session, p.Role), ip)
	} else if !sub.owns(session) {
		reply(wire.Msg{"type": wire.TypePtyError, "session": session, "error": "Unknown session"})
		return
	}
	cols, rows := min(max(m.Int("cols", 80), 10), 500), min(max(m.Int("rows", 24), 5), 300)
	var fwd wire.WSMessage
	switch t {
	case wire.TypePtyOpen:
		fwd = &wire.PtyOpen{Session: session, Cols: cols, Rows: rows, Role: string(p.Role)}
	case wire.TypePtyInput:
		fwd = &wire.PtyInput{Session: session, Data: m.Str("data")}
	case wire.TypePtyResize:
		fwd = &wire.PtyResize{Session: session, Cols: cols, Rows: rows}
	case wire.TypePtyClose:
		fwd = &wire.PtyClose{Session: session}
		// The session stays owned until the agent's pty_exit arrives.
		r.audit(ctx, "agent_terminal_close", p.Username, fmt.Sprintf("host=%s session=%s", host, session), ip)
	}
	conn := r.hub.conn(host)
	if conn == nil {
		reply(wire.Msg{"type": wire.TypePtyError, "session": session, "error": "Agent not connected via WebSocket"})
		return
	}
	if err := conn.send(ctx, fwd); err != nil {
		reply(wire.Msg{"type": wire.TypePtyError, "session": session, "error": "Agent WebSocket disconnected"})
	}
}

// terminalCommand handles a command typed in the browser terminal: the
// same risk, role and parameter checks as the command route.
func (r *Room) terminalCommand(ctx context.Context, host string, sub *termSub, p authz.Principal, m wire.Msg, reply func(wire.Msg)) {
	cmd := m.Type()
	if cmd == "" {
		cmd = wire.CmdExec
	}
	params := m.Map("params")
	if params == nil {
		params = map[string]any{}
		if cmd == wire.CmdExec {
			if c, ok := m["command"]; ok {
				params["command"] = c
			}
			if t, ok := m["timeout"]; ok {
				params["timeout"] = t
			}
		}
	}
	risk, ok := wire.RiskOf(cmd)
	if !ok {
		reply(wire.Msg{"type": "error", "error": "Unknown command: " + cmd})
		return
	}
	if !wire.Allowed(string(p.Role), risk) {
		reply(wire.Msg{"type": "error", "error": "Insufficient permissions for " + cmd})
		return
	}
	if err := wire.ValidateParams(cmd, params); err != nil {
		reply(wire.Msg{"type": "error", "error": err.Error()})
		return
	}
	id := wire.NewID(8)
	sub.mu.Lock()
	sub.cmds[id] = true
	sub.mu.Unlock()
	_, ws := r.dispatch(ctx, host, cmd, params, p.Username, sendOpts{id: id, record: true})
	delivery := "queued"
	if ws {
		delivery = "websocket"
	}
	r.audit(ctx, "agent_command", p.Username, fmt.Sprintf("host=%s type=%s id=%s ws=%s", host, cmd, id, boolStr(ws)), httpx.ClientIP(ctx))
	reply(wire.Msg{"type": "ack", "id": id, "delivery": delivery})
}
