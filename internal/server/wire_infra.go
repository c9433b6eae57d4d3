package server

import "context"

// infraRooms holds the rooms of containers, infrastructure and operations (routers 5, 7, 15). Its owner fills it in and
// wires it in wireInfra; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type infraRooms struct{}

// wireInfra builds and mounts containers, infrastructure and operations (routers 5, 7, 15). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireInfra(ctx context.Context, s *Server) error {
	_, _ = ctx, s
	return nil
}
