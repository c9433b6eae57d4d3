package server

import "context"

// automationsRooms holds the rooms of automations (router 8). Its owner fills it in and
// wires it in wireAutomations; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type automationsRooms struct{}

// wireAutomations builds and mounts automations (router 8). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireAutomations(ctx context.Context, s *Server) error {
	_, _ = ctx, s
	return nil
}
