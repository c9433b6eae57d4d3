package server

import "context"

// adminRooms holds the rooms of admin remainder, custom dashboards and single sign-on (routers 2, 3, 14). Its owner fills it in and
// wires it in wireAdmin; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type adminRooms struct{}

// wireAdmin builds and mounts admin remainder, custom dashboards and single sign-on (routers 2, 3, 14). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireAdmin(ctx context.Context, s *Server) error {
	_, _ = ctx, s
	return nil
}
