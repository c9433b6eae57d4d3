package server

import "context"

// healingRooms holds the rooms of self-healing (router 13). Its owner fills it in and
// wires it in wireHealing; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type healingRooms struct{}

// wireHealing builds and mounts self-healing (router 13). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireHealing(ctx context.Context, s *Server) error {
	_, _ = ctx, s
	return nil
}
