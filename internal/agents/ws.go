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
func (a *agentConn) send(ctx context.Context, m wire.WSMessage) error {
	b := wire.Encode(m)
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

// idleTimeout closes an agent WebSocket that sent nothing for this long
// (agents ping every 30 s): a peer that vanished without a FIN or close
// frame does not hold its descriptor forever.
const idleTimeout = 150 * time.Second

// agentWS serves WS /api/agent/ws (spec 20 §5).
func (r *Room) agentWS(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, true, "Missing X-Agent-Key", false)
	if kerr != nil {
		kerr.write(w)
		return
	}
	if req.Header.Get(wire.HeaderAgentKey) == "" {
		// The key came in the query string (spec 20 §19.1): refused for
		// host-bound keys; accepted for a legacy shared key only, which
		// agents of the established server send no other way.
		if pk.host != "" {
			httpx.WriteError(w, http.StatusUnauthorized, "Send the agent key in the X-Agent-Key header (?key= is refused)")
			return
		}
		r.log.Warn("agent sent its key in the WebSocket URL; use the X-Agent-Key header", "ip", httpx.ClientIP(req.Context()))
	}
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{InsecureSkipVerify: true,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	// Every exit path below releases the connection: a close frame where
	// one is sent, else CloseNow (a peer killed without a close frame
	// would otherwise keep its descriptor).
	defer c.CloseNow()
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
	msg, err := wire.DecodeMessage(b)
	id, isID := msg.(*wire.Identify)
	if err != nil || !isID {
		_ = c.Close(wire.CloseBadIdentify, "Expected identify message")
		return
	}
	host := id.Hostname
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
	if old := r.hub.setConn(host, conn, wire.Truncate(id.AgentVersion, 64), wire.Truncate(id.AgentImpl, 32), r.now()); old != nil {
		old.close(websocket.StatusNormalClosure, "Replaced by new connection")
	}
	r.announce(ctx, host, true)
	defer func() {
		r.hub.clearConn(host, conn)
		if r.hub.conn(host) == nil {
			r.announce(context.WithoutCancel(ctx), host, false)
		}
	}()
	r.log.Debug("agent websocket connected", "hostname", host)

	// Flush the pending HTTP queue over the socket.
	var sent []string
	for _, q := range r.hub.drain(host) {
		if err := conn.send(ctx, wire.Command(q.ID, q.Type, q.Params)); err != nil {
			r.hub.enqueue(host, q)
			continue
		}
		sent = append(sent, q.ID)
	}
	if len(sent) > 0 {
		if err := r.d.Store.MarkDelivered(context.WithoutCancel(ctx), sent); err != nil {
			r.log.Warn("mark delivered", "err", err)
		}
		publish(r, ctx, chDrained, drainedMsg{Host: host, IDs: sent})
	}

	for {
		rctx, rcancel := context.WithTimeout(ctx, idleTimeout)
		_, b, err := c.Read(rctx)
		rcancel()
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && ctx.Err() == nil {
				r.log.Debug("agent websocket ended", "hostname", host, "err", err)
			}
			return
		}
		m, err := wire.DecodeMessage(b)
		if err != nil {
			_ = c.Close(websocket.StatusUnsupportedData, "Invalid JSON")
			return
		}
		r.hub.touch(host, r.now())
		r.onAgentMessage(ctx, conn, m)
	}
}

// onAgentMessage handles one message from an agent (spec 20 §5.3).
func (r *Room) onAgentMessage(ctx context.Context, conn *agentConn, m wire.WSMessage) {
	host := conn.host
	switch x := m.(type) {
	case *wire.Ping:
		_ = conn.send(ctx, &wire.Pong{})
	case *wire.StreamLine:
		if x.ID == "" || !r.hub.wasIssued(host, x.ID, false) {
			return
		}
		line := wire.Msg{"type": wire.TypeStream, "id": x.ID, "line": wire.Truncate(x.Line, maxLineBytes)}
		r.hub.appendExec(host, x.ID, line)
		r.fanoutCommand(host, x.ID, line)
		publish(r, ctx, chExecLine, execLineMsg{Host: host, ID: x.ID, Line: line})
	case *wire.PtyOutput:
		r.fanoutSession(host, x.Session, wire.Msg{"type": wire.TypePtyOutput, "session": x.Session, "data": x.Data})
	case *wire.PtyOpened:
		r.fanoutSession(host, x.Session, wire.Msg{"type": wire.TypePtyOpened, "session": x.Session})
	case *wire.PtyExit:
		r.fanoutSession(host, x.Session, wire.Msg{"type": wire.TypePtyExit, "session": x.Session, "code": x.Code})
	case *wire.PtyError:
		r.fanoutSession(host, x.Session, wire.Msg{"type": wire.TypePtyError, "session": x.Session, "error": x.Error})
	case wire.Msg:
		if res, ok := wire.NormalizeResult(x); ok {
			r.ingestResult(context.WithoutCancel(ctx), host, res)
		}
	}
}
