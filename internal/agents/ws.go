package agents

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// agentConn is a live agent WebSocket. Writes are serialised and each
// message goes out as one unfragmented text frame.
type agentConn struct {
	host   string
	c      *websocket.Conn
	mu     sync.Mutex
	cancel context.CancelFunc
}

const writeTimeout = 10 * time.Second

// send writes one message.
func (a *agentConn) send(ctx context.Context, m wire.Msg) error {
	b := m.Marshal()
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.c.Write(ctx, websocket.MessageText, b)
}

// close ends the connection with code and reason.
func (a *agentConn) close(code websocket.StatusCode, reason string) {
	go func() {
		_ = a.c.Close(code, reason)
		a.cancel()
	}()
}

// agentWS serves WS /api/agent/ws (spec 20 §5).
func (r *Room) agentWS(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, true, "Missing X-Agent-Key", false)
	if kerr != nil {
		httpx.WriteError(w, kerr.status, kerr.msg)
		return
	}
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{InsecureSkipVerify: true,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(wire.MaxMessage)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()

	idCtx, idCancel := context.WithTimeout(ctx, 30*time.Second)
	_, b, err := c.Read(idCtx)
	idCancel()
	if err != nil {
		_ = c.Close(wire.CloseBadIdentify, "Expected identify message")
		return
	}
	m, err := wire.Decode(b)
	if err != nil || m.Type() != wire.TypeIdentify {
		_ = c.Close(wire.CloseBadIdentify, "Expected identify message")
		return
	}
	host := m.Str("hostname")
	if !wire.ValidHostname(host) {
		_ = c.Close(wire.CloseBadIdentify, "Invalid or missing hostname")
		return
	}
	if !pk.allows(host) {
		r.log.Warn("agent key used for another hostname", "hostname", host, "ip", httpx.ClientIP(req.Context()))
		_ = c.Close(wire.CloseHostnameRefused, "Agent key not valid for this hostname")
		return
	}
	conn := &agentConn{host: host, c: c, cancel: cancel}
	if old := r.hub.setConn(host, conn, m.Str("agent_version"), m.Str("agent_impl"), r.now()); old != nil {
		old.close(websocket.StatusNormalClosure, "Replaced by new connection")
	}
	defer r.hub.clearConn(host, conn)
	r.log.Debug("agent websocket connected", "hostname", host)

	// Flush the pending HTTP queue over the socket.
	for _, q := range r.hub.drain(host) {
		if err := conn.send(ctx, wire.Command(q.ID, q.Type, q.Params)); err != nil {
			r.hub.enqueue(host, q)
		}
	}

	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && ctx.Err() == nil {
				r.log.Debug("agent websocket ended", "hostname", host, "err", err)
			}
			return
		}
		m, err := wire.Decode(b)
		if err != nil {
			_ = c.Close(websocket.StatusUnsupportedData, "Invalid JSON")
			return
		}
		r.hub.touch(host, r.now())
		r.onAgentMessage(ctx, conn, m)
	}
}

// onAgentMessage handles one message from an agent (spec 20 §5.3).
func (r *Room) onAgentMessage(ctx context.Context, conn *agentConn, m wire.Msg) {
	host := conn.host
	switch t := m.Type(); {
	case t == wire.TypePing && m.Str("id") == "":
		// Heartbeat (a legacy "ping" result carries an id).
		_ = conn.send(ctx, wire.Msg{"type": wire.TypePong})
	case t == wire.TypeStream:
		id := m.Str("id")
		if id == "" {
			return
		}
		r.hub.appendExec(host, id, m)
		r.fanoutCommand(host, id, m)
	case t == wire.TypePtyOutput || t == wire.TypePtyOpened || t == wire.TypePtyExit || t == wire.TypePtyError:
		r.fanoutSession(host, m.Str("session"), m)
	case t == wire.TypeIdentify || t == wire.TypePong:
	default:
		if res, ok := wire.NormalizeResult(m); ok {
			r.ingestResult(context.WithoutCancel(ctx), host, res)
		}
	}
}
