package main

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
func (s *ptySet) handle(ctx context.Context, a *Agent, m wire.Msg) {
	session := m.Str("session")
	if session == "" {
		return
	}
	switch m.Type() {
	case wire.TypePtyOpen:
		s.mu.Lock()
		_, dup := s.m[session]
		s.mu.Unlock()
		if dup {
			_ = a.sendWS(ctx, wire.Msg{"type": wire.TypePtyError, "session": session, "error": "Session already exists"})
			return
		}
		role := m.Str("role")
		if role == "" {
			role = "operator"
		}
		p, err := openPTY(a, session, role, m.Int("cols", 80), m.Int("rows", 24))
		if err != nil {
			_ = a.sendWS(ctx, wire.Msg{"type": wire.TypePtyError, "session": session, "error": err.Error()})
			return
		}
		s.mu.Lock()
		s.m[session] = p
		s.mu.Unlock()
		_ = a.sendWS(ctx, wire.Msg{"type": wire.TypePtyOpened, "session": session})
		go func() {
			code := p.pump(a)
			s.mu.Lock()
			if s.m[session] == p {
				delete(s.m, session)
			}
			s.mu.Unlock()
			_ = a.sendWS(context.Background(), wire.Msg{"type": wire.TypePtyExit, "session": session, "code": code})
		}()
	case wire.TypePtyInput:
		if p := s.get(session); p != nil {
			p.write(m.Str("data"))
		}
	case wire.TypePtyResize:
		if p := s.get(session); p != nil {
			p.resize(m.Int("cols", 80), m.Int("rows", 24))
		}
	case wire.TypePtyClose:
		s.mu.Lock()
		p := s.m[session]
		delete(s.m, session)
		s.mu.Unlock()
		if p != nil {
			p.terminate()
			_ = a.sendWS(ctx, wire.Msg{"type": wire.TypePtyExit, "session": session, "code": 0})
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
