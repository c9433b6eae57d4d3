package server

import "context"

// intelligenceRooms holds the rooms of intelligence and security (routers 11, 12). Its owner fills it in and
// wires it in wireIntelligence; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type intelligenceRooms struct{}

// wireIntelligence builds and mounts intelligence and security (routers 11, 12). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireIntelligence(ctx context.Context, s *Server) error {
	_, _ = ctx, s
	return nil
}
