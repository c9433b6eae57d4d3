package agent

import (
	"context"
	"sync"

	"github.com/noba-go/noba/internal/wire"
)

// ptySet holds the agent's terminal sessions.
type ptySet struct {
	mu sync.Mutex
	m  map[string]*ptySession
}

func newPTYSet() *ptySet { return &ptySet{m: map[string]*ptySession{}} }

// handle runs one pty_* message from the server.
func (s *ptySet) handle(ctx context.Context, a *Agent, m wire.WSMessage) {
	switch x := m.(type) {
	case *wire.PtyOpen:
		session := x.Session
		if session == "" {
			return
		}
		s.mu.Lock()
		_, dup := s.m[session]
		s.mu.Unlock()
		if dup {
			_ = a.sendWS(ctx, &wire.PtyError{Session: session, Error: "Session already exists"})
			return
		}
		role := x.Role
		if role == "" {
			role = "operator"
		}
		cols, rows := x.Cols, x.Rows
		if cols <= 0 {
			cols = 80
		}
		if rows <= 0 {
			rows = 24
		}
		p, err := openPTY(a, session, role, cols, rows)
		if err != nil {
			_ = a.sendWS(ctx, &wire.PtyError{Session: session, Error: err.Error()})
			return
		}
		s.mu.Lock()
		s.m[session] = p
		s.mu.Unlock()
		_ = a.sendWS(ctx, &wire.PtyOpened{Session: session})
		go func() {
			code := p.pump(a)
			s.mu.Lock()
			if s.m[session] == p {
				delete(s.m, session)
			}
			s.mu.Unlock()
			_ = a.sendWS(context.Background(), &wire.PtyExit{Session: session, Code: code})
		}()
	case *wire.PtyInput:
		if p := s.get(x.Session); p != nil {
			p.write(x.Data)
		}
	case *wire.PtyResize:
		if p := s.get(x.Session); p != nil {
			cols, rows := x.Cols, x.Rows
			if cols <= 0 {
				cols = 80
			}
			if rows <= 0 {
				rows = 24
			}
			p.resize(cols, rows)
		}
	case *wire.PtyClose:
		s.mu.Lock()
		p := s.m[x.Session]
		delete(s.m, x.Session)
		s.mu.Unlock()
		if p != nil {
			p.terminate()
			_ = a.sendWS(ctx, &wire.PtyExit{Session: x.Session})
		}
	}
}

func (s *ptySet) get(session string) *ptySession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[session]
}

// closeAll ends every session (the WebSocket went away).
func (s *ptySet) closeAll() {
	s.mu.Lock()
	all := s.m
	s.m = map[string]*ptySession{}
	s.mu.Unlock()
	for _, p := range all {
		p.terminate()
	}
}
